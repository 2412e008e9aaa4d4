"""The API's JSON: hops the graph keeps are encoded once and copied into each answer; the bytes are the
very bytes of encoding the answer whole (what the server sent before it kept them)."""

from __future__ import annotations

from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from api.deps import _dumps
from iamgraph.graph.queries import Analysis, WhatIf, exposure, find_paths, privesc, who_can
from iamgraph.graph.queries.base import SharedHop, SharedList
from iamgraph.graph.queries.explore import neighbourhood
from iamgraph.graph.queries.paths import can


def _plain(content: Any) -> bytes:
    return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def _shared(content: Any, kind: type = SharedHop) -> int:
    if isinstance(content, kind):
        return 1
    if isinstance(content, dict):
        return sum(_shared(v, kind) for v in content.values())
    if isinstance(content, list):
        return sum(_shared(v, kind) for v in content)
    return 0


def test_answers_with_shared_hops_encode_as_before(demo: dict[str, tuple[Analysis, float]]) -> None:
    a, _ = demo["demo"]
    g = a.graph.graph
    principals = sorted(n for n in g.nodes if ":user/" in n or ":role/" in n)
    resources = sorted(n for n, d in g.nodes(data=True) if str(d.get("kind")) == "resource")
    mfa = WhatIf(values={"aws:MultiFactorAuthPresent": "true"})
    answers: list[Any] = [privesc(a), exposure(a, limit=50)]
    for r in resources[:12]:
        answers += [who_can(a, r), who_can(a, r, whatif=mfa), who_can(a, r, access_level="Read", limit=3)]
        for p in principals[:6]:
            answers += [find_paths(a, p, r), can(a, p, r, "s3:GetObject")]
    answers += [neighbourhood(a, p, depth=2, limit=200) for p in principals[:10]]
    assert sum(_shared(x) for x in answers) > 100  # the answers do carry shared hops ...
    assert sum(_shared(x, SharedList) for x in answers) > 100  # ... and access hops' shared parts
    for _ in range(2):  # the second time every shared hop and part is copied from its encoded form
        for answer in answers:
            assert _dumps(answer) == _plain(answer)


class Colour(Enum):
    RED = "red"


class Level(StrEnum):
    READ = "Read"


class Point(NamedTuple):
    x: int
    y: int


class Tagged(dict[str, Any]):
    pass


def test_other_subclasses_and_unknown_types_encode_as_before() -> None:
    content = {
        "enum": Colour.RED,
        "str_enum": Level.READ,
        "tuple": (1, "a"),
        "named": Point(1, 2),
        "path": Path("a/b"),
        "dict": Tagged(a=1),
        "keys": {1: "x", Level.READ: "y"},
        "nested": [Tagged(b=[Point(3, 4)]), True, None, 1.5],
    }
    assert _dumps(content) == _plain(content)
