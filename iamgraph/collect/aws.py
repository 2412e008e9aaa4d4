"""The boto3 boundary: sessions from boto3's normal credential chain, one client configuration
(retry mode, attempts, timeouts), clients cached per service and region, assumed-role sessions whose
credentials refresh themselves. Credentials stay in memory; nothing here logs or writes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from iamgraph.collect.options import CollectOptions
from iamgraph.errors import IamGraphError

__all__ = [
    "AccountSession",
    "CollectError",
    "Identity",
    "base_session",
    "caller_identity",
    "client_config",
    "default_region",
]

_DEFAULT_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
_CLIENT_LOCK = threading.Lock()  # boto3 sessions are not safe to create clients from concurrently


def default_region(partition: str) -> str:
    """The region of global endpoints (IAM, STS, S3 buckets without a location constraint)."""
    return _DEFAULT_REGION.get(partition, "us-east-1")


class CollectError(IamGraphError):
    """Collection cannot start (no credentials, unknown profile, organization not readable): one line, exit 2."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    account: str
    arn: str
    partition: str


def client_config(options: CollectOptions) -> Config:
    """Retries (standard or adaptive), connect/read timeouts; path-style S3 and no host prefixes for a
    custom endpoint (a local emulator answers on one host)."""
    settings: dict[str, Any] = {
        "retries": {"mode": options.retry_mode, "total_max_attempts": options.max_attempts},
        "connect_timeout": min(10.0, options.timeout),
        "read_timeout": options.timeout,
        "max_pool_connections": max(10, options.parallel),
        "user_agent_extra": "iamgraph-collect",
    }
    if options.endpoint_url:
        settings["s3"] = {"addressing_style": "path"}
        settings["inject_host_prefix"] = False
    return Config(**settings)


def base_session(options: CollectOptions) -> boto3.Session:
    """The session of boto3's credential chain: --profile, else the environment, config files, instance role."""
    try:
        return boto3.Session(profile_name=options.profile)
    except ProfileNotFound:
        raise CollectError(f'AWS profile "{options.profile}" not found in the AWS config files') from None


def caller_identity(session: boto3.Session, options: CollectOptions) -> Identity:
    """Who the credentials belong to; every credential problem becomes one CollectError line."""
    region = options.home_region or session.region_name or _DEFAULT_REGION["aws"]
    try:
        with _CLIENT_LOCK:
            sts = session.client(
                "sts", region_name=region, endpoint_url=options.endpoint_url, config=client_config(options)
            )
        answer = sts.get_caller_identity()
    except NoCredentialsError:
        raise CollectError(
            "no AWS credentials found (use --profile, the AWS_* environment variables or an instance role)"
        ) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise CollectError(f"the AWS credentials were refused by sts:GetCallerIdentity ({code})") from None
    except BotoCoreError as exc:
        raise CollectError(f"cannot reach AWS STS: {exc}") from None
    arn = str(answer["Arn"])
    return Identity(account=str(answer["Account"]), arn=arn, partition=arn.split(":")[1])


class AccountSession:
    """Clients of one account: created once per (service, region) and dropped with :meth:`close`."""

    def __init__(
        self, session: boto3.Session, *, account: str, partition: str, options: CollectOptions, config: Config
    ) -> None:
        self.session = session
        self.account = account
        self.partition = partition
        self.options = options
        self._config = config
        self._clients: dict[tuple[str, str], BaseClient] = {}
        configured = session.region_name
        if options.home_region:
            self.home_region = options.home_region
        elif configured and self.partition_of(configured) == partition:
            self.home_region = configured
        else:
            self.home_region = default_region(partition)

    def client(self, service: str, region: str | None) -> BaseClient:
        key = (service, region or self.home_region)
        with _CLIENT_LOCK:
            found = self._clients.get(key)
            if found is None:
                found = self._clients[key] = self.session.client(
                    service, region_name=key[1], endpoint_url=self.options.endpoint_url, config=self._config
                )
                if service == "s3control" and self.options.endpoint_url:
                    found.meta.events.register("before-sign.s3-control", _EndpointHost(self.options.endpoint_url))
        return found

    def partition_of(self, region: str) -> str:
        return str(self.session.get_partition_for_region(region))

    def known_regions(self) -> list[str]:
        """Every region botocore knows for this partition (the fallback when the region list is unreadable)."""
        return sorted(self.session.get_available_regions("ec2", partition_name=self.partition))

    def arn(self, service: str, region: str | None, resource: str, *, account: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{region or ''}:{self.account if account else ''}:{resource}"

    def assumed(self, account: str, first: dict[str, str], refresh: Callable[[], dict[str, str]]) -> AccountSession:
        """A session in ``account`` with credentials ``first`` that renew through ``refresh`` before expiry."""
        core = botocore.session.Session()
        core.register_component("credential_provider", CredentialResolver([_AssumedRole(first, refresh)]))
        session = boto3.Session(botocore_session=core, region_name=self.home_region)
        return AccountSession(
            session, account=account, partition=self.partition, options=self.options, config=self._config
        )

    def close(self) -> None:
        with _CLIENT_LOCK:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


class _EndpointHost:
    """S3 Control's endpoint rules put the account id in front of the host (``123456789012.host``), even of
    a custom endpoint; an emulator on a loopback address is not reachable that way, so keep its host."""

    def __init__(self, endpoint_url: str) -> None:
        self._netloc = urlsplit(endpoint_url).netloc

    def __call__(self, request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != self._netloc and parts.netloc.endswith("." + self._netloc):
            request.url = urlunsplit(parts._replace(netloc=self._netloc))


class _AssumedRole(CredentialProvider):
    METHOD = "iamgraph-assume-role"

    def __init__(self, first: dict[str, str], refresh: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._first = first
        self._refresh = refresh

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(
            metadata=self._first, refresh_using=self._refresh, method=self.METHOD
        )
