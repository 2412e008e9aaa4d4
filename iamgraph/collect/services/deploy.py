"""Compute that runs with a service role: CloudFormation stacks, CodeBuild projects, Glue development
endpoints and SageMaker notebook instances (the targets of the takeover techniques)."""

from __future__ import annotations

from iamgraph.collect.account import ResourceRecord, tags_of
from iamgraph.collect.calls import Caller
from iamgraph.collect.services.base import read, regional

__all__ = ["codebuild_projects", "glue_dev_endpoints", "sagemaker_notebooks", "stacks"]

_BATCH = 100


@regional("cloudformation", "CloudFormation stacks and their service roles")
def stacks(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("describe_stacks", keys=("Stacks",), what="CloudFormation stacks and their roles")
    records = []
    for stack in (listed or {}).get("Stacks", ()):
        if stack.get("StackStatus") == "DELETE_COMPLETE":
            continue
        records.append(ResourceRecord(
            arn=str(stack["StackId"]), type="AWS::CloudFormation::Stack", region=caller.region,
            tags=tags_of(stack.get("Tags")), roles=[str(stack["RoleARN"])] if stack.get("RoleARN") else [],
            properties={"StackName": stack.get("StackName"), "StackStatus": stack.get("StackStatus")},
        ))  # fmt: skip
    return records


@regional("codebuild", "CodeBuild projects and their service roles")
def codebuild_projects(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_projects", keys=("projects",), what="CodeBuild projects and their roles")
    names = [str(n) for n in (listed or {}).get("projects", ())]
    records = []
    for start in range(0, len(names), _BATCH):
        batch = names[start : start + _BATCH]
        answer = caller.call(
            "batch_get_projects", what="CodeBuild project details (roles)", target=",".join(batch), names=batch
        )
        for project in (answer or {}).get("projects", ()):
            role = project.get("serviceRole")
            records.append(ResourceRecord(
                arn=str(project["arn"]), type="AWS::CodeBuild::Project", region=caller.region,
                tags=tags_of(project.get("tags")), roles=[str(role)] if role else [],
                properties={"SourceType": (project.get("source") or {}).get("type"),
                            "Image": (project.get("environment") or {}).get("image")},
            ))  # fmt: skip
    return records


@regional("glue", "Glue development endpoints and their roles")
def glue_dev_endpoints(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("get_dev_endpoints", keys=("DevEndpoints",), what="Glue development endpoints")
    records = []
    for endpoint in (listed or {}).get("DevEndpoints", ()):
        name = str(endpoint["EndpointName"])
        record = ResourceRecord(
            arn=caller.session.arn("glue", caller.region, f"devEndpoint/{name}"), type="AWS::Glue::DevEndpoint",
            region=caller.region, roles=[str(endpoint["RoleArn"])] if endpoint.get("RoleArn") else [],
            properties={"EndpointName": name, "Status": endpoint.get("Status"),
                        "PublicAddress": endpoint.get("PublicAddress")},
        )  # fmt: skip
        tags = read(caller, record, "Tags", "get_tags", what="Glue endpoint tags", ResourceArn=record.arn)
        if tags is not None:
            record.tags = tags_of(tags.get("Tags"))
        records.append(record)
    return records


@regional("sagemaker", "SageMaker notebook instances and their roles")
def sagemaker_notebooks(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_notebook_instances", keys=("NotebookInstances",), what="SageMaker notebooks")
    records = []
    for notebook in (listed or {}).get("NotebookInstances", ()):
        name, arn = str(notebook["NotebookInstanceName"]), str(notebook["NotebookInstanceArn"])
        record = ResourceRecord(arn=arn, type="AWS::SageMaker::NotebookInstance", region=caller.region)
        detail = read(
            caller,
            record,
            "Roles",
            "describe_notebook_instance",
            what="SageMaker notebook role",
            NotebookInstanceName=name,
        )
        if detail is not None:
            record.roles = [str(detail["RoleArn"])] if detail.get("RoleArn") else []
            record.properties = {
                "Status": detail.get("NotebookInstanceStatus"),
                "DirectInternetAccess": detail.get("DirectInternetAccess"),
                "RootAccess": detail.get("RootAccess"),
            }
        tags = read(caller, record, "Tags", "list_tags", what="SageMaker notebook tags", ResourceArn=arn)
        if tags is not None:
            record.tags = tags_of(tags.get("Tags"))
        records.append(record)
    return records
