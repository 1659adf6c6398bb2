"""``benchmark full``: does RAFT help on held-out problems, and when does it stop helping?

Baseline pass@k of the starting model on the held-out prompts, then for each cycle c: train
RAFT up to cycle c (``OUTPUT/raft``, resumed by the RAFT loop itself) and measure pass@k of
``OUTPUT/raft/cycle_c_final`` on the same held-out prompts.

```
OUTPUT/config.yaml              the evaluation settings (a rerun must match them)
OUTPUT/raft/                    the RAFT run (its own config.yaml, metrics, adapters, report/)
OUTPUT/benchmark/baseline.json  a ``benchmark run`` result per model
OUTPUT/benchmark/cycle_N.json
OUTPUT/summary.json, summary.md the comparison table and the stop advice
```
Every file is written whole (temporary name + rename), so a rerun of the same command reuses
each finished evaluation and RAFT cycle and redoes only what is missing; a rerun of a finished
run loads no model. pass@k of a reused result is recomputed from its per-problem counts, so
``--k`` may change between runs (``--samples`` may not). pass@1 is always measured: it drives
the Δ column and the stop advice (``halo_forge.rlvr.stopping.advise`` over held-out pass@1).

Training is ``raft train --cycles N`` run one cycle at a time (``run_raft(plan, until=c)``):
the schedule (progressive curriculum, annealing shaping, lr decay) spans all N cycles, exactly
as in ``raft train``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from halo_forge.bench.compare import comparison, markdown_table, render_table
from halo_forge.bench.passk import mean_pass_at_k
from halo_forge.config import BenchmarkConfig, BenchmarkFullConfig
from halo_forge.data.prompts import parse_prompt_source
from halo_forge.errors import ConfigError
from halo_forge.rlvr.state import atomic_write_text
from halo_forge.ui import console

# Evaluation settings a rerun over the same OUTPUT may change (the rest must match).
RERUN_MAY_CHANGE = {"k", "early_stop", "min_gain"}


@dataclass
class FullPlan:
    config: BenchmarkFullConfig
    raft: Any  # halo_forge.rlvr.raft.RaftPlan, for all N cycles
    eval_prompts: str
    eval_verifier: str | None
    out: Path

    @property
    def bench_dir(self) -> Path:
        return self.out / "benchmark"

    @property
    def cycles(self) -> int:
        return int(self.raft.config.cycles)


def default_eval_prompts(train_prompts: str) -> str:
    """The held-out split of a built-in (``basic_python`` → ``basic_python:test``), or a
    ``ConfigError`` asking for ``--eval-prompts``."""
    src = parse_prompt_source(train_prompts)
    ds = src.builtin
    if ds is not None and "test" in ds.splits and src.split != "test":
        return f"{ds.name}:test"
    why = (
        f"{train_prompts} is the {ds.name} test split itself"
        if ds is not None and src.split == "test"
        else f"{train_prompts} has no built-in test split"
    )
    raise ConfigError(
        f"--eval-prompts is required: {why}; pass held-out prompts, e.g. "
        "--eval-prompts heldout.jsonl or --eval-prompts basic_python:test"
    )


def plan_full(cfg: BenchmarkFullConfig) -> FullPlan:
    """Validate everything (both configs, prompts, verifiers, model, OUTPUT) without a model."""
    from halo_forge.bench.run import plan_benchmark
    from halo_forge.rlvr.raft import plan_raft

    cfg.validate()
    if 1 not in cfg.k:  # pass@1 drives Δ and the stop advice
        cfg = dataclasses.replace(cfg, k=sorted({1, *cfg.k}))
    out = Path(cfg.output).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--output {cfg.output} is a file; give a folder for the whole run")
    eval_prompts = cfg.eval_prompts or default_eval_prompts(cfg.raft.prompts or "")
    raft_cfg = dataclasses.replace(cfg.raft, output=str(out / "raft"))
    eval_source = parse_prompt_source(eval_prompts)
    eval_verifier = cfg.eval_verifier or (None if eval_source.builtin else cfg.raft.verifier)
    plan = FullPlan(cfg, plan_raft(raft_cfg), eval_prompts, eval_verifier, out)
    plan_benchmark(_bench_config(plan, None))  # eval prompts, verifier and model check out
    if _same_prompts(cfg.raft.prompts or "", eval_prompts):
        console.print(
            "[yellow]Warning: --eval-prompts are the training prompts; pass@k will not be "
            "held-out[/]"
        )
    _check_settings(plan)
    return plan


def _same_prompts(a: str, b: str) -> bool:
    pa, pb = parse_prompt_source(a), parse_prompt_source(b)
    if pa.path and pb.path:
        return pa.path.resolve() == pb.path.resolve()
    return bool(
        pa.builtin and pb.builtin and pa.builtin.name == pb.builtin.name and pa.split == pb.split
    )


def _eval_settings(plan: FullPlan) -> dict[str, Any]:
    cfg, r = plan.config, plan.raft.config
    return {
        "eval_prompts": plan.eval_prompts,
        "eval_verifier": plan.eval_verifier,
        "samples": cfg.samples,
        "k": cfg.k,
        "eval_temperature": cfg.eval_temperature,
        "eval_max_new_tokens": cfg.eval_max_new_tokens or r.max_new_tokens,
        "max_eval_prompts": cfg.max_eval_prompts,
        "seed": r.seed,
        "top_p": r.top_p,
        "system_prompt": r.system_prompt,
        "early_stop": cfg.early_stop,
        "min_gain": cfg.min_gain,
    }


def _check_settings(plan: FullPlan) -> None:
    path = plan.out / "config.yaml"
    if not path.is_file():
        return
    previous = (yaml.safe_load(path.read_text()) or {}).get("eval", {})
    changed = [
        f"{k}: {previous.get(k)!r} → {v!r}"
        for k, v in _eval_settings(plan).items()
        if k not in RERUN_MAY_CHANGE and previous.get(k) != v
    ]
    if changed:
        raise ConfigError(
            f"{plan.out} holds a benchmark full run with other evaluation settings "
            f"({'; '.join(changed)}); rerun with the same settings, or choose another --output"
        )


def _bench_config(plan: FullPlan, checkpoint: Path | None) -> BenchmarkConfig:
    cfg, r = plan.config, plan.raft.config
    return BenchmarkConfig(
        prompts=plan.eval_prompts,
        model=r.model,
        checkpoint=str(checkpoint) if checkpoint else r.checkpoint,
        verifier=plan.eval_verifier,
        samples=cfg.samples,
        k=list(cfg.k),
        output=None,  # written here, atomically
        temperature=cfg.eval_temperature,
        top_p=r.top_p,
        max_new_tokens=cfg.eval_max_new_tokens or r.max_new_tokens,
        max_prompts=cfg.max_eval_prompts,
        generation_batch_size=r.generation_batch_size,
        workers=r.workers,
        seed=r.seed,
        system_prompt=r.system_prompt,
        cache_dir=r.cache_dir,
    )


# --- the loop --------------------------------------------------------------------------------


def run_full(plan: FullPlan) -> dict[str, Any]:
    """Baseline, then train-one-cycle/evaluate until N cycles (or ``--early-stop``)."""
    plan.out.mkdir(parents=True, exist_ok=True)
    raft_config = dataclasses.asdict(plan.raft.config)
    settings = {"eval": _eval_settings(plan), "raft": raft_config}
    atomic_write_text(plan.out / "config.yaml", yaml.safe_dump(settings, sort_keys=True))
    t0 = time.perf_counter()
    entries: list[tuple[str, dict[str, Any]]] = []
    reused: list[str] = []
    advice: Any = None
    stopped_early = False
    for cycle in range(plan.cycles + 1):  # 0: the baseline
        result, new = _evaluate(plan, cycle)
        entries.append((result["label"], result))
        if not new:
            reused.append(result["label"])
        if cycle:
            rates = [r["pass_at_k"]["1"] for _, r in entries]
            advice = stop_advice(rates, plan.config.min_gain)
            _write_summary(plan, entries, advice, stopped_early=False)
        if new:  # progress so far; a rerun shows only the final table
            _show(entries, advice)
            if cycle:
                _write_report(plan)
        if advice and advice.stop and plan.config.early_stop and cycle < plan.cycles:
            stopped_early = True
            console.print(f"[yellow]--early-stop: stopping after cycle {cycle}[/]")
            break
    summary = _write_summary(plan, entries, advice, stopped_early)
    if not (plan.out / "raft" / "report" / "summary.md").is_file():
        _write_report(plan)
    if reused:
        console.print(f"[dim]Reused finished evaluations: {', '.join(reused)}[/]")
    if len(reused) == len(entries):
        _show(entries, advice)
    console.print(
        f"Done in {time.perf_counter() - t0:.1f}s: {plan.out}/summary.md (table), summary.json, "
        "benchmark/*.json, raft/report/ (plots)",
        soft_wrap=True,
    )
    return summary


def _evaluate(plan: FullPlan, cycle: int) -> tuple[dict[str, Any], bool]:
    """The result for the baseline (``cycle`` 0) or a cycle, reused when already on disk.
    Returns ``(result, whether it was computed now)``."""
    from halo_forge.bench.run import plan_benchmark, run_benchmark

    name = "baseline" if cycle == 0 else f"cycle_{cycle}"
    path = plan.bench_dir / f"{name}.json"
    cached = _load_cached(path, plan.config.k)
    if cached is not None:
        cached.setdefault("label", name.replace("_", " "))
        cached.setdefault("cycle", cycle)
        return cached, False
    checkpoint = None
    if cycle:
        checkpoint = _train_until(plan, cycle)
    console.print(f"\n--- Held-out evaluation: {name.replace('_', ' ')} ---")
    result = run_benchmark(plan_benchmark(_bench_config(plan, checkpoint)))
    result["label"] = "baseline" if cycle == 0 else f"cycle {cycle}"
    result["cycle"] = cycle
    result["settings"]["output"] = str(path)
    plan.bench_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(result, indent=2))
    return result, True


def _train_until(plan: FullPlan, cycle: int) -> Path:
    """RAFT up to ``cycle`` (the loop resumes after the last finished cycle)."""
    from halo_forge.rlvr.raft import run_raft

    run = plan.raft.run
    if run.completed_cycles() < cycle:
        run_raft(plan.raft, until=cycle)  # the schedule still spans all --cycles
    final = run.final_dir(cycle)
    if not final.is_dir():
        raise ConfigError(
            f"RAFT did not finish cycle {cycle} in {run.root} (it stopped early?); "
            "rerun, or choose another --output"
        )
    return final


def _load_cached(path: Path, ks: list[int]) -> dict[str, Any] | None:
    """A finished evaluation with pass@k recomputed for ``ks``; ``None`` if absent or torn."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("problems"), list):
        return None
    try:
        counts = [(int(p["n"]), int(p["correct"])) for p in data["problems"]]
    except (KeyError, TypeError, ValueError):
        return None
    n = data.get("samples_per_problem") or min((c[0] for c in counts), default=0)
    if counts:
        data["pass_at_k"] = {str(k): mean_pass_at_k(counts, k) for k in ks if k <= n}
        data["skipped_k"] = [k for k in ks if k > n]
    return data


