"""Live collection with boto3: ``iamgraph collect`` reads one account or a whole organization and writes a
snapshot directory (docs/snapshot-format.md) plus collection-report.json (docs/collect.md).

The only package of iamgraph that imports boto3; the core never imports it.
"""

from iamgraph.collect.aws import CollectError
from iamgraph.collect.options import CollectOptions, parse_regions
from iamgraph.collect.report import Recorder
from iamgraph.collect.runner import Collector, Progress

__all__ = ["CollectError", "CollectOptions", "Collector", "Progress", "Recorder", "parse_regions"]
