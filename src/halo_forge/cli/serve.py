"""``halo-forge serve``: a model behind an OpenAI-compatible HTTP API (see halo_forge.serve)."""

from __future__ import annotations

from typing import Annotated

import typer

from halo_forge.cli.common import Cache, Model


def serve(
    model: Model = None,
    checkpoint: Annotated[
        str | None, typer.Option(help="Adapter or model folder to serve (merged for inference).")
    ] = None,
    host: Annotated[
        str, typer.Option(help="Interface to bind; anything but loopback is unauthenticated.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8000,
    cache_dir: Cache = None,
) -> None:
    """Serve /v1/models, /v1/completions and /v1/chat/completions (non-streaming); LoRA
    adapters load at run time through /v1/load_lora_adapter (vLLM's API)."""
    from halo_forge.errors import ConfigError
    from halo_forge.models.loader import resolve_model

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535], e.g. 8000; got {port}")
    spec = resolve_model(model, checkpoint)  # a bad path fails here, before torch is imported

    from halo_forge.serve.engine import HFEngine
    from halo_forge.serve.server import check_port, serve_forever

    check_port(host, port)  # a busy port fails here, before the weights load
    from halo_forge.ui import console

    console.print(f"Loading {spec.label}...")
    engine = HFEngine.load(spec, cache_dir=cache_dir)
    serve_forever(engine, host, port)
