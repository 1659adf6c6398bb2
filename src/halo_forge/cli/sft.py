"""``halo-forge sft train``: LoRA SFT through TRL's SFTTrainer."""

from __future__ import annotations

from typing import Annotated

import typer

from halo_forge.cli.common import Cache, Config, Model

app = typer.Typer(help="Supervised fine-tuning (LoRA, TRL SFTTrainer).", no_args_is_help=True)


@app.command("train")
def train(
    data: Annotated[
        str | None,
        typer.Option(help="JSONL with prompt/completion, messages, or text rows. Required."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output dir (adapter in DIR/final_model).",
            show_default="models/sft",
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.", show_default="3")] = None,
    model: Model = None,
    learning_rate: Annotated[
        float | None, typer.Option(help="Learning rate.", show_default="2e-4")
    ] = None,
    config: Config = None,
    cache_dir: Cache = None,
) -> None:
    """Fine-tune a LoRA adapter on a dataset file."""
    flags = {k: v for k, v in locals().items() if k != "config"}  # exactly the parameters
    from halo_forge.config import SftConfig, resolve
    from halo_forge.sft.run import plan_sft, run_sft

    cfg = resolve(SftConfig, config, flags, kind="sft")
    run_sft(plan_sft(cfg))
