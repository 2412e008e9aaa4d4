"""Decisions shared between requests that present the engine with the same inputs.

The graph build asks two questions thousands of times; each is answered once per class of requests the
engine cannot tell apart, as resource-access shares its evaluations:

* :meth:`SharedDecisions.anywhere`: may a principal do an action on some resource of its own account (the
  admin probes, asked again for every hypothetical identity of the escalation checks);
* :meth:`SharedDecisions.alike`: may a principal do an action on one resource (role assumption, where an
  account-wide trust makes every principal of the account a candidate).

Only the result, the residual conditions and the matched statements of a shared decision are to be read:
warnings of policies that do not name the action are not part of the keys. Keys hold object ids of
policies; every entry keeps those policies alive, so an id stays theirs while the entry exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from iamgraph.evaluation.decision import Decision, MatchedStatement
from iamgraph.evaluation.policyset import OrgLevel
from iamgraph.evaluation.principals import match_block
from iamgraph.model._fast import fast_constructor
from iamgraph.model.policy import ConditionClause, Effect, Policy, PolicyKind, Statement, StatementRef
from iamgraph.policy.conditions.evaluate import evaluate_clause
from iamgraph.policy.logic import Atom, substitute
from iamgraph.policy.match import is_pattern
from iamgraph.policy.variables import Lookup, Var, parse_template

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_DENY = Effect.DENY

if TYPE_CHECKING:
    from iamgraph.graph.estate import Estate, PrincipalEntry, ResourceEntry

__all__ = ["SharedDecisions", "condition_outcomes", "resource_specific", "resource_state"]


class SharedDecisions:
    """The memos of one estate's shared decisions (see the module docstring)."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        # anywhere: decisions by principal, action and the policies that can decide them (and by class)
        self._anywhere: dict[tuple[object, ...], tuple[Decision, tuple[Policy, ...]]] = {}
        # which policies name an action, by policy id (the value keeps the policy)
        self._names: dict[tuple[int, str], tuple[bool, Policy]] = {}
        # alike: decisions by resource, action and principal class; each side's part of the key
        self._alike: dict[tuple[object, ...], Decision] = {}
        self._caller_side: dict[tuple[str, str], tuple[object, ...] | None] = {}
        # what a condition clause decides for a principal, by (ARN, clause id) (the value keeps the clause)
        self._decided: dict[tuple[str, int], tuple[object, ConditionClause]] = {}
        self._resource_side: dict[tuple[str, str], tuple[tuple[Statement, ...], tuple[Clause, ...]] | None] = {}
        self._rcp_side: dict[tuple[str, str], _Read | None] = {}  # an account's RCP clauses
        # alike decisions shared by resources with the same policy text (see _twin)
        self._twins: dict[tuple[object, ...], tuple[Decision, ResourceEntry]] = {}
        self._texts: dict[str, str] = {}
        # alike: the principal forms and condition outcomes of a principal on a policy text, by text and RCPs
        self._reads: dict[tuple[str, str, int], int] = {}
        self._rcp_shapes: dict[str, tuple[tuple[int, ...], ...]] = {}  # the RCPs' ids at each level, by account
        self._specifics: dict[tuple[str, str], tuple[tuple[Statement, ...], frozenset[str], bool]] = {}
        self._rcp_statements: dict[tuple[str, str], tuple[Statement, ...]] = {}
        # alike's keys hold numbers for the values of its parts (each value kept here with its number)
        self._numbers: dict[tuple[object, ...], int] = {}
        self._caller_numbers: dict[tuple[str, str, str | None], int | None] = {}
        self.epoch = 0  # how many times the numbers were let go of (a number is a class's within one epoch)
        self._above_of: dict[tuple[object, ...], _Above] = {}  # see _above
        self._last_place: tuple[str, str, _Place | None] | None = None

    def forget_requests(self) -> None:
        """Let go of the decisions on particular resources (``alike``) and what they were keyed by; the
        principals' ``anywhere`` decisions stay (the admin checks ask them throughout a build)."""
        self._alike.clear()
        self._caller_side.clear()
        self._decided.clear()
        self._resource_side.clear()
        self._rcp_side.clear()
        self._twins.clear()
        self._texts.clear()
        self._reads.clear()
        self._rcp_shapes.clear()
        self._specifics.clear()
        self._rcp_statements.clear()
        self._numbers.clear()
        self._caller_numbers.clear()
        self.epoch += 1
        self._above_of.clear()
        self._last_place = None

    def anywhere(self, principal: PrincipalEntry, action: str, *, org_policies: bool) -> Decision:
        """``evaluate(principal, action, "*", resource_account=principal.account, org_policies=...)``: may the
        principal do ``action`` on some resource of its own account (the admin probes)?

        Only the result, residual conditions and matched statements are to be read (warnings of policies
        that do not name the action are left out of the keys). Kept per principal ARN, action and the
        policies that can decide: the identity policies naming ``action`` (the engine skips every other
        statement, here and when it splits the ``*`` request into parts) and all boundaries; SCPs, context
        keys and the resource side (nothing matches ``*``) are the ARN's own. So hypothetical entries
        (``replace(p, identity=...)``, the escalation checks) that differ from one another only by policies
        not naming the action share one decision, with each other and with the principal's admin check.
        Principals that present the engine with the same inputs (:meth:`_anywhere_class`) share one too.
        Any other entry (one not of this estate, or with other keys or SCPs than its ARN's) is evaluated."""
        base = self.estate.principals.get(principal.arn)
        if base is not principal and not _same_but_policies(base, principal):
            return self.estate.evaluate(
                principal, action, "*", resource_account=principal.account, org_policies=org_policies
            )
        identity = self.naming(principal.identity, action)
        key = (principal.arn, action, org_policies, *map(id, identity), None, *map(id, principal.boundaries))
        hit = self._anywhere.get(key)
        if hit is None:
            shared = self._anywhere_class(principal, action, org_policies, identity)
            hit = self._anywhere.get(shared) if shared is not None else None
            if hit is None:
                d = self.estate.evaluate(
                    principal, action, "*", resource_account=principal.account, org_policies=org_policies
                )
                caps = [pol for level in principal.scps for pol in level.policies] if org_policies else []
                hit = (d, (*identity, *principal.boundaries, *caps))  # keeps the policies, so their ids stay theirs
                if shared is not None:
                    self._anywhere[shared] = hit
            self._anywhere[key] = hit
        return hit[0]

    def _anywhere_class(
        self, principal: PrincipalEntry, action: str, org_policies: bool, identity: tuple[Policy, ...]
    ) -> tuple[object, ...] | None:
        """What the engine reads of the principal for :meth:`anywhere`: the statements naming the
        action (identity, boundaries, SCPs when they apply), kind, account, organisation and the outcome of
        every condition of those statements (``condition_outcomes``). None when the answer is the
        principal's own: a policy variable or a Principal/NotPrincipal element in such a statement."""
        levels = principal.scps if org_policies else ()
        clauses: list[Clause] = []
        for pol in (*identity, *principal.boundaries, *(pol for level in levels for pol in level.policies)):
            for st in pol.statements:
                if not st.action_matcher.matches(action):
                    continue
                if st.principal is not None or st.not_principal is not None or _has_variables(st):
                    return None
                clauses.extend((c, st.ref) for c in st.conditions)
        q = principal.principal
        return (
            "class",
            action,
            org_policies,
            principal.account,
            q.kind,
            q.service_linked,
            q.has_boundary,
            q.org_id,
            q.org_paths,
            tuple(map(id, identity)),
            tuple(map(id, principal.boundaries)),
            tuple((level.name, tuple(map(id, level.policies))) for level in levels),
            self._outcomes(principal, clauses),
        )

    def alike(self, principal: PrincipalEntry, action: str, resource: str) -> Decision:
        """``evaluate(principal, action, resource)``, shared by the principals that present the engine with
        the same inputs on this resource (only the result, residual conditions and matched statements are
        to be read). Same inputs: the same statements naming the action (identity, boundaries, SCPs; the
        resource policy's by the same principal forms), kind, account, organisation and the outcome of every
        condition of those statements and of the RCPs (``condition_outcomes``) and the values of the principal
        keys their policy variables name; another variable or a NotPrincipal in such a statement keeps the
        answer the principal's own. An entry not of this estate is evaluated."""
        if self.estate.principals.get(principal.arn) is not principal:
            return self.estate.evaluate(principal, action, resource)
        place = self._place(resource, action)
        side = self.caller_number(principal, action)
        if place is None or side is None:
            return self.estate.evaluate(principal, action, resource)
        _, statements, theirs, text = place[:4]
        # what the principal reads of the policy and the RCPs: the same for every resource with its text under
        # the same RCPs, whatever its account
        seen = (principal.arn, action, text)
        reads = self._reads.get(seen)
        if reads is None:
            q = principal.principal
            forms = tuple(match_block(st.principal, q) if st.principal is not None else None for st in statements)
            reads = self._reads[seen] = self._number((forms, self._outcomes(principal, theirs)))
        key = (resource, action, side, reads)
        hit = self._alike.get(key)
        if hit is None:
            hit = self._alike[key] = self._twin(principal, action, place, key)
        return hit

    def _place(self, resource: str, action: str) -> _Place | None:
        """The resource side of :meth:`alike`: the entry, its policy's statements naming the action, the
        condition clauses of those and of the RCPs' statements naming it, the number of its policy text
        under its RCPs, and the resource tags and whether its account or organisation those clauses read
        (for :meth:`_twin_key`). Kept for the last resource and action asked (a role's candidates come one
        after the other); None when the decision is to be evaluated."""
        last = self._last_place
        if last is not None and last[0] == resource and last[1] == action:
            return last[2]
        res = self.estate.resources.get(resource)
        callee = self._resource_class(res, action) if res is not None and not is_pattern(resource) else None
        place = None
        if res is not None and callee is not None:
            own, theirs = callee
            text = self._number((self._rcp_ids(res), self._text(res)))
            place = (res, own, theirs, text, _tags_read(theirs), _reads_place(theirs))
        self._last_place = (resource, action, place)
        return place

    def caller_number(self, p: PrincipalEntry, action: str, account: str | None = None) -> int | None:
        """The number of the principal's :meth:`_caller_class` (None when it has none): principals with the
        same number get the same decision on a request that no resource side tells apart. With ``account``:
        the number of :meth:`caller_in` (the conditions of the account's RCPs too), for requests on its
        resources whose policies say nothing of the principal. Numbers are kept until
        :meth:`forget_requests`, which starts a new :attr:`epoch`. None too for an entry not of this estate
        (a hypothetical identity): the memos are by ARN."""
        if self.estate.principals.get(p.arn) is not p:
            return None
        key = (p.arn, action, account)
        hit = self._caller_numbers.get(key, -1)
        if hit == -1:
            side = self._caller_class(p, action) if account is None else self.caller_in(p, action, account)
            hit = self._caller_numbers[key] = None if side is None else self._number(side)
        return hit

    def _number(self, value: tuple[object, ...]) -> int:
        """A small number for ``value``, the same for equal values (until :meth:`forget_requests`): the
        keys of :meth:`alike` hold these instead of nested tuples hashed again at every call."""
        n = self._numbers.get(value)
        if n is None:
            n = self._numbers[value] = len(self._numbers)
        return n

    def _twin(self, p: PrincipalEntry, action: str, place: _Place, key: tuple[object, ...]) -> Decision:
        """The decision of an :meth:`alike` key: evaluated, or taken from a role that differs from ``res``
        only by its name, its policy's name and perhaps its account (:meth:`_twin_key`), its statements and
        RCP levels renamed (:func:`_renamed`). Many roles share one trust policy text, within an account
        and across the accounts trusting the same one."""
        res = place[0]
        if res.type != ROLE:  # other resources' properties (S3 Block Public Access) may decide too
            return self.estate.evaluate(p, action, res.arn)
        full = (self._twin_key(p, action, place), *key[1:])
        found = self._twins.get(full)
        if found is None:
            d = self.estate.evaluate(p, action, res.arn)
            self._twins[full] = (d, res)
            return d
        d, other = found
        if other is res:
            return d
        return _renamed(d, other.policy, res.policy, _level_names(other.rcps, res.rcps))

    def _twin_key(self, p: PrincipalEntry, action: str, place: _Place) -> tuple[object, ...]:
        """What the engine reads of the role ``res`` beyond the :meth:`alike` key's parts: its policy text,
        type, the tag values and Resource-element matches read, and where it is. Where: its account when a
        condition reads the resource's account or organisation keys; else only whether the caller is of its
        account and which RCPs apply at each level of its path (the names of the levels are renamed): the
        number of its text under its RCPs (:meth:`_place`) stands for both."""
        res, _, _, text, their_tags, their_place = place
        specific, reads, placed = self._specific(p, action)
        rcps = self._rcp_specific(res.account, action)
        lookup = self.estate.lookup_for(p)
        states = tuple(resource_state(st, res.arn, lookup) for st in (*specific, *rcps))
        reads = reads | their_tags
        tags = tuple(sorted((k, v) for k, v in res.tags.items() if k.lower() in reads)) if reads else ()
        where = res.account if placed or their_place else p.account == res.account
        return (where, res.type, text, states, tags)

    def _rcp_ids(self, res: ResourceEntry) -> tuple[tuple[int, ...], ...]:
        """The ids of the RCPs at each level of the resource's path (the estate's organisation keeps them)."""
        found = self._rcp_shapes.get(res.account)
        if found is None:
            found = self._rcp_shapes[res.account] = tuple(tuple(map(id, level.policies)) for level in res.rcps)
        return found

    def _text(self, res: ResourceEntry) -> str:
        """The text of the resource's policy (one string object per resource)."""
        text = self._texts.get(res.arn)
        if text is None:
            raw = res.policy.raw if res.policy is not None else None
            text = self._texts[res.arn] = json.dumps(raw, sort_keys=True, default=str)
        return text

    def _specific(self, p: PrincipalEntry, action: str) -> tuple[tuple[Statement, ...], frozenset[str], bool]:
        """The resource-specific statements naming ``action`` of ``p``'s identity policies, boundaries and
        SCPs, the resource tags the conditions of all its statements naming it read, and whether they read
        the resource's account or organisation."""
        key = (p.arn, action)
        hit = self._specifics.get(key)
        if hit is None:
            identity = self.naming(p.identity, action)
            pols = (*identity, *p.boundaries, *(pol for level in p.scps for pol in level.policies))
            sts = [st for pol in pols for st in pol.statements if st.action_matcher.matches(action)]
            specific = tuple(st for st in sts if resource_specific(st))
            clauses = [(c, st.ref) for st in sts for c in st.conditions]
            hit = self._specifics[key] = (specific, _tags_read(clauses), _reads_place(clauses))
        return hit

    def _rcp_specific(self, account: str, action: str) -> tuple[Statement, ...]:
        """The resource-specific statements naming ``action`` of the account's RCPs (the tags their
        conditions read are among the resource side's clauses)."""
        key = (account, action)
        if key not in self._rcp_statements:
            sts = [st for pol in self._rcps(account) for st in pol.statements if st.action_matcher.matches(action)]
            self._rcp_statements[key] = tuple(st for st in sts if resource_specific(st))
        return self._rcp_statements[key]

    def caller_in(self, p: PrincipalEntry, action: str, account: str) -> tuple[object, ...] | None:
        """What the engine reads of ``p`` asking for ``action`` on a resource of ``account`` whose policy
        (if any) says nothing of ``p``: its part of an :meth:`alike` key, and what the conditions of the
        account's RCP statements naming the action decide for it. Principals with equal values get equal
        decisions on every such resource. None when the answer is the principal's own (a policy variable
        naming anything but the principal's keys, a NotPrincipal)."""
        caller = self._caller_class(p, action)
        if caller is None:
            return None
        key = (account, action)
        if key not in self._rcp_side:
            self._rcp_side[key] = _clauses(self._rcps(account), action, principals=True, variables=True)
        theirs = self._rcp_side[key]
        return None if theirs is None else (caller, self._outcomes(p, theirs[0]), self._values(p, theirs[1]))

    def _rcps(self, account: str) -> list[Policy]:
        """The RCPs that apply to the account's resources, every level's."""
        org = self.estate.org
        return [pol for level in org.rcps_for(account) for pol in level.policies] if org is not None else []

    def _caller_class(self, p: PrincipalEntry, action: str) -> tuple[object, ...] | None:
        """The principal's part of an :meth:`alike` key, with what the conditions of its statements naming
        the action decide for it."""
        key = (p.arn, action)
        if key in self._caller_side:
            return self._caller_side[key]
        identity = self.naming(p.identity, action)
        own = _clauses(identity, action, variables=True)
        org = self._above(p, action)
        q = p.principal
        out = None
        if own is not None and org[0] is not None:
            ids = (tuple(map(id, identity)), tuple(map(id, p.boundaries)), org[1])
            # the outcomes of its own conditions: the same on every resource (a resource key is unknown to
            # the principal's lookup, so its outcome is the same for every principal), and the values of the
            # principal keys its policy variables name (a clause comparing a resource tag with
            # ${aws:PrincipalTag/team} has the same outcome, unknown, for every principal: the value of the
            # variable tells them apart)
            decided = self._outcomes(p, own[0] + org[0][0])
            values = self._values(p, own[1] + org[0][1])
            out = (p.account, q.kind, q.service_linked, q.has_boundary, q.org_id, q.org_paths, *ids, decided, values)
        self._caller_side[key] = out  # the principal keeps its policies alive, so their ids stay theirs
        return out

    def _above(self, p: PrincipalEntry, action: str) -> tuple[_Read | None, _Levels]:
        """The condition clauses of the statements naming ``action`` in ``p``'s boundaries and SCPs and the
        principal keys their policy variables name (None: one holds a Principal element or another variable),
        and the ids of the SCPs at each level: the same for the principals of an account with the same
        boundaries, so worked out once for them all."""
        scps, boundaries = p.scps, p.boundaries
        key = (id(scps), tuple(map(id, boundaries)), action)
        hit = self._above_of.get(key)
        if hit is None or hit[2] is not scps:
            clauses = _clauses(
                (*boundaries, *(pol for level in scps for pol in level.policies)), action, variables=True
            )
            levels = tuple((level.name, tuple(map(id, level.policies))) for level in scps)
            hit = self._above_of[key] = (clauses, levels, scps, boundaries)  # kept: their ids stay theirs
        return hit[0], hit[1]

    def _values(self, p: PrincipalEntry, keys: tuple[str, ...]) -> tuple[object, ...]:
        """The values of the principal keys ``keys`` (those named by policy variables) for ``p``."""
        if not keys:
            return ()
        lookup = self.estate.lookup_for(p)
        return tuple((k, lookup(k)) for k in sorted(set(keys)))

    def _outcomes(self, p: PrincipalEntry, clauses: Iterable[Clause]) -> tuple[object, ...]:
        """``condition_outcomes`` of the clauses for ``p``, each kept per principal ARN and clause (the lookup
        is the ARN's: hypothetical entries of a principal share its context values)."""
        out: list[object] = []
        lookup: Lookup | None = None
        for clause, ref in clauses:
            key = (p.arn, id(clause))
            hit = self._decided.get(key)
            if hit is None:
                lookup = lookup or self.estate.lookup_for(p)
                hit = self._decided[key] = (condition_outcomes(((clause, ref),), lookup)[0], clause)
            out.append(hit[0])
        return tuple(out)

    def _resource_class(
        self, res: ResourceEntry, action: str
    ) -> tuple[tuple[Statement, ...], tuple[Clause, ...]] | None:
        """The resource policy's statements naming the action, and the condition clauses of those and of
        the RCPs' statements naming it."""
        key = (res.arn, action)
        if key in self._resource_side:
            return self._resource_side[key]
        own = tuple(st for st in res.policy.statements if st.action_matcher.matches(action)) if res.policy else ()
        out = None
        if not any(st.not_principal is not None for st in own):
            rcps = [pol for level in res.rcps for pol in level.policies]
            clauses = _clauses([res.policy, *rcps] if res.policy else rcps, action, principals=True)
            out = (own, clauses[0]) if clauses is not None else None
        self._resource_side[key] = out
        return out

    def names_action(self, policy: Policy, action: str) -> bool:
        """Some statement of ``policy`` names ``action`` (Action/NotAction); kept per policy and action."""
        key = (id(policy), action)
        hit = self._names.get(key)
        if hit is None or hit[1] is not policy:
            hit = self._names[key] = (any(st.action_matcher.matches(action) for st in policy.statements), policy)
        return hit[0]

    def naming(self, policies: Iterable[Policy], action: str) -> tuple[Policy, ...]:
        """The policies of ``policies`` that :meth:`names_action` (one call for a principal's policies)."""
        names, out = self._names, []
        for policy in policies:
            key = (id(policy), action)
            hit = names.get(key)
            if hit is None or hit[1] is not policy:
                hit = names[key] = (any(st.action_matcher.matches(action) for st in policy.statements), policy)
            if hit[0]:
                out.append(policy)
        return tuple(out)


