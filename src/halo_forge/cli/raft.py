"""``halo-forge raft train``: thin — parse flags, resolve the config, call ``rlvr.raft``."""

from __future__ import annotations

from typing import Annotated

import typer

from halo_forge.cli.common import Cache, Config, Model, Output

app = typer.Typer(
    help="RAFT: iterative generate → verify → filter → fine-tune.", no_args_is_help=True
)


@app.command("train")
def train(
    prompts: Annotated[
        str | None,
        typer.Option(
            "--prompts",
            "-p",
            help="JSONL prompts file, or a built-in: basic_python[:train|test]. Required.",
        ),
    ] = None,
    model: Model = None,
    checkpoint: Annotated[
        str | None, typer.Option(help="Start from a saved adapter or model folder.")
    ] = None,
    output: Output = None,
    cycles: Annotated[int | None, typer.Option(help="RAFT cycles.", show_default="3")] = None,
    verifier: Annotated[
        str | None,
        typer.Option(
            help="Verifier name or module:Class.",
            show_default="the dataset's own; gcc for a plain file",
        ),
    ] = None,
    reward_threshold: Annotated[
        float | None,
        typer.Option(help="Minimum reward to keep a sample, in [0, 1].", show_default="0.5"),
    ] = None,
    keep_percent: Annotated[
        float | None,
        typer.Option(
            help="Fraction in (0, 1] of above-threshold samples kept per prompt.",
            show_default="0.5",
        ),
    ] = None,
    samples_per_prompt: Annotated[
        int | None, typer.Option(help="Samples generated per prompt.", show_default="8")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature.", show_default="0.7")
    ] = None,
    learning_rate: Annotated[
        float | None, typer.Option(help="LoRA learning rate.", show_default="5e-05")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="Max tokens generated per sample.", show_default="256")
    ] = None,
    max_prompts: Annotated[int | None, typer.Option(help="Use at most N prompts.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Verification workers.", show_default="CPU count")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.", show_default="0")] = None,
    config: Config = None,
    cache_dir: Cache = None,
) -> None:
    """Run RAFT cycles; a rerun of the same command skips finished cycles."""
    flags = {k: v for k, v in locals().items() if k != "config"}  # exactly the parameters
    from halo_forge.config import RaftConfig, resolve
    from halo_forge.rlvr.raft import plan_raft, run_raft

    cfg = resolve(RaftConfig, config, flags, kind="raft")
    run_raft(plan_raft(cfg))
