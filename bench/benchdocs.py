"""Write one section of docs/benchmarks.md, keyed by its ``## `` heading, leaving the other sections alone."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BENCHMARKS", "replace_section"]

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def replace_section(heading: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace the section that starts with the line ``## heading`` (up to the next ``## ``), or append it."""
    title = f"## {heading}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    section = [title, "", *body.strip("\n").splitlines(), ""]
    try:
        start = lines.index(title)
    except ValueError:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *section]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section
    while lines and not lines[-1].strip():
        lines.pop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