def _same_but_policies(base: PrincipalEntry | None, p: PrincipalEntry) -> bool:
    """``p`` is ``base`` but for its identity policies and boundaries (a hypothetical entry)."""
    return (
        base is not None
        and base.principal is p.principal
        and base.scps is p.scps
        and base.context_values is p.context_values
        and base.known is p.known
        and base.account == p.account
        and base.kind == p.kind
    )


Clause = tuple[ConditionClause, StatementRef]
_Levels = tuple[tuple[str, tuple[int, ...]], ...]  # the ids of the policies at each level of an organisation path
_Above = tuple["_Read | None", _Levels, object, object]  # see SharedDecisions._above
# see SharedDecisions._place
_Place = tuple["ResourceEntry", tuple[Statement, ...], tuple[Clause, ...], int, frozenset[str], bool]
_Read = tuple[tuple[Clause, ...], tuple[str, ...]]  # condition clauses, the keys their policy variables name


def _clauses(
    policies: Iterable[Policy], action: str, *, principals: bool = False, variables: bool = False
) -> _Read | None:
    """The condition clauses of the statements naming ``action``, and the keys their policy variables name;
    None when one holds a NotPrincipal, a Principal element (``principals``: allowed, its forms are keyed
    apart) or a policy variable (``variables``: allowed when every variable names a principal key
    (:func:`_variable_keys`), whose values the caller keys apart)."""
    out: list[Clause] = []
    keys: list[str] = []
    for pol in policies:
        for st in pol.statements:
            if not st.action_matcher.matches(action):
                continue
            if st.not_principal is not None or (st.principal is not None and not principals):
                return None
            if _has_variables(st):
                named = _variable_keys(pol, st) if variables else None
                if named is None:
                    return None
                keys.extend(named)
            out.extend((c, st.ref) for c in st.conditions)
    return tuple(out), tuple(keys)


