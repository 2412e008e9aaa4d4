"""KMS keys (key policies, aliases) and Secrets Manager secrets (resource policies; never their values)."""

from __future__ import annotations

from iamgraph.collect.account import ResourceRecord, policy_value, tags_of
from iamgraph.collect.calls import Caller
from iamgraph.collect.services.base import read, regional

__all__ = ["kms_keys", "secrets"]


@regional("kms", "KMS keys and their key policies")
def kms_keys(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_keys", keys=("Keys",), what="KMS keys and their key policies")
    if listed is None:
        return []
    aliases: dict[str, list[str]] = {}
    named = caller.pages("list_aliases", keys=("Aliases",), what="KMS key aliases")
    for alias in (named or {}).get("Aliases", ()):
        if alias.get("TargetKeyId"):
            aliases.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))
    records = []
    for key in listed["Keys"]:
        key_id = str(key["KeyId"])
        arn = str(key.get("KeyArn") or caller.session.arn("kms", caller.region, f"key/{key_id}"))
        record = ResourceRecord(arn=arn, type="AWS::KMS::Key", region=caller.region)
        record.properties["Aliases"] = sorted(aliases.get(key_id, ()))
        meta = read(caller, record, "Properties", "describe_key", what="KMS key metadata", KeyId=key_id)
        manager = None
        if meta is not None:
            values = meta.get("KeyMetadata") or {}
            manager = values.get("KeyManager")
            for name in ("KeyManager", "KeySpec", "KeyUsage", "KeyState", "Origin", "MultiRegion"):
                record.properties[name] = values.get(name)
        policy = read(
            caller, record, "Policy", "get_key_policy", what="KMS key policy", KeyId=key_id, PolicyName="default"
        )
        if policy is not None:
            record.policy = policy_value(policy.get("Policy"))
        if manager != "AWS":  # AWS managed keys cannot carry tags
            tags = caller.pages("list_resource_tags", keys=("Tags",), what="KMS key tags", target=arn, KeyId=key_id)
            if tags is None:
                record.unreadable.append("Tags")
            else:
                record.tags = tags_of(tags["Tags"])
        records.append(record)
    return records


@regional("secretsmanager", "Secrets Manager secrets and their resource policies")
def secrets(caller: Caller) -> list[ResourceRecord]:
    listed = caller.pages("list_secrets", keys=("SecretList",), what="Secrets Manager secrets and their policies")
    records = []
    for secret in (listed or {}).get("SecretList", ()):
        arn = str(secret["ARN"])
        record = ResourceRecord(
            arn=arn, type="AWS::SecretsManager::Secret", region=caller.region, tags=tags_of(secret.get("Tags"))
        )
        record.properties = {
            "Name": secret.get("Name"),
            "KmsKeyId": secret.get("KmsKeyId"),
            "RotationEnabled": secret.get("RotationEnabled"),
        }
        policy = read(caller, record, "Policy", "get_resource_policy", what="secret resource policy", SecretId=arn)
        if policy is not None:
            record.policy = policy_value(policy.get("ResourcePolicy"))
        records.append(record)
    return records
