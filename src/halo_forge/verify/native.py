"""C and C++ verification with gcc/g++ (or clang/clang++): compile, optionally run.

Rewards follow the ladder (:mod:`halo_forge.verify.rewards`):

* compile error → ``COMPILE_ERROR``, 0.0; compile timeout → ``TIMEOUT``, 0.0;
* compiled with warnings (``-Wall -Wextra`` are always on; ``-w`` is refused, since hiding
  warnings would fake the 0.5 rung) → 0.3; compiled cleanly → 0.5;
* with ``run_after_compile=True``: the binary runs in the sandbox. Without I/O tests, exiting 0
  → 0.7. With ``problem.metadata["io_tests"]`` (a list of ``{"input": str, "output": str}``,
  stdin → expected stdout, compared ignoring trailing whitespace on each line and trailing
  blank lines) the reward is the ladder's partial credit from the 0.7 floor, and 1.0 only when
  every case passes. A crash or timeout on every case keeps the compile rung
  (``RUNTIME_ERROR``/``TIMEOUT``). After the first timed-out case the rest are not run (counted
  as failed): one infinite loop must not cost ``n × timeout``.

When is it ``PASS``? When every test passes — and, if the problem has no tests at all
(``problem.tests`` and ``io_tests`` both empty), when the last step requested succeeded
cleanly: a clean compile (compile-only), or a clean exit (run mode). A warning-laden compile of
a test-less problem is ``FAIL`` with 0.3: the user asked for clean code. A problem that *has*
tests in compile-only mode is never ``PASS`` (``FAIL`` at its compile rung, details say the
tests were not run), because compiling says nothing about correctness.

Compiling untrusted source is itself untrusted work: it runs in the sandbox too (a template
bomb or ``#include "/dev/zero"`` hits the limits). Without bubblewrap, ``#include "/etc/..."``
can copy a readable file into the compiler's error output (and so into our logs).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, DataError, VerifierError
from halo_forge.types import ExecResult, Problem, Status, VerifyResult
from halo_forge.verify.base import Verifier, trim
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder
from halo_forge.verify.sandbox import Limits, run_sandboxed

__all__ = ["GCCVerifier", "ClangVerifier", "COMPILE_LIMITS", "normalize_output", "io_tests"]

COMPILE_LIMITS = Limits(address_space=2 << 30, file_size=256 << 20, open_files=256)
_LANGS = {"c": "c", "cpp": "cpp", "c++": "cpp", "cxx": "cpp"}
_PACKAGES = {"gcc": "gcc", "g++": "g++", "clang": "clang", "clang++": "clang"}
_WARN_FLAGS = ("-Wall", "-Wextra", "-fdiagnostics-color=never")


def normalize_output(text: str) -> str:
    """Output as judges compare it: no trailing spaces per line, no trailing blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def io_tests(problem: Problem) -> list[tuple[str, str]]:
    """``(stdin, expected stdout)`` pairs from ``problem.metadata["io_tests"]``, validated."""
    raw = problem.metadata.get("io_tests") or []
    if not isinstance(raw, list):
        raise DataError(f"problem {problem.id}: metadata['io_tests'] must be a list")
    cases = []
    for i, case in enumerate(raw, 1):
        if (
            not isinstance(case, dict)
            or not isinstance(case.get("input"), str)
            or not isinstance(case.get("output"), str)
        ):
            raise DataError(
                f"problem {problem.id}: io_tests[{i}] must be {{'input': str, 'output': str}}"
            )
        cases.append((case["input"], case["output"]))
    return cases


def _first_line(text: str, marker: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if marker in ln), "")[:300]


def _exit_reason(res: ExecResult) -> str:
    if res.timed_out:
        return f"timed out after {res.wall_time:.1f}s"
    if res.signal:
        return f"killed by signal {res.signal}"
    return f"exit code {res.returncode}"


