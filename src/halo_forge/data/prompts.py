"""Turn a ``--prompts`` value into ``Problem``s: a built-in dataset name (``basic_python``,
``basic_python:test``) or a JSONL file.

JSONL rows need a ``prompt``; optional fields: ``id``/``task_id``, ``tests`` (a list of assert
lines or one test program), ``entry_point``, ``language``, ``reference``/``solution``,
``metadata``. Errors name the file and the 1-based line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError
from halo_forge.types import Problem

# The seeds' default verifier for a plain prompts file (their CLI defaults to gcc).
DEFAULT_FILE_VERIFIER = "gcc"


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    splits: tuple[str, ...]
    default_split: str
    verifier: str
    load: Callable[[str], list[Problem]]


def _basic_python(split: str) -> list[Problem]:
    from halo_forge.data import basic_python

    return basic_python.generate(split)


def _humaneval(split: str) -> list[Problem]:
    from halo_forge.data import humaneval

    return humaneval.load(split)


def _mbpp(split: str) -> list[Problem]:
    from halo_forge.data import mbpp

    return mbpp.load(split)


BUILTINS: dict[str, BuiltinDataset] = {
    "basic_python": BuiltinDataset(
        "basic_python", ("train", "test"), "train", "python", _basic_python
    ),
    "humaneval": BuiltinDataset("humaneval", ("test",), "test", "humaneval", _humaneval),
    # Default split "test" (the benchmark split); train with mbpp:train.
    "mbpp": BuiltinDataset(
        "mbpp", ("test", "train", "validation", "prompt"), "test", "mbpp", _mbpp
    ),
}


@dataclass(frozen=True)
class PromptSource:
    """A parsed ``--prompts`` value: built-in (name + split) or a file path."""

    spec: str
    builtin: BuiltinDataset | None
    split: str | None
    path: Path | None

    @property
    def default_verifier(self) -> str:
        return self.builtin.verifier if self.builtin else DEFAULT_FILE_VERIFIER


def parse_prompt_source(spec: str) -> PromptSource:
    """Validate without loading: a known built-in with a known split, or an existing file."""
    name, _, split = spec.partition(":")
    if name in BUILTINS:
        ds = BUILTINS[name]
        split = split or ds.default_split
        if split not in ds.splits:
            raise DataError(
                f"dataset '{name}' has no split '{split}'; choose one of: {', '.join(ds.splits)}"
            )
        return PromptSource(spec, ds, split, None)
    path = Path(spec).expanduser()
    if not path.is_file():
        known = ", ".join(BUILTINS)
        what = "is a folder, not a JSONL file" if path.is_dir() else "does not exist"
        raise DataError(f"prompts file {spec} {what} (built-in datasets: {known})")
    return PromptSource(spec, None, None, path)


def load_problems(spec: str | PromptSource, max_prompts: int | None = None) -> list[Problem]:
    src = spec if isinstance(spec, PromptSource) else parse_prompt_source(spec)
    if src.builtin is not None:
        problems = src.builtin.load(src.split or src.builtin.default_split)
    else:
        assert src.path is not None
        problems = read_problems_jsonl(src.path)
    if not problems:
        raise DataError(f"{src.spec} holds no prompts")
    return problems[:max_prompts] if max_prompts else problems


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Parse a JSONL (or JSONL.gz) file; blank lines are skipped; a bad line raises
    ``file:line: why``. Each row gets its 1-based line number under ``"__line__"``."""
    rows: list[dict[str, Any]] = []
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                text = f.read()
        else:
            text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{n}: invalid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
        row["__line__"] = n
        rows.append(row)
    return rows


def read_problems_jsonl(path: Path) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for row in read_jsonl(path):
        n = row.pop("__line__")
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise DataError(f"{path}:{n}: missing or empty 'prompt' field")
        pid = str(row.get("id", row.get("task_id", f"{path.stem}/{len(problems)}")))
        if pid in seen:
            raise DataError(f"{path}:{n}: duplicate id '{pid}'")
        seen.add(pid)
        tests = row.get("tests", row.get("test_list", []))
        if isinstance(tests, str):
            tests = [tests]
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            raise DataError(f"{path}:{n}: 'tests' must be a string or a list of strings")
        meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
        problems.append(
            Problem(
                id=pid,
                prompt=prompt,
                language=str(row.get("language", "python")),
                tests=tests,
                entry_point=row.get("entry_point"),
                reference=row.get("reference", row.get("solution")),
                source=str(path),
                metadata=meta,
            )
        )
    return problems
