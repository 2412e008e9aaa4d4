"""The check families. Importing this package registers every check (iamgraph.review.registry), family by
family in the order below, which is the order of checks in reports, SARIF rules and --list-checks."""

from importlib import import_module

FAMILIES = ("root", "users", "policies", "privilege", "password", "trusts", "mfa", "workloads", "resources")

for _family in FAMILIES:
    import_module(f"iamgraph.review.families.{_family}")
