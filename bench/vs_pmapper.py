"""Side by side with PMapper (issue 3): build time and edge sets on the same single-account fixtures.

    python bench/vs_pmapper.py [--sizes 100,400,800] [--seed 1] [--timeout 1800] [--no-docs]

1. Creates a separate virtualenv under .cache/pmapper-venv (gitignored) and installs
   ``principalmapper==1.1.5`` from PyPI into it with pip (once; reused afterwards).
2. Generates single-account fixtures with bench/generate.py (``--single-account``, 4 resources per
   principal), cached like bench/build_scale.py's estates.
3. For each size, one after the other so that they do not share the CPU:
   * PMapper: bench/pmapper_offline.py in that venv, offline (stand-in IAM client serving the
     account's authorization-details.json and credential report; every other client lists nothing;
     sockets disabled), timing ``create_graph`` with all its edge checkers;
   * ours on the same input, the bare ``authorization-details.json`` (+ nothing else), timing
     ``load_snapshot`` and ``build_graph``; and ours on the whole fixture directory (with
     resources.json, credential report, account.json), which adds resource access and takeover
     edges.
   Each run is a fresh process.
4. Compares edge sets. PMapper's edges (source, destination, reason) are mapped to technique families
   (assume, access key, password, trust rewrite, Lambda/EC2/CloudFormation/CodeBuild/Auto Scaling/
   SageMaker PassRole, SSM, existing Lambda) and looked up among our principal-to-principal edges of
   kinds assume and escalate (grant edges are listed where they explain a difference). Every
   difference gets an explanation from both tools' own data (PMapper's admin marks; our decision for
   the deciding action, with its deciding statements or residual conditions) and a verdict.

Results are printed and written to docs/benchmarks.md, section "Side by side with PMapper (issue 3)".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from benchdocs import cpu_model, replace_section  # noqa: E402
from build_scale import CACHE, estate_dir  # noqa: E402
from generate import EstateSpec  # noqa: E402

VENV = REPO / ".cache" / "pmapper-venv"
RAW = REPO / ".cache" / "bench" / "vs_pmapper_raw.json"
PMAPPER = "principalmapper==1.1.5"
HEADING = "Side by side with PMapper (issue 3)"
RESOURCES_PER_PRINCIPAL = 4
TARGET_RATIO = 100.0
Edge = tuple[str, str, str]  # source, target, family


# ---- the PMapper virtualenv ----------------------------------------------------------------------------
def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_pmapper(venv: Path) -> str:
    """Create the venv and install PMapper once; return its installed version."""
    py = venv_python(venv)
    probe = [str(py), "-c", "import importlib.metadata as m; print(m.version('principalmapper'))"]
    if py.exists():
        done = subprocess.run(probe, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.strip()
    print(f"creating {venv.relative_to(REPO)} and installing {PMAPPER} from PyPI", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", PMAPPER], check=True)
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


# ---- runs ----------------------------------------------------------------------------------------------
def _run(cmd: list[str], timeout: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    out["process_seconds"] = time.perf_counter() - t0
    return out


def run_pmapper(venv: Path, account_dir: Path, timeout: float) -> dict[str, Any]:
    return _run([str(venv_python(venv)), str(HERE / "pmapper_offline.py"), str(account_dir)], timeout)


def run_ours(path: Path, timeout: float, skip: str = "") -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)]
    return _run([*cmd, "--skip", skip] if skip else cmd, timeout)


def worker_ours(path: Path, skip: str = "") -> dict[str, Any]:
    """Load + build in this (fresh) process; principal-to-principal edges and admins as JSON.

    ``skip``: comma-separated technique names left out (resource access adds no principal-to-principal
    edge and dominates the build on the full fixture).
    """
    import resource

    from iamgraph.edges.base import EdgeKind
    from iamgraph.edges.registry import TECHNIQUES, techniques
    from iamgraph.graph.build import build_graph
    from iamgraph.graph.model import NodeKind
    from iamgraph.ingest import load_snapshot
    from iamgraph.policy.logic import expr_to_json

    techniques()  # registers them all
    for name in filter(None, skip.split(",")):
        TECHNIQUES.pop(name)
    t0, c0 = time.perf_counter(), time.process_time()
    snapshot = load_snapshot(path)
    t1 = time.perf_counter()
    g = build_graph(snapshot)
    t2, c2 = time.perf_counter(), time.process_time()
    principals = {n for n, k in g.graph.nodes(data="kind") if k in (NodeKind.USER, NodeKind.ROLE)}
    edges = []
    for e in g.edges():
        kinds = (EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT)
        if e.kind in kinds and e.source in principals and e.target in principals:
            keys = sorted(_condition_keys(expr_to_json(e.conditions))) if e.conditional else []
            edges.append([e.source, e.target, e.kind.value, e.technique, keys, list(e.via)])
    return {
        "load_seconds": t1 - t0,
        "build_seconds": t2 - t1,
        "cpu_seconds": c2 - c0,
        "timings": dict(g.timings),
        "edge_counts": g.edge_counts(),
        "skipped": skip,
        "admins": g.admins(),
        "admin_info": {
            a: {
                "via": g.graph.nodes[a].get("admin_via"),
                "keys": sorted(_condition_keys(g.graph.nodes[a].get("admin_conditions"))),
            }
            for a in g.admins()
        },
        "edges": edges,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _condition_keys(node: Any) -> set[str]:
    """Condition keys named anywhere in an expression's JSON form."""
    out: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("key"), str):
            out.add(node["key"].lower())
        for v in node.values():
            out |= _condition_keys(v)
    elif isinstance(node, list):
        for v in node:
            out |= _condition_keys(v)
    return out


