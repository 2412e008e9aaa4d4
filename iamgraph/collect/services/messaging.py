"""SQS queues and SNS topics with their access policies."""

from __future__ import annotations

from iamgraph.collect.account import ResourceRecord, policy_value, tags_of
from iamgraph.collect.calls import Caller
from iamgraph.collect.services.base import read, regional

__all__ = ["sns_topics", "sqs_queues"]


@regional("sqs", "SQS queues and their policies")
def sqs_queues(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_queues", keys=("QueueUrls",), what="SQS queues and their policies")
    records = []
    for url in (listed or {}).get("QueueUrls", ()):
        name = str(url).rstrip("/").rsplit("/", 1)[-1]
        record = ResourceRecord(
            arn=caller.session.arn("sqs", caller.region, name), type="AWS::SQS::Queue", region=caller.region
        )
        attrs = read(
            caller,
            record,
            "Policy",
            "get_queue_attributes",
            what="SQS queue policy",
            QueueUrl=url,
            AttributeNames=["All"],
        )
        if attrs is not None:
            values = attrs.get("Attributes") or {}
            record.arn = str(values.get("QueueArn") or record.arn)
            record.policy = policy_value(values.get("Policy"))
            record.properties = {
                "QueueUrl": url,
                "KmsMasterKeyId": values.get("KmsMasterKeyId"),
                "SqsManagedSseEnabled": _flag(values.get("SqsManagedSseEnabled")),
                "FifoQueue": _flag(values.get("FifoQueue")),
            }
        tags = read(caller, record, "Tags", "list_queue_tags", what="SQS queue tags", QueueUrl=url)
        if tags is not None:
            record.tags = tags_of(tags.get("Tags") or {})
        records.append(record)
    return records


@regional("sns", "SNS topics and their policies")
def sns_topics(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_topics", keys=("Topics",), what="SNS topics and their policies")
    records = []
    for topic in (listed or {}).get("Topics", ()):
        arn = str(topic["TopicArn"])
        record = ResourceRecord(arn=arn, type="AWS::SNS::Topic", region=caller.region)
        attrs = read(caller, record, "Policy", "get_topic_attributes", what="SNS topic policy", TopicArn=arn)
        if attrs is not None:
            values = attrs.get("Attributes") or {}
            record.policy = policy_value(values.get("Policy"))
            record.properties = {
                "KmsMasterKeyId": values.get("KmsMasterKeyId"),
                "FifoTopic": _flag(values.get("FifoTopic")),
            }
        tags = read(caller, record, "Tags", "list_tags_for_resource", what="SNS topic tags", ResourceArn=arn)
        if tags is not None:
            record.tags = tags_of(tags.get("Tags"))
        records.append(record)
    return records


def _flag(value: object) -> bool | None:
    return None if value is None else str(value).lower() == "true"
