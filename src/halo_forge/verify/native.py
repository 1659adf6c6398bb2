"""Compiled languages: the shared compile → run → io-tests ladder, and the C/C++ verifiers.

:class:`CompiledVerifier` holds everything the compiled-language verifiers share (``gcc``,
``clang``, ``mingw`` here; ``rust`` in ``rust.py``, ``go`` in ``go.py``, ``msvc_ssh`` in
``remote.py``); a subclass says how to write and compile a source and how to run the result.

Rewards follow the ladder (:mod:`halo_forge.verify.rewards`):

* compile error → ``COMPILE_ERROR``, 0.0; compile timeout → ``TIMEOUT``, 0.0;
* compiled with warnings → 0.3; compiled cleanly → 0.5. Warnings are always collected
  (``-Wall -Wextra`` for C/C++; ``-w`` is refused, since hiding warnings would fake the 0.5 rung).
  A source that silences diagnostics itself (``#pragma GCC diagnostic``, ``_Pragma``, a line
  marker declaring it a system header, Rust's ``#[allow(...)]``) is scored as having warnings:
  otherwise a model learns to prepend the pragma instead of fixing the warning;
* with ``run_after_compile=True`` — or by default (``None``) whenever the problem has
  ``io_tests``, since compiling alone can never pass a problem with tests: the binary runs in
  the sandbox. Without I/O tests, exiting 0
  → 0.7. With ``problem.metadata["io_tests"]`` (a list of ``{"input": str, "output": str}``,
  optionally ``"timeout": seconds`` for that case, else ``run_timeout``; stdin → expected
  stdout, compared ignoring trailing whitespace on each line and trailing blank lines) the
  reward is the ladder's partial credit from the 0.7 floor, and 1.0 only when every case passes.
  A crash or timeout on every case keeps the compile rung (``RUNTIME_ERROR``/``TIMEOUT``). After
  the first timed-out case the rest are not run (counted as failed): one infinite loop must not
  cost ``n × timeout``.

When is it ``PASS``? When every test passes — and, if the problem has no tests at all
(``problem.tests`` and ``io_tests`` both empty), when the last step requested succeeded
cleanly: a clean compile (compile-only), or a clean exit (run mode). A warning-laden compile of
a test-less problem is ``FAIL`` with 0.3: the user asked for clean code. A problem that *has*
tests in compile-only mode is never ``PASS`` (``FAIL`` at its compile rung, details say the
tests were not run), because compiling says nothing about correctness.

Compiling untrusted source is itself untrusted work: it runs in the sandbox too (a template
bomb or ``#include "/dev/zero"`` hits the limits). Without bubblewrap, ``#include "/etc/..."``
can copy a readable file into the compiler's error output (and so into our logs). The compile
happens in ``scratch/build``, which is deleted before the binary runs in ``scratch/run``.

Speed (see ``bench/verification_cpp.py``): compiles go through a :class:`CompileCache` (the
same source + toolchain + flags is compiled once, across problems, cycles and runs), and g++
uses a precompiled header for a source's leading block of ``#include <...>`` lines once that
exact block has been seen ``pch_after`` times (0.27 → 0.10 s for ``<iostream>``, 1.4 → 0.3 s for
``<bits/stdc++.h>`` at -O2 here). The header is passed with ``-include``: the compiler sees the
same lines first either way (the source's own copies are then no-ops behind include guards), so
verdicts do not change — only blocks at the very top of the file qualify, before any
``#define``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from halo_forge.errors import ConfigError, DataError, VerifierError
from halo_forge.types import ExecResult, Problem, Status, VerifyResult
from halo_forge.verify.base import Verifier, trim
from halo_forge.verify.cache import CompileCache, cache_key, default_cache_dir
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder
from halo_forge.verify.sandbox import Limits, isolation_level, run_sandboxed

__all__ = [
    "COMPILE_LIMITS",
    "ClangVerifier",
    "CompiledVerifier",
    "Compiled",
    "GCCVerifier",
    "IOCase",
    "MingwVerifier",
    "io_tests",
    "normalize_output",
    "toolchain_version",
]

log = logging.getLogger(__name__)

COMPILE_LIMITS = Limits(address_space=2 << 30, file_size=256 << 20, open_files=256)
_C_LANGS = {"c": "c", "cpp": "cpp", "c++": "cpp", "cxx": "cpp"}
_PACKAGES = {
    "gcc": "gcc",
    "g++": "g++",
    "clang": "clang",
    "clang++": "clang",
    "x86_64-w64-mingw32-gcc": "mingw-w64",
    "x86_64-w64-mingw32-g++": "mingw-w64",
    "wine": "wine64",
    "rustc": "rustc (or rustup)",
    "go": "golang-go",
}
_WARN_FLAGS = ("-Wall", "-Wextra", "-fdiagnostics-color=never")
# Ways a C/C++ source can hide its own warnings (matched anywhere, comments included: rare in
# honest code, and a false positive only costs the 0.5 → 0.3 difference).
_C_SUPPRESS = re.compile(
    r"#\s*pragma\s+(GCC|clang)\s+(diagnostic|system_header)|#\s*pragma\s+warning"
    r"|_Pragma|__pragma|^\s*#\s*(line\s+)?\d+\s+\"[^\"]*\"(\s+\d+)*\s+3",
    re.MULTILINE,
)
_WARNING_LINE = re.compile(r"warning(\[[\w-]+\])?:", re.IGNORECASE)


class IOCase(NamedTuple):
    """One stdin → stdout case; ``timeout`` overrides the verifier's ``run_timeout``."""

    input: str
    output: str
    timeout: float | None = None


