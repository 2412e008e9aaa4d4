"""Decisions of the privilege-escalation techniques, evaluated as rarely as possible.

``on_target`` answers "may P do A on this resource?" for many resources of one account: a resource
policy that bears on P makes the decision resource-specific; otherwise an identity Allow must be able
to name the resource (a regex test settles most), and resources that every statement bearing on the
action treats alike — same *signature*: which resource-specific statements match them, and the
values of the resource tags their conditions read — share one evaluation. The decisions are those of
``Estate.evaluate``; only the number of calls changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, Protocol, TypeVar

from iamgraph.evaluation.context import Context
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.principals import match_block
from iamgraph.graph.estate import Estate, PrincipalEntry, ResourceEntry
from iamgraph.graph.shared import resource_specific, resource_state
from iamgraph.model.policy import Effect, Policy, PrincipalBlock, Statement
from iamgraph.policy.logic import Expr
from iamgraph.policy.match import is_pattern
from iamgraph.policy.variables import Lookup

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW = Effect.ALLOW

__all__ = ["Cover", "Decider", "Named"]

_TAG = ("aws:resourcetag/", "iam:resourcetag/", "${aws:resource", "${iam:resource")
Bearing = tuple[tuple[Statement, ...], tuple[str, ...]]  # resource-specific statements, tag keys read
_Plan = tuple[tuple[Statement, ...], bool, Lookup, bool]  # see Decider._plan
# _on_target's memo key of a shared decision: principal, action, account, context, signature
_SigKey = tuple[str, str, str, tuple[tuple[str, str], ...], tuple[object, ...]]
_UNSET: Any = object()  # not yet in a memo whose values may be None


class Named(Protocol):
    @property
    def arn(self) -> str: ...


N = TypeVar("N", bound=Named)


def _could_name(st: Statement, arn: str, lookup: Lookup) -> bool:
    """Can this Allow statement's Resource element cover ``arn`` (or leave it open)?"""
    if st.resource_matcher is None:
        return True
    r = st.resource_matcher.match(arn, lookup, deny=False)
    return r.matched or bool(r.unknown_keys or r.ambiguous or r.case_only)


def _names_every(st: Statement) -> bool:
    """The statement's Resource element matches every ARN (no element, or ``*`` not negated)."""
    m = st.resource_matcher
    return m is None or (not m.negated and "*" in m.patterns)


def _tag_keys(st: Statement) -> frozenset[str] | None:
    """The resource tag keys the statement's conditions read (lower case); None when a policy
    variable names a resource key (then no signature)."""
    texts = [*(st.resources or ()), *(v for c in st.conditions for v in c.values)]
    if any(t in x.lower() for x in texts for t in _TAG[2:]):
        return None
    return frozenset(c.key_lc.split("/", 1)[1] for c in st.conditions if c.key_lc.startswith(_TAG[:2]))


class Cover(Protocol):
    """The graph builder's admin subsumption (``iamgraph.graph.subsume.AdminSubsumption``)."""

    def admin(self, source: str) -> bool:
        """``source`` is an admin in control (under conditions or not): some of its edges may be covered."""
        ...

    def within(self, source: str, conditions: Expr) -> bool:
        """An edge of ``source`` onto its own account under ``conditions`` is covered (dropped)."""
        ...


