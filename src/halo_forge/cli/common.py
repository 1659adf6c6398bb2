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
