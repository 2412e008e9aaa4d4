"""Lambda functions (execution role, function policy), ECR repositories (repository policy) and EC2
instances (instance profile, resolved to its role when the snapshot is written)."""

from __future__ import annotations

from iamgraph.collect.account import ResourceRecord, policy_value, tags_of
from iamgraph.collect.calls import Caller
from iamgraph.collect.services.base import read, regional
from iamgraph.ingest.resources import with_implied_resource

__all__ = ["ec2_instances", "ecr_repositories", "lambda_functions"]

_LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]


@regional("lambda", "Lambda functions, their roles and function policies")
def lambda_functions(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_functions", keys=("Functions",), what="Lambda functions, roles and policies")
    records = []
    for fn in (listed or {}).get("Functions", ()):
        arn = str(fn["FunctionArn"])
        record = ResourceRecord(
            arn=arn,
            type="AWS::Lambda::Function",
            region=caller.region,
            roles=[str(fn["Role"])] if fn.get("Role") else [],
        )
        record.properties = {
            "Runtime": fn.get("Runtime"),
            "Handler": fn.get("Handler"),
            "PackageType": fn.get("PackageType"),
            "Timeout": fn.get("Timeout"),
        }
        # Lambda answers ResourceNotFoundException both for "no policy" and "function just deleted".
        policy = read(
            caller,
            record,
            "Policy",
            "get_policy",
            what="Lambda function policy",
            FunctionName=arn,
            absent=("ResourceNotFoundException",),
        )
        if policy:
            record.policy = policy_value(policy.get("Policy"))
        tags = read(caller, record, "Tags", "list_tags", what="Lambda function tags", Resource=arn)
        if tags is not None:
            record.tags = tags_of(tags.get("Tags"))
        records.append(record)
    return records


@regional("ecr", "ECR repositories and their repository policies")
def ecr_repositories(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("describe_repositories", keys=("repositories",), what="ECR repositories and policies")
    records = []
    for repo in (listed or {}).get("repositories", ()):
        arn, name = str(repo["repositoryArn"]), str(repo["repositoryName"])
        record = ResourceRecord(arn=arn, type="AWS::ECR::Repository", region=caller.region)
        record.properties = {"RepositoryName": name, "ImageTagMutability": repo.get("imageTagMutability")}
        policy = read(
            caller,
            record,
            "Policy",
            "get_repository_policy",
            what="ECR repository policy",
            repositoryName=name,
            absent=("RepositoryPolicyNotFoundException",),
        )
        if policy:
            record.policy = with_implied_resource(policy_value(policy.get("policyText")), arn)
        tags = read(caller, record, "Tags", "list_tags_for_resource", what="ECR repository tags", resourceArn=arn)
        if tags is not None:
            record.tags = tags_of(tags.get("tags"))
        records.append(record)
    return records


@regional("ec2", "EC2 instances and their instance profiles")
def ec2_instances(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages(
        "describe_instances",
        keys=("Reservations",),
        what="EC2 instances and their instance profiles",
        Filters=[{"Name": "instance-state-name", "Values": _LIVE_STATES}],
    )
    records = []
    for reservation in (listed or {}).get("Reservations", ()):
        for inst in reservation.get("Instances") or ():
            profile = (inst.get("IamInstanceProfile") or {}).get("Arn")
            records.append(ResourceRecord(
                arn=caller.session.arn("ec2", caller.region, f"instance/{inst['InstanceId']}"),
                type="AWS::EC2::Instance",
                region=caller.region,
                tags=tags_of(inst.get("Tags")),
                profiles=[str(profile)] if profile else [],
                properties={
                    "InstanceType": inst.get("InstanceType"),
                    "State": (inst.get("State") or {}).get("Name"),
                    "Platform": inst.get("PlatformDetails"),
                    "IamInstanceProfile": profile,
                    "PrivateIpAddress": inst.get("PrivateIpAddress"),
                    "PublicIpAddress": inst.get("PublicIpAddress"),
                    "MetadataHttpTokens": (inst.get("MetadataOptions") or {}).get("HttpTokens"),
                },
            ))  # fmt: skip
    return records
