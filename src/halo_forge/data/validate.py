"""``data validate``: find every problem in a dataset file, each with its line, before a run does.

Unlike the loaders (which stop at the first bad line), validation reads the whole file and
reports all of it. The kind is detected from the first well-formed row (or given):

* ``prompts`` — our problems format (``data prepare --format prompts|full``): ``prompt``;
  optional ``id``/``task_id``, ``tests``, ``entry_point``, ``language``, ``metadata.io_tests``…
* ``sft`` — ``prompt``/``completion`` pairs, or ``messages`` lists;
* ``humaneval`` — ``task_id``, ``prompt``, ``test``, ``entry_point``;
* ``mbpp`` — ``task_id``, ``text``, ``test_list``;
* ``samples`` — ``task_id``, ``completion`` (what ``verify`` reads).

Errors (the file cannot be used as is): broken JSON, a row that is not an object, missing or
mistyped fields, empty prompts/completions, duplicate ids, tests that never mention the entry
point, malformed ``io_tests``. Warnings (usable, but probably not what you meant): problems with
no tests at all (nothing can verify them), an sft completion without a code block, an unknown
language, a difficulty outside [0, 1].

``--against OTHER`` (contamination): every prompt of this file that also appears in OTHER,
exactly (after normalising case, whitespace and punctuation) or nearly (Jaccard similarity of
word 3-gram sets ≥ ``threshold``, ignoring 3-grams that over 10% of OTHER's prompts share —
template boilerplate), is reported with both line numbers.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError
from halo_forge.jsonl import jsonl_lines

__all__ = ["KINDS", "Issue", "Report", "Overlap", "validate_file", "find_overlaps", "detect_kind"]

KINDS = ("prompts", "sft", "humaneval", "mbpp", "samples")
LANGUAGES = {"python", "c", "cpp", "rust", "go"}


@dataclass(frozen=True)
class Issue:
    line: int
    level: str  # "error" | "warning"
    message: str


@dataclass(frozen=True)
class Overlap:
    line: int  # in the validated file
    other_line: int  # in --against
    similarity: float  # 1.0 for exact (normalised) matches
    exact: bool


@dataclass
class Report:
    path: Path
    kind: str
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    against: Path | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.overlaps

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "rows": self.rows,
            "ok": self.ok,
            "errors": [vars(i) for i in self.errors],
            "warnings": [vars(i) for i in self.warnings],
            "against": str(self.against) if self.against else None,
            "overlaps": [vars(o) for o in self.overlaps],
        }


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        what = "is a folder, not a JSONL file" if path.is_dir() else "does not exist"
        raise DataError(f"{path} {what}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return jsonl_lines(f.read())
        return jsonl_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None


def _parse(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[Issue]]:
    rows, issues = [], []
    for n, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            issues.append(Issue(n, "error", f"invalid JSON ({e.msg} at column {e.colno})"))
            continue
        if not isinstance(row, dict):
            issues.append(Issue(n, "error", f"expected a JSON object, got {type(row).__name__}"))
            continue
        rows.append((n, row))
    return rows, issues


def detect_kind(row: dict[str, Any]) -> str:
    keys = row.keys()
    if {"text", "test_list"} <= keys:
        return "mbpp"
    if {"prompt", "test", "entry_point"} <= keys:
        return "humaneval"
    if "completion" in keys and "prompt" in keys or "messages" in keys:
        return "sft"
    if "completion" in keys and "task_id" in keys:
        return "samples"
    return "prompts"


def _nonempty_str(row: dict[str, Any], key: str) -> str | None:
    """Why ``row[key]`` is not a non-empty string (None if it is)."""
    if key not in row:
        return f"missing '{key}'"
    value = row[key]
    if not isinstance(value, str):
        return f"'{key}' must be a string, got {type(value).__name__}"
    if not value.strip():
        return f"empty '{key}'"
    return None


def _mentions(tests: list[str], name: str) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", t) for t in tests)


def _checks_candidate(tests: list[str]) -> bool:
    """HumanEval style: the test program defines ``check(candidate)`` and calls ``candidate``."""
    return any(re.search(r"def check\(\s*candidate", t) for t in tests)


def _io_problem(io: Any) -> str | None:
    if not isinstance(io, list):
        return "'metadata.io_tests' must be a list of {input, output}"
    for i, case in enumerate(io):
        if not (
            isinstance(case, dict)
            and isinstance(case.get("input"), str)
            and isinstance(case.get("output"), str)
        ):
            return f"metadata.io_tests[{i}] must be {{'input': str, 'output': str}}"
    return None


def _check_prompts(row: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    why = _nonempty_str(row, "prompt")
    if why:
        out.append(("error", why))
    tests = row.get("tests", row.get("test_list", []))
    if isinstance(tests, str):
        tests = [tests]
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
        out.append(("error", "'tests' must be a string or a list of strings"))
        tests = []
    meta = row.get("metadata", {})
    if meta is not None and not isinstance(meta, dict):
        out.append(("error", "'metadata' must be an object"))
        meta = {}
    io = (meta or {}).get("io_tests")
    if io is not None:
        why = _io_problem(io)
        if why:
            out.append(("error", why))
    entry = row.get("entry_point")
    if entry is not None and (not isinstance(entry, str) or not entry.strip()):
        out.append(("error", "'entry_point' must be a non-empty string"))
    elif entry and tests and not _mentions(tests, entry) and not _checks_candidate(tests):
        out.append(("error", f"tests never mention the entry point '{entry}'"))
    if not tests and not io:
        out.append(("warning", "no tests or io_tests: nothing can verify this problem"))
    lang = row.get("language")
    if lang is not None and str(lang).strip().lower() not in LANGUAGES:
        out.append(
            ("warning", f"unknown language '{lang}' (known: {', '.join(sorted(LANGUAGES))})")
        )
    diff = row.get("difficulty")
    if diff is not None and (not isinstance(diff, (int, float)) or not 0 <= diff <= 1):
        out.append(("warning", f"difficulty {diff!r} is not a number in [0, 1]"))
    return out


def _check_sft(row: dict[str, Any]) -> list[tuple[str, str]]:
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list) or not msgs:
            return [("error", "'messages' must be a non-empty list")]
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                return [("error", f"messages[{i}] must be {{'role': str, 'content': str}}")]
            if m.get("role") not in ("system", "user", "assistant"):
                return [("error", f"messages[{i}] has role {m.get('role')!r}")]
        if msgs[-1].get("role") != "assistant":
            return [("error", "the last message must be the assistant's (what is learned)")]
        return []
    out = [("error", why) for key in ("prompt", "completion") if (why := _nonempty_str(row, key))]
    if not out and "```" not in row["completion"]:
        out.append(("warning", "completion has no ``` code block (RAFT keeps fenced answers)"))
    return out


def _check_humaneval(row: dict[str, Any]) -> list[tuple[str, str]]:
    keys = ("prompt", "test", "entry_point")
    out = [("error", why) for key in keys if (why := _nonempty_str(row, key))]
    if "task_id" not in row:
        out.append(("error", "missing 'task_id'"))
    if not out and f"def {row['entry_point']}" not in row["prompt"]:
        out.append(("error", f"prompt does not define the entry point '{row['entry_point']}'"))
    if (
        not out
        and "candidate" not in row["test"]
        and not _mentions([row["test"]], row["entry_point"])
    ):
        out.append(("error", "test calls neither candidate nor the entry point"))
    return out


def _check_mbpp(row: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    why = _nonempty_str(row, "text")
    if why:
        out.append(("error", why))
    tests = row.get("test_list")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
        return [*out, ("error", "'test_list' must be a non-empty list of assert strings")]
    try:
        calls = {
            n.func.id
            for n in ast.walk(ast.parse(tests[0]))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
    except SyntaxError as e:
        return [*out, ("error", f"test_list[0] is not valid Python: {e.msg}")]
    code = row.get("code")
    if isinstance(code, str) and calls and not any(f"def {c}" in code for c in calls):
        out.append(("warning", "the reference defines none of the functions test_list[0] calls"))
    return out


def _check_samples(row: dict[str, Any]) -> list[tuple[str, str]]:
    if not isinstance(row.get("completion"), str):
        return [("error", "'completion' must be a string")]
    return []


_CHECKS = {
    "prompts": _check_prompts,
    "sft": _check_sft,
    "humaneval": _check_humaneval,
    "mbpp": _check_mbpp,
    "samples": _check_samples,
}


def _row_id(row: dict[str, Any], kind: str) -> str | None:
    if kind == "samples" or kind == "sft":
        return None  # many samples per task; sft rows need no id
    value = row.get("task_id", row.get("id"))
    return None if value is None else str(value)


def validate_file(
    path: Path, kind: str | None = None, against: Path | None = None, threshold: float = 0.8
) -> Report:
    """Check every row of ``path``; see the module docstring."""
    if kind is not None and kind not in KINDS:
        raise DataError(f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
    if not 0 < threshold <= 1:
        raise DataError(f"--threshold must be in (0, 1]; got {threshold}")
    rows, issues = _parse(path)
    kind = kind or (detect_kind(rows[0][1]) if rows else "prompts")
    unparsed = len(issues)  # lines that are not JSON objects still count as rows
    report = Report(path, kind, rows=len(rows) + unparsed, against=against)
    if not rows and not issues:
        issues.append(Issue(0, "error", "the file holds no rows"))
    seen: dict[str, int] = {}
    for n, row in rows:
        for level, message in _CHECKS[kind](row):
            issues.append(Issue(n, level, message))
        rid = _row_id(row, kind)
        if rid is not None:
            if rid in seen:
                issues.append(
                    Issue(n, "error", f"duplicate id '{rid}' (first on line {seen[rid]})")
                )
            else:
                seen[rid] = n
    report.issues = sorted(issues, key=lambda i: (i.line, i.level != "error"))
    if against is not None:
        other_rows, _ = _parse(against)
        mine = [(n, t) for n, r in rows if (t := prompt_text(r))]
        theirs = [(n, t) for n, r in other_rows if (t := prompt_text(r))]
        report.overlaps = find_overlaps(mine, theirs, threshold)
    return report


def prompt_text(row: dict[str, Any]) -> str:
    """The prompt of a row of any kind ("" when it has none)."""
    for key in ("prompt", "text"):
        if isinstance(row.get(key), str):
            return row[key]
    msgs = row.get("messages")
    if isinstance(msgs, list):
        for m in msgs:
            if (
                isinstance(m, dict)
                and m.get("role") == "user"
                and isinstance(m.get("content"), str)
            ):
                return m["content"]
    return ""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _shingles(words: list[str], n: int = 3) -> frozenset[tuple[str, ...]]:
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def find_overlaps(
    mine: list[tuple[int, str]], theirs: list[tuple[int, str]], threshold: float = 0.8
) -> list[Overlap]:
    """For each of ``mine`` (line, prompt), its most similar prompt in ``theirs`` if the
    similarity (Jaccard of word 3-grams; 1.0 for identical normalised text) ≥ ``threshold``."""
    exact: dict[str, int] = {}
    index: dict[tuple[str, ...], list[int]] = {}
    sets: list[frozenset[tuple[str, ...]]] = []
    for n, text in theirs:
        words = _words(text)
        exact.setdefault(" ".join(words), n)
        sets.append(_shingles(words))
    # Boilerplate every prompt of a dataset shares ("Return only the code in a ```python code
    # block") says nothing about the task: shingles in over 10% of the prompts (min 5) are
    # ignored, so two different tasks wrapped in the same template are not near-duplicates.
    df = Counter(sh for s in sets for sh in s)
    common = {sh for sh, c in df.items() if c > max(5, len(sets) // 10)}
    sets = [frozenset(s - common) or s for s in sets]
    for i, s in enumerate(sets):
        for sh in s:
            index.setdefault(sh, []).append(i)
    out = []
    for n, text in mine:
        words = _words(text)
        key = " ".join(words)
        if key and key in exact:
            out.append(Overlap(n, exact[key], 1.0, True))
            continue
        full = _shingles(words)
        mine_set = frozenset(full - common) or full
        shared: Counter[int] = Counter()
        for sh in mine_set:
            shared.update(index.get(sh, ()))
        best, best_sim = -1, 0.0
        for i, inter in shared.items():
            sim = inter / (len(mine_set) + len(sets[i]) - inter)
            if sim > best_sim:
                best, best_sim = i, sim
        if best >= 0 and best_sim >= threshold:
            out.append(Overlap(n, theirs[best][0], round(best_sim, 3), False))
    return out
