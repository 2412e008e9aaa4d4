"""Tally of the iam-simulate conformance tests, printed at the end of the session."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

_TALLY = pytest.StashKey[dict[str, Counter[str]]]()


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``record(kind, outcome)`` with outcome ``agree``, ``deviation`` or ``disagree``."""
    tally = request.config.stash.setdefault(_TALLY, {})

    def _record(kind: str, outcome: str) -> None:
        tally.setdefault(kind, Counter())[outcome] += 1

    return _record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tally = config.stash.get(_TALLY, {})
    if not tally:
        return
    terminalreporter.section("iam-simulate conformance")
    for kind, counts in tally.items():
        total = sum(counts.values())
        ok = counts["agree"] + counts["deviation"]
        line = f"{kind:16} {ok}/{total} agree ({counts['deviation']} known deviations)"
        if counts["disagree"]:
            line += f", {counts['disagree']} DISAGREE"
        terminalreporter.write_line(line)