# ---- technique families ----------------------------------------------------------------------------------
def pmapper_family(reason: str, short: str) -> str:
    r = reason.lower()
    if short == "AssumeRole":
        return "assume"
    if short == "IAM":
        if "access keys" in r:
            return "access-key"
        if "password" in r:
            return "password"
        if "trust document" in r:
            return "trust-rewrite"
    if short == "Lambda":
        return "lambda-new" if "create a new function" in r else "lambda-existing"
    if short == "SSM":
        return "ssm-existing"
    service = {"EC2 Auto Scaling": "autoscaling", "Cloudformation": "cloudformation"}.get(short, short.lower())
    if "existing" in r and short != "EC2":
        return f"{service}-existing"
    return f"{service}-new"


def our_family(kind: str, technique: str, via: list[str]) -> str:
    """assume, access-key, password, trust-rewrite, <service>-new (PassRole), <service>-existing, grant."""
    t = technique.lower()
    if kind in ("assume", "grant") or t == "admin":
        return t if t == "admin" else kind
    if "createaccesskey" in t:
        return "access-key"
    if "loginprofile" in t:
        return "password"
    if "updateassumerolepolicy" in t:
        return "trust-rewrite"
    actions = [a for a in t.split("+") if a != "iam:passrole"]
    service = actions[0].split(":", 1)[0] if actions else t.split(":", 1)[0]
    return f"{service}-existing" if via else f"{service}-new"


PMAPPER_FAMILIES = {  # what PMapper 1.1.5's checkers can produce
    "assume",
    "access-key",
    "password",
    "trust-rewrite",
    "lambda-new",
    "lambda-existing",
    "ec2-new",
    "ssm-existing",
    "cloudformation-new",
    "cloudformation-existing",
    "codebuild-new",
    "codebuild-existing",
    "autoscaling-new",
    "sagemaker-new",
}


# ---- comparison --------------------------------------------------------------------------------------------
_FAMILY_ACTIONS = {  # the action that decides a family's edge, for explanations
    "assume": "sts:AssumeRole",
    "access-key": "iam:CreateAccessKey",
    "password": "iam:CreateLoginProfile",
    "trust-rewrite": "iam:UpdateAssumeRolePolicy",
    "lambda-new": "iam:PassRole",
    "ec2-new": "iam:PassRole",
    "ssm-existing": "ssm:SendCommand",
}


def _decide(estate: Any, source: str, target: str, family: str) -> Any:
    """Our Decision for the action that decides a family's edge (None when not applicable)."""
    action = _FAMILY_ACTIONS.get(family)
    entry = estate.principals.get(source)
    if action is None or entry is None:
        return None
    resource = "*" if family == "ssm-existing" else target
    extra = None
    if family in ("lambda-new", "ec2-new"):
        extra = {"iam:PassedToService": "lambda.amazonaws.com" if family == "lambda-new" else "ec2.amazonaws.com"}
    return estate.evaluate(entry, action, resource, extra=extra)


