"""Write one section of docs/benchmarks.md, keyed by its ``## `` heading, leaving the other sections alone."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BENCHMARKS", "cpu_model", "replace_section"]

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def cpu_model() -> str:
    """The processor as Linux names it, with its clock and last-level cache: the same command gives very
    different numbers on two machines of the same size (an estate that fits in a large cache, or not)."""
    name = mhz = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "cpu MHz" and not mhz:
                    mhz = f"{float(value) / 1000:.1f} GHz"
    except OSError:
        return "processor not known (no /proc/cpuinfo)"
    caches = sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"))
    last = caches[-1].read_text().strip() if caches else ""
    if last.endswith("K") and last[:-1].isdigit() and int(last[:-1]) >= 1024:
        last = f"{int(last[:-1]) // 1024} MiB"
    return ", ".join(x for x in (name or "processor not named", mhz, f"last-level cache {last}" if last else "") if x)


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
