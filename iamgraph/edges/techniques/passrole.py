"""PassRole to new compute: create a resource that runs as role R and get code executed -> act as R.

Every recipe needs ``iam:PassRole`` on R (evaluated with ``iam:PassedToService`` set, so conditions on
it are decided), R's trust policy must let the service assume it (evaluated as that service principal;
its statements join the proof), and each service action of the recipe. Requests for resources that
do not exist yet name a pattern ARN of the account ("some function like this"). A role passed as an
EC2 instance role must sit in an instance profile, or the source must create one. PassRole only
works within one account; service-linked roles are never passed.

Recipes of one ``group`` are alternatives for the same path: per (source, role) the first that works
is emitted, and a later one only when it is unconditional and the emitted ones are not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import (
    Alternatives,
    from_source,
    make_edge,
    naming_blocks,
    outright,
    synthetic_policy,
)
from iamgraph.edges.techniques._privesc import PrivescIndex, index
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.model.policy import Policy, PolicyKind, PrincipalBlock
from iamgraph.model.snapshot import Role

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_K_ESCALATE = EdgeKind.ESCALATE

__all__ = ["RECIPES", "Recipe", "passrole_edges"]

PASS = "iam:PassRole"
EC2 = "ec2.amazonaws.com"
USE = "(trusted service)"  # iam:PassedToService is the service the role trusts
SELF_GRANTED = "(self-granted)"  # suffix: the request is allowed by a resource policy the source writes


@dataclass(frozen=True, slots=True)
class Recipe:
    group: str
    services: tuple[str, ...]  # the passed role must trust one of these
    actions: tuple[str, ...]  # service requests, in order; SELF_GRANTED suffix: see above
    instance_profile: bool = False  # an EC2-trusting role must be in an instance profile
    passed_to: str | None = USE  # value of iam:PassedToService (None: left unknown)
    note: str = ""
    technique: str = field(init=False, compare=False)  # iam:PassRole and the actions joined by "+"

    def __post_init__(self) -> None:
        object.__setattr__(self, "technique", "+".join((PASS, *(a.removesuffix(SELF_GRANTED) for a in self.actions))))


def _r(
    group: str,
    services: str | tuple[str, ...],
    *actions: str,
    instance_profile: bool = False,
    passed_to: str | None = USE,
    note: str = "",
) -> Recipe:
    svc = (services,) if isinstance(services, str) else services
    return Recipe(group, svc, actions, instance_profile, passed_to, note)


_ECS = "ecs-tasks.amazonaws.com"
_AGENT = "bedrock-agentcore.amazonaws.com"
_EXISTING_TD = "runs an existing task definition with the task role overridden"
RECIPES: tuple[Recipe, ...] = (
    _r("ec2", EC2, "ec2:RunInstances", instance_profile=True),
    _r("ec2", EC2, "ec2:RequestSpotInstances", instance_profile=True),
    _r("autoscaling", EC2, "autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup",
       instance_profile=True),
    _r("autoscaling", EC2, "ec2:CreateLaunchTemplate", "autoscaling:CreateAutoScalingGroup", instance_profile=True),
    _r("lambda", "lambda.amazonaws.com", "lambda:CreateFunction", "lambda:InvokeFunction"),
    _r("lambda", "lambda.amazonaws.com", "lambda:CreateFunction", "lambda:AddPermission",
       "lambda:InvokeFunction" + SELF_GRANTED, note="invocation allowed by the function policy the source adds"),
    _r("lambda", "lambda.amazonaws.com", "lambda:CreateFunction", "lambda:CreateEventSourceMapping",
       note="needs an event source (e.g. a DynamoDB stream) the source can write to"),
    _r("cloudformation", "cloudformation.amazonaws.com", "cloudformation:CreateStack"),
    _r("cloudformation-stackset", "cloudformation.amazonaws.com", "cloudformation:CreateStackSet",
       "cloudformation:CreateStackInstances"),
    _r("cloudformation-stackset", "cloudformation.amazonaws.com", "cloudformation:UpdateStackSet",
       note="needs an existing stack set"),
    _r("codebuild", "codebuild.amazonaws.com", "codebuild:CreateProject", "codebuild:StartBuild"),
    _r("codebuild", "codebuild.amazonaws.com", "codebuild:CreateProject", "codebuild:StartBuildBatch"),
    _r("glue-devendpoint", "glue.amazonaws.com", "glue:CreateDevEndpoint"),
    _r("glue-job", "glue.amazonaws.com", "glue:CreateJob", "glue:StartJobRun"),
    _r("glue-job", "glue.amazonaws.com", "glue:CreateJob", "glue:CreateTrigger"),
    _r("glue-job", "glue.amazonaws.com", "glue:UpdateJob", "glue:StartJobRun", note="needs an existing job"),
    _r("glue-job", "glue.amazonaws.com", "glue:UpdateJob", "glue:CreateTrigger", note="needs an existing job"),
    _r("glue-session", "glue.amazonaws.com", "glue:CreateSession", "glue:RunStatement"),
    _r("sagemaker-notebook", "sagemaker.amazonaws.com", "sagemaker:CreateNotebookInstance",
       "sagemaker:CreatePresignedNotebookInstanceUrl"),
    _r("sagemaker-training", "sagemaker.amazonaws.com", "sagemaker:CreateTrainingJob"),
    _r("sagemaker-processing", "sagemaker.amazonaws.com", "sagemaker:CreateProcessingJob"),
    _r("datapipeline", ("datapipeline.amazonaws.com", EC2), "datapipeline:CreatePipeline",
       "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline", instance_profile=True),
    _r("ecs", _ECS, "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:RunTask"),
    _r("ecs", _ECS, "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:CreateService"),
    _r("ecs", _ECS, "ecs:RegisterTaskDefinition", "ecs:RunTask", note="needs an existing cluster"),
    _r("ecs", _ECS, "ecs:RegisterTaskDefinition", "ecs:CreateService", note="needs an existing cluster"),
    _r("ecs", _ECS, "ecs:RegisterTaskDefinition", "ecs:StartTask", note="needs a registered container instance"),
    _r("ecs", _ECS, "ecs:RunTask", note=_EXISTING_TD),
    _r("ecs", _ECS, "ecs:StartTask", note=_EXISTING_TD + " on a registered container instance"),
    _r("ecs", _ECS, "ecs:RegisterContainerInstance", "ecs:StartTask", note=_EXISTING_TD),
    _r("batch", (_ECS, "batch.amazonaws.com"), "batch:RegisterJobDefinition", "batch:SubmitJob", passed_to=None,
       note="needs an existing job queue"),
    _r("batch", (_ECS, "batch.amazonaws.com"), "batch:CreateComputeEnvironment", "batch:CreateJobQueue",
       "batch:RegisterJobDefinition", "batch:SubmitJob", passed_to=None),
    _r("apprunner", "tasks.apprunner.amazonaws.com", "apprunner:CreateService"),
    _r("bedrock-agentcore", _AGENT, "bedrock-agentcore:CreateCodeInterpreter",
       "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"),
    _r("bedrock-agentcore", _AGENT, "bedrock-agentcore:CreateAgentRuntime",
       "bedrock-agentcore:CreateAgentRuntimeEndpoint", "bedrock-agentcore:CreateWorkloadIdentity",
       "bedrock-agentcore:InvokeAgentRuntimeCommand"),
    _r("bedrock-agentcore", _AGENT, "bedrock-agentcore:CreateHarness", "bedrock-agentcore:CreateAgentRuntime",
       "bedrock-agentcore:CreateAgentRuntimeEndpoint", "bedrock-agentcore:CreateWorkloadIdentity",
       "bedrock-agentcore:GetAgentRuntime", "bedrock-agentcore:GetHarness",
       "bedrock-agentcore:InvokeAgentRuntimeCommand"),
    _r("bedrock-agentcore", _AGENT, "bedrock-agentcore:CreateBrowser", "bedrock-agentcore:StartBrowserSession",
       "bedrock-agentcore:ConnectBrowserAutomationStream"),
    _r("braket", "braket.amazonaws.com", "braket:CreateJob"),
    _r("cognito", "cognito-identity.amazonaws.com", "cognito-identity:SetIdentityPoolRoles",
       note="needs an identity pool with unauthenticated identities; anyone can then obtain the role's credentials"),
    _r("emr", EC2, "elasticmapreduce:RunJobFlow", instance_profile=True, passed_to=None,
       note="also passes an EMR service role"),
    _r("emr-serverless", "emr-serverless.amazonaws.com", "emr-serverless:CreateApplication",
       "emr-serverless:StartJobRun"),
    _r("gamelift", "gamelift.amazonaws.com", "gamelift:CreateBuild", "gamelift:RequestUploadCredentials",
       "gamelift:CreateFleet"),
    _r("imagebuilder", EC2, "imagebuilder:CreateComponent", "imagebuilder:CreateImageRecipe",
       "imagebuilder:CreateInfrastructureConfiguration", "imagebuilder:CreateImage", instance_profile=True),
    _r("kinesisanalytics", "kinesisanalytics.amazonaws.com", "kinesisanalytics:CreateApplication",
       "kinesisanalytics:StartApplication"),
    _r("omics", "omics.amazonaws.com", "omics:CreateWorkflow", "omics:StartRun"),
    _r("ssm-automation", "ssm.amazonaws.com", "ssm:CreateDocument", "ssm:StartAutomationExecution"),
    _r("mwaa", ("airflow-env.amazonaws.com", "airflow.amazonaws.com"), "airflow:CreateEnvironment",
       passed_to=None, note="also needs the network permissions of an MWAA environment"),
)  # fmt: skip

_RESOURCE: Mapping[str, str] = {
    "ec2:RunInstances": "arn:aws:ec2:*:{a}:instance/*",
    "ec2:RequestSpotInstances": "arn:aws:ec2:*:{a}:spot-instances-request/*",
    "ec2:CreateLaunchTemplate": "arn:aws:ec2:*:{a}:launch-template/*",
    "autoscaling:CreateLaunchConfiguration": "arn:aws:autoscaling:*:{a}:launchConfiguration:*:*",
    "autoscaling:CreateAutoScalingGroup": "arn:aws:autoscaling:*:{a}:autoScalingGroup:*:*",
    "lambda:CreateEventSourceMapping": "arn:aws:lambda:*:{a}:event-source-mapping:*",
    "lambda:": "arn:aws:lambda:*:{a}:function:*",
    "cloudformation:CreateStack": "arn:aws:cloudformation:*:{a}:stack/*/*",
    "cloudformation:": "arn:aws:cloudformation:*:{a}:stackset/*:*",
    "codebuild:": "arn:aws:codebuild:*:{a}:project/*",
    "glue:CreateDevEndpoint": "arn:aws:glue:*:{a}:devEndpoint/*",
    "glue:CreateTrigger": "arn:aws:glue:*:{a}:trigger/*",
    "glue:CreateSession": "arn:aws:glue:*:{a}:session/*",
    "glue:RunStatement": "arn:aws:glue:*:{a}:session/*",
    "glue:": "arn:aws:glue:*:{a}:job/*",
    "sagemaker:CreateTrainingJob": "arn:aws:sagemaker:*:{a}:training-job/*",
    "sagemaker:CreateProcessingJob": "arn:aws:sagemaker:*:{a}:processing-job/*",
    "sagemaker:": "arn:aws:sagemaker:*:{a}:notebook-instance/*",
    "datapipeline:": "arn:aws:datapipeline:*:{a}:pipeline/*",
    "ecs:CreateCluster": "arn:aws:ecs:*:{a}:cluster/*",
    "ecs:RegisterContainerInstance": "arn:aws:ecs:*:{a}:cluster/*",
    "ecs:CreateService": "arn:aws:ecs:*:{a}:service/*/*",
    "ecs:RunTask": "arn:aws:ecs:*:{a}:task-definition/*:*",
    "ecs:StartTask": "arn:aws:ecs:*:{a}:task-definition/*:*",
    "batch:CreateComputeEnvironment": "arn:aws:batch:*:{a}:compute-environment/*",
    "batch:CreateJobQueue": "arn:aws:batch:*:{a}:job-queue/*",
    "batch:": "arn:aws:batch:*:{a}:job-definition/*",
    "apprunner:": "arn:aws:apprunner:*:{a}:service/*/*",
    "cognito-identity:": "arn:aws:cognito-identity:*:{a}:identitypool/*",
    "kinesisanalytics:": "arn:aws:kinesisanalytics:*:{a}:application/*",
    "ssm:CreateDocument": "arn:aws:ssm:*:{a}:document/*",
    "ssm:StartAutomationExecution": "arn:aws:ssm:*:{a}:automation-definition/*",
    "airflow:": "arn:aws:airflow:*:{a}:environment/*",
}
_PROFILE = "arn:aws:iam::{a}:instance-profile/*"
_PROFILE_STEPS = ("iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile")


def resource_for(action: str, account: str) -> str:
    """The request resource of a recipe action: a pattern ARN of the account (of the new resource
    where its type is known, else any resource of the service in the account)."""
    prefix = action.split(":", 1)[0]
    template = _RESOURCE.get(action) or _RESOURCE.get(prefix + ":") or f"arn:aws:{prefix}:*:{{a}}:*"
    return template.format(a=account)


@register("passrole", "passrole", "iam:PassRole to a new compute resource that runs as the role")
def passrole_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    groups: dict[str, list[Recipe]] = {}
    for recipe in RECIPES:
        groups.setdefault(recipe.group, []).append(recipe)
    made: dict[tuple[object, ...], list[DerivedEdge]] = {}  # the edges of a class of sources, by its key
    blocks: dict[str, tuple[PrincipalBlock, ...] | None] = {}  # by account, see _pass_principals
    for p in idx.sources(PASS):
        if idx.is_admin(p):
            continue
        key = _source_class(idx, p, blocks)
        if key is None:
            yield from _source_edges(idx, p, groups)
            continue
        edges = made.get(key)
        if edges is None:
            edges = made[key] = list(_source_edges(idx, p, groups, own_role=True))
        for edge in edges:
            if edge.target != p.arn:
                yield from_source(edge, p.arn)


Passable = tuple[PrincipalEntry, Decision, Decision]  # a role, its trust of the service, passing it

# the service requests asked only of sources that may be allowed them: not self-granted, not the profile's
_PLAIN = (
    frozenset(a for r in RECIPES for a in r.actions if not a.endswith(SELF_GRANTED))
    - {a.removesuffix(SELF_GRANTED) for r in RECIPES for a in r.actions if a.endswith(SELF_GRANTED)}
    - set(_PROFILE_STEPS)
)
# every request of a source: passing, the recipes' service requests, creating an instance profile
_ACTIONS = tuple(
    dict.fromkeys((PASS, *(a.removesuffix(SELF_GRANTED) for r in RECIPES for a in r.actions), *_PROFILE_STEPS))
)


def _source_class(
    idx: PrivescIndex, p: PrincipalEntry, blocks: dict[str, tuple[PrincipalBlock, ...] | None]
) -> tuple[object, ...] | None:
    """What the engine reads of ``p`` for its requests (``SharedDecisions.caller_number`` in its account, per
    action; numbers hold within the technique's run): sources with equal keys get equal decisions on every
    role and pattern, so equal edges (their own role aside). None when ``p``'s edges are its own: a trust
    policy of its account names it in a statement on iam:PassRole, or the builder's admin subsumption
    leaves some of its edges unmade (``Decider.decided``: which depends on ``p``'s own admin conditions)."""
    cover = idx.cover
    if cover is not None and cover.admin(p.arn):
        return None
    account = p.account
    if account not in blocks:
        blocks[account] = _pass_principals(idx, account)
    named = blocks[account]
    if named is None or any(idx.block_names(b, p) for b in named):
        return None
    key: list[object] = [account]
    may, number = idx.estate.may_allow, idx.estate.shared.caller_number
    for action in _ACTIONS:
        if action in _PLAIN and not may(p.arn, action):  # never asked (no recipe with it goes on past
            key.append(False)  # _service_steps' prefilter), nor for the others of the class
            continue
        part = number(p, action, account)  # kept: the class's requests ask it again (Decider._in_class)
        if part is None:
            return None
        key.append(part)
    return tuple(key)


def _pass_principals(idx: PrivescIndex, account: str) -> tuple[PrincipalBlock, ...] | None:
    """The Principal elements of the statements naming iam:PassRole in the policies of the account's roles
    (their trust policies, which AWS keeps to sts actions; an input may hold anything): the sources they
    name decide on their own. None when such a statement has no Principal element or a NotPrincipal."""
    resources = (idx.estate.resources.get(entry.arn) for entry in idx.estate.by_account.get(account, ()))
    return naming_blocks((res.policy for res in resources if res is not None and res.policy is not None), (PASS,))


def _source_edges(
    idx: PrivescIndex, p: PrincipalEntry, groups: dict[str, list[Recipe]], *, own_role: bool = False
) -> Iterator[DerivedEdge]:
    """``p``'s edges (``own_role``: also onto ``p`` itself, for the other sources of its class)."""
    passable: dict[tuple[str, str | None], list[Passable]] = {}  # the source's, shared by its recipes
    for recipes in groups.values():
        yield from _group_edges(idx, p, recipes, passable, own_role)


def _group_edges(
    idx: PrivescIndex,
    p: PrincipalEntry,
    recipes: list[Recipe],
    passable: dict[tuple[str, str | None], list[Passable]],
    own_role: bool,
) -> Iterator[DerivedEdge]:
    kept = Alternatives()
    for recipe in recipes:
        trusting = [(svc, idx.roles_trusting(p.account, svc)) for svc in recipe.services]
        if not any(roles for _, roles in trusting):
            continue  # no role of the account trusts the service
        steps = _service_steps(idx, p, recipe)
        if steps is None:
            continue
        for service, roles in trusting:
            passed_to = service if recipe.passed_to == USE else recipe.passed_to
            ours = passable.get((service, passed_to))
            if ours is None:
                ours = passable[(service, passed_to)] = _passable(idx, p, roles, passed_to, own_role)
            for role, trust, passing in ours:
                if kept.settled(p.arn, role.arn):
                    continue
                firm_only = kept.holds(p.arn, role.arn)  # a conditional edge is kept: only an unconditional one counts
                edge = _edge(idx, p, recipe, service, role, trust, passing, steps, firm_only=firm_only)
                if edge is not None and kept.keep(edge):
                    yield edge


def _passable(
    idx: PrivescIndex,
    p: PrincipalEntry,
    roles: list[tuple[PrincipalEntry, Decision]],
    passed_to: str | None,
    own_role: bool,
) -> list[Passable]:
    """The roles trusting a service that ``p`` may pass with ``iam:PassedToService`` = ``passed_to`` (once per
    source, service and value, not once per recipe), but those whose every edge the builder would drop (an
    admin under conditions this passing implies); ``p`` itself only with ``own_role``."""
    extra = {"iam:PassedToService": passed_to} if passed_to else None
    trust_of = {id(role): trust for role, trust in roles}
    others = [role for role, _ in roles if own_role or role.arn != p.arn]
    return [
        (role, trust_of[id(role)], passing)
        for role, passing in idx.decided(p, PASS, others, account=p.account, extra=extra)
    ]


def _service_steps(idx: PrivescIndex, p: PrincipalEntry, recipe: Recipe) -> dict[str, Decision] | None:
    """The decisions of the recipe's service requests, or None when one is impossible."""
    plain = [a for a in recipe.actions if not a.endswith(SELF_GRANTED)]
    if not all(idx.estate.may_allow(p.arn, a) for a in plain):
        return None
    steps: dict[str, Decision] = {}
    for action in recipe.actions:
        name = action.removesuffix(SELF_GRANTED)
        resource = resource_for(name, p.account)
        if action.endswith(SELF_GRANTED):
            d = idx.estate.evaluate(p, name, resource, policy=_self_granted(p, name))
        else:
            d = idx.decide_alike(p, name, resource)
        if not d.possible:
            return None
        steps[name] = d
    return steps


def _self_granted(p: PrincipalEntry, action: str) -> Policy:
    return synthetic_policy(
        "resource policy the source adds",
        {"Effect": "Allow", "Principal": {"AWS": p.arn}, "Action": action, "Resource": "*"},
        PolicyKind.RESOURCE,
    )


def _edge(
    idx: PrivescIndex,
    p: PrincipalEntry,
    recipe: Recipe,
    service: str,
    role: PrincipalEntry,
    trust: Decision,
    passing: Decision,
    steps: dict[str, Decision],
    *,
    firm_only: bool = False,
) -> DerivedEdge | None:
    """The edge of one recipe to one role (``firm_only``: only when it is unconditional; a conditional one
    is not made)."""
    all_steps = {PASS: passing, **steps}
    note = recipe.note
    entity = role.entity
    if recipe.instance_profile and service == EC2 and isinstance(entity, Role) and not entity.instance_profile_arns:
        for action in _PROFILE_STEPS:
            all_steps[action] = idx.decide(p, action, _PROFILE.format(a=p.account))
        note = "; ".join(n for n in (note, "the role has no instance profile: the source creates one") if n)
    if firm_only and not outright([trust, *all_steps.values()]):
        return None
    return make_edge(p.arn, role.arn, _K_ESCALATE, recipe.technique, all_steps, support=(trust,), note=note)
