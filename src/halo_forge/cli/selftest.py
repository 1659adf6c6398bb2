"""``halo-forge test``: check this installation (imports, toolchains, sandbox, embedded model)."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated

import typer

from halo_forge.cli.common import Cache


def selftest(
    level: Annotated[
        str,
        typer.Option(
            "--level",
            "-l",
            help="smoke: seconds, no model (imports, toolchains, sandbox, verifiers); "
            "standard: + the embedded model generates and its samples are verified (~1 min); "
            "full: + one LoRA training step, adapter saved and reloaded.",
        ),
    ] = "smoke",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the checks as a JSON list instead.")
    ] = False,
    cache_dir: Cache = None,
) -> None:
    """Run the installation self-check; exit 1 if any check that applies here failed."""
    from rich.markup import escape

    from halo_forge.selftest import (
        FAIL,
        CheckResult,
        Context,
        format_result,
        run_checks,
        select_checks,
        summary_line,
    )
    from halo_forge.ui import console

    select_checks(level)  # an unknown level is a one-line usage error before anything runs
    colors = {"pass": "green", "fail": "red", "skip": "dim"}

    def show(r: CheckResult) -> None:
        line = escape(format_result(r))
        console.print(f"[{colors[r.status]}]{line[0]}[/]{line[1:]}", soft_wrap=True, emoji=False)

    ctx = Context(cache_dir=cache_dir)
    if json_output:  # stdout carries only the JSON: progress bars and notes go to stderr
        with contextlib.redirect_stdout(sys.stderr):
            results = run_checks(level, ctx=ctx)
        console.print(
            json.dumps([r.to_dict() for r in results], indent=2), markup=False, soft_wrap=True
        )
    else:
        results = run_checks(level, ctx=ctx, on_result=show)
        console.print(summary_line(results), markup=False, soft_wrap=True, emoji=False)
    if any(r.status == FAIL for r in results):
        raise typer.Exit(1)
