"""``halo-forge benchmark run|full|compare``: pass@k of a model; RAFT measured cycle by cycle on
held-out prompts; results side by side."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from halo_forge.cli.common import (
    Cache,
    Config,
    KeepPercent,
    LearningRate,
    Model,
    RewardThreshold,
    Seed,
    StartCheckpoint,
    Workers,
)

app = typer.Typer(help="Measure pass@k.", no_args_is_help=True)


@app.command("run")
def run(
    prompts: Annotated[
        str | None,
        typer.Option(
            "--prompts",
            "-p",
            help="JSONL prompts file or built-in, e.g. basic_python:test. Required.",
        ),
    ] = None,
    model: Model = None,
    checkpoint: Annotated[
        str | None, typer.Option(help="Adapter or model folder to evaluate.")
    ] = None,
    verifier: Annotated[
        str | None, typer.Option(help="Verifier.", show_default="the dataset's own")
    ] = None,
    samples: Annotated[
        int | None, typer.Option(help="Samples per problem (n).", show_default="10")
    ] = None,
    k: Annotated[
        str | None, typer.Option(help="Comma-separated k values.", show_default="1,5,10")
    ] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Results JSON file.")] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature.", show_default="0.2")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="Max new tokens.", show_default="256")
    ] = None,
    max_prompts: Annotated[int | None, typer.Option(help="Use at most N prompts.")] = None,
    workers: Workers = None,
    seed: Seed = None,
    cache_dir: Cache = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="hf: load --model here; openai: sample from the server at --base-url "
            "(--model is then its model name).",
            show_default="hf",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible API root for --backend openai, e.g. "
            "http://127.0.0.1:8000/v1 (key from $OPENAI_API_KEY)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Requests in flight (--backend openai).", show_default="4"),
    ] = None,
) -> None:
    """Sample --samples completions per problem, verify them, report unbiased pass@k."""
    flags = dict(locals())  # exactly the parameters
    from halo_forge.bench.run import plan_benchmark, run_benchmark
    from halo_forge.config import BenchmarkConfig, parse_k, resolve

    flags["k"] = parse_k(k) if k is not None else None
    cfg = resolve(BenchmarkConfig, None, flags, kind="benchmark")
    run_benchmark(plan_benchmark(cfg))


@app.command("full")
def full(
    prompts: Annotated[
        str | None,
        typer.Option(
            "--prompts",
            "-p",
            help="Training prompts: JSONL file or built-in, e.g. basic_python. Required.",
        ),
    ] = None,
    eval_prompts: Annotated[
        str | None,
        typer.Option(
            help="Held-out prompts for pass@k.",
            show_default="the built-in's test split, e.g. basic_python:test",
        ),
    ] = None,
    cycles: Annotated[int | None, typer.Option(help="RAFT cycles.", show_default="3")] = None,
    samples: Annotated[
        int | None, typer.Option(help="Held-out samples per problem (n).", show_default="10")
    ] = None,
    k: Annotated[
        str | None,
        typer.Option(help="Comma-separated k values (1 is always added).", show_default="1,5,10"),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Run folder.", show_default="results/benchmark_full"),
    ] = None,
    early_stop: Annotated[
        bool | None,
        typer.Option(
            "--early-stop/--no-early-stop",
            help="Stop when held-out pass@1 gains under --min-gain or drops.",
            show_default="no",
        ),
    ] = None,
    min_gain: Annotated[
        float | None,
        typer.Option(help="pass@1 gain per cycle worth continuing for.", show_default="0.02"),
    ] = None,
    model: Model = None,
    checkpoint: StartCheckpoint = None,
    verifier: Annotated[
        str | None,
        typer.Option(
            help="Training verifier (also the eval's for a prompts file).",
            show_default="the dataset's own",
        ),
    ] = None,
    eval_verifier: Annotated[
        str | None, typer.Option(help="Held-out verifier.", show_default="the dataset's own")
    ] = None,
    samples_per_prompt: Annotated[
        int | None, typer.Option(help="RAFT samples per prompt.", show_default="8")
    ] = None,
    max_prompts: Annotated[int | None, typer.Option(help="Train on at most N prompts.")] = None,
    max_eval_prompts: Annotated[
        int | None, typer.Option(help="Evaluate on at most N prompts.")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="Max new tokens (training and eval).", show_default="256")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="RAFT sampling temperature.", show_default="0.7")
    ] = None,
    eval_temperature: Annotated[
        float | None, typer.Option(help="Held-out sampling temperature.", show_default="0.2")
    ] = None,
    reward_threshold: RewardThreshold = None,
    keep_percent: KeepPercent = None,
    learning_rate: LearningRate = None,
    workers: Workers = None,
    seed: Seed = None,
    config: Config = None,
    cache_dir: Cache = None,
) -> None:
    """Baseline pass@k on held-out prompts, then RAFT one cycle at a time, each evaluated.

    A rerun of the same command reuses every finished cycle and evaluation."""
    flags = {name: v for name, v in locals().items() if name != "config"}
    from halo_forge.bench.full import plan_full, run_full
    from halo_forge.config import parse_k, resolve_benchmark_full

    flags["k"] = parse_k(k) if k is not None else None
    cfg = resolve_benchmark_full(config, flags)
    run_full(plan_full(cfg))


@app.command("compare")
def compare(
    files: Annotated[
        list[str],
        typer.Argument(help="Results JSON files of benchmark run; deltas are against the first."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON instead of a table.")
    ] = False,
) -> None:
    """Compare pass@k, compile rate and sizes of two or more benchmark results."""
    from halo_forge.bench.compare import compare_files, render_table
    from halo_forge.ui import console

    cmp = compare_files(files)
    if as_json:
        typer.echo(json.dumps(cmp, indent=2))
        return
    console.print(render_table(cmp))
    for warning in cmp["warnings"]:
        console.print(f"[yellow]Warning: {warning}[/]", soft_wrap=True)