def stop_advice(rates: list[float], min_gain: float) -> Any:
    """``rlvr.stopping.advise`` over held-out pass@1 (baseline first)."""
    from halo_forge.rlvr.stopping import advise

    return advise(rates, min_gain=min_gain)


def _show(entries: list[tuple[str, dict[str, Any]]], advice: Any) -> None:
    cmp = comparison(entries)
    console.print(render_table(cmp, "Held-out pass@k", sizes=False, first="model"))
    if advice:
        console.print(f"Stop advice (held-out pass@1): {advice.message}", soft_wrap=True)


def _write_summary(
    plan: FullPlan, entries: list[tuple[str, dict[str, Any]]], advice: Any, stopped_early: bool
) -> dict[str, Any]:
    cmp = comparison(entries)
    for row, (_, r) in zip(cmp["rows"], entries, strict=True):
        row["cycle"] = r.get("cycle")
        row["file"] = r.get("settings", {}).get("output")
    best = max(
        cmp["rows"], key=lambda row: (row["pass_at_k"].get("1") or 0.0, -(row["cycle"] or 0))
    )
    summary = {
        "eval_prompts": plan.eval_prompts,
        "train_prompts": plan.raft.config.prompts,
        "cycles_planned": plan.cycles,
        "cycles_evaluated": len(entries) - 1,
        "stopped_early": stopped_early,
        "best": {
            "label": best["label"],
            "cycle": best["cycle"],
            "pass_at_1": best["pass_at_k"]["1"],
        },
        "advice": {"stop": advice.stop, "message": advice.message} if advice else None,
        "ks": cmp["ks"],
        "rows": cmp["rows"],
        "warnings": cmp["warnings"],
    }
    atomic_write_text(plan.out / "summary.json", json.dumps(summary, indent=2))
    md = [
        f"# benchmark full: `{plan.raft.config.prompts}` → held-out `{plan.eval_prompts}`",
        "",
        markdown_table(cmp, sizes=False, first="model"),
        f"Best held-out pass@1: **{best['label']}** ({best['pass_at_k']['1']:.3f}).",
        "",
    ]
    if advice:
        md += [f"Stop advice: {advice.message}", ""]
    if stopped_early:
        md += [f"Stopped early (--early-stop) after {len(entries) - 1} cycles.", ""]
    md += ["RAFT training report: [raft/report/summary.md](raft/report/summary.md)", ""]
    atomic_write_text(plan.out / "summary.md", "\n".join(md))
    return summary


def _write_report(plan: FullPlan) -> None:
    from halo_forge.rlvr.report import write_report

    try:
        write_report(plan.raft.run.root, plan.bench_dir)
    except Exception as e:  # noqa: BLE001 - a plot must never cost the run; say so
        console.print(f"[yellow]Report not written: {type(e).__name__}: {e}[/]")
