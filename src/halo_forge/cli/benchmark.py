"""``halo-forge benchmark run``: pass@k of a model on a prompt set."""

from __future__ import annotations

from typing import Annotated

import typer

from halo_forge.cli.common import Cache, Model

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
    workers: Annotated[int | None, typer.Option(help="Verification workers.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.", show_default="0")] = None,
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
