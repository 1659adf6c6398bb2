"""``halo-forge data generate`` (placeholder; being written)."""

from __future__ import annotations

from halo_forge.errors import ConfigError


def generate() -> None:
    """Have an LLM write verified problems (not implemented yet)."""
    raise ConfigError("data generate is not implemented yet")
