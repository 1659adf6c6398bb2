"""``halo-forge serve``: an OpenAI-compatible HTTP server over a local model.

``Engine`` (engine.py) is what gets served; ``serve_in_thread``/``serve_forever`` (server.py)
serve it. Importing this package does not import torch.
"""

from halo_forge.serve.engine import Completion, Engine, EngineRequestError, HFEngine
from halo_forge.serve.server import ServerHandle, serve_forever, serve_in_thread

__all__ = [
    "Completion",
    "Engine",
    "EngineRequestError",
    "HFEngine",
    "ServerHandle",
    "serve_forever",
    "serve_in_thread",
]