def normalize_output(text: str) -> str:
    """Output as judges compare it: no trailing spaces per line, no trailing blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def io_tests(problem: Problem) -> list[IOCase]:
    """Cases from ``problem.metadata["io_tests"]``, validated (see the module docstring)."""
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
        timeout = case.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
        ):
            raise DataError(
                f"problem {problem.id}: io_tests[{i}]['timeout'] must be a positive number of "
                f"seconds; got {timeout!r}"
            )
        cases.append(IOCase(case["input"], case["output"], timeout))
    return cases


def _first_line(text: str, marker: str | re.Pattern[str]) -> str:
    for line in text.splitlines():
        if marker.search(line) if isinstance(marker, re.Pattern) else marker in line:
            return line.strip()[:300]
    return ""


def _exit_reason(res: ExecResult) -> str:
    if res.timed_out:
        return f"timed out after {res.wall_time:.1f}s"
    if res.signal:
        return f"killed by signal {res.signal}"
    return f"exit code {res.returncode}"


def resolve_tool(tool: str) -> str:
    """Absolute path: the sandbox's PATH is fixed, ours may hold the tool elsewhere."""
    path = shutil.which(tool)
    if path is None:
        package = _PACKAGES.get(Path(tool).name, Path(tool).name)
        raise VerifierError(f"{tool} not found on PATH; install it with apt-get install {package}")
    return path


@functools.lru_cache(maxsize=64)
def _version(path: str, args: tuple[str, ...], stamp: tuple[int, int]) -> str:
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VerifierError(f"cannot run {path} {' '.join(args)}: {exc}") from exc
    return (out.stdout + out.stderr).strip()


def toolchain_version(path: str, args: Sequence[str] = ("--version",)) -> str:
    """``path|size|mtime|<version output>``: identifies a toolchain for the compile cache."""
    st = os.stat(path)
    stamp = (st.st_size, st.st_mtime_ns)
    return f"{path}|{stamp[0]}|{stamp[1]}|{_version(path, tuple(args), stamp)}"


@dataclass(frozen=True)
class Compiled:
    """The outcome of a compile step (fresh or from the cache).

    ``artifact`` is what :meth:`CompiledVerifier._execute` runs: a local binary path, or a
    remote handle for ``msvc_ssh``. ``warning``/``error`` are the first such line of output.
    """

    ok: bool
    res: ExecResult
    warning: str = ""
    error: str = ""
    artifact: Any = None

    @property
    def timed_out(self) -> bool:
        return self.res.timed_out

    def record(self) -> dict[str, Any]:
        """What the compile cache stores (output trimmed; only deterministic outcomes)."""
        r = self.res
        return {
            "ok": self.ok,
            "returncode": r.returncode,
            "stdout": trim(r.stdout, 8192),
            "stderr": trim(r.stderr, 8192),
            "warning": self.warning,
            "error": self.error,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any], artifact: Any) -> Compiled:
        res = ExecResult(rec["returncode"], None, False, rec["stdout"], rec["stderr"], 0.0)
        return cls(rec["ok"], res, rec["warning"], rec["error"], artifact if rec["ok"] else None)


