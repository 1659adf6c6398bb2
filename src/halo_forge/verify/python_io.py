"""``python_io``: a whole Python program judged on stdin → stdout cases (competitive style).

The counterpart of the C/C++/Rust/Go verifiers for Python: same ladder, options and io-test
convention (:class:`~halo_forge.verify.native.CompiledVerifier`; cases in
``problem.metadata["io_tests"]``). "Compiling" is CPython's own ``compile()`` of the source, run
in the sandbox like any other compiler (a syntax error is ``COMPILE_ERROR``; a
``SyntaxWarning``/``DeprecationWarning`` such as an invalid escape is the warning rung), and is
cached like a compile.
The program then runs once per case as ``python3 -I -S main.py`` in the sandbox: isolated mode,
no site-packages (standard library only), stdin from the case, stdout compared by us.

The verdict is ours: the program only controls its own stdout, which is exactly what is
judged, and the expected output never enters its process.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError
from halo_forge.types import ExecResult, Problem
from halo_forge.verify.native import Compiled, CompiledVerifier, _exit_reason, _first_line
from halo_forge.verify.sandbox import run_sandboxed

__all__ = ["PythonIOVerifier"]

_LANGS = {"python": "python", "python3": "python", "py": "python"}
_CHECK = (
    "import sys, warnings\n"
    "warnings.simplefilter('always')\n"
    "with open('main.py', encoding='utf-8', errors='replace') as f:\n"
    "    compile(f.read(), 'main.py', 'exec')\n"
)


class PythonIOVerifier(CompiledVerifier):
    """Syntax-check a Python program, then run it on each stdin → stdout case."""

    name = "python_io"
    language = "python"
    binary_name = "main.py"

    def __init__(self, flags: Any = (), *, python: str | None = None, **options: Any) -> None:
        super().__init__(flags, **options)
        self.python = python or sys.executable

    def _language(self, problem: Problem) -> str:
        lang = _LANGS.get(problem.language.strip().lower())
        if lang is None:
            raise DataError(
                f"problem {problem.id}: python_io verifies python; got {problem.language!r}"
            )
        return lang

    def _write_source(self, lang: str, code: str, build: Path) -> str:
        (build / "main.py").write_text(code, encoding="utf-8", errors="replace")
        return "main.py"

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:
        return [self.python, "-I", "-S", "-c", _CHECK]

    def _toolchain_key(self, lang: str) -> str:
        return f"{self.python}|{sys.version}"

    def _error_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, "Error")

    def _warning_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, "Warning")

    def _suppressed(self, code: str) -> str:
        return ""

    def _compile_fresh(self, lang: str, code: str, scratch: Path, binary: Path) -> Compiled:
        build = scratch / "build"
        build.mkdir()
        try:
            source = self._write_source(lang, code, build)
            res = run_sandboxed(
                self._compile_argv(lang, source, build),
                cwd=build,
                timeout=self.compile_timeout,
                limits=self.compile_limits,
            )
            if res.timed_out or res.returncode != 0:
                return Compiled(False, res, error=self._error_line(res) or _exit_reason(res))
            shutil.copyfile(build / source, binary)
            return Compiled(True, res, warning=self._warning_line(res), artifact=binary)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def _run_argv(self, binary: Path) -> list[str]:
        return [self.python, "-I", "-S", str(binary)]
