"""MBPP (Mostly Basic Python Problems; Austin et al. 2021) as ``Problem``s, from the shipped file.

``files/mbpp.jsonl`` is the original ``mbpp.jsonl`` (974 problems, CC BY 4.0, see
``files/MBPP_LICENSE.md``). Splits are the paper's, by task id: ``prompt`` 1–10 (few-shot
examples), ``test`` 11–510, ``validation`` 511–600, ``train`` 601–974.

Each problem: ``id`` is the task id as a string (``"11"``), as in the dataset and in samples
files; ``tests`` is ``test_list`` (one assert each; ``challenge_test_list`` is kept in
metadata, not run); ``metadata["test_setup_code"]`` as given; ``reference`` is the original
solution (``\\r\\n`` normalised). The prompt is the task text plus what the original paper's
prompt gives a model to go on — the function's name and signature (taken from the first test's
call and the reference's ``def``, since the text alone often does not name the function) and
one example assert. The full ``data prepare`` tooling is a later issue; this stays small.
"""

from __future__ import annotations

import ast
import builtins
import json
import warnings
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError
from halo_forge.jsonl import jsonl_lines
from halo_forge.types import Problem

__all__ = ["NAME", "SPLITS", "load", "problem_from_row", "split_of", "data_file"]

NAME = "mbpp"
SPLITS: dict[str, tuple[int, int]] = {
    "prompt": (1, 10),
    "test": (11, 510),
    "validation": (511, 600),
    "train": (601, 974),
}


def data_file() -> Path:
    """The shipped ``mbpp.jsonl``."""
    return Path(str(resources.files("halo_forge.data").joinpath("files", "mbpp.jsonl")))


def split_of(task_id: int) -> str:
    """The standard split a task id belongs to (``""`` outside 1–974)."""
    for name, (lo, hi) in SPLITS.items():
        if lo <= task_id <= hi:
            return name
    return ""


def _function(reference: str, first_test: str) -> tuple[str, str]:
    """``(name, signature)`` of the function the first test calls, e.g. ``("f", "f(a, b)")``."""
    defs: dict[str, str] = {}
    try:
        with warnings.catch_warnings():  # old solutions have invalid escapes ("\d" in a str)
            warnings.simplefilter("ignore")
            tree = ast.parse(reference)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                defs.setdefault(node.name, f"{node.name}({ast.unparse(node.args)})")
    except SyntaxError:
        pass
    calls = [
        node.func.id
        for node in ast.walk(ast.parse(first_test))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    for name in calls:
        if name in defs:
            return name, defs[name]
    name = next((n for n in calls if not hasattr(builtins, n)), calls[0] if calls else "solution")
    return name, f"{name}(...)"


def problem_from_row(row: dict[str, Any], where: str = "mbpp") -> Problem:
    """One MBPP row (``task_id``, ``text``, ``code``, ``test_list``...) → ``Problem``.

    ``where`` (``file:line``) prefixes the :class:`DataError` raised for a malformed row.
    """
    try:
        task_id = int(row["task_id"])
        text, tests = str(row["text"]).strip(), list(row["test_list"])
        reference = str(row.get("code", "")).replace("\r\n", "\n")
        name, signature = _function(reference, tests[0])
    except (KeyError, TypeError, ValueError, IndexError, SyntaxError) as exc:
        raise DataError(
            f"{where}: not an MBPP row (needs task_id, text, test_list with at least one "
            f"assert): {type(exc).__name__}: {exc}"
        ) from None
    prompt = (
        f"{text}\n"
        f"Write it as a Python function `{signature}`.\n"
        f"Your code should pass this test:\n{tests[0]}\n"
        "Return only the code in a ```python code block."
    )
    return Problem(
        id=str(task_id),
        prompt=prompt,
        language="python",
        tests=tests,
        entry_point=name,
        reference=reference,
        source=NAME,
        split=split_of(task_id),
        metadata={
            "test_setup_code": row.get("test_setup_code") or "",
            "challenge_test_list": list(row.get("challenge_test_list") or []),
        },
    )


@cache
def _all() -> tuple[Problem, ...]:
    path = data_file()
    out = []
    for n, line in enumerate(jsonl_lines(path.read_text(encoding="utf-8")), start=1):
        if line.strip():
            out.append(problem_from_row(json.loads(line), f"{path}:{n}"))
    return tuple(out)


def load(split: str = "test") -> list[Problem]:
    """The problems of one standard split (``prompt``, ``test``, ``validation``, ``train``)."""
    if split not in SPLITS:
        raise DataError(f"mbpp has no split '{split}'; choose one of: {', '.join(SPLITS)}")
    return [p for p in _all() if p.split == split]
