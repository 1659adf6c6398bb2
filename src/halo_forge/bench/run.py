"""``benchmark run``: n samples per problem → verify → unbiased pass@k, as JSON.

The JSON holds ``pass_at_k`` (``{"1": float, ...}``; a k larger than ``--samples`` is left out
and listed in ``skipped_k``), per-problem counts and statuses, and the settings used, so two
results files can be compared without guessing how they were made.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.bench.passk import mean_pass_at_k
from halo_forge.config import BenchmarkConfig
from halo_forge.data.prompts import PromptSource, load_problems, parse_prompt_source
from halo_forge.generation.base import Generator, SamplingParams
from halo_forge.models.loader import ModelSpec, resolve_model
from halo_forge.types import Problem, Status
from halo_forge.ui import console, progress
from halo_forge.verify.base import Verifier
from halo_forge.verify.registry import get_verifier


@dataclass
class BenchmarkPlan:
    config: BenchmarkConfig
    source: PromptSource
    problems: list[Problem]
    verifier_name: str
    verifier: Verifier
    model: ModelSpec  # openai backend: ``base`` is the model's name on the server


def plan_benchmark(cfg: BenchmarkConfig) -> BenchmarkPlan:
    cfg.validate()
    source = parse_prompt_source(cfg.prompts or "")
    name = cfg.verifier or source.default_verifier
    verifier = get_verifier(name)
    if cfg.backend == "openai":  # the model lives on the server: its name, not a path
        model = ModelSpec(base=cfg.model or _only_served_model(cfg.base_url or ""))
    else:
        model = resolve_model(cfg.model, cfg.checkpoint)
    problems = load_problems(source, cfg.max_prompts)
    if cfg.output and Path(cfg.output).is_dir():
        from halo_forge.errors import ConfigError

        raise ConfigError(f"--output {cfg.output} is a folder; give a file name like results.json")
    return BenchmarkPlan(cfg, source, problems, name, verifier, model)


def _only_served_model(base_url: str) -> str:
    """The server's model when it serves exactly one (``halo-forge serve`` does)."""
    from halo_forge.errors import ConfigError
    from halo_forge.generation.openai_backend import served_models

    names = served_models(base_url)
    if len(names) != 1:
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise ConfigError(
            f"--backend openai needs --model: the server at {base_url} serves "
            f"{len(names)} models ({listed or 'none listed'})"
        )
    return names[0]


def _generator(plan: BenchmarkPlan, model: Any, tokenizer: Any, bar: Any) -> Generator:
    cfg = plan.config
    if cfg.backend == "openai":
        from halo_forge.generation.openai_backend import OpenAIGenerator

        return OpenAIGenerator(
            cfg.base_url or "",
            plan.model.label,
            system_prompt=cfg.system_prompt,
            concurrency=cfg.concurrency,
            progress=bar,
        )
    from halo_forge.generation.hf import HFGenerator

    return HFGenerator(
        model,
        tokenizer,
        batch_size=cfg.generation_batch_size,
        system_prompt=cfg.system_prompt,
        progress=bar,
    )


def run_benchmark(plan: BenchmarkPlan, model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Generate, verify and score. ``model``/``tokenizer`` may be passed in already loaded."""
    from halo_forge.models.loader import load_model, load_tokenizer

    cfg = plan.config
    t0 = time.perf_counter()
    if model is None and cfg.backend == "hf":
        tokenizer = load_tokenizer(plan.model, cfg.cache_dir)
        model = load_model(plan.model, cache_dir=cfg.cache_dir)
        if plan.model.adapter:  # evaluation only: fold LoRA into the weights, generate faster
            model = model.merge_and_unload()
    params = SamplingParams(
        n=cfg.samples,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
    )
    via = f" via {cfg.base_url}" if cfg.backend == "openai" else ""
    console.print(
        f"Benchmark: {plan.model.label}{via} on {plan.source.spec} ({len(plan.problems)} "
        f"problems x {cfg.samples} samples, temperature {cfg.temperature:g}, "
        f"verifier {plan.verifier_name})"
    )
    with progress() as bar:
        gen = _generator(plan, model, tokenizer, bar)
        groups, gstats = gen.generate(plan.problems, params)
    flat = [(p, s) for p, group in zip(plan.problems, groups, strict=True) for s in group]
    t = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("Verifying", total=len(flat))
        results = plan.verifier.verify_batch(
            [(p, s.code) for p, s in flat],
            workers=cfg.workers,
            on_done=lambda n: bar.advance(task, n),
        )
    verify_s = time.perf_counter() - t

    per_problem: dict[str, dict[str, Any]] = {
        p.id: {"id": p.id, "n": 0, "correct": 0, "statuses": Counter()} for p in plan.problems
    }
    for (p, _), r in zip(flat, results, strict=True):
        row = per_problem[p.id]
        row["n"] += 1
        row["correct"] += int(r.passed)
        row["statuses"][r.status.value] += 1
    counts = [(row["n"], row["correct"]) for row in per_problem.values()]
    ks = [k for k in cfg.k if k <= cfg.samples]
    statuses = Counter(r.status.value for r in results)
    compiled = len(results) - statuses.get(Status.COMPILE_ERROR.value, 0)
    out = {
        "model": plan.model.label,
        "prompts": plan.source.spec,
        "verifier": plan.verifier_name,
        "pass_at_k": {str(k): mean_pass_at_k(counts, k) for k in ks},
        "skipped_k": [k for k in cfg.k if k > cfg.samples],
        "num_problems": len(plan.problems),
        "samples_per_problem": cfg.samples,
        "status_counts": dict(statuses),
        "compile_rate": compiled / len(results) if results else 0.0,
        "problems": [{**row, "statuses": dict(row["statuses"])} for row in per_problem.values()],
        "settings": dataclasses.asdict(cfg),
        "timing": {
            "total_seconds": round(time.perf_counter() - t0, 2),
            "generation_seconds": round(gstats.seconds, 2),
            "generated_tokens": gstats.tokens,
            "tokens_per_second": round(gstats.tokens_per_s, 2),
            "verification_seconds": round(verify_s, 2),
        },
    }
    if cfg.output:
        path = Path(cfg.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2))
    _print_summary(out)
    return out


def _print_summary(out: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{out['model']} on {out['prompts']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in out["pass_at_k"].items():
        table.add_row(f"pass@{k}", f"{v:.3f}")
    table.add_row("compile rate", f"{out['compile_rate']:.3f}")
    table.add_row("problems", str(out["num_problems"]))
    table.add_row("samples/problem", str(out["samples_per_problem"]))
    table.add_row("gen tokens/s", f"{out['timing']['tokens_per_second']:.1f}")
    console.print(table)
    if out["skipped_k"]:
        console.print(f"[yellow]pass@k for k={out['skipped_k']} skipped: k > --samples[/]")
    if out["settings"].get("output"):
        console.print(f"Results written to {out['settings']['output']}")
