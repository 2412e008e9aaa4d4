"""Regional resource collectors, one function per service, looked up in a registry.

Each collector lists one service's resources in one account and region and reads what iamgraph uses
of them: the resource policy, the roles the resource runs with, tags and a few properties. A failed
listing leaves the service out for that region (the report says so); a failed read of one resource
keeps the resource and names the missing part in ``properties.Unreadable``. S3 is listed once per
account (bucket names are global) and read per region: ``bucket_regions`` then ``collect_buckets``.
"""

from iamgraph.collect.services import compute, deploy, keys, messaging  # import registers the collectors
from iamgraph.collect.services.base import REGIONAL, RegionalService
from iamgraph.collect.services.storage import BucketListing, bucket_regions, collect_buckets

__all__ = [
    "REGIONAL",
    "BucketListing",
    "RegionalService",
    "bucket_regions",
    "collect_buckets",
    "compute",
    "deploy",
    "keys",
    "messaging",
]
