"""S3: buckets are listed once per account, located, then read in their own region (bucket policy,
bucket public access block, tags); the account-level public access block is read once and kept on
every bucket, since both levels decide whether a bucket policy can make it public."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iamgraph.collect.account import ResourceRecord, policy_value, tags_of
from iamgraph.collect.aws import default_region
from iamgraph.collect.calls import Caller
from iamgraph.collect.services.base import read

__all__ = ["BucketListing", "bucket_regions", "collect_buckets"]

LABEL = "S3 buckets and their bucket policies"


@dataclass(slots=True)
class BucketListing:
    by_region: dict[str, list[str]] = field(default_factory=dict)
    account_block: dict[str, Any] | None = None  # the account-level PublicAccessBlockConfiguration
    account_block_read: bool = False


def bucket_regions(caller: Caller, control: Caller) -> BucketListing | None:
    """Bucket names by region (``caller``: s3 at the home region; ``control``: s3control there)."""
    listed = caller.pages("list_buckets", keys=("Buckets",), what=LABEL)
    if listed is None:
        return None
    listing = BucketListing()
    for bucket in listed["Buckets"]:
        name = str(bucket["Name"])
        region = bucket.get("BucketRegion")
        if not region:
            where = caller.call(
                "get_bucket_location",
                what="S3 bucket region: the bucket is left out",
                target=caller.session.arn("s3", None, name, account=False),
                Bucket=name,
            )
            if where is None:
                continue
            region = where.get("LocationConstraint") or default_region(caller.session.partition)
            region = "eu-west-1" if region == "EU" else region
        listing.by_region.setdefault(str(region), []).append(name)
    block = control.call(
        "get_public_access_block",
        what="account-level S3 public access block",
        absent=("NoSuchPublicAccessBlockConfiguration",),
        AccountId=caller.account,
    )
    if block is not None:
        listing.account_block = block.get("PublicAccessBlockConfiguration")
        listing.account_block_read = True
    return listing


def collect_buckets(caller: Caller, names: list[str], listing: BucketListing) -> list[ResourceRecord]:
    """The buckets of ``caller.region``: policy, bucket-level public access block, tags."""
    records = []
    for name in names:
        record = ResourceRecord(
            arn=caller.session.arn("s3", None, name, account=False), type="AWS::S3::Bucket", region=caller.region
        )
        if listing.account_block_read:
            record.properties["AccountPublicAccessBlockConfiguration"] = listing.account_block
        else:
            record.unreadable.append("AccountPublicAccessBlockConfiguration")
        policy = read(
            caller,
            record,
            "Policy",
            "get_bucket_policy",
            what="S3 bucket policy",
            Bucket=name,
            absent=("NoSuchBucketPolicy",),
        )
        if policy:
            record.policy = policy_value(policy.get("Policy"))
        block = read(
            caller,
            record,
            "PublicAccessBlockConfiguration",
            "get_public_access_block",
            what="S3 bucket public access block",
            Bucket=name,
            absent=("NoSuchPublicAccessBlockConfiguration",),
        )
        if block:
            record.properties["PublicAccessBlockConfiguration"] = block.get("PublicAccessBlockConfiguration")
        tags = read(
            caller, record, "Tags", "get_bucket_tagging", what="S3 bucket tags", Bucket=name, absent=("NoSuchTagSet",)
        )
        if tags:
            record.tags = tags_of(tags.get("TagSet"))
        records.append(record)
    return records
