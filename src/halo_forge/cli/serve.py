"""``halo-forge serve`` (placeholder; being written)."""

from __future__ import annotations

from halo_forge.errors import ConfigError


def serve() -> None:
    """Serve a model over an OpenAI-compatible HTTP API (not implemented yet)."""
    raise ConfigError("serve is not implemented yet")
