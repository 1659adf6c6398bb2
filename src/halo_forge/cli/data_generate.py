"""``halo-forge data generate``: thin — parse flags, build the config, call ``data.generate``."""

from __future__ import annotations

from typing import Annotated

import typer


def generate(
    topic: Annotated[
        str | None,
        typer.Option("--topic", "-t", help="What to generate (see --list). Required."),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="deepseek ($DEEPSEEK_API_KEY), openai ($OPENAI_API_KEY), ollama or vllm "
            "(any OpenAI-compatible server, e.g. halo-forge serve, with --base-url). Required."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="API base URL, ending in /v1.",
            show_default="the backend's: api.deepseek.com/v1, api.openai.com/v1, "
            "localhost:11434/v1, localhost:8000/v1",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model name at the API (e.g. deepseek-chat). Required."),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            "-n",
            help="Rows of this topic the output should hold; a rerun generates only the missing "
            "ones. Required.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="JSONL file to append to (raft train --prompts)."),
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature.", show_default="0.7")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Max tokens per answer.", show_default="2048")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight.", show_default="4")
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            help="Retries per request (connection errors, 429/5xx) and re-asks of an answer "
            "that holds no JSON, with exponential backoff.",
            show_default="3",
        ),
    ] = None,
    max_attempts: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many examples were tried.", show_default="4 × missing rows"
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per request.", show_default="180")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed for the subjects asked for (and sent to the API).", show_default="random"
        ),
    ] = None,
    list_topics: Annotated[bool, typer.Option("--list", help="List the topics and exit.")] = False,
) -> None:
    """Have an LLM write problems (prompt, solution, tests); keep those whose solution passes
    its own tests in the sandbox."""
    flags = {k: v for k, v in locals().items() if k != "list_topics"}  # exactly the options
    if list_topics:
        _print_topics()
        return
    from halo_forge.data.generate import GenerateConfig, run_generate
    from halo_forge.ui import console

    cfg = GenerateConfig(**{k: v for k, v in flags.items() if v is not None})
    summary = run_generate(cfg)
    for line in summary.lines():
        console.print(line, soft_wrap=True, markup=False)


def _print_topics() -> None:
    from rich.table import Table

    from halo_forge.data.topics import TOPICS
    from halo_forge.ui import console

    table = Table("topic", "language", "verifier", "description", box=None)
    for t in TOPICS.values():
        table.add_row(t.name, t.language, t.verifier, t.description)
    console.print(table)
