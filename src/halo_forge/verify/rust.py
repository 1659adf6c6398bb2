"""Rust verification with ``rustc`` (edition 2021 by default): compile, optionally run.

Same ladder, options and io-test convention as the C/C++ verifiers
(:class:`~halo_forge.verify.native.CompiledVerifier`). A single-file binary crate is compiled
with ``rustc`` directly (no cargo: no dependencies, no network, no build scripts).

Warnings are rustc's own lints (``warning: unused variable`` …), on by default. Flags that turn
them off (``-A …``, ``--allow``, ``--cap-lints``) are refused, and a source that silences them
itself (``#[allow(...)]``, ``#![allow(...)]``, ``#[expect(...)]``) is scored as having warnings.

``rustc`` found on PATH is often rustup's proxy, which needs ``$HOME/.rustup``; the sandbox sets
``HOME`` to the scratch dir, so we resolve the real compiler under ``rustc --print sysroot``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, DataError, VerifierError
from halo_forge.types import ExecResult, Problem
from halo_forge.verify.native import CompiledVerifier, _first_line, resolve_tool, toolchain_version

__all__ = ["RustVerifier"]

_LANGS = {"rust": "rust", "rs": "rust"}
_SUPPRESS = re.compile(r"#!?\s*\[[^\]]*\b(allow|expect)\s*\(")
_ERROR_LINE = re.compile(r"^error(\[E\d+\])?:")
_WARNING_LINE = re.compile(r"^warning(\[[\w-]+\])?:")
EDITIONS = ("2015", "2018", "2021", "2024")


def real_rustc(rustc: str) -> str:
    """The toolchain's own ``rustc`` behind rustup's proxy (or ``rustc`` itself)."""
    path = resolve_tool(rustc)
    try:
        out = subprocess.run(
            [path, "--print", "sysroot"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VerifierError(f"cannot run {path} --print sysroot: {exc}") from exc
    real = Path(out.stdout.strip()) / "bin" / "rustc"
    return str(real) if out.returncode == 0 and real.is_file() else path


class RustVerifier(CompiledVerifier):
    """Compile a Rust program (``problem.language`` ``rust``) and optionally run it."""

    name = "rust"
    language = "rust"

    def __init__(
        self,
        flags: Sequence[str] = ("-O",),
        *,
        edition: str = "2021",
        rustc: str = "rustc",
        **options: Any,
    ) -> None:
        super().__init__(flags, **options)
        if str(edition) not in EDITIONS:
            raise ConfigError(
                f"rust: edition must be one of {', '.join(EDITIONS)}; got {edition!r}"
            )
        self.edition = str(edition)
        self.rustc = real_rustc(rustc)

    def _forbidden(self, flag: str) -> bool:
        return flag.startswith(("-A", "--allow", "--cap-lints")) or flag == "-w"

    def _language(self, problem: Problem) -> str:
        lang = _LANGS.get(problem.language.strip().lower())
        if lang is None:
            raise DataError(
                f"problem {problem.id}: rust verifies rust; got language {problem.language!r}"
            )
        return lang

    def _write_source(self, lang: str, code: str, build: Path) -> str:
        (build / "main.rs").write_text(code, encoding="utf-8", errors="replace")
        return "main.rs"

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:
        return [
            self.rustc,
            "--edition",
            self.edition,
            "--crate-type",
            "bin",
            "--crate-name",
            "prog",
            "--color",
            "never",
            *self.flags,
            "-o",
            self.binary_name,
            source,
        ]

    def _toolchain_key(self, lang: str) -> str:
        return f"{toolchain_version(self.rustc, ('-vV',))}|edition={self.edition}"

    def _warning_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, _WARNING_LINE)

    def _error_line(self, res: ExecResult) -> str:
        return _first_line(res.stderr, _ERROR_LINE)

    def _suppressed(self, code: str) -> str:
        m = _SUPPRESS.search(code)
        return f"source suppresses compiler warnings ({m.group(0).strip()[:60]})" if m else ""
