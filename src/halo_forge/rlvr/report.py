"""A RAFT run's report: four PNG plots and a markdown summary under ``OUT/report/``.

Read-only over what the loop already wrote (``metrics.jsonl``, ``cycle_N/verified.jsonl``) plus
held-out results when present (``OUT/benchmark/{baseline,cycle_N}.json``, or the sibling
``../benchmark/`` that ``benchmark full`` writes next to its ``raft/`` run). Every key is
optional, so older runs still get a report. Files are written under a temporary name and
renamed, so a reader never sees half a PNG. matplotlib is imported here, lazily, and drawn on
an Agg canvas (``Figure`` without pyplot): no window, no global state.

Loss steps in ``train_loss_history`` are per cycle (each cycle builds a new Trainer); the loss
plot lays the cycles end to end by offsetting each cycle by the steps of the ones before it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from halo_forge.rlvr.state import read_jsonl_tolerant

PLOTS = ("pass_rate.png", "kept.png", "rewards.png", "loss.png")
_BENCH_NAME = re.compile(r"^(baseline|cycle_(\d+))\.json$")


def write_report(run_dir: Path, benchmark_dir: Path | None = None) -> list[Path]:
    """Write ``report/{pass_rate,kept,rewards,loss}.png`` and ``report/summary.md``.

    Returns the paths written. A run with no finished cycle gets only the summary (which says
    so). ``benchmark_dir`` defaults to ``run_dir/benchmark``, else ``run_dir/../benchmark``
    when ``run_dir`` is a ``benchmark full`` run's ``raft/`` folder.
    """
    run_dir = Path(run_dir)
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    cycles = load_cycles(run_dir)
    held_out = load_held_out(benchmark_dir or find_benchmark_dir(run_dir))
    written: list[Path] = []
    if cycles:
        rewards = {c["cycle"]: load_rewards(run_dir, c["cycle"]) for c in cycles}
        for name, draw in (
            ("pass_rate.png", lambda fig: _plot_pass_rate(fig, cycles, held_out)),
            ("kept.png", lambda fig: _plot_kept(fig, cycles)),
            ("rewards.png", lambda fig: _plot_rewards(fig, rewards)),
            ("loss.png", lambda fig: _plot_loss(fig, cycles)),
        ):
            written.append(_save_figure(out / name, draw))
    written.append(_atomic_write(out / "summary.md", summary_markdown(run_dir, cycles, held_out)))
    return written


# --- reading ---------------------------------------------------------------------------------


def load_cycles(run_dir: Path) -> list[dict[str, Any]]:
    """One metrics row per cycle, sorted; a cycle logged twice (crash repair) keeps the last."""
    by_cycle: dict[int, dict[str, Any]] = {}
    for row in read_jsonl_tolerant(Path(run_dir) / "metrics.jsonl"):
        if row.get("event", "cycle") != "cycle" or not isinstance(row.get("cycle"), int):
            continue
        by_cycle[row["cycle"]] = row
    return [by_cycle[c] for c in sorted(by_cycle)]


def load_rewards(run_dir: Path, cycle: int) -> list[float]:
    rows = read_jsonl_tolerant(Path(run_dir) / f"cycle_{cycle}" / "verified.jsonl")
    return [float(r["reward"]) for r in rows if isinstance(r.get("reward"), int | float)]


def find_benchmark_dir(run_dir: Path) -> Path | None:
    """``OUT/benchmark``; else ``benchmark full``'s layout, ``DIR/raft`` by ``DIR/benchmark``."""
    if (run_dir / "benchmark").is_dir():
        return run_dir / "benchmark"
    if run_dir.name == "raft" and (run_dir.parent / "benchmark").is_dir():
        return run_dir.parent / "benchmark"
    return None


def load_held_out(bench_dir: Path | None) -> dict[int, dict[str, Any]]:
    """``{0: baseline result, N: cycle N result}`` from a benchmark folder (unreadable skipped)."""
    found: dict[int, dict[str, Any]] = {}
    if bench_dir is None or not bench_dir.is_dir():
        return found
    for path in bench_dir.iterdir():
        m = _BENCH_NAME.match(path.name)
        if not m:
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("pass_at_k"), dict):
            found[int(m.group(2) or 0)] = data
    return dict(sorted(found.items()))