def _make_cache(cache: bool | str | Path | CompileCache | None) -> CompileCache | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return CompileCache()
    if isinstance(cache, CompileCache):
        return cache
    if isinstance(cache, (str, Path)):
        return CompileCache(cache)
    raise ConfigError(f"cache must be true/false, a directory or a CompileCache; got {cache!r}")


class CompiledVerifier(Verifier):
    """Compile (cached), then optionally run against io tests. Subclass hooks:

    * :meth:`_language` → canonical language; :meth:`_write_source` → source file name;
    * :meth:`_compile_argv`; :meth:`_toolchain_key` (cache key part);
    * :meth:`_warning_line` / :meth:`_error_line` / :meth:`_suppressed` read the compile output;
    * :meth:`_check_artifact` (e.g. the PE magic); :meth:`_run_argv`, :meth:`_execute`.
    """

    name = "compiled"
    language = "cpp"  # what Verifier.extract_code looks for in fenced blocks
    binary_name = "prog"
    forbidden_flags: tuple[str, ...] = ("-w",)

    def __init__(
        self,
        flags: Sequence[str] = (),
        *,
        compile_timeout: float = 30.0,
        run_timeout: float = 5.0,
        run_after_compile: bool | None = None,
        ladder: RewardLadder = DEFAULT_LADDER,
        compile_limits: Limits = COMPILE_LIMITS,
        run_limits: Limits | None = None,
        scratch_root: str | Path | None = None,
        cache: bool | str | Path | CompileCache | None = True,
    ) -> None:
        if isinstance(flags, str) or not all(isinstance(f, str) for f in flags):
            raise ConfigError(f"{self.name}: flags must be a list of strings; got {flags!r}")
        bad = [f for f in flags if self._forbidden(f)]
        if bad:
            raise ConfigError(
                f"{self.name}: flags must not contain {bad[0]} (warnings are part of the reward)"
            )
        for field, value in (("compile_timeout", compile_timeout), ("run_timeout", run_timeout)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{self.name}: {field} must be > 0 seconds; got {value!r}")
        self.flags = tuple(flags)
        self.compile_timeout = compile_timeout
        self.run_timeout = run_timeout
        self.run_after_compile = run_after_compile
        self.ladder = ladder
        self.compile_limits = compile_limits
        self.run_limits = run_limits or Limits()
        self.scratch_root = scratch_root
        self.cache = _make_cache(cache)

    def _forbidden(self, flag: str) -> bool:
        return flag in self.forbidden_flags

    # -- hooks ---------------------------------------------------------------------------------
    def _language(self, problem: Problem) -> str:
        lang = _C_LANGS.get(problem.language.strip().lower())
        if lang is None:
            raise DataError(
                f"problem {problem.id}: {self.name} verifies c or cpp; got language "
                f"{problem.language!r}"
            )
        return lang

    def _write_source(self, lang: str, code: str, build: Path) -> str:
        name = "main.c" if lang == "c" else "main.cpp"
        (build / name).write_text(code, encoding="utf-8", errors="replace")
        return name

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:
        raise NotImplementedError

    def _toolchain_key(self, lang: str) -> str:
        raise NotImplementedError

    def _warning_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, _WARNING_LINE)

    def _error_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, "error")

    def _suppressed(self, code: str) -> str:
        """Why the source hides its own warnings ("" if it does not)."""
        m = _C_SUPPRESS.search(code)
        return f"source suppresses compiler warnings ({m.group(0).strip()[:60]})" if m else ""

    def _check_artifact(self, path: Path) -> None:
        """Raise :class:`VerifierError` if the toolchain produced something unusable."""

    def _run_argv(self, binary: Path) -> list[str]:
        return [str(binary)]

    def _run_limits(self) -> Limits:
        return self.run_limits

    def _execute(
        self, artifact: Any, stdin: bytes, timeout: float, output_bytes: int, cwd: Path
    ) -> ExecResult:
        limits = self._run_limits()
        limits = replace(limits, output_bytes=max(limits.output_bytes, output_bytes))
        return run_sandboxed(
            self._run_argv(artifact), cwd=cwd, timeout=timeout, limits=limits, stdin=stdin
        )

    def _cleanup(self, artifact: Any) -> None:
        """Release a remote artifact (local ones live in the scratch dir)."""

    # -- compile (cached) ----------------------------------------------------------------------
    def _cache_key(self, lang: str, code: str) -> str:
        return cache_key(
            self.name,
            type(self).__qualname__,
            lang,
            self._toolchain_key(lang),
            "\0".join(self.flags),
            repr(self.compile_limits),
            code,
        )

    def _compile(self, lang: str, code: str, scratch: Path) -> Compiled:
        run_dir = scratch / "run"
        run_dir.mkdir()
        binary = run_dir / self.binary_name
        if self.cache is None:
            return self._compile_fresh(lang, code, scratch, binary)
        key = self._cache_key(lang, code)
        rec = self.cache.get(key, binary)
        if rec is not None:
            return Compiled.from_record(rec, binary)
        with self.cache.lock(key):
            rec = self.cache.get(key, binary, count=False)  # compiled by another thread meanwhile
            if rec is not None:
                return Compiled.from_record(rec, binary)
            compiled = self._compile_fresh(lang, code, scratch, binary)
            if self._cacheable(compiled):
                self.cache.put(key, compiled.record(), binary if compiled.ok else None)
            return compiled

    def _cacheable(self, c: Compiled) -> bool:
        """Only deterministic outcomes: a success, or a failure the compiler explained.

        Not a timeout or a kill (load-dependent), and not a failure without a diagnostic (the
        sandbox or the machine may be at fault: a disk full must not become a cached
        ``COMPILE_ERROR`` for that source forever).
        """
        if c.res.timed_out or c.res.signal is not None:
            return False
        return c.ok or bool(self._error_line(c.res))

    def _compile_fresh(self, lang: str, code: str, scratch: Path, binary: Path) -> Compiled:
        build = scratch / "build"
        build.mkdir()
        try:
            source = self._write_source(lang, code, build)
            argv = self._compile_argv(lang, source, build)
            res = run_sandboxed(
                argv, cwd=build, timeout=self.compile_timeout, limits=self.compile_limits
            )
            out = build / self.binary_name
            if res.timed_out or res.returncode != 0 or not out.is_file():
                error = self._error_line(res) or _exit_reason(res)
                return Compiled(False, res, error=error)
            self._check_artifact(out)
            os.replace(out, binary)
            return Compiled(True, res, warning=self._warning_line(res), artifact=binary)
        finally:
            shutil.rmtree(build, ignore_errors=True)  # the run must not see the build dir

    # -- the ladder ----------------------------------------------------------------------------
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
            prefix=f"hf-{self.name}-", dir=self.scratch_root, ignore_cleanup_errors=True
        ) as tmp:
            scratch = Path(tmp)
            c = self._compile(lang, code, scratch)
            try:
                return self._judge(start, problem, code, cases, c, scratch / "run")
            finally:
                if c.artifact is not None:
                    self._cleanup(c.artifact)

    def _judge(
        self,
        start: float,
        problem: Problem,
        code: str,
        cases: list[IOCase],
        c: Compiled,
        run_dir: Path,
    ) -> VerifyResult:
        if c.timed_out:
            reward = self.ladder.compile_error
            details = f"compile {_exit_reason(c.res)}"
            return self._result(start, Status.TIMEOUT, reward, c.res, details=details)
        if not c.ok:
            reward = self.ladder.compile_error
            return self._result(start, Status.COMPILE_ERROR, reward, c.res, details=c.error)
        warning = c.warning or self._suppressed(code)
        rung = self.ladder.compile_reward(True, bool(warning))
        run = self.run_after_compile if self.run_after_compile is not None else bool(cases)
        if not run:
            return self._compile_only(start, problem, cases, rung, warning, c.res)
        if not cases:
            return self._run_once(start, c.artifact, rung, run_dir)
        return self._run_cases(start, c.artifact, rung, cases, run_dir)

    def _compile_only(
        self,
        start: float,
        problem: Problem,
        cases: list[IOCase],
        rung: float,
        warning: str,
        res: ExecResult,
    ) -> VerifyResult:
        n_tests = len(cases) or len(problem.tests)
        kind = "with warnings" if warning else "cleanly"
        if n_tests:
            details = (
                f"compiled {kind}; {n_tests} tests not run (compile-only: set "
                "run_after_compile=True to run them)"
            )
            return self._result(start, Status.FAIL, rung, res, details=details)
        status = Status.FAIL if warning else Status.PASS
        return self._result(start, status, rung, res, details=warning)

    def _run_once(self, start: float, artifact: Any, rung: float, run_dir: Path) -> VerifyResult:
        res = self._execute(artifact, b"", self.run_timeout, 0, run_dir)
        if res.timed_out:
            return self._result(start, Status.TIMEOUT, rung, res, details=_exit_reason(res))
        if res.returncode != 0:
            return self._result(start, Status.RUNTIME_ERROR, rung, res, details=_exit_reason(res))
        return self._result(start, Status.PASS, self.ladder.runs, res)

    def _run_cases(
        self, start: float, artifact: Any, rung: float, cases: list[IOCase], run_dir: Path
    ) -> VerifyResult:
        passed, ran_ok, any_timeout, first_fail = 0, False, False, ""
        last: ExecResult | None = None
        for i, (stdin, expected, timeout) in enumerate(cases, 1):
            cap = 2 * len(expected.encode()) + 4096
            last = self._execute(
                artifact, stdin.encode(), timeout or self.run_timeout, cap, run_dir
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


# -- C / C++ ---------------------------------------------------------------------------------
_INCLUDE = re.compile(r"#\s*include\s*<([A-Za-z0-9_][A-Za-z0-9_./+-]*)>\s*(//.*)?")


def leading_includes(code: str) -> tuple[str, ...]:
    """System headers ``#include``-d at the very top of ``code`` (before anything else).

    Only blank lines, ``//`` comments and ``#include <name>`` lines count; the first other line
    ends the block. Names with ``..`` are left out (and end the block).
    """
    headers: list[str] = []
    for line in code.splitlines():
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        m = _INCLUDE.fullmatch(s)
        if m is None or ".." in m.group(1):
            break
        headers.append(m.group(1))
    return tuple(headers)


class GCCVerifier(CompiledVerifier):
    """Compile C/C++ (chosen by ``problem.language``) and optionally run it. See module doc.

    ``pch``: use precompiled headers for C++ sources' leading system includes (g++ only; needs
    the cache, where the headers are stored), built once a block was seen ``pch_after`` times.
    """

    name = "gcc"
    pch_capable = True

    def __init__(
        self,
        flags: Sequence[str] = ("-O2",),
        *,
        c_compiler: str = "gcc",
        cxx_compiler: str = "g++",
        pch: bool | None = None,
        pch_after: int = 2,
        **options: Any,
    ) -> None:
        super().__init__(flags, **options)
        self.compilers = {"c": resolve_tool(c_compiler), "cpp": resolve_tool(cxx_compiler)}
        if pch and not self.pch_capable:
            raise ConfigError(f"{self.name}: pch is only implemented for g++-style compilers")
        self.pch = (self.pch_capable if pch is None else pch) and self.cache is not None
        self.pch_after = pch_after
        self._pch_seen: Counter[str] = Counter()
        self._pch_failed: set[str] = set()

    def _toolchain_key(self, lang: str) -> str:
        return toolchain_version(self.compilers[lang])

    def _extra_flags(self, lang: str) -> list[str]:
        """Flags after the source (link flags)."""
        return ["-lm"] if lang == "c" else []

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:
        argv = [self.compilers[lang], *_WARN_FLAGS, *self.flags]
        header = self._pch_header(lang, source, build)
        if header:
            argv += ["-include", header]
        return [*argv, "-o", self.binary_name, source, *self._extra_flags(lang)]

    # -- precompiled headers -------------------------------------------------------------------
    def _pch_header(self, lang: str, source: str, build: Path) -> str:
        """Link a precompiled header for the source's leading includes into ``build``; its name.

        Returns "" when there is none to use (C, no leading block, not seen often enough, being
        built by another thread, failed to build, or a hard link across filesystems).
        """
        if not self.pch or lang != "cpp" or self.cache is None:
            return ""
        headers = leading_includes((build / source).read_text(encoding="utf-8", errors="replace"))
        if not headers:
            return ""
        text = "".join(f"#include <{h}>\n" for h in headers)
        key = cache_key("pch", self._toolchain_key(lang), "\0".join(self.flags), text)
        if key in self._pch_failed:
            return ""
        entry = self.cache.get_dir(key)
        if entry is None:
            self._pch_seen[key] += 1
            if self._pch_seen[key] < self.pch_after:
                return ""
            with self.cache.lock(key, blocking=False) as mine:
                if not mine:
                    return ""  # another thread is building it: don't wait, compile without
                entry = self.cache.get_dir(key) or self._build_pch(key, lang, text)
            if entry is None:
                return ""
        target = build / "pch"
        try:
            target.mkdir()
            for name in ("std.h", "std.h.gch"):
                os.link(entry / name, target / name)
        except OSError:  # evicted meanwhile, or another filesystem: copying 20-100 MB loses
            shutil.rmtree(target, ignore_errors=True)
            return ""
        return "pch/std.h"

    def _build_pch(self, key: str, lang: str, text: str) -> Path | None:
        assert self.cache is not None
        work = self.cache.new_dir()
        (work / "std.h").write_text(text, encoding="utf-8")
        argv = [self.compilers[lang], *_WARN_FLAGS, *self.flags, "-x", "c++-header", "std.h"]
        res = run_sandboxed(
            [*argv, "-o", "std.h.gch"],
            cwd=work,
            timeout=max(self.compile_timeout, 60.0),
            limits=self.compile_limits,
        )
        if res.returncode != 0 or not (work / "std.h.gch").is_file():
            log.debug("%s: precompiled header failed (%s)", self.name, _exit_reason(res))
            self._pch_failed.add(key)
            shutil.rmtree(work, ignore_errors=True)
            return None
        for f in work.iterdir():  # written by the sandbox's uid: make them ours, read-only
            if os.geteuid() == 0:
                os.chown(f, 0, 0)
            f.chmod(0o444)
        return self.cache.put_dir(key, work)


class ClangVerifier(GCCVerifier):
    """:class:`GCCVerifier` driving clang/clang++ (same flags, same ladder; no PCH yet)."""

    name = "clang"
    pch_capable = False

    def __init__(
        self,
        flags: Sequence[str] = ("-O2",),
        *,
        c_compiler: str = "clang",
        cxx_compiler: str = "clang++",
        **options: Any,
    ) -> None:
        super().__init__(flags, c_compiler=c_compiler, cxx_compiler=cxx_compiler, **options)


# -- MinGW: cross-compile to a Windows PE -----------------------------------------------------
# wine reserves >1 GiB of address space and opens many files (its DLLs) per process
WINE_RUN_LIMITS = Limits(address_space=4 << 30, open_files=1024)
_WINE_LOCK = threading.Lock()
_WINESERVERS: dict[str, tuple[str, dict[str, str]]] = {}  # prefix → (wineserver, env)


def _stop_wineserver(server: str, env: dict[str, str]) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [server, "-k"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )


def _stop_wineservers() -> None:
    with _WINE_LOCK:
        entries = list(_WINESERVERS.values())
        _WINESERVERS.clear()
    for server, env in entries:
        _stop_wineserver(server, env)


def is_pe(path: Path) -> bool:
    """``MZ`` DOS header whose ``e_lfanew`` points at a ``PE\\0\\0`` signature."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if len(head) < 0x40 or head[:2] != b"MZ":
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    if offset + 4 > len(head):
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(4) == b"PE\0\0"
    return head[offset : offset + 4] == b"PE\0\0"


class MingwVerifier(GCCVerifier):
    """Cross-compile C/C++ to a Windows PE (x86_64-w64-mingw32), statically linked.

    Compile-only by default; the output must be a PE image (``MZ`` … ``PE\\0\\0``), else the
    toolchain is broken (``SANDBOX_ERROR``). With ``run_after_compile=True`` the ``.exe`` runs
    under ``runner`` (wine), which must be installed; wine gets its own prefix under the cache
    root (``cache_root()/"wine-prefix"``, created once, ~10 s) and ``WINEDEBUG=-all``; it is
    not available inside the bubblewrap sandbox yet (wine wants a writable prefix owned by the
    sample's uid), so run mode needs ``HALO_FORGE_SANDBOX=rlimits`` there. Wine is not a
    sandbox of its own: the run is contained by :func:`run_sandboxed` like any binary, but
    samples share the prefix and its wineserver (which we start, outside the sandbox).
    """

    name = "mingw"
    binary_name = "prog.exe"

    def __init__(
        self,
        flags: Sequence[str] = ("-O2",),
        *,
        c_compiler: str = "x86_64-w64-mingw32-gcc",
        cxx_compiler: str = "x86_64-w64-mingw32-g++",
        runner: str = "wine",
        wine_prefix: str | Path | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("run_limits", WINE_RUN_LIMITS)
        super().__init__(flags, c_compiler=c_compiler, cxx_compiler=cxx_compiler, **options)
        self.runner: str | None = None
        self._env = shutil.which("env") or "/usr/bin/env"
        self._prefix = Path(wine_prefix) if wine_prefix else None
        if self.run_after_compile:
            if isolation_level() == "bubblewrap":
                raise VerifierError(
                    "mingw: running .exe files under wine is not supported inside the bubblewrap "
                    "sandbox yet (wine needs a writable prefix owned by the sample's uid); verify "
                    "compile-only, or set HALO_FORGE_SANDBOX=rlimits to run them with reduced "
                    "isolation"
                )
            if shutil.which(runner) is None:
                raise VerifierError(
                    f"mingw: run_after_compile needs {runner!r} to run Windows binaries; install "
                    f"it (apt-get install {_PACKAGES.get(runner, runner)}) or verify compile-only"
                )
            self.runner = resolve_tool(runner)

    def _extra_flags(self, lang: str) -> list[str]:
        return ["-static"]  # a self-contained .exe: no libstdc++/libgcc DLLs to ship

    def _check_artifact(self, path: Path) -> None:
        if not is_pe(path):
            raise VerifierError(f"{self.name}: the compiler did not produce a Windows PE image")

    def _wine_prefix(self) -> Path:
        """The prefix, created once, with a persistent wineserver we started (trusted).

        Without it the first sample's ``wine`` would start the wineserver and its helper
        processes (services.exe, winedevice.exe), which detach from the sample's process group
        and outlive it. Stopped at interpreter exit (``wineserver -k``).
        """
        if self._prefix is None:
            self._prefix = default_cache_dir().parent / "wine-prefix"
        prefix = self._prefix
        with _WINE_LOCK:
            if str(prefix) not in _WINESERVERS:
                self._start_wine(prefix)
        return prefix

    def _start_wine(self, prefix: Path) -> None:
        assert self.runner is not None
        prefix.parent.mkdir(parents=True, exist_ok=True)
        env = {**self._wine_env(prefix), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env["HOME"] = str(prefix)
        boot = str(Path(self.runner).with_name("wineboot"))
        server = str(Path(self.runner).with_name("wineserver"))
        first = not (prefix / "system.reg").is_file()
        # DEVNULL, not pipes: wineserver and wineboot's services live on and would hold a pipe
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        try:
            subprocess.run([server, "-p"], env=env, timeout=60, check=False, **quiet)
            argv = [boot] if os.path.exists(boot) else [self.runner, "wineboot"]
            if first:
                argv.append("-i")
            subprocess.run(argv, env=env, timeout=300, check=False, **quiet)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VerifierError(f"mingw: cannot start wine in {prefix}: {exc}") from exc
        _WINESERVERS[str(prefix)] = (server, env)
        if len(_WINESERVERS) == 1:
            atexit.register(_stop_wineservers)
        if not (prefix / "system.reg").is_file():
            raise VerifierError(f"mingw: wine did not create its prefix in {prefix}")

    def cleanup(self) -> None:
        """Stop the wineserver of this verifier's prefix (it also stops at exit)."""
        with _WINE_LOCK:
            entry = _WINESERVERS.pop(str(self._prefix), None)
        if entry is not None:
            _stop_wineserver(*entry)

    @staticmethod
    def _wine_env(prefix: Path) -> dict[str, str]:
        return {
            "WINEPREFIX": str(prefix),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d",
        }

    def _run_argv(self, binary: Path) -> list[str]:
        if self.runner is None:  # pragma: no cover - guarded in __init__
            raise VerifierError("mingw: no runner for Windows binaries")
        env = [f"{k}={v}" for k, v in self._wine_env(self._wine_prefix()).items()]
        return [self._env, *env, self.runner, str(binary)]
