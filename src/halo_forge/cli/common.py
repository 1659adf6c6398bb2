"""Option types shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="HF hub id or local folder (model or adapter).",
        show_default="embedded SmolLM2-135M-Instruct",
    ),
]
Output = Annotated[str | None, typer.Option("--output", "-o", help="Output directory.")]
Config = Annotated[
    str | None, typer.Option("--config", help="YAML config; flags you type override it.")
]
Cache = Annotated[
    str | None,
    typer.Option(
        help="Cache folder for the embedded model.",
        show_default="$HALO_FORGE_CACHE or ~/.cache/halo-forge",
    ),
]
# RAFT options shared by `raft train` and `benchmark full` (same flags, same meaning).
StartCheckpoint = Annotated[
    str | None, typer.Option(help="Start from a saved adapter or model folder.")
]
RewardThreshold = Annotated[
    float | None,
    typer.Option(help="Minimum reward to keep a sample, in [0, 1].", show_default="0.5"),
]
KeepPercent = Annotated[
    float | None,
    typer.Option(
        help="Fraction in (0, 1] of above-threshold samples kept per prompt.", show_default="0.5"
    ),
]
LearningRate = Annotated[
    float | None, typer.Option(help="LoRA learning rate.", show_default="5e-05")
]
Workers = Annotated[
    int | None, typer.Option(help="Verification workers.", show_default="CPU count")
]
Seed = Annotated[int | None, typer.Option(help="Random seed.", show_default="0")]