def loss_points(cycles: list[dict[str, Any]]) -> list[tuple[float, float, int]]:
    """``(global step, loss, cycle)`` across cycles: ``train_loss_history`` when a cycle has
    one, else a single point at the cycle's last step from ``train_loss``."""
    points: list[tuple[float, float, int]] = []
    offset = 0.0
    for c in cycles:
        history = [
            (float(h[0]), float(h[1]))
            for h in c.get("train_loss_history") or []
            if isinstance(h, list | tuple) and len(h) >= 2 and _num(h[0]) and _num(h[1])
        ]
        steps = c.get("train_steps") if _num(c.get("train_steps")) else None
        if history:
            # per-cycle steps are offset; steps that are already global (> offset) are kept
            shift = 0.0 if min(s for s, _ in history) > offset > 0 else offset
            points += [(shift + s, loss, c["cycle"]) for s, loss in history]
            end = shift + max(s for s, _ in history)
            offset = max(end, offset + (steps or 0))
        else:
            offset += steps or 1
            if _num(c.get("train_loss")):
                points.append((offset, float(c["train_loss"]), c["cycle"]))
    return points


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


# --- plots -----------------------------------------------------------------------------------


def _save_figure(path: Path, draw: Any) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    draw(fig)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
    return path


def _plot_pass_rate(
    fig: Any, cycles: list[dict[str, Any]], held_out: dict[int, dict[str, Any]]
) -> None:
    ax = fig.add_subplot()
    xs = [c["cycle"] for c in cycles if _num(c.get("pass_rate"))]
    ys = [c["pass_rate"] for c in cycles if _num(c.get("pass_rate"))]
    ax.plot(xs, ys, marker="o", label="training samples: pass rate")
    held = [(c, r["pass_at_k"]["1"]) for c, r in held_out.items() if _num(r["pass_at_k"].get("1"))]
    if held:
        ax.plot(*zip(*held, strict=True), marker="s", label="held-out: pass@1 (0 = baseline)")
    ax.set_xlabel("cycle")
    ax.set_ylabel("rate")
    ax.set_ylim(0, 1.02)
    ax.set_title("Pass rate per cycle")
    _integer_x(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def _plot_kept(fig: Any, cycles: list[dict[str, Any]]) -> None:
    ax = fig.add_subplot()
    for key, label, marker in (
        ("kept", "kept samples", "o"),
        ("kept_prompts", "prompts with a kept sample", "s"),
        ("prompts", "prompts", "^"),
    ):
        pts = [(c["cycle"], c[key]) for c in cycles if _num(c.get(key))]
        if pts:
            style = "--" if key == "prompts" else "-"
            ax.plot(*zip(*pts, strict=True), style, marker=marker, label=label)
    ax.set_xlabel("cycle")
    ax.set_ylabel("count")
    ax.set_ylim(bottom=0)
    ax.set_title("Kept per cycle")
    _integer_x(ax)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")


def _plot_rewards(fig: Any, rewards: dict[int, list[float]]) -> None:
    """Small multiples, one panel per cycle (at most ``MAX_PANELS``, spread over the run):
    RAFT rewards are few distinct values, so overlaid histograms would hide each other."""
    from matplotlib import colormaps

    shown = _spread(sorted(rewards), MAX_PANELS)
    fig.set_size_inches(6.4, 1.0 + 1.3 * len(shown))
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    cmap = colormaps["viridis"]
    values_all = [v for c in shown for v in rewards[c]]
    unit = all(0.0 <= v <= 1.0 for v in values_all)
    bins: Any = [i / 20 for i in range(21)] if unit else 20
    for i, (ax, cycle) in enumerate(zip(axes, shown, strict=True)):
        values = rewards[cycle]
        if values:
            color = cmap(i / max(len(shown) - 1, 1))
            ax.hist(values, bins=bins, color=color, alpha=0.85)
            mean = sum(values) / len(values)
            note = f"cycle {cycle}: n={len(values)}, mean {mean:.2f}"
        else:
            note = f"cycle {cycle}: no verified samples"
        ax.set_title(note, loc="right", fontsize="small")
        ax.grid(alpha=0.3)
        ax.set_ylabel("samples", fontsize="small")
    fig.suptitle("Reward distribution per cycle")
    axes[-1].set_xlabel("reward")


MAX_PANELS = 8


def _spread(items: list[int], n: int) -> list[int]:
    """At most ``n`` of ``items``, evenly spread, first and last included."""
    if len(items) <= n:
        return items
    picks = {round(i * (len(items) - 1) / (n - 1)) for i in range(n)}
    return [items[i] for i in sorted(picks)]


def _plot_loss(fig: Any, cycles: list[dict[str, Any]]) -> None:
    ax = fig.add_subplot()
    points = loss_points(cycles)
    by_cycle: dict[int, list[tuple[float, float]]] = {}
    for step, loss, cycle in points:
        by_cycle.setdefault(cycle, []).append((step, loss))
    for cycle, pts in by_cycle.items():
        ax.plot(
            *zip(*pts, strict=True), marker="." if len(pts) > 1 else "o", label=f"cycle {cycle}"
        )
    ax.set_xlabel("training step (all cycles)")
    ax.set_ylabel("loss")
    ax.set_title("Training loss")
    ax.grid(alpha=0.3)
    if points:
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no training steps logged", ha="center", va="center")


def _integer_x(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# --- markdown --------------------------------------------------------------------------------


def summary_markdown(
    run_dir: Path, cycles: list[dict[str, Any]], held_out: dict[int, dict[str, Any]]
) -> str:
    lines = [f"# RAFT run report: `{run_dir}`", ""]
    if not cycles:
        lines += ["No cycle has finished yet.", ""]
        return "\n".join(lines)
    head = (
        "| cycle | prompts | samples | pass rate | mean reward | kept (prompts) | "
        "threshold / keep | lr | loss (steps) | gen s | verify s | train s | statuses |"
    )
    lines += [head, "|" + "---:|" * 12 + "---|"]
    for c in cycles:
        kept = f"{_fmt(c.get('kept'))} ({_fmt(c.get('kept_prompts'))})"
        keep = c.get("keep_percent")
        rule = f"{_fmt(c.get('reward_threshold'), '{:g}')} / " + (
            f"{keep:.0%}" if _num(keep) else "—"
        )
        statuses = c.get("statuses") if isinstance(c.get("statuses"), dict) else {}
        cells = [
            _fmt(c.get("cycle")),
            _prompts(c),
            _fmt(c.get("samples")),
            _fmt(c.get("pass_rate"), "{:.1%}"),
            _fmt(c.get("mean_reward"), "{:.3f}"),
            kept,
            rule,
            _fmt(c.get("learning_rate"), "{:.2g}"),
            f"{_fmt(c.get('train_loss'), '{:.4f}')} ({_fmt(c.get('train_steps'))})",
            _fmt(c.get("gen_seconds"), "{:.1f}"),
            _fmt(c.get("verify_seconds"), "{:.1f}"),
            _fmt(c.get("train_seconds"), "{:.1f}"),
            ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if held_out:
        ks = sorted({int(k) for r in held_out.values() for k in r["pass_at_k"]})
        lines += ["## Held-out benchmark", ""]
        lines.append("| model | " + " | ".join(f"pass@{k}" for k in ks) + " | compile rate |")
        lines.append("|---|" + "---:|" * (len(ks) + 1))
        for cycle, r in held_out.items():
            label = "baseline" if cycle == 0 else f"cycle {cycle}"
            cells = [_fmt(r["pass_at_k"].get(str(k)), "{:.3f}") for k in ks]
            lines.append(
                f"| {label} | "
                + " | ".join(cells)
                + f" | {_fmt(r.get('compile_rate'), '{:.3f}')} |"
            )
        lines.append("")
    lines += ["## Plots", ""]
    lines += [f"![{name[:-4]}]({name})" for name in PLOTS]
    lines.append("")
    return "\n".join(lines)


def _prompts(c: dict[str, Any]) -> str:
    """``12/40`` when a curriculum used part of the prompts, else ``40``."""
    total = c.get("total_prompts")
    if _num(total) and _num(c.get("prompts")) and total != c["prompts"]:
        return f"{c['prompts']}/{total}"
    return _fmt(c.get("prompts"))


def _fmt(value: Any, spec: str = "{}") -> str:
    if value is None or (not _num(value) and spec != "{}"):
        return "—"
    return spec.format(value)


def _atomic_write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