class Decider:
    """Memoised decisions over one estate (see the module docstring)."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self._memo: dict[tuple[object, ...], Decision] = {}
        self._alike: dict[tuple[object, ...], Decision] = {}  # decide_alike's and _in_class's, by class
        self._allow_sts: dict[tuple[str, str], tuple[Statement, ...]] = {}
        self._bearing_memo: dict[tuple[str, str, str], Bearing | None] = {}
        self._lookups: dict[tuple[str, str], Lookup] = {}
        self._bearing_rbp: dict[tuple[str, str, str], bool] = {}
        self._block_hits: dict[tuple[object, ...], bool] = {}
        self._targets: dict[tuple[object, ...], Decision | None] = {}  # on_target answers by its arguments
        self._plans: dict[tuple[str, str, str], _Plan] = {}
        # set by the graph builder: does its admin subsumption drop every edge of a principal onto its own
        # account whose conditions imply these? (``iam_targets`` then leaves such edges unmade)
        self.cover: Cover | None = None
        self._passed_over: dict[tuple[object, ...], bool] = {}
        # per target and action: its resource entry when the resource's policy names the action, else False
        # (a role's trust policy names no IAM write: most questions of the techniques end there)
        self._naming: dict[tuple[str, str], ResourceEntry | Literal[False]] = {}

    def forget_requests(self) -> None:
        """Let go of the decisions on particular targets and resources (one technique's questions: the
        next asks about other actions), keeping what is per principal and action (plans, bearings)."""
        self._memo.clear()
        self._alike.clear()
        self._targets.clear()
        self._passed_over.clear()
        self._bearing_rbp.clear()
        self._naming.clear()
        self._block_hits.clear()

    def _bears_arn(self, arn: str, action: str, p: PrincipalEntry) -> bool:
        key = (arn, action)
        res = self._naming.get(key)
        if res is None:  # the resource when its policy names the action, else False: kept per target and action
            found = self.estate.resources.get(arn)
            if found is not None and found.policy is not None and self.estate.names_action(found.policy, action):
                res = self._naming[key] = found
            else:
                res = self._naming[key] = False
        return res is not False and self._bears(res, action, p)

    def _bears(self, res: ResourceEntry, action: str, p: PrincipalEntry) -> bool:
        """The resource's policy has a statement bearing on ``p`` doing ``action`` (memoised)."""
        if res.policy is None or not self.estate.names_action(res.policy, action):
            return False  # no statement names the action (a trust policy and an IAM write): whoever asks
        key = (res.arn, action, p.arn)
        hit = self._bearing_rbp.get(key)
        if hit is None:
            hit = self._bearing_rbp[key] = any(
                st.action_matcher.matches(action)
                and (st.principal is None or st.not_principal is not None or self.block_names(st.principal, p))
                for st in res.policy.statements
            )
        return hit

    def block_names(self, block: PrincipalBlock, p: PrincipalEntry) -> bool:
        """A Principal element names ``p`` (memoised by content: policies repeat the same blocks)."""
        key = (block.wildcard, block.aws, block.service, block.federated, p.arn)
        hit = self._block_hits.get(key)
        if hit is None:
            hit = self._block_hits[key] = bool(match_block(block, p.principal))
        return hit

    def decide(
        self, p: PrincipalEntry, action: str, resource: str, *, extra: Mapping[str, str] | None = None
    ) -> Decision:
        key = (p.arn, action, resource, tuple(sorted((extra or {}).items())))
        d = self._memo.get(key)
        if d is None:
            d = self._memo[key] = self.estate.evaluate(p, action, resource, extra=extra)
        return d

    def decide_alike(self, p: PrincipalEntry, action: str, resource: str) -> Decision:
        """:meth:`decide` for a request on a resource of no inventory entry (a pattern such as a service's
        new resource), shared by the principals of a class (``SharedDecisions.caller_number``: the same
        statements naming the action, kind, account, organisation and condition outcomes, no policy
        variable): without an entry, no resource policy, tag or RCP of the resource enters the decision."""
        shared = self.estate.shared
        number = shared.caller_number(p, action) if self.estate.entry_for(resource) is None else None
        if number is None:
            return self.decide(p, action, resource)
        key = (shared.epoch, number, action, resource)
        d = self._alike.get(key)
        if d is None:
            d = self._alike[key] = self.estate.evaluate(p, action, resource)
        return d

    def iam_targets(
        self,
        p: PrincipalEntry,
        action: str,
        targets: Iterable[N],
        *,
        account: str,
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[tuple[N, Decision]]:
        """Targets (IAM entities of ``account``) on which ``p`` may perform ``action``, with the decision
        (but those :meth:`passes_over` leaves out: the graph builder would drop their edges)."""
        if not self._allows(p, action):
            return
        yield from self.decided(p, action, targets, account=account, extra=extra)

    def decided(
        self,
        p: PrincipalEntry,
        action: str,
        targets: Iterable[N],
        *,
        account: str,
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[tuple[N, Decision]]:
        """Each target with :meth:`on_target`'s decision, but those impossible, those :meth:`passes_over`
        leaves out and those :meth:`covered`: the loop of both over many targets, with what is the same
        for all of them (is ``p`` an admin here, the context's key) worked out once."""
        cover = self.cover
        admin = cover is not None and account == p.account and cover.admin(p.arn)
        extra_key = tuple(sorted(extra.items())) if extra else ()
        memo, decide, source = self._targets, self._on_target, p.arn
        for t in targets:
            arn = t.arn
            if admin and self.passes_over(p, action, arn, account=account, extra=extra):
                continue
            key = (source, action, arn, account, extra_key)
            d = memo.get(key, _UNSET)
            if d is _UNSET:
                d = memo[key] = decide(p, action, arn, account, extra, extra_key)
            if d is not None and not (admin and self.covered(p, d, account)):
                yield t, d

    def covered(self, p: PrincipalEntry, d: Decision, account: str) -> bool:
        """Every edge made on decision ``d`` (one of its steps) onto ``account`` is one the graph builder
        drops: ``p`` is admin under conditions that ``d``'s imply, in its own account. For targets whose
        decisions are not shared (statements that name them): :meth:`passes_over` tells it before deciding."""
        cover = self.cover
        return cover is not None and account == p.account and cover.admin(p.arn) and cover.within(p.arn, d.residual)

    def passes_over(
        self, p: PrincipalEntry, action: str, arn: str, *, account: str, extra: Mapping[str, str] | None = None
    ) -> bool:
        """Every edge made on ``p``'s decision for ``action`` on ``arn`` is one the graph builder drops
        (``cover``, set by it: ``p`` is admin under conditions that the decision implies).

        Told for the targets of ``p``'s own account that share one decision: no statement bearing on the
        action is resource-specific or reads a tag (the ``uniform`` plan), and no resource policy bears on
        the request. The decision is one of the steps of any edge made on it, so its conditions are a
        conjunct of the edge's, which then imply the admin conditions too: the edge is covered. Decided
        once per (principal, action, context), with the first such target's decision."""
        cover = self.cover
        if cover is None or account != p.account or not cover.admin(p.arn):
            return False
        if is_pattern(arn) or self._bears_arn(arn, action, p):
            return False  # decided on its own
        key = (p.arn, action, account, tuple(sorted(extra.items())) if extra else (), ())  # on_target's memo key
        hit = self._passed_over.get(key)
        if hit is None:
            self.on_target(p, action, arn, account=account, extra=extra)
            shared = self._memo.get(key)  # made by that call when this target shares the decision
            if shared is None:
                return False
            hit = self._passed_over[key] = not shared.possible or cover.within(p.arn, shared.residual)
        return hit

    def on_target(
        self, p: PrincipalEntry, action: str, arn: str, *, account: str, extra: Mapping[str, str] | None = None
    ) -> Decision | None:
        """The decision for ``p`` doing ``action`` on ``arn`` of ``account``; None when impossible.

        Without a resource policy that names the action, an identity Allow must cover ``arn`` (a regex
        test decides most targets), and targets that every statement bearing on the action treats
        alike (the same :meth:`signature`) share one evaluation. Answers are kept by their arguments:
        techniques ask the same question again (PassRole once per recipe passing to the same service)."""
        extra_key = tuple(sorted(extra.items())) if extra else ()
        key = (p.arn, action, arn, account, extra_key)
        try:
            return self._targets[key]
        except KeyError:
            d = self._targets[key] = self._on_target(p, action, arn, account, extra, extra_key)
            return d

    def _on_target(
        self,
        p: PrincipalEntry,
        action: str,
        arn: str,
        account: str,
        extra: Mapping[str, str] | None,
        extra_key: tuple[tuple[str, str], ...],
    ) -> Decision | None:
        if self._bears_arn(arn, action, p):
            d = self.decide(p, action, arn, extra=extra)
            return d if d.possible else None
        if account != p.account:
            return None  # another account's resource without a resource policy grant
        allows, every, lookup, uniform = self._plan(p, action, account)
        if not every and not any(_could_name(st, arn, lookup) for st in allows):
            return None
        # no statement bearing on the action is resource-specific or reads a tag: the signature is ()
        sig = () if uniform and not is_pattern(arn) else self.signature(p, action, arn, account)
        if sig is None:
            d = self.decide(p, action, arn, extra=extra)
        else:
            key: _SigKey = (p.arn, action, account, extra_key, sig)
            hit = self._memo.get(key)
            d = hit if hit is not None else self._memo.setdefault(key, self._in_class(p, action, arn, extra, key))
        return d if d.possible else None

    def _in_class(
        self, p: PrincipalEntry, action: str, arn: str, extra: Mapping[str, str] | None, key: _SigKey
    ) -> Decision:
        """The decision of :meth:`_on_target`'s memo ``key`` (no resource policy bearing on ``p``, a target of
        ``p``'s account with signature ``sig``), shared by the principals of a class
        (``SharedDecisions.caller_number`` in the account: the same statements naming the action, kind,
        account, organisation, condition outcomes of those and of the account's RCPs, the values of the
        principal keys their policy variables name):
        their statements bearing on the action are the same, so a signature means the same to all of them."""
        shared = self.estate.shared
        number = shared.caller_number(p, action, key[2])
        if number is None:
            return self.estate.evaluate(p, action, arn, extra=extra)
        classed = (shared.epoch, number, *key[1:])  # the action, account, context and signature
        d = self._alike.get(classed)
        if d is None:
            d = self._alike[classed] = self.estate.evaluate(p, action, arn, extra=extra)
        return d

    def on_resource(self, p: PrincipalEntry, action: str, arn: str, res: ResourceEntry) -> Decision | None:
        """:meth:`on_target` for a request naming ``arn`` on behalf of ``res`` (an inventory entry)."""
        if self._bears(res, action, p):
            d = self.decide(p, action, arn)
            return d if d.possible else None
        return self.on_target(p, action, arn, account=res.account)

    def self_granted(
        self, p: PrincipalEntry, action: str, res: ResourceEntry, policy: Callable[[], Policy]
    ) -> Decision | None:
        """``p`` doing ``action`` on ``res`` once its resource policy (``policy()``) grants ``p``: shared
        by resources of the same signature when the existing policy says nothing about ``p``."""
        sig = None
        if res.account == p.account and not self._bears(res, action, p):
            sig = self.signature(p, action, res.arn, res.account)
        key = (p.arn, action, "(self-granted)", res.account, sig)
        d = self._memo.get(key) if sig is not None else None
        if d is None:
            d = self.estate.evaluate(p, action, res.arn, policy=policy())
            if sig is not None:
                self._memo[key] = d
        return d if d.possible else None

    def signature(self, p: PrincipalEntry, action: str, arn: str, account: str) -> tuple[object, ...] | None:
        """How the statements bearing on ``action`` (identity, boundary, SCPs, the account's RCPs) meet
        ``arn``: which resource-specific ones match it, and the values of the resource tags their
        conditions read. Equal signatures give equal decisions (the resource policy aside). None for
        pattern requests and resource keys in policy variables."""
        bearing = self._bearing(p, action, account)
        if bearing is None or is_pattern(arn):
            return None
        statements, tag_keys = bearing
        lookup = self._lookup(p, account)
        states = tuple(resource_state(st, arn, lookup) for st in statements)
        if not tag_keys:
            return states
        res = self.estate.resources.get(arn)
        tags = {k.lower(): v for k, v in res.tags.items()} if res is not None else {}
        return (states, tuple(tags.get(k) for k in tag_keys))

    def uniform(self, p: PrincipalEntry, action: str, res: ResourceEntry) -> bool:
        """Every resource of ``res``'s account without a policy naming ``p`` gets the same decision."""
        if self._bears(res, action, p):
            return False
        return self._bearing(p, action, res.account) == ((), ())

    def _bearing(self, p: PrincipalEntry, action: str, account: str) -> Bearing | None:
        key = (p.arn, action, account)
        if key in self._bearing_memo:
            return self._bearing_memo[key]
        layers: list[Policy] = [*p.identity, *p.boundaries]
        layers += [pol for level in p.scps for pol in level.policies]
        if self.estate.org is not None:
            layers += [pol for level in self.estate.org.rcps_for(account) for pol in level.policies]
        sts = [st for pol in layers for st in pol.statements if st.action_matcher.matches(action)]
        keys: set[str] = set()
        out: Bearing | None = None
        for st in sts:
            found = _tag_keys(st)
            if found is None:
                break
            keys |= found
        else:
            out = (tuple(st for st in sts if resource_specific(st)), tuple(sorted(keys)))
        self._bearing_memo[key] = out
        return out

    def _plan(self, p: PrincipalEntry, action: str, account: str) -> _Plan:
        """The identity Allow statements naming ``action``, whether one of them names every resource (then
        every ARN passes :func:`_could_name`), the lookup of ``p``'s keys, and whether every target gets the
        same :meth:`signature` (``()``): once per (principal, action, account), not once per target."""
        key = (p.arn, action, account)
        hit = self._plans.get(key)
        if hit is None:
            allows = self._allows(p, action)
            uniform = self._bearing(p, action, account) == ((), ())
            hit = self._plans[key] = (allows, any(map(_names_every, allows)), self._lookup(p, account), uniform)
        return hit

    def _allows(self, p: PrincipalEntry, action: str) -> tuple[Statement, ...]:
        key = (p.arn, action)
        hit = self._allow_sts.get(key)
        if hit is None:
            hit = self._allow_sts[key] = tuple(
                st
                for pol in p.identity
                for st in pol.statements
                if st.ref.effect is _ALLOW and st.action_matcher.matches(action)
            )
        return hit

    def _lookup(self, p: PrincipalEntry, account: str) -> Lookup:
        """Values of the principal's keys (for policy variables in Resource elements)."""
        key = (p.arn, account)
        hit = self._lookups.get(key)
        if hit is None:
            values: dict[str, object] = {**p.context_values, "aws:ResourceAccount": account}
            base = Context.build(values, unknown="*")
            hit = self._lookups[key] = Context(base.values, base.unknown, p.known).lookup
        return hit
