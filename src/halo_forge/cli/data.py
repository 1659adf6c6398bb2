"""``halo-forge data``: prepare, generate, validate and describe problem sets."""

from __future__ import annotations

import typer

from halo_forge.cli.data_generate import generate

app = typer.Typer(help="Datasets: prepare, generate, validate, stats.", no_args_is_help=True)
app.command("generate")(generate)
