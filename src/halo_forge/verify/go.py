"""Go verification with ``go build``: compile a single-file ``package main``, optionally run it.

Same ladder, options and io-test convention as the C/C++ verifiers
(:class:`~halo_forge.verify.native.CompiledVerifier`). The source is built as module ``prog``
(a generated ``go.mod`` with the local Go version) in the sample's scratch dir, offline and
hermetic: ``GOPROXY=off``, ``GOFLAGS=-mod=readonly`` (never ``-mod=mod``: nothing is added to
``go.mod``), ``GOTOOLCHAIN=local`` (no toolchain download), ``GOENV=off`` (the user's ``go env``
file is ignored), ``GOWORK=off``, ``GOSUMDB=off``, ``CGO_ENABLED=0`` (no C compiler behind the
Go one), and ``GOPATH``/``GOCACHE`` inside the scratch dir. An import outside the standard
library is therefore a compile error.

Warnings: Go has none (unused variables and imports are errors), so a successful build scores
the clean rung. ``vet=True`` runs ``go vet`` after the build and scores its findings as
warnings (it costs ~0.8 s per sample here, three times the build).

``gocache``: a fresh ``GOCACHE`` per sample is cheap with Go ≤ 1.19 (its standard library
ships precompiled; 0.27 s per build here) but rebuilds the standard library on newer Go; point
``gocache`` at a shared directory there (the build does not run sample code, but the directory
must be writable from the sandbox).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError, VerifierError
from halo_forge.types import ExecResult, Problem
from halo_forge.verify.native import (
    Compiled,
    CompiledVerifier,
    _first_line,
    resolve_tool,
    toolchain_version,
)
from halo_forge.verify.sandbox import run_sandboxed

__all__ = ["GoVerifier"]

_LANGS = {"go": "go", "golang": "go"}
_ERROR_LINE = re.compile(r"\.go:\d+(:\d+)?: |^go: |cannot |no required module")
_VET_LINE = re.compile(r"\.go:\d+(:\d+)?: ")


def _go_version(go: str) -> str:
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VerifierError(f"cannot run {go} env GOVERSION: {exc}") from exc
    m = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    if m is None:
        raise VerifierError(f"cannot read the Go version from {go} env GOVERSION: {out.stdout!r}")
    return f"{m.group(1)}.{m.group(2)}"


class GoVerifier(CompiledVerifier):
    """Build a Go program (``problem.language`` ``go``) and optionally run it."""

    name = "go"
    language = "go"

    def __init__(
        self,
        flags: Sequence[str] = (),
        *,
        go: str = "go",
        vet: bool = False,
        gocache: str | Path | None = None,
        **options: Any,
    ) -> None:
        super().__init__(flags, **options)
        self.go = resolve_tool(go)
        self.vet = vet
        self.gocache = Path(gocache).resolve() if gocache else None
        self.go_version = _go_version(self.go)
        self._env_tool = shutil.which("env") or "/usr/bin/env"

    def _language(self, problem: Problem) -> str:
        lang = _LANGS.get(problem.language.strip().lower())
        if lang is None:
            raise DataError(
                f"problem {problem.id}: go verifies go; got language {problem.language!r}"
            )
        return lang

    def _write_source(self, lang: str, code: str, build: Path) -> str:
        (build / "main.go").write_text(code, encoding="utf-8", errors="replace")
        (build / "go.mod").write_text(f"module prog\n\ngo {self.go_version}\n", encoding="utf-8")
        # The sandbox sets TMPDIR to the job's cwd, and go ignores a go.mod in the temp root:
        # give go its own temp dir (writable by the sandbox's uid, which owns only the cwd).
        tmp = build / ".tmp"
        tmp.mkdir()
        tmp.chmod(0o777)
        return "main.go"

    def _go_env(self, build: Path) -> list[str]:
        gocache = self.gocache or build / ".gocache"
        env = {
            "TMPDIR": str(build / ".tmp"),
            "GOCACHE": str(gocache),
            "GOPATH": str(build / ".gopath"),
            "GOPROXY": "off",
            "GOSUMDB": "off",
            "GOFLAGS": "-mod=readonly",
            "GOTOOLCHAIN": "local",
            "GOENV": "off",
            "GOWORK": "off",
            "GOTELEMETRY": "off",
            "GO111MODULE": "on",
            "CGO_ENABLED": "0",
        }
        return [self._env_tool, *(f"{k}={v}" for k, v in env.items()), self.go]

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:
        return [*self._go_env(build), "build", *self.flags, "-o", self.binary_name, "."]

    def _toolchain_key(self, lang: str) -> str:
        return f"{toolchain_version(self.go, ('version',))}|vet={self.vet}"

    def _error_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, _ERROR_LINE)

    def _warning_line(self, res: ExecResult) -> str:
        return ""  # go build has no warnings; vet findings are added in _compile_fresh

    def _suppressed(self, code: str) -> str:
        return ""

    def _compile_fresh(self, lang: str, code: str, scratch: Path, binary: Path) -> Compiled:
        if not self.vet:
            return super()._compile_fresh(lang, code, scratch, binary)
        compiled = super()._compile_fresh(lang, code, scratch, binary)
        if not compiled.ok:
            return compiled
        vet_dir = scratch / "build"
        vet_dir.mkdir()
        try:
            self._write_source(lang, code, vet_dir)
            res = run_sandboxed(
                [*self._go_env(vet_dir), "vet", "."],
                cwd=vet_dir,
                timeout=self.compile_timeout,
                limits=self.compile_limits,
            )
        finally:
            shutil.rmtree(vet_dir, ignore_errors=True)
        if res.returncode == 0:
            return compiled
        finding = _first_line(res.stderr, _VET_LINE) or f"go vet: {res.stderr.strip()[:200]}"
        merged = ExecResult(
            compiled.res.returncode,
            9 if res.timed_out or res.signal else None,  # a killed vet is not cached
            False,
            compiled.res.stdout,
            compiled.res.stderr + res.stderr,
            compiled.res.wall_time + res.wall_time,
        )
        return Compiled(True, merged, warning=f"vet: {finding}", artifact=compiled.artifact)