# keys whose value in a request is the principal's alone (not the resource's, nor the request's)
_PRINCIPAL_KEYS = frozenset(
    {
        "aws:username",
        "aws:userid",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principaltype",
    }
)


def _variable_keys(pol: Policy, st: Statement) -> tuple[str, ...] | None:
    """The keys (lower case) of the policy variables in the statement's Resource element and condition
    values, when each is a principal's key (``aws:PrincipalTag/*``, ``aws:username``, ``aws:userid``,
    ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``, ``aws:PrincipalType``): the
    engine then reads nothing of the principal in them but these keys' values. None for any other key, and
    for a policy whose Version makes ``${`` literal text (outcomes are decided with variables)."""
    if not pol.variables_enabled:
        return None
    texts = [*(st.resources or ()), *(str(v) for c in st.conditions for v in c.values)]
    keys: list[str] = []
    for text in texts:
        if "${" not in text:
            continue
        for part in parse_template(text):
            if isinstance(part, Var):
                if part.key not in _PRINCIPAL_KEYS and not part.key.startswith("aws:principaltag/"):
                    return None
                keys.append(part.key)
    return tuple(keys)


def condition_outcomes(clauses: Iterable[Clause], lookup: Lookup) -> tuple[object, ...]:
    """What the engine finds of each clause for a principal: decided (True or False), else the value of
    its key (unknown, or a value the clause leaves undecided). Two principals with the same outcomes meet
    the same conditions, whatever their values: a condition on ``aws:PrincipalArn`` or a tag that both
    pass or both fail (the values themselves differ for every principal) no longer keeps them apart. Policy
    variables are substituted (the clauses' policies enable them, ``_clauses``); a clause whose key the
    principal's lookup does not know has the same outcome for every principal, so the values of the keys
    its variables name are to be keyed apart by the caller."""
    out: list[object] = []
    for clause, ref in clauses:
        r = evaluate_clause(clause, lookup, variables=True, source=ref)
        out.append(r if r is True or r is False else ("value", lookup(clause.key_lc)))
    return tuple(out)


