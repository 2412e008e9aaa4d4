"""Differential test: our evaluator against an independent IAM simulator (the oracle).

    python bench/differential.py --seed 1 --count 20000 --out OUT_DIR [--oracle-dir DIR]

Generates seeded random decision documents (bench/diffgen.py), evaluates each with our engine
(``evaluate_document(doc, exact_context=True)``) and with the oracle's internal ``authorize()``
(``--engine=core``: context passed verbatim, no validation), compares the decisions, shrinks every
disagreement to a minimal document (bench/diffmin.py), classifies it (bench/diffclass.py) and writes:

    OUT/cases.jsonl           every generated document
    OUT/disagreements.jsonl   {id, ours, oracle, class, minimal}
    OUT/summary.json          counts, agreement rate, classes
    FINDINGS/<class>-N.json   up to --per-class minimal reproductions per class (default
                              bench/differential-findings)

Our ``Unknown`` (a documented gap) and ``Conditional`` are kept as separate outcomes, never mapped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diffclass import CLASSES, DiffClass, classify
from diffgen import Generator
from diffmin import minimize
from oracle import Oracle, find_oracle_dir, installed_oracle_dir

from iamgraph.evaluation.document import evaluate_document

Doc = dict[str, Any]
FINDINGS = Path(__file__).resolve().parent / "differential-findings"
RBP_KEPT = ("sts:assumerole", "kms:decrypt")  # trust and key policies always exist: shrink, never drop


def ours(doc: Doc) -> str:
    try:
        return evaluate_document(doc, exact_context=True).result
    except Exception as exc:  # classify engine failures instead of stopping the run
        return f"Error:{type(exc).__name__}"


def theirs(result: dict[str, Any]) -> str:
    return str(result.get("decision") or f"Error:{str(result.get('error'))[:60]}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--out", type=Path, required=True, help="directory for cases, disagreements and summary")
    ap.add_argument("--oracle-dir", help="oracle folder (installed, or copied to a temp dir and installed)")
    ap.add_argument("--findings", type=Path, default=FINDINGS, help="where minimal reproductions are written")
    ap.add_argument("--per-class", type=int, default=2, help="reproductions saved per class")
    ap.add_argument("--no-minimize", action="store_true", help="classify the raw documents")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = find_oracle_dir(args.oracle_dir)
    if folder is None:
        print("no oracle folder: pass --oracle-dir", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    gen = Generator(args.seed)
    docs = [gen.document(i) for i in range(args.count)]
    with (args.out / "cases.jsonl").open("w") as fh:
        fh.writelines(json.dumps(d, separators=(",", ":")) + "\n" for d in docs)

    t0 = time.perf_counter()
    mine = [ours(d) for d in docs]
    t_ours = time.perf_counter() - t0
    with Oracle(installed_oracle_dir(folder)) as oracle:
        t0 = time.perf_counter()
        other = [theirs(r) for r in oracle.evaluate_many(docs)]
        t_oracle = time.perf_counter() - t0
        disagreements = analyse(docs, mine, other, oracle, minimize_docs=not args.no_minimize)
        version = oracle.version()

    summary = summarise(args, docs, mine, other, disagreements, version, t_ours, t_oracle)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    with (args.out / "disagreements.jsonl").open("w") as fh:
        for d in disagreements:
            fh.write(json.dumps({k: v for k, v in d.items() if k != "cls"}, separators=(",", ":")) + "\n")
    save_findings(args.findings, disagreements, args.per_class)
    print_summary(summary)
    return 0


def analyse(
    docs: list[Doc], mine: list[str], other: list[str], oracle: Oracle, *, minimize_docs: bool
) -> list[dict[str, Any]]:
    def check(doc: Doc) -> tuple[str, str]:
        return ours(doc), theirs(oracle.evaluate(doc))

    out = []
    for doc, a, b in zip(docs, mine, other, strict=True):
        if a == b:
            continue
        small = doc
        if minimize_docs:
            keep = doc["request"]["action"].lower() in RBP_KEPT
            small, _ = minimize(doc, check, keep_rbp=keep)
        cls = classify(small, a, b)
        out.append({"id": doc["id"], "ours": a, "oracle": b, "class": cls.id, "minimal": small, "cls": cls})
    return out


def summarise(
    args: argparse.Namespace,
    docs: list[Doc],
    mine: list[str],
    other: list[str],
    disagreements: list[dict[str, Any]],
    version: str,
    t_ours: float,
    t_oracle: float,
) -> dict[str, Any]:
    n = len(docs)
    agree = sum(a == b for a, b in zip(mine, other, strict=True))
    decided = [
        (a, b) for a, b in zip(mine, other, strict=True) if a in ("Allowed", "ExplicitlyDenied", "ImplicitlyDenied")
    ]
    by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in disagreements:
        by_class[d["class"]].append(d)
    known = {c.id: c for c in CLASSES}
    classes = []
    for cid, items in sorted(by_class.items(), key=lambda kv: -len(kv[1])):
        c: DiffClass = items[0]["cls"] if cid not in known else known[cid]
        classes.append(
            {
                "class": cid,
                "title": c.title,
                "verdict": c.verdict,
                "reason": c.reason,
                "count": len(items),
                "pairs": dict(Counter(f"{d['ours']} / {d['oracle']}" for d in items).most_common()),
            }
        )
    return {
        "command": f"python bench/differential.py --seed {args.seed} --count {args.count} --out OUT",
        "oracle": f"@cloud-copilot/iam-simulate {version}, engine=core",
        "cases": n,
        "agree": agree,
        "agreement_rate": round(agree / n, 5) if n else None,
        "decided_by_ours": len(decided),
        "agree_when_ours_decided": sum(a == b for a, b in decided),
        "ours_outcomes": dict(Counter(mine).most_common()),
        "oracle_outcomes": dict(Counter(other).most_common()),
        "seconds": {"ours": round(t_ours, 2), "oracle": round(t_oracle, 2)},
        "classes": classes,
    }


def save_findings(folder: Path, disagreements: list[dict[str, Any]], per_class: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in disagreements:
        by_class[d["class"]].append(d)
    for cid, items in by_class.items():
        # the smallest reproductions, distinct by (ours, oracle) pair first
        items = sorted(items, key=lambda d: len(json.dumps(d["minimal"])))
        chosen: list[dict[str, Any]] = []
        for d in items:
            if len(chosen) < per_class and all((d["ours"], d["oracle"]) != (c["ours"], c["oracle"]) for c in chosen):
                chosen.append(d)
        for d in items:
            if len(chosen) < per_class and d not in chosen:
                chosen.append(d)
        for i, d in enumerate(chosen, 1):
            (folder / f"{cid}-{i}.json").write_text(json.dumps(finding(d), indent=2) + "\n")


def finding(d: dict[str, Any]) -> Doc:
    c: DiffClass = d["cls"]
    doc = {k: v for k, v in d["minimal"].items() if v not in (None, [])}
    doc["id"] = f"{c.id}:{d['id']}"
    doc["exactContext"] = True  # iamgraph simulate FILE then uses the context verbatim, as the run did
    doc["notes"] = [
        c.title,
        f"ours (exact context): {d['ours']}; oracle (--engine=core): {d['oracle']}",
        f"verdict: {c.verdict}",
        c.reason,
    ]
    expected = {"ours": None, "oracle": d["ours"], "known": d["ours"], "spec-unknown": "Unknown"}.get(c.verdict)
    if c.id == "scp-level-order":
        expected = "ExplicitlyDenied"
    elif c.id in ("mv-key-single-element", "arn-case-deny"):
        expected = "Unknown"
    if expected:
        doc["expected"] = expected
    return doc


def print_summary(s: dict[str, Any]) -> None:
    print(
        f"cases {s['cases']}  agree {s['agree']}  rate {s['agreement_rate']:.4%}  "
        f"(ours decided: {s['decided_by_ours']}, agree there {s['agree_when_ours_decided']})"
    )
    print(f"seconds: ours {s['seconds']['ours']}  oracle {s['seconds']['oracle']}")
    print(f"ours: {s['ours_outcomes']}")
    print(f"oracle: {s['oracle_outcomes']}")
    for c in s["classes"]:
        print(f"{c['count']:6d}  {c['verdict']:<12} {c['class']:<48} {c['pairs']}")


if __name__ == "__main__":
    raise SystemExit(main())