def _explain(estate: Any, source: str, target: str, family: str) -> str:
    """Our decision for the family's deciding action, in one line."""
    d = _decide(estate, source, target, family)
    if d is None:
        return ""
    action = _FAMILY_ACTIONS[family]
    resource = "*" if family == "ssm-existing" else target
    entry = estate.principals[source]
    parts = [f"ours: {action} on {'*' if resource == '*' else 'target'} → {d.result.value}"]
    if d.blocked_by:
        parts.append("blocked by " + ", ".join(d.blocked_by))
    deciding = [f"{m.ref.layer.value}:{m.ref.policy.rsplit('/', 1)[-1]}#{m.ref.index}" for m in d.deciding()]
    if deciding:
        parts.append("by " + ", ".join(deciding[:3]))
    if d.possible and d.residual is not True:
        parts.append("under conditions " + json.dumps(d.residual_json())[:160])
    if family == "assume" and entry is not None:
        trust = estate.resources.get(target)
        if trust is not None and trust.policy is not None:
            t = estate.evaluate(entry, action, target)
            parts.append(f"(full decision incl. trust: {t.result.value})")
    return "; ".join(parts)


def compare(
    pm: dict[str, Any], ours: dict[str, Any], ours_full: dict[str, Any] | None, fixture: Path, account_dir: Path
) -> dict[str, Any]:
    from iamgraph.graph.estate import Estate
    from iamgraph.ingest import load_snapshot

    pm_admins = set(pm["admins"])
    our_admins = set(ours["admins"])
    pm_edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    pm_reasons: dict[tuple[str, str, str], str] = {}
    for s, t, reason, short in pm["edges"]:
        fam = pmapper_family(reason, short)
        pm_edges[(s, t)].add(fam)
        pm_reasons[(s, t, fam)] = reason

    def index(run: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, list[str]]]:
        """(source, target) -> family -> condition keys of its least conditional edge ([]: unconditional)."""
        out: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        for s, t, kind, technique, keys, via in (run or {}).get("edges", []):
            fam = our_family(kind, technique, via)
            prev = out[(s, t)].get(fam)
            if prev is None or len(keys) < len(prev):
                out[(s, t)][fam] = keys
        return out

    mine = index(ours)
    full = index(ours_full)
    estate = Estate(load_snapshot(account_dir / "authorization-details.json"))
    instance_roles = _instance_roles(account_dir)
    missing: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    matched_same = matched_other = 0
    other_by: dict[str, int] = defaultdict(int)
    for (s, t), fams in sorted(pm_edges.items()):
        for fam in sorted(fams):
            have = {f for f in mine.get((s, t), {}) if f != "grant"}
            have |= {f for f in full.get((s, t), {}) if f != "grant"}
            if fam in have:
                matched_same += 1
                continue
            if have:
                matched_other += 1
                other_by[f"{fam} → {'/'.join(sorted(have))}"] += 1
                continue
            grants = "grant" in mine.get((s, t), {})
            admin_keys = ours.get("admin_info", {}).get(s, {}).get("keys")
            why = _classify_missing(fam, s, t, grants, instance_roles, _decide(estate, s, t, fam), admin_keys)
            explain = "" if fam == "ssm-existing" else _explain(estate, s, t, fam)
            missing[(fam, why)].append(
                {"source": s, "target": t, "reason": pm_reasons[(s, t, fam)], "explain": explain}
            )
    extra: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for run in (mine, full):
        for (s, t), fams in sorted(run.items()):
            if s == t or (s, t) in pm_edges:
                continue
            for fam, keys in sorted(fams.items()):
                if fam == "grant" or (run is full and fam in mine.get((s, t), {})):
                    continue
                why = _classify_extra(fam, s, t, keys, pm_admins, estate)
                extra[(fam, why)].append({"source": s, "target": t, "conditions": ", ".join(keys)})
    return {
        "pmapper_edges": sum(len(f) for f in pm_edges.values()),
        "pmapper_pairs": len(pm_edges),
        "our_pairs": len(
            {(s, t) for run in (mine, full) for (s, t), f in run.items() if s != t and set(f) - {"grant"}}
        ),
        "our_grant_pairs": sum(1 for (s, t), f in mine.items() if s != t and "grant" in f),
        "matched_same": matched_same,
        "matched_other": matched_other,
        "matched_other_by": dict(sorted(other_by.items(), key=lambda kv: -kv[1])),
        "missing": {f"{k[0]}|{k[1]}": v for k, v in missing.items()},
        "extra": {f"{k[0]}|{k[1]}": v for k, v in extra.items()},
        "admins_pmapper_only": sorted(pm_admins - our_admins),
        "admins_ours_only": sorted(our_admins - pm_admins),
        "admin_diffs": _admin_diffs(pm_admins, our_admins, ours.get("admin_info", {}), estate),
        "admins_both": len(pm_admins & our_admins),
    }