def resource_state(st: Statement, arn: str, lookup: Lookup) -> tuple[object, ...]:
    """How a statement's Resource (or NotResource) element meets ``arn``: matched, unknown variables,
    ambiguity, a match only when letter case is ignored."""
    assert st.resource_matcher is not None
    r = st.resource_matcher.match(arn, lookup, deny=st.ref.effect is _DENY)
    return (r.matched, r.unknown_keys, r.ambiguous, r.case_only)


def resource_specific(st: Statement) -> bool:
    """The statement's Resource element does not name every resource (a NotResource element counts)."""
    return st.resource_matcher is not None and st.resources != ("*",)


_TAG_KEYS = ("aws:resourcetag/", "iam:resourcetag/")
ROLE = "AWS::IAM::Role"  # the type of a role's entry (Estate), whose decisions twins share


_PLACE = frozenset({"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})


def _reads_place(clauses: Iterable[Clause]) -> bool:
    """A clause reads the resource's account or organisation (``aws:ResourceAccount``, ``aws:ResourceOrgID``,
    ``aws:ResourceOrgPaths``): then the account of a role decides more than which RCPs apply to it."""
    return any(c.key_lc in _PLACE for c, _ in clauses)


def _level_names(old: tuple[OrgLevel, ...], new: tuple[OrgLevel, ...]) -> dict[str, str]:
    """Each level of ``old`` by the name of the level of ``new`` at its place in the path (twins hold the
    same RCPs at every place)."""
    return {a.name: b.name for a, b in zip(old, new, strict=True) if a.name != b.name}


def _tags_read(clauses: Iterable[Clause]) -> frozenset[str]:
    """The resource tag names (lower case) the clauses read."""
    return frozenset(c.key_lc.split("/", 1)[1] for c, _ in clauses if c.key_lc.startswith(_TAG_KEYS))


_RCP_LAYER = PolicyKind.RCP
_new_matched = fast_constructor(MatchedStatement)
_new_atom = fast_constructor(Atom)
_new_decision = fast_constructor(Decision)


def _renamed(d: Decision, old: Policy | None, new: Policy | None, levels: dict[str, str] | None = None) -> Decision:
    """``d``, made on a resource with policy ``old``, for a resource with ``new`` (the same text): the
    matched statements and the residual conditions' sources of ``old`` become those of ``new``, and the
    organisation levels of matched RCP statements their names in ``levels`` (the twin's path)."""
    if old is None or new is None or old is new:
        refs: dict[StatementRef, StatementRef] = {}
    else:
        refs = {a.ref: b.ref for a, b in zip(old.statements, new.statements, strict=True)}
    if not refs and not levels:
        return d

    def atom(a: Atom) -> Atom:
        ref = refs.get(a.source)
        return a if ref is None else _new_atom(source=ref, clause=a.clause, reason=a.reason, undecidable=a.undecidable)

    def entry(m: MatchedStatement) -> MatchedStatement:
        ref = refs.get(m.ref, m.ref)
        level = m.level
        if levels and level is not None and m.ref.layer is _RCP_LAYER:
            level = levels.get(level, level)
        if ref is m.ref and level is m.level:
            return m
        return _new_matched(ref=ref, conditional=m.conditional, forms=m.forms, level=level)

    return _new_decision(
        result=d.result,
        blocked_by=d.blocked_by,
        matched=tuple(map(entry, d.matched)),
        residual=substitute(d.residual, atom) if refs else d.residual,
        warnings=d.warnings,
        notes=d.notes,
    )


def _has_variables(st: Statement) -> bool:
    """A policy variable in the statement's Resource element or condition values."""
    m = st.resource_matcher
    if m is not None and m.variables and any("${" in p for p in m.patterns):
        return True
    return any("${" in str(v) for c in st.conditions for v in c.values)
