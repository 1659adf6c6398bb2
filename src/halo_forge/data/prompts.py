"""Turn a ``--prompts`` value into ``Problem``s: a built-in dataset name (``basic_python``,
``basic_python:test``; see :mod:`halo_forge.data.registry`) or a JSONL (``.jsonl.gz``) file.

A file is read in whichever format its first row has:

* HumanEval's (``task_id``, ``prompt``, ``test``, ``entry_point``) → verifier ``humaneval``;
* MBPP's (``task_id``, ``text``, ``test_list``) → verifier ``mbpp``;
* ours (what ``data prepare --format prompts|full`` writes): ``prompt`` required; optional
  ``id``/``task_id``, ``tests`` (assert lines or one test program), ``entry_point``,
  ``language``, ``reference``/``solution``, ``metadata`` (``io_tests``, ``test_setup_code``),
  ``difficulty``, ``split``, ``verifier``. The default verifier is the rows' ``verifier`` when
  they agree, else inferred from the language (python → ``python``, or ``python_io`` for
  stdin→stdout rows; c/cpp → ``gcc``; rust; go). Rows without a ``language`` (the seeds'
  prompt files) default to ``python`` if their tests are asserts, else to the seeds' ``gcc``.

Errors name the file and the 1-based line.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.data.registry import BUILTINS, BuiltinDataset
from halo_forge.errors import DataError
from halo_forge.jsonl import jsonl_lines
from halo_forge.types import Problem

# The seeds' default verifier for a prompts file whose language says nothing else.
DEFAULT_FILE_VERIFIER = "gcc"
_LANGUAGE_VERIFIERS = {"python": "python", "c": "gcc", "cpp": "gcc", "rust": "rust", "go": "go"}


@dataclass(frozen=True)
class PromptSource:
    """A parsed ``--prompts`` value: built-in (name + split) or a file path."""

    spec: str
    builtin: BuiltinDataset | None
    split: str | None
    path: Path | None

    @property
    def default_verifier(self) -> str:
        if self.builtin is not None:
            return self.builtin.verifier
        assert self.path is not None
        return read_problem_file(self.path)[1]


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
        problems = read_problem_file(src.path)[0]
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
    for n, line in enumerate(jsonl_lines(text), start=1):
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


def infer_verifier(
    problems: list[Problem], named: set[str] | None = None, stated: bool = True
) -> str:
    """The verifier a file's problems default to (see the module docstring).

    ``stated``: whether the rows gave a ``language``. Rows that did not are the seeds' prompt
    files, whose CLI verified with gcc — unless their tests are Python asserts.
    """
    if named and len(named) == 1:
        return next(iter(named))
    if not stated:
        asserts = any(t.lstrip().startswith("assert") for p in problems for t in p.tests)
        return "python" if asserts else DEFAULT_FILE_VERIFIER
    langs = {p.language.strip().lower() for p in problems}
    if len(langs) != 1:
        return DEFAULT_FILE_VERIFIER
    lang = langs.pop()
    if lang == "python" and all(p.metadata.get("io_tests") and not p.tests for p in problems):
        return "python_io"
    return _LANGUAGE_VERIFIERS.get(lang, DEFAULT_FILE_VERIFIER)


def read_problem_file(path: Path) -> tuple[list[Problem], str]:
    """``(problems, default verifier)`` of a HumanEval, MBPP or prompts-format file."""
    return _read_problem_file(path.resolve(), path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=8)
def _read_problem_file(path: Path, _mtime: int) -> tuple[list[Problem], str]:
    from halo_forge.data import humaneval, mbpp

    rows = read_jsonl(path)
    if not rows:
        raise DataError(f"{path} holds no problems")
    first = rows[0]
    if {"prompt", "test", "entry_point"} <= first.keys():
        convert, verifier = humaneval.problem_from_row, "humaneval"
    elif {"text", "test_list"} <= first.keys():
        convert, verifier = mbpp.problem_from_row, "mbpp"
    else:
        problems = read_problems_jsonl(path, rows)
        named = {str(r["verifier"]) for r in rows if r.get("verifier")}
        stated = any("language" in r for r in rows)
        return problems, infer_verifier(problems, named, stated)
    problems, seen = [], set()
    for row in rows:
        n = row.pop("__line__")
        problem = convert(row, f"{path}:{n}")
        if problem.id in seen:
            raise DataError(f"{path}:{n}: duplicate task_id '{problem.id}'")
        seen.add(problem.id)
        problems.append(problem)
    return problems, verifier


def read_problems_jsonl(path: Path, rows: list[dict[str, Any]] | None = None) -> list[Problem]:
    """Our prompts format (see the module docstring); ``rows`` if already read."""
    problems = []
    seen: set[str] = set()
    for row in read_jsonl(path) if rows is None else rows:
        n = row.get("__line__", 0)
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
        difficulty = row.get("difficulty")
        if difficulty is not None and not isinstance(difficulty, (int, float)):
            raise DataError(f"{path}:{n}: 'difficulty' must be a number in [0, 1]")
        problems.append(
            Problem(
                id=pid,
                prompt=prompt,
                language=str(row.get("language", "python")),
                tests=tests,
                entry_point=row.get("entry_point"),
                reference=row.get("reference", row.get("solution")),
                source=str(row.get("source") or path),
                split=str(row.get("split") or ""),
                difficulty=float(difficulty) if difficulty is not None else None,
                metadata=meta,
            )
        )
    return problems