def _admin_diffs(pm_admins: set[str], our_admins: set[str], info: dict[str, Any], estate: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for a in sorted(pm_admins - our_admins):
        entry = estate.principals.get(a)
        if entry is not None and entry.kind == "role" and entry.boundaries:
            out[
                "PMapper only: role with a permissions boundary (PMapper ignores role boundaries) → PMapper wrong"
            ].append(a)
        else:
            out["PMapper only: to judge"].append(a)
    for a in sorted(our_admins - pm_admins):
        keys = set(info.get(a, {}).get("keys", []))
        if a.endswith(":root"):
            out["ours only: the account root (PMapper has no root node) → n/a"].append(a)
        elif keys and keys <= _MFA_KEYS and ":role/" in a:
            out[
                "ours only: admin if the role session has MFA (PMapper never gives roles MFA) → correct, conditional"
            ].append(a)
        elif keys:
            out[f"ours only: admin under conditions on {', '.join(sorted(keys))} → correct, conditional"].append(a)
        else:
            out[f"ours only: admin via {info.get(a, {}).get('via')} → to judge"].append(a)
    return dict(out)


def _instance_roles(account_dir: Path) -> set[str]:
    path = account_dir / "resources.json"
    if not path.is_file():
        return set()
    doc = json.loads(path.read_text())
    return {r for item in doc["resources"] if item["type"] == "AWS::EC2::Instance" for r in item.get("roles", [])}


def _classify_missing(
    fam: str, s: str, target: str, grants: bool, instance_roles: set[str], decision: Any, admin_keys: list[str] | None
) -> str:
    if fam == "ssm-existing" and target not in instance_roles:
        return WHY_SSM
    if admin_keys:  # we mark the source admin only under conditions, and dropped its other edges
        return WHY_COND_ADMIN
    if decision is not None and not decision.possible and ":role/" in s and "boundary" in decision.blocked_by:
        return WHY_ROLE_BOUNDARY
    if grants:
        return "we have only a grant edge"
    return "other"


_MFA_KEYS = {"aws:multifactorauthpresent", "aws:multifactorauthage"}


def _classify_extra(fam: str, s: str, t: str, keys: list[str], pm_admins: set[str], estate: Any) -> str:
    if fam == "admin":
        return WHY_ADMIN_EDGE
    if s in pm_admins:
        return WHY_ADMIN
    if fam.endswith("-existing"):
        return WHY_RESOURCE
    if fam not in PMAPPER_FAMILIES:
        return WHY_NOT_CHECKED
    if keys and set(keys) <= _MFA_KEYS and ":role/" in s:
        return WHY_ROLE_MFA
    if keys:
        return f"conditional on {', '.join(keys)}"
    if fam == "assume":
        res = estate.resources.get(t)
        raw = json.dumps(res.policy.raw) if res is not None and res.policy is not None else ""
        if '"*"' in raw and "aws:Principal" in raw:
            return WHY_TRUST_CONTEXT
    return "other"


# ---- verdicts (judged by reading PMapper's checkers and our decisions; see docs/benchmarks.md) -------------
WHY_ADMIN = "source is admin for PMapper, which records no edges from admins"
WHY_RESOURCE = "uses an existing resource from resources.json"
WHY_NOT_CHECKED = "technique PMapper 1.1.5 has no checker for"
WHY_ROLE_MFA = "needs MFA in the source's role session"
WHY_TRUST_CONTEXT = "`*` trust with a condition on principal keys"
WHY_SSM = "PMapper assumes an instance runs with the role; none in resources.json"
WHY_ROLE_BOUNDARY = "the source role's permissions boundary denies it"
WHY_COND_ADMIN = "we mark the source admin under a condition (MFA) and emit no other edge from it"
WHY_ADMIN_EDGE = "our `admin` edge: an admin in effect acts as any user or role of its account"
VERDICTS = {
    WHY_ADMIN_EDGE: "correct: PMapper answers the same by its `is_admin` rule at query time (an admin reaches "
    "everything in its account) instead of drawing the edge",
    WHY_ADMIN: "correct: every PMapper checker skips sources with `is_admin` (they reach everything anyway); "
    "the source can do it",
    WHY_RESOURCE: "correct: the function/instance exists in resources.json and runs as the target; PMapper's "
    "offline run lists no resources",
    WHY_NOT_CHECKED: "correct: a real PassRole path (ECS RunTask, Batch, Data Pipeline, Glue, …) outside PMapper's "
    "nine checkers",
    WHY_ROLE_MFA: "correct, conditional on MFA: a role session carries MFA when the AssumeRole call did; PMapper "
    "tries MFA for users only (`local_check_authorization_handling_mfa` returns early for roles)",
    WHY_TRUST_CONTEXT: "correct: the condition holds for the source (aws:PrincipalAccount / aws:PrincipalArn are "
    "known); PMapper evaluates trust policies with an empty context, so such a `*` trust never matches",
    WHY_ROLE_BOUNDARY: "PMapper wrong: it ignores the permissions boundaries of roles (its gathering builds every "
    "role node with `permissions_boundary=None`; only users get theirs), so it allows what the boundary denies",
    WHY_COND_ADMIN: "PMapper right, we lack it: the source is admin only with MFA, but this path needs no MFA; "
    "our privilege-escalation techniques skip every source that is admin, even conditionally "
    "(`PrivescIndex.is_admin` / `skip` in iamgraph/edges/techniques/_privesc.py), so an unconditional path is "
    "lost behind a conditional admin mark",
    WHY_SSM: "PMapper edge not backed by data: it assumes some instance runs with every EC2 role allowed "
    "ssmmessages:CreateControlChannel; no instance in resources.json runs with this role, so no edge is right "
    "for this snapshot",
}
CONDITIONAL_VERDICT = (
    "correct, conditional: PMapper evaluates with an empty request context (MFA added for users only), so a "
    "condition on a request key drops the edge; we keep it with the residual condition"
)


def verdict_for(direction: str, key: str, examples: list[dict[str, str]]) -> str:
    _fam, why = key.split("|", 1)
    if why in VERDICTS:
        return VERDICTS[why]
    if why.startswith("conditional on"):
        return CONDITIONAL_VERDICT
    return JUDGED.get(key, "to judge (see examples)")


JUDGED: dict[str, str] = {}  # direction-specific verdicts filled in after reading the examples


# ---- report ------------------------------------------------------------------------------------------------
def _s(x: float | None, d: int = 2) -> str:
    return "–" if x is None else f"{x:,.{d}f}"


def _edge_row(direction: str, key: str, items: list[dict[str, str]]) -> str:
    fam, why = key.split("|", 1)
    ex = items[0]
    example = f"`{_short(ex['source'])}` → `{_short(ex['target'])}`"
    if ex.get("explain"):
        example += f" ({ex['explain']})"
    elif ex.get("conditions"):
        example += f" (if {ex['conditions']})"
    return f"| {direction} | {fam} | {why} | {len(items)} | {example} | {verdict_for(direction, key, items)} |"


def report(results: list[dict[str, Any]], pmapper_version: str, sizes: str, seed: int, skip: str) -> str:
    lines = [
        f"`python bench/vs_pmapper.py --sizes {sizes} --seed {seed}` — {time.strftime('%Y-%m-%d')}, "
        f"PMapper {pmapper_version} in its own venv, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores ({cpu_model()}); "
        "every run a fresh process, one at a time.",
        "",
        "Fixtures: `bench/generate.py --single-account` (seed "
        f"{seed}, {RESOURCES_PER_PRINCIPAL} resources per principal). PMapper runs `create_graph` with all nine "
        "checkers offline on the account's authorization-details.json and credential report (stand-in clients; "
        "Lambda/CloudFormation/CodeBuild/Auto Scaling/resource-policy listings empty; sockets disabled). "
        "*Ours, same input*: `load_snapshot` + `build_graph` of that authorization-details.json alone, every "
        f"technique. *Ours, full*: the whole fixture directory with `{skip or 'nothing'}` left out (it adds no "
        "principal→principal edge; see the scale section for its cost); this adds takeover edges of the "
        "functions and instances in resources.json. Edge comparison: PMapper's (source, destination, reason) "
        "mapped to a technique family, against our assume/escalate edges of both runs.",
        "",
        "Wall and CPU seconds of the measured call (PMapper's `create_graph`; our `load_snapshot` + `build_graph`); "
        "the ratio is taken on CPU seconds, which other jobs on this shared 2-core machine disturb far less than "
        "wall time.",
        "",
        "| principals | PMapper wall s | PMapper CPU s | ours, same input: load + build wall s | ours CPU s | "
        "ratio (CPU) | ratio (wall) | ours, full wall s | PMapper edges | matched, same technique | matched, other "
        "technique | PMapper edges we lack | our principal→principal pairs | ours not in PMapper |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        pm, ours, full, cmp_ = r["pmapper"], r["ours"], r.get("ours_full") or {}, r.get("compare") or {}
        ours_t = ours["load_seconds"] + ours["build_seconds"] if "build_seconds" in ours else None
        full_t = full["load_seconds"] + full["build_seconds"] if "build_seconds" in full else None
        wall_ratio = f"{pm['seconds'] / ours_t:,.1f}×" if ours_t and "seconds" in pm else "–"
        cpu_ratio = (
            f"{pm['cpu_seconds'] / ours['cpu_seconds']:,.1f}×" if "cpu_seconds" in pm and "cpu_seconds" in ours else "–"
        )
        missing = sum(len(v) for v in cmp_.get("missing", {}).values())
        extra = sum(len(v) for v in cmp_.get("extra", {}).values())
        ours_cell = (
            f"{_s(ours['load_seconds'])} + {_s(ours['build_seconds'])} = {_s(ours_t)}"
            if ours_t is not None
            else ours.get("error")
        )
        lines.append(
            f"| {r['principals']} | {_s(pm.get('seconds')) if 'seconds' in pm else pm.get('error')} | "
            f"{_s(pm.get('cpu_seconds'))} | {ours_cell} | {_s(ours.get('cpu_seconds'))} | {cpu_ratio} | {wall_ratio} | "
            f"{_s(full_t) if full_t is not None else full.get('error', '–')} | "
            f"{cmp_.get('pmapper_edges', '–')} | {cmp_.get('matched_same', '–')} | {cmp_.get('matched_other', '–')} | "
            f"{missing} | {cmp_.get('our_pairs', '–')} | {extra} |"
        )
    big = results[-1] if results else None
    if big and "cpu_seconds" in big["pmapper"] and "cpu_seconds" in big["ours"]:
        ratio = big["pmapper"]["cpu_seconds"] / big["ours"]["cpu_seconds"]
        steps = sorted(
            ((k.replace("technique:", ""), v) for k, v in big["ours"]["timings"].items() if k != "total"),
            key=lambda kv: -kv[1],
        )
        lines += [
            "",
            f"At {big['principals']} principals: {ratio:,.1f}× less CPU than PMapper on the same input (target ≥ "
            f"{TARGET_RATIO:.0f}×): {'met' if ratio >= TARGET_RATIO else 'NOT met'}. Our build by step (wall): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in steps[:8])
            + ".",
        ]
    for r in results:
        cmp_ = r.get("compare")
        if not cmp_:
            continue
        missing = sum(len(v) for v in cmp_["missing"].values())
        lines += [
            "",
            f"**{r['principals']} principals.** PMapper edges we lack: {missing}. Admins: {cmp_['admins_both']} "
            f"in both, PMapper only {len(cmp_['admins_pmapper_only'])}, ours only {len(cmp_['admins_ours_only'])}"
            + f". Our grant pairs (can change another principal's permissions; PMapper has no such edge): "
            f"{cmp_['our_grant_pairs']}.",
        ]
        for label, arns in cmp_.get("admin_diffs", {}).items():
            names = ", ".join(_short(a) for a in arns[:4]) + ("…" if len(arns) > 4 else "")
            lines.append(f"- Admins, {label}: {len(arns)} ({names})")
        if cmp_.get("matched_other_by"):
            lines.append(
                "- PMapper edges matched by another of our techniques (PMapper family → ours): "
                + "; ".join(f"{k}: {v}" for k, v in cmp_["matched_other_by"].items())
            )
        rows = [_edge_row("PMapper only", k, v) for k, v in sorted(cmp_["missing"].items(), key=lambda kv: -len(kv[1]))]
        if r is big:
            rows += [_edge_row("ours only", k, v) for k, v in sorted(cmp_["extra"].items(), key=lambda kv: -len(kv[1]))]
        if rows:
            lines += [
                "",
                "| direction | family | why | edges | example | verdict |",
                "|---|---|---|---:|---|---|",
                *rows,
            ]
    return "\n".join(lines)


def _short(arn: str) -> str:
    return arn.split(":", 5)[-1] if arn.startswith("arn:") else arn


# ---- main --------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", default="100,400,800")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    ap.add_argument("--full-timeout", type=float, default=600.0, help="seconds for ours on the full fixture")
    ap.add_argument("--venv", type=Path, default=VENV)
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument(
        "--full-skip", default="resource-access", help="techniques left out of the full-fixture run (comma-separated)"
    )
    ap.add_argument(
        "--from-raw", help=f"re-compare and re-render saved runs (each run saves them to {RAW.relative_to(REPO)})"
    )
    ap.add_argument("--worker", metavar="PATH", help=argparse.SUPPRESS)
    ap.add_argument("--skip", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker_ours(Path(args.worker), args.skip)))
        return 0
    if args.from_raw:  # re-render (and re-compare) the runs saved by an earlier invocation
        saved = json.loads(Path(args.from_raw).read_text())
        version, raw = saved["pmapper_version"], saved["runs"]
    else:
        version, raw = ensure_pmapper(args.venv), []
    results = []
    for n in [] if args.from_raw else [int(x) for x in args.sizes.split(",")]:
        spec = EstateSpec(n, 1, RESOURCES_PER_PRINCIPAL * n, args.seed, single_account=True)
        fixture, stats = estate_dir(spec)
        (account_dir,) = sorted((fixture / "accounts").iterdir())
        print(f"[{n}] fixture {fixture.name}: {stats['users']} users, {stats['roles']} roles", flush=True)
        pm = run_pmapper(args.venv, account_dir, args.timeout)
        print(f"[{n}] PMapper: {pm.get('seconds', pm.get('error'))} s, {len(pm.get('edges', []))} edges", flush=True)
        ours = run_ours(account_dir / "authorization-details.json", args.timeout)
        print(
            f"[{n}] ours (same input): load {ours.get('load_seconds')} build {ours.get('build_seconds')} "
            f"{ours.get('error', '')}",
            flush=True,
        )
        full = run_ours(fixture, args.full_timeout, args.full_skip)
        print(
            f"[{n}] ours (full): load {full.get('load_seconds')} build {full.get('build_seconds')} "
            f"{full.get('error', '')}",
            flush=True,
        )
        raw.append(
            {"principals": n, "stats": stats, "fixture": fixture.name, "pmapper": pm, "ours": ours, "ours_full": full}
        )
        RAW.parent.mkdir(parents=True, exist_ok=True)
        RAW.write_text(json.dumps({"pmapper_version": version, "runs": raw}))  # after each size: a stop loses little
    for run in raw:
        fixture = CACHE / run["fixture"]
        (account_dir,) = sorted((fixture / "accounts").iterdir())
        row: dict[str, Any] = {k: v for k, v in run.items() if k != "fixture"}
        pm, ours, full = run["pmapper"], run["ours"], run["ours_full"]
        if "edges" in pm and "edges" in ours:
            row["compare"] = compare(pm, ours, full if "edges" in full else None, fixture, account_dir)
        results.append(row)
    text = report(results, version, args.sizes, args.seed, args.full_skip)
    print()
    print(text)
    if args.json:
        slim = [
            {k: v for k, v in r.items() if k not in ("pmapper", "ours", "ours_full")}
            | {k: {kk: vv for kk, vv in r[k].items() if kk != "edges"} for k in ("pmapper", "ours", "ours_full")}
            for r in results
        ]
        Path(args.json).write_text(json.dumps(slim, indent=1, default=str))
    if not args.no_docs:
        replace_section(HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