class GCCVerifier(Verifier):
    """Compile C/C++ (chosen by ``problem.language``) and optionally run it. See module doc."""

    name = "gcc"

    def __init__(
        self,
        flags: Sequence[str] = ("-O2",),
        compile_timeout: float = 30.0,
        run_timeout: float = 5.0,
        run_after_compile: bool = False,
        c_compiler: str = "gcc",
        cxx_compiler: str = "g++",
        ladder: RewardLadder = DEFAULT_LADDER,
        compile_limits: Limits = COMPILE_LIMITS,
        run_limits: Limits | None = None,
        scratch_root: str | Path | None = None,
    ) -> None:
        if isinstance(flags, str):
            raise ConfigError(f"{self.name}: flags must be a list of strings; got {flags!r}")
        if "-w" in flags:
            raise ConfigError(
                f"{self.name}: flags must not contain -w (warnings are part of the reward)"
            )
        self.flags = tuple(flags)
        self.compile_timeout = compile_timeout
        self.run_timeout = run_timeout
        self.run_after_compile = run_after_compile
        self.ladder = ladder
        self.compile_limits = compile_limits
        self.run_limits = run_limits or Limits()
        self.scratch_root = scratch_root
        self.compilers = {"c": self._resolve(c_compiler), "cpp": self._resolve(cxx_compiler)}

    @staticmethod
    def _resolve(compiler: str) -> str:
        """Absolute path: the sandbox's PATH is fixed, ours may hold the compiler elsewhere."""
        path = shutil.which(compiler)
        if path is None:
            package = _PACKAGES.get(Path(compiler).name, Path(compiler).name)
            raise VerifierError(
                f"{compiler} not found on PATH; install it with apt-get install {package}"
            )
        return path

    def _language(self, problem: Problem) -> str:
        lang = _LANGS.get(problem.language.strip().lower())
        if lang is None:
            raise DataError(
                f"problem {problem.id}: {self.name} verifies c or cpp; got language "
                f"{problem.language!r}"
            )
        return lang

    def verify(self, problem: Problem, code: str) -> VerifyResult:
        start = time.monotonic()
        lang = self._language(problem)
        cases = io_tests(problem)
        if self.run_after_compile and problem.tests and not cases:
            raise DataError(
                f"problem {problem.id}: {self.name} runs stdin→stdout cases from "
                f"metadata['io_tests']; problem.tests holds {len(problem.tests)} entries it "
                "cannot run"
            )
        if not code.strip():
            return self._result(
                start, Status.COMPILE_ERROR, self.ladder.no_code, details="no code to verify"
            )
        with tempfile.TemporaryDirectory(
            prefix="hf-cc-", dir=self.scratch_root, ignore_cleanup_errors=True
        ) as tmp:
            scratch = Path(tmp)
            source = scratch / ("main.c" if lang == "c" else "main.cpp")
            source.write_text(code, encoding="utf-8", errors="replace")
            argv = [self.compilers[lang], *_WARN_FLAGS, *self.flags, "-o", "prog", source.name]
            if lang == "c":
                argv.append("-lm")
            res = run_sandboxed(
                argv, cwd=scratch, timeout=self.compile_timeout, limits=self.compile_limits
            )
            if res.timed_out:
                return self._result(
                    start,
                    Status.TIMEOUT,
                    self.ladder.compile_error,
                    res,
                    details=f"compile {_exit_reason(res)}",
                )
            if res.returncode != 0 or not (scratch / "prog").exists():
                return self._result(
                    start,
                    Status.COMPILE_ERROR,
                    self.ladder.compile_error,
                    res,
                    details=_first_line(res.stderr, "error") or _exit_reason(res),
                )
            warnings = "warning:" in res.stderr
            rung = self.ladder.compile_reward(True, warnings)
            if not self.run_after_compile:
                return self._compile_only(start, problem, cases, rung, warnings, res)
            binary = str(scratch / "prog")
            if not cases:
                return self._run_once(start, scratch, binary, rung)
            return self._run_cases(start, scratch, binary, rung, cases)

    def _compile_only(
        self,
        start: float,
        problem: Problem,
        cases: list[Any],
        rung: float,
        warnings: bool,
        res: ExecResult,
    ) -> VerifyResult:
        n_tests = len(cases) or len(problem.tests)
        kind = "with warnings" if warnings else "cleanly"
        if n_tests:
            details = (
                f"compiled {kind}; {n_tests} tests not run (compile-only: set "
                "run_after_compile=True to run them)"
            )
            return self._result(start, Status.FAIL, rung, res, details=details)
        status = Status.FAIL if warnings else Status.PASS
        details = _first_line(res.stderr, "warning:") if warnings else ""
        return self._result(start, status, rung, res, details=details)

    def _run_once(self, start: float, scratch: Path, binary: str, rung: float) -> VerifyResult:
        res = run_sandboxed(
            [binary], cwd=scratch, timeout=self.run_timeout, limits=self.run_limits, stdin=b""
        )
        if res.timed_out:
            return self._result(start, Status.TIMEOUT, rung, res, details=_exit_reason(res))
        if res.returncode != 0:
            return self._result(start, Status.RUNTIME_ERROR, rung, res, details=_exit_reason(res))
        return self._result(start, Status.PASS, self.ladder.runs, res)

    def _run_cases(
        self, start: float, scratch: Path, binary: str, rung: float, cases: list[tuple[str, str]]
    ) -> VerifyResult:
        passed, ran_ok, any_timeout, first_fail = 0, False, False, ""
        last: ExecResult | None = None
        for i, (stdin, expected) in enumerate(cases, 1):
            limits = replace(
                self.run_limits,
                output_bytes=max(self.run_limits.output_bytes, 2 * len(expected.encode()) + 4096),
            )
            last = run_sandboxed(
                [binary], cwd=scratch, timeout=self.run_timeout, limits=limits, stdin=stdin.encode()
            )
            ok_exit = last.returncode == 0 and not last.timed_out
            ran_ok = ran_ok or ok_exit
            if ok_exit and normalize_output(last.stdout) == normalize_output(expected):
                passed += 1
                continue
            if not first_fail:
                first_fail = f"case {i}: " + ("wrong output" if ok_exit else _exit_reason(last))
            if last.timed_out:
                any_timeout = True
                break
        total = len(cases)
        if passed == total:
            return self._result(start, Status.PASS, 1.0, last, passed, total)
        if not ran_ok:
            status = Status.TIMEOUT if any_timeout else Status.RUNTIME_ERROR
            return self._result(start, status, rung, last, passed, total, first_fail)
        reward = self.ladder.test_reward(passed, total, floor=self.ladder.runs)
        return self._result(start, Status.FAIL, reward, last, passed, total, first_fail)

    def _result(
        self,
        start: float,
        status: Status,
        reward: float,
        res: ExecResult | None = None,
        passed: int = 0,
        total: int = 0,
        details: str = "",
    ) -> VerifyResult:
        return VerifyResult(
            status=status,
            reward=reward,
            tests_passed=passed,
            tests_total=total,
            stdout=trim(res.stdout) if res else "",
            stderr=trim(res.stderr) if res else "",
            duration=time.monotonic() - start,
            verifier=self.name,
            details=details,
        )


class ClangVerifier(GCCVerifier):
    """:class:`GCCVerifier` driving clang/clang++ (same flags, same ladder)."""

    name = "clang"

    def __init__(
        self, *, c_compiler: str = "clang", cxx_compiler: str = "clang++", **options: Any
    ) -> None:
        super().__init__(c_compiler=c_compiler, cxx_compiler=cxx_compiler, **options)
