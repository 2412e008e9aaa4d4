"""Evaluator throughput (issue 2): evaluations per second of our engine, single process, with the oracle
measured side by side in the same run.

    python bench/eval_throughput.py [-n 10000] [--repeat 3] [--oracle-dir DIR] [--profile case1|case2]

case 1  one request against 10 identity policies of one simple Allow statement each, exactly the
        document the oracle's own benchmark builds (``node eval.mjs --bench=N --policies=10
        --engine=core``: role BenchRole, s3:GetObject on bench-bucket/key.txt, only the last policy
        matches, empty context). Each evaluation parses the policies and decides, like the oracle's
        non-``--preparsed`` run, which loads every policy per request.
case 2  case 1 plus two SCP levels, a permissions boundary and a bucket policy.

For each case four figures of ours: ``document`` (``evaluate_document``: parse + evaluate, the
like-for-like figure), ``exact`` (the same with ``exact_context=True``, no derived keys, as the oracle
gets them), ``no_memo`` (``document`` with every per-process pattern memo of iamgraph.policy.memo emptied
before each evaluation: the figure without any help from having seen the same patterns before) and
``preparsed`` (``evaluate`` on an already built request and policy set). The oracle:
its own benchmark for case 1 (plain, compared with ``document``, and ``--preparsed``, compared with
``preparsed``), and for both cases the same loop over its ``evaluateCase`` in one node process (the
reference for case 2, which the oracle's benchmark does not build). Measurements alternate
ours/oracle and the median of ``--repeat`` runs is reported, because the machine is shared.
``--profile`` runs cProfile over the ``document`` loop (``--no-memo``: the ``no_memo`` loop) and prints
the top functions instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oracle import find_oracle_dir, installed_oracle_dir

from iamgraph.evaluation.document import build_request, evaluate_document
from iamgraph.evaluation.engine import evaluate
from iamgraph.policy.memo import clear_memos

Doc = dict[str, Any]
ACCOUNT = "111111111111"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/BenchRole"
TARGET_RATIO = 2.0


def case1(policies: int = 10) -> Doc:
    """The oracle benchmark's document (eval.mjs, bench()), in the neutral schema."""
    identity = []
    for i in range(policies):
        last = i == policies - 1
        identity.append(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": f"S{i}",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject"] if last else ["s3:PutObject", "sqs:SendMessage"],
                        "Resource": "arn:aws:s3:::bench-bucket/*" if last else f"arn:aws:s3:::other-bucket-{i}/*",
                    }
                ],
            }
        )
    return {
        "id": "bench-case1",
        "kind": "decision",
        "request": {
            "principal": PRINCIPAL,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bench-bucket/key.txt",
            "resourceAccount": ACCOUNT,
            "context": {},
        },
        "identityPolicies": identity,
        "scps": [],
        "rcps": [],
        "resourcePolicy": None,
        "sessionPolicy": None,
    }


