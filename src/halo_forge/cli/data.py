"""``halo-forge data``: prepare, generate, validate and describe problem sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from halo_forge.cli.data_generate import generate
from halo_forge.errors import ConfigError

app = typer.Typer(help="Datasets: prepare, generate, validate, stats.", no_args_is_help=True)
app.command("generate")(generate)


@app.command("prepare")
def prepare(
    list_: Annotated[
        bool, typer.Option("--list", help="List the built-in datasets and exit.")
    ] = False,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help="Built-in dataset, e.g. mbpp or mbpp:train."),
    ] = None,
    split: Annotated[str | None, typer.Option(help="Split.", show_default="the dataset's")] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="JSONL file to write.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="full | prompts (for raft/benchmark) | sft.")
    ] = "full",
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON.")] = False,
) -> None:
    """Write a built-in dataset as JSONL (full rows, RAFT prompts, or SFT pairs)."""
    from halo_forge.data import prepare as prep

    if list_:
        _print_datasets(prep.dataset_rows(), as_json)
        return
    if not dataset or not output:
        raise ConfigError("give --dataset NAME and --output FILE (or --list to see the datasets)")
    done = prep.prepare(dataset, split, Path(output), fmt)
    extra = f"; {done.skipped} problems without a reference skipped" if done.skipped else ""
    print(
        f"Wrote {done.rows} rows of {done.dataset}:{done.split} ({done.format}) to "
        f"{done.output}{extra}"
    )


def _print_datasets(rows: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from halo_forge.ui import console

    table = Table(title="Built-in datasets", title_justify="left")
    for col in ("name", "language", "verifier", "splits (size)", "license"):
        table.add_column(col)
    for r in rows:
        splits = ", ".join(
            f"{s}{'*' if s == r['default_split'] else ''} {n}" for s, n in r["splits"].items()
        )
        table.add_row(r["name"], r["language"], r["verifier"], splits, r["license"])
    console.print(table)
    console.print("* default split. 'hub': loaded from the Hugging Face hub when used.")


@app.command("validate")
def validate(
    file: Annotated[str, typer.Argument(help="JSONL (or .jsonl.gz) file to check.")],
    kind: Annotated[
        str | None,
        typer.Option(help="prompts | sft | humaneval | mbpp | samples.", show_default="detected"),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(help="Training file: flag prompts of FILE that also appear in it."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Near-duplicate similarity (word 3-gram Jaccard).")
    ] = 0.8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    max_shown: Annotated[int, typer.Option(help="Show at most N problems of each kind.")] = 50,
) -> None:
    """Check a dataset file: every problem with file:line; exit 1 if there are errors."""
    from halo_forge.data.validate import validate_file

    report = validate_file(
        Path(file), kind, Path(against) if against else None, threshold=threshold
    )
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for level, items in (("error", report.errors), ("warning", report.warnings)):
            for i in items[:max_shown]:
                print(f"{file}:{i.line}: {level}: {i.message}")
            if len(items) > max_shown:
                print(f"... and {len(items) - max_shown} more {level}s")
        for o in report.overlaps[:max_shown]:
            how = "exact" if o.exact else f"near, similarity {o.similarity:.2f}"
            print(f"{file}:{o.line}: overlap: prompt also in {against}:{o.other_line} ({how})")
        if len(report.overlaps) > max_shown:
            print(f"... and {len(report.overlaps) - max_shown} more overlaps")
        overlaps = f", {len(report.overlaps)} overlapping {against}" if against else ""
        verdict = "OK" if report.ok else "FAILED"
        print(
            f"{verdict}: {file} ({report.kind}, {report.rows} rows): {len(report.errors)} "
            f"errors, {len(report.warnings)} warnings{overlaps}"
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("stats")
def stats(
    source: Annotated[str, typer.Argument(help="Dataset file or built-in (mbpp:train).")],
    bins: Annotated[int, typer.Option(help="Histogram bins.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sizes, languages, tests and the prompt-complexity histogram of a dataset."""
    from halo_forge.data.stats import dataset_stats, render

    if bins < 1 or bins > 100:
        raise ConfigError(f"--bins must be between 1 and 100; got {bins}")
    result = dataset_stats(source, bins)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        render(result)
