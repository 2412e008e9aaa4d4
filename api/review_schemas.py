"""Request and response models of GET/POST /review. The response is the JSON of `iamgraph review --json`
(docs/review.md); these models document it in the OpenAPI and are never used to re-shape it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.registry import NAME_PATTERN
from api.schemas import Hop

__all__ = ["ReviewBody", "ReviewParams", "ReviewResult"]

SeverityName = Literal["critical", "high", "medium", "low", "info"]
SnapshotName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
CheckId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Days = Annotated[int, Field(ge=1, le=36500)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Json = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- requests -------------------------------------------------------------------------------------


class ReviewParams(_Strict):
    snapshot: SnapshotName | None = Field(None, description="Snapshot name (default: the first loaded)")
    as_of: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None,
        description="Date ages are counted to: YYYY-MM-DD or an ISO 8601 time. Default: the newest time a "
        "credential report of the snapshot was generated (account.json credential_report_generated); "
        "without one, age checks are reported as not assessed",
    )
    checks: list[CheckId] = Field(default_factory=list, max_length=100, description="Run only these checks")
    skip: list[CheckId] = Field(default_factory=list, max_length=100, description="Do not run these checks")
    min_severity: SeverityName | None = Field(None, description="Leave out findings below this severity")
    unused_days: Days | None = None
    rotation_days: Days | None = None
    root_recent_days: Days | None = None
    access_summary: bool = Field(True, description="Per-principal access summary and the permissions-management check")


class ThresholdsBody(_Strict):
    unused_days: Days | None = None
    rotation_days: Days | None = None
    root_recent_days: Days | None = None


class PasswordBaselineBody(_Strict):
    minimum_length: Annotated[int, Field(ge=0, le=128)] | None = None
    require_symbols: bool | None = None
    require_numbers: bool | None = None
    require_uppercase: bool | None = None
    require_lowercase: bool | None = None
    max_age_days: Annotated[int, Field(ge=0, le=36500)] | None = Field(None, description="0: expiry not required")
    reuse_prevention: Annotated[int, Field(ge=0, le=128)] | None = None


class ReviewConfigBody(_Strict):
    """The settings file of `iamgraph review --config`, as JSON."""

    as_of: Annotated[str, StringConstraints(max_length=40)] | None = None
    min_severity: SeverityName | None = None
    access_summary: bool | None = None
    checks: list[CheckId] | None = Field(None, max_length=100)
    skip: list[CheckId] | None = Field(None, max_length=100)
    sensitive_actions: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = Field(
        None, max_length=500
    )
    thresholds: ThresholdsBody | None = None
    password_policy: PasswordBaselineBody | None = None
    severity: dict[CheckId, SeverityName] | None = None


class SuppressionBody(_Strict):
    """One accepted finding: by ``id``, or by ``check`` (with ``subject`` glob / ``account``); a reason is required."""

    id: Text | None = None
    check: CheckId | None = None
    subject: Text | None = None
    account: Text | None = None
    reason: Text
    expires: date | None = None


class ReviewBody(ReviewParams):
    config: ReviewConfigBody | None = Field(None, description="Settings, as in the --config file")
    suppressions: list[SuppressionBody] = Field(default_factory=list, max_length=1000)


# ---- response -------------------------------------------------------------------------------------


class ReviewPath(BaseModel):
    conditional: bool
    hops: list[Hop]


class ReviewEvidence(BaseModel):
    principals: list[str] = Field(description="Graph node ids (open with /graph/node)")
    resources: list[str] = Field(description="Graph node ids")
    statements: list[Json] = Field(description="Statement references: layer, policy, sid, index, effect")
    paths: list[ReviewPath] = Field(description="Paths as privesc/who-can hops, with proof")
    details: Json


class SuppressionRef(BaseModel):
    index: int
    reason: str
    id: str | None = None
    check: str | None = None
    subject: str | None = None
    account: str | None = None
    expires: str | None


class ReviewFinding(BaseModel):
    id: str = Field(description="Stable id: check:subject[#key]")
    check: str
    family: str
    severity: SeverityName
    title: str
    subject: str
    account: str | None
    file: str | None = Field(description="Snapshot file, relative to the snapshot directory")
    evidence: ReviewEvidence
    remediation: str
    suppression: SuppressionRef | None


class ExpiredSuppression(SuppressionRef):
    would_match: list[str]


class CheckedAgainst(BaseModel):
    date: str | None
    source: str | None


class ReviewSuppressions(BaseModel):
    checked_against: CheckedAgainst
    expired: list[ExpiredSuppression]
    unused: list[SuppressionRef]


class AsOf(BaseModel):
    """The time ages are counted to and where it came from; never the server's clock unless asked."""

    time: str | None
    source: str | None = Field(
        description='"as_of parameter", "config file", or "credential report generated <time> (account <id>)"'
    )
    note: str | None = Field(description="why age checks did not run (no as-of time), or null")


class ReviewSummary(BaseModel):
    findings: int
    by_severity: dict[str, int]
    suppressed: int
    below_min_severity: int
    admins: int
    escalations: int


class NotAssessedItem(BaseModel):
    account: str | None
    reason: str
    checks: list[str]


class OutOfScope(BaseModel):
    area: str
    topics: list[str]
    statement: str
    seen_in_snapshot: list[Json]


class AccessSummaryRow(BaseModel):
    principal: str
    kind: str
    account: str
    admin: bool
    admin_conditions: list[Any] | None = Field(
        None, description="Only for an admin under conditions alone (MFA present, say): those conditions"
    )
    totals: dict[str, int] | None


class ReviewCheck(BaseModel):
    id: str
    family: str
    severity: SeverityName
    title: str
    description: str
    remediation: str
    reads: str
    enabled: bool


class ToolInfo(BaseModel):
    name: str
    version: str


class SnapshotAccount(BaseModel):
    id: str
    alias: str | None


class SnapshotOrganization(BaseModel):
    id: str | None
    management_account: str


class ReviewSnapshot(BaseModel):
    accounts: list[SnapshotAccount]
    organization: SnapshotOrganization | None
    warnings: list[str]


class ReviewResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(alias="schema", description="iamgraph.review/1")
    tool: ToolInfo
    snapshot: ReviewSnapshot
    as_of: AsOf
    summary: ReviewSummary
    findings: list[ReviewFinding]
    suppressed: list[ReviewFinding]
    suppressions: ReviewSuppressions
    not_assessed: list[NotAssessedItem]
    out_of_scope: list[OutOfScope]
    access_summary: list[AccessSummaryRow] | None
    config: Json
    checks: list[ReviewCheck]
