"""``data stats``: what a dataset holds — sizes, languages, tests, prompt lengths, and the
histogram of prompt complexity (:mod:`halo_forge.data.complexity`) the curriculum orders by."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from halo_forge.data.complexity import complexity, histogram
from halo_forge.data.prompts import BUILTINS, load_problems, read_jsonl
from halo_forge.data.validate import detect_kind, prompt_text
from halo_forge.errors import DataError

__all__ = ["dataset_stats", "render"]


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def dataset_stats(source: str, bins: int = 10) -> dict[str, Any]:
    """Statistics of a built-in (``mbpp:train``) or a file of any kind ``data validate`` knows."""
    name = source.partition(":")[0]
    path = Path(source).expanduser()
    out: dict[str, Any] = {"source": source}
    if name not in BUILTINS and path.is_file():
        rows = read_jsonl(path)
        if not rows:
            raise DataError(f"{source} holds no rows")
        kind = detect_kind(rows[0])
        if kind in ("sft", "samples"):
            prompts = [t for r in rows if (t := prompt_text(r))]
            out.update(kind=kind, rows=len(rows))
            return _with_prompts(out, prompts, bins)
    problems = load_problems(source)
    tests = [len(p.tests) for p in problems]
    io = [len(p.metadata.get("io_tests") or []) for p in problems]
    out.update(
        kind="problems",
        rows=len(problems),
        languages=dict(Counter(p.language for p in problems).most_common()),
        splits=dict(Counter(p.split or "-" for p in problems).most_common()),
        with_reference=sum(1 for p in problems if p.reference),
        with_entry_point=sum(1 for p in problems if p.entry_point),
        tests_per_problem=_summary([float(t) for t in tests]),
        io_tests_per_problem=_summary([float(t) for t in io]),
        without_tests=sum(1 for t, i in zip(tests, io, strict=True) if not t and not i),
    )
    return _with_prompts(out, [p.prompt for p in problems], bins)


def _with_prompts(out: dict[str, Any], prompts: list[str], bins: int) -> dict[str, Any]:
    scores = [complexity(p) for p in prompts]
    out["prompt_words"] = _summary([float(len(p.split())) for p in prompts])
    out["complexity"] = _summary(scores)
    out["complexity_histogram"] = [
        {"lo": round(lo, 3), "hi": round(hi, 3), "count": n}
        for lo, hi, n in histogram(scores, bins)
    ]
    return out


def render(stats: dict[str, Any]) -> None:
    """Print ``stats`` for people: a few lines and a bar per histogram bin."""
    from halo_forge.ui import console

    def say(text: str) -> None:
        console.print(text, soft_wrap=True)  # long lines stay whole (logs, pipes, tests)

    say(f"[bold]{stats['source']}[/]: {stats['rows']} rows ({stats['kind']})")
    for key in ("languages", "splits"):
        if key in stats:
            say(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in stats[key].items()))
    if "tests_per_problem" in stats:
        t, io = stats["tests_per_problem"], stats["io_tests_per_problem"]
        say(
            f"  tests per problem: mean {t['mean']}, max {t['max']:.0f}; io cases: mean "
            f"{io['mean']}; without any tests: {stats['without_tests']}; with reference: "
            f"{stats['with_reference']}"
        )
    w, c = stats["prompt_words"], stats["complexity"]
    say(f"  prompt words: mean {w['mean']}, median {w['median']}, max {w['max']:.0f}")
    say(f"  complexity: mean {c['mean']}, median {c['median']}, range {c['min']}–{c['max']}")
    hist = stats["complexity_histogram"]
    top = max((b["count"] for b in hist), default=0) or 1
    for b in hist:
        bar = "█" * round(40 * b["count"] / top)
        say(f"  {b['lo']:.2f}–{b['hi']:.2f} │{bar} {b['count']}")
