"""The regions to read in one account: those given with --regions, else the ones enabled in it."""

from __future__ import annotations

from iamgraph.collect.calls import Caller

__all__ = ["enabled_regions"]


def enabled_regions(caller: Caller) -> list[str]:
    """Regions enabled in the account (``ec2:DescribeRegions``; opt-in regions only when opted in), of the
    session's partition. When the list is unreadable: every region botocore knows for the partition, so
    nothing is silently skipped (disabled ones then show up as region failures)."""
    answer = caller.call("describe_regions", what="the list of enabled regions", AllRegions=False)
    if answer is None:
        known = caller.session.known_regions()
        caller.note(f"region list not readable: trying the {len(known)} regions botocore knows")
        return known
    names = {
        str(r["RegionName"])
        for r in answer.get("Regions", ())
        if r.get("OptInStatus") != "not-opted-in" and r.get("RegionName")
    }
    return sorted(n for n in names if caller.session.partition_of(n) == caller.session.partition)