def case2(policies: int = 10) -> Doc:
    doc = case1(policies)
    doc["id"] = "bench-case2"
    doc["scps"] = [
        {
            "orgIdentifier": "r-root",
            "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
        },
        {
            "orgIdentifier": "ou-workloads",
            "policies": [
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["s3:*", "sqs:*", "kms:*"], "Resource": "*"},
                        {"Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
                    ],
                }
            ],
        },
    ]
    doc["permissionBoundaries"] = [
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        }
    ]
    doc["resourcePolicy"] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bench-bucket/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": "arn:aws:s3:::bench-bucket/*",
            },
        ],
    }
    return doc


# ---- ours ------------------------------------------------------------------------------------
def _rate(run: Callable[[], object], n: int) -> float:
    for _ in range(min(500, n)):  # warm-up, as the oracle's benchmark does
        run()
    t0 = time.perf_counter()
    for _ in range(n):
        run()
    return n / (time.perf_counter() - t0)


def ours_rates(doc: Doc, n: int) -> dict[str, float]:
    assert evaluate_document(doc).result == "Allowed", "benchmark document must be Allowed"
    request, policies = build_request(doc)

    def without_memos() -> object:
        clear_memos()
        return evaluate_document(doc)

    return {
        "document": _rate(lambda: evaluate_document(doc), n),
        "exact": _rate(lambda: evaluate_document(doc, exact_context=True), n),
        "no_memo": _rate(without_memos, n),
        "preparsed": _rate(lambda: evaluate(request, policies), n),
    }


# ---- the oracle --------------------------------------------------------------------------------
_ORACLE_LOOP = r"""
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
const [dir, n, text] = process.argv.slice(1)
const { evaluateCase } = await import(pathToFileURL(join(dir, 'eval.mjs')).href)
const c = JSON.parse(text)
const first = await evaluateCase(c, 'core')
if (first.decision !== 'Allowed') throw new Error('not Allowed: ' + JSON.stringify(first))
for (let i = 0; i < Math.min(500, +n); i++) await evaluateCase(c, 'core')
const t0 = process.hrtime.bigint()
for (let i = 0; i < +n; i++) await evaluateCase(c, 'core')
const secs = Number(process.hrtime.bigint() - t0) / 1e9
console.log(JSON.stringify({ evalsPerSecond: Math.round(+n / secs) }))
"""


def oracle_own_bench(folder: Path, n: int, *, preparsed: bool = False) -> float:
    out = subprocess.run(
        ["node", "eval.mjs", f"--bench={n}", "--policies=10", "--engine=core", *(["--preparsed"] if preparsed else [])],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["evalsPerSecond"])


def oracle_loop(folder: Path, doc: Doc, n: int) -> float:
    out = subprocess.run(
        ["node", "--input-type=module", "-e", _ORACLE_LOOP, "--", str(folder), str(n), json.dumps(doc)],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["evalsPerSecond"])


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "n/a"


# ---- main ------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="evaluator throughput, ours vs the oracle")
    ap.add_argument("-n", "--evaluations", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported")
    ap.add_argument("--oracle-dir", help="oracle folder (default: ../shared/tools/iam-simulate-oracle)")
    ap.add_argument("--no-oracle", action="store_true")
    ap.add_argument("--profile", choices=("case1", "case2"), help="cProfile the document loop instead")
    ap.add_argument("--no-memo", action="store_true", help="with --profile: empty the pattern memos each time")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    return ap.parse_args(argv)


def profile(doc: Doc, n: int, *, no_memo: bool = False) -> None:
    evaluate_document(doc)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        if no_memo:
            clear_memos()
        evaluate_document(doc)
    prof.disable()
    stats = pstats.Stats(prof).strip_dirs().sort_stats("tottime")
    stats.print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cases = {"case1": case1(), "case2": case2()}
    if args.profile:
        profile(cases[args.profile], args.evaluations, no_memo=args.no_memo)
        return 0
    folder = None if args.no_oracle else find_oracle_dir(args.oracle_dir)
    if folder is not None:
        try:
            folder = installed_oracle_dir(folder)
        except (OSError, subprocess.CalledProcessError) as exc:  # no node/npm or no registry: ours only
            print(f"oracle not available ({exc}); measuring ours only", file=sys.stderr)
            folder = None
    runs: dict[str, dict[str, list[float]]] = {c: {} for c in cases}
    for _ in range(args.repeat):
        for name, doc in cases.items():
            for k, v in ours_rates(doc, args.evaluations).items():
                runs[name].setdefault(k, []).append(v)
            if folder is not None:
                runs[name].setdefault("oracle_loop", []).append(oracle_loop(folder, doc, args.evaluations))
                if name == "case1":
                    runs[name].setdefault("oracle_bench", []).append(oracle_own_bench(folder, args.evaluations))
                    runs[name].setdefault("oracle_bench_preparsed", []).append(
                        oracle_own_bench(folder, args.evaluations, preparsed=True)
                    )
    result: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "node": node_version(),
            "platform": platform.platform(terse=True),
        },
        "evaluations": args.evaluations,
        "repeat": args.repeat,
        "cases": {},
    }
    for name, figures in runs.items():
        med = {k: round(statistics.median(v)) for k, v in figures.items()}
        oracle_ref = med.get("oracle_bench") or med.get("oracle_loop")
        if oracle_ref:
            med["ratio_document"] = round(med["document"] / oracle_ref, 2)
            med["ratio_no_memo"] = round(med["no_memo"] / oracle_ref, 2)
            med["ratio_preparsed"] = round(med["preparsed"] / med.get("oracle_bench_preparsed", oracle_ref), 2)
        result["cases"][name] = med
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    return 0


def report(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"machine: nproc={m['nproc']} python={m['python']} node={m['node']} ({m['platform']})")
    print(f"{r['evaluations']} evaluations per run, median of {r['repeat']} runs, evaluations/second")
    for name, f in r["cases"].items():
        line = f"{name}: ours document {f['document']}  exact {f['exact']}  no_memo {f['no_memo']}"
        line += f"  preparsed {f['preparsed']}"
        if "oracle_loop" in f:
            line += f" | oracle loop {f['oracle_loop']}"
        if "oracle_bench" in f:
            line += f"  oracle --bench {f['oracle_bench']}  --preparsed {f['oracle_bench_preparsed']}"
        if "ratio_document" in f:
            verdict = "meets" if f["ratio_document"] >= TARGET_RATIO else "BELOW"
            line += f" | ratio {f['ratio_document']}x (no_memo {f['ratio_no_memo']}x,"
            line += f" preparsed {f['ratio_preparsed']}x), {verdict} {TARGET_RATIO}x"
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
