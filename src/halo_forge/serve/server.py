"""A small OpenAI-compatible HTTP server over an ``Engine`` (stdlib ``http.server`` only).

Endpoints: ``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/completions``,
``POST /v1/chat/completions``, ``GET /health``, and vLLM's runtime LoRA API
``POST /v1/load_lora_adapter {"lora_name", "lora_path"}`` / ``POST /v1/unload_lora_adapter
{"lora_name"}`` (200 with vLLM's plain-text "Success: ..." message). Non-streaming only:
``"stream": true`` is a 400 that says so. A request whose ``model`` is a loaded adapter's name
samples with that adapter and the response names it; any other ``model`` is served by the base
model and the response names that (vLLM would answer 404 for an unknown name). ``/v1/models``
lists the base model, then the adapters with ``parent`` set to it, as vLLM does.

Every error is OpenAI-shaped JSON — ``{"error": {"message", "type", "param", "code"}}`` — with
400 for a bad request, 404 for an unknown path, 405 for a wrong method, 500 for a bug of ours
(traceback to the server's stderr, never to the client). Generation is serialized by the
engine's own lock; the threading server only keeps slow clients from blocking each other.
There is no authentication: the default host is loopback.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from halo_forge.errors import ConfigError
from halo_forge.serve.engine import Completion, Engine, EngineRequestError

MAX_N = 64
MAX_STOP = 4
DEFAULT_MAX_TOKENS = 256  # OpenAI's chat default is "until the context is full": too slow on CPU
MAX_BODY_BYTES = 8 * 1024 * 1024
_UNSUPPORTED = {  # field -> value that is fine (anything else is a 400, not silently ignored)
    "logprobs": (None, False, 0),
    "top_logprobs": (None, 0),
    "echo": (None, False),
    "best_of": (None, 1),
    "suffix": (None, ""),
    "tools": (None, []),
    "functions": (None, []),
}


class RequestError(Exception):
    """Becomes an OpenAI-style error response."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.status, self.param, self.code, self.type = status, param, code, type

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


# --- request parsing (pure functions) ----------------------------------------------------------


@dataclass(frozen=True)
class Sampling:
    max_tokens: int
    temperature: float
    top_p: float
    n: int
    stop: list[str] | None
    seed: int | None

    def kwargs(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _number(body: dict, name: str, default: float, lo: float, hi: float) -> float:
    v = body.get(name)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise RequestError(f"'{name}' must be a number in [{lo:g}, {hi:g}]; got {v!r}", param=name)
    return float(v)


def _integer(body: dict, name: str, default: int | None, lo: int, hi: int | None) -> int | None:
    v = body.get(name)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise RequestError(f"'{name}' must be an integer {rng}; got {v!r}", param=name)
    return v


def parse_sampling(body: dict) -> Sampling:
    if body.get("stream"):
        raise RequestError(
            'streaming is not supported by halo-forge serve; send "stream": false',
            param="stream",
        )
    for name, fine in _UNSUPPORTED.items():
        if name in body and body[name] not in fine:
            raise RequestError(f"'{name}' is not supported by halo-forge serve", param=name)
    name = "max_completion_tokens" if body.get("max_tokens") is None else "max_tokens"
    max_tokens = _integer(body, name, DEFAULT_MAX_TOKENS, 1, None)
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list)
        or len(stop) > MAX_STOP
        or not all(isinstance(s, str) for s in stop)
    ):
        raise RequestError(
            f"'stop' must be a string or a list of at most {MAX_STOP} strings", param="stop"
        )
    return Sampling(
        max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
        temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, 0.0, 1.0) or 1e-9,  # 0: keep only the top token
        n=_integer(body, "n", 1, 1, MAX_N) or 1,
        stop=stop or None,
        seed=_integer(body, "seed", None, -(2**63), 2**64 - 1),
    )


def _content_text(content: Any, i: int) -> str:
    """A message's content: a string, or OpenAI's list of ``{"type": "text", "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    raise RequestError(
        f"messages[{i}].content must be a string or a list of text parts", param="messages"
    )


def parse_messages(body: dict) -> list[dict[str, str]]:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise RequestError(
            '\'messages\' is required: a non-empty list of {"role", "content"} objects',
            param="messages",
        )
    out = []
    for i, m in enumerate(msgs):
        role = m.get("role") if isinstance(m, dict) else None
        if role == "developer":  # OpenAI's newer name for the system role
            role = "system"
        if role not in ("system", "user", "assistant"):
            raise RequestError(
                f"messages[{i}] needs a role of system, user or assistant; got {role!r}",
                param="messages",
            )
        out.append({"role": role, "content": _content_text(m.get("content"), i)})
    return out


def parse_prompts(body: dict) -> list[str]:
    p = body.get("prompt")
    if isinstance(p, str):
        return [p]
    if isinstance(p, list) and p and all(isinstance(x, str) for x in p):
        return p
    raise RequestError(
        "'prompt' is required: a string or a non-empty list of strings (token arrays are "
        "not supported)",
        param="prompt",
    )


# --- responses ---------------------------------------------------------------------------------


def _usage(groups: list[list[Completion]]) -> dict[str, int]:
    prompt = sum(g[0].prompt_tokens for g in groups if g)
    completion = sum(c.completion_tokens for g in groups for c in g)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def chat_response(model_id: str, completions: list[Completion]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": c.text},
                "finish_reason": c.finish_reason,
                "logprobs": None,
            }
            for i, c in enumerate(completions)
        ],
        "usage": _usage([completions]),
    }


def completion_response(model_id: str, groups: list[list[Completion]]) -> dict[str, Any]:
    """Choices of prompt ``p``, sample ``j`` get index ``p * n + j``, as in OpenAI."""
    choices = [c for g in groups for c in g]
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [
            {"index": i, "text": c.text, "finish_reason": c.finish_reason, "logprobs": None}
            for i, c in enumerate(choices)
        ],
        "usage": _usage(groups),
    }


def _adapters(engine: Engine) -> dict[str, str] | None:
    """The engine's loaded adapters (name -> path); None when it cannot load any."""
    get = getattr(engine, "adapters", None)
    return get() if callable(get) else None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(f"the request body is not valid JSON ({e})") from None


def model_card(
    model_id: str, created: int, *, root: str | None = None, parent: str | None = None
) -> dict[str, Any]:
    card = {"id": model_id, "object": "model", "created": created, "owned_by": "halo-forge"}
    if parent is not None:  # a LoRA adapter, as vLLM lists it
        card.update(root=root, parent=parent)
    return card


def parse_adapter_request(body: Any, *, load: bool) -> tuple[str, str]:
    """(lora_name, lora_path) of a load/unload request (path is "" for unload)."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    name, path = body.get("lora_name"), body.get("lora_path")
    if load and not (isinstance(name, str) and name and isinstance(path, str) and path):
        raise RequestError(
            "Both 'lora_name' and 'lora_path' must be provided.",
            param="lora_name" if not name else "lora_path",
        )
    if not load and not (isinstance(name, str) and name):
        raise RequestError("'lora_name' must be provided.", param="lora_name")
    return name, path if load else ""


# --- HTTP --------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for the openai client; every reply has a length
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _other(self) -> None:
        self._dispatch(self.command)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            raw = self._read_body() if method in ("POST", "PUT", "PATCH") else None
            self._send(200, self._route(method, path, raw))
        except RequestError as e:
            self._send(e.status, e.body())
        except EngineRequestError as e:
            status = getattr(e, "status", 400)
            err = RequestError(str(e), status=status, param=e.param, code=e.code)
            self._send(status, err.body())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug of ours: log it here, answer 500 there
            traceback.print_exc(file=sys.stderr)
            err = RequestError(
                "internal server error (see the server's log)", status=500, type="server_error"
            )
            self._send(500, err.body())

    def _route(self, method: str, path: str, raw: bytes | None) -> dict[str, Any] | str:
        engine = self.server.engine
        routes = {
            "/v1/models": "GET",
            "/health": "GET",
            "/v1/completions": "POST",
            "/v1/chat/completions": "POST",
            "/v1/load_lora_adapter": "POST",
            "/v1/unload_lora_adapter": "POST",
        }
        if path.startswith("/v1/models/"):
            routes[path] = "GET"
        if path not in routes:
            raise RequestError(f"no such endpoint: {path or '/'}", status=404, code="not_found")
        if routes[path] != method:
            raise RequestError(
                f"{path} takes {routes[path]}, not {method}",
                status=405,
                code="method_not_allowed",
            )
        if path == "/health":
            return {"status": "ok", "model": engine.model_id}
        adapters = _adapters(engine)
        if path in ("/v1/load_lora_adapter", "/v1/unload_lora_adapter"):
            return self._adapter_route(engine, path, raw)
        cards = [model_card(engine.model_id, self.server.created)] + [
            model_card(name, self.server.created, root=root, parent=engine.model_id)
            for name, root in (adapters or {}).items()
        ]
        if path == "/v1/models":
            return {"object": "list", "data": cards}
        if path.startswith("/v1/models/"):
            wanted = path.removeprefix("/v1/models/")
            for card in cards:
                if card["id"] == wanted:
                    return card
            raise RequestError(
                f"model {wanted} is not served here; this server serves {engine.model_id}",
                status=404,
                code="model_not_found",
            )
        body = _parse_json(raw or b"")
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        sampling = parse_sampling(body)
        kwargs = sampling.kwargs()
        name = engine.model_id
        if adapters and body.get("model") in adapters:
            name = kwargs["adapter"] = body["model"]
        if path == "/v1/chat/completions":
            messages = parse_messages(body)
            return chat_response(name, engine.chat(messages, **kwargs))
        groups = [engine.complete(p, **kwargs) for p in parse_prompts(body)]
        return completion_response(name, groups)

    def _adapter_route(self, engine: Engine, path: str, raw: bytes | None) -> str:
        if _adapters(engine) is None:
            raise RequestError(
                "this server's engine cannot load LoRA adapters",
                code="adapters_not_supported",
            )
        load = path == "/v1/load_lora_adapter"
        name, lora_path = parse_adapter_request(_parse_json(raw or b""), load=load)
        if load:
            engine.load_adapter(name, lora_path)  # type: ignore[attr-defined]
            return f"Success: LoRA adapter '{name}' added successfully."
        engine.unload_adapter(name)  # type: ignore[attr-defined]
        return f"Success: LoRA adapter '{name}' removed successfully."

    def _read_body(self) -> bytes:
        """The raw body, read whole so the connection stays in step even when it is bad."""
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self.close_connection = True
            raise RequestError("a JSON body with a Content-Length header is required", status=411)
        size = int(length)
        if size > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would be parsed as the next request
            raise RequestError(f"request body over {MAX_BODY_BYTES} bytes", status=413)
        return self.rfile.read(size)

    def _send(self, status: int, payload: dict[str, Any] | str) -> None:
        """JSON, or plain text for a ``str`` payload (vLLM's answer to a LoRA load/unload)."""
        text = isinstance(payload, str)
        data = payload.encode() if text else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine, verbose: bool):
        self.engine = engine
        self.verbose = verbose
        self.created = int(time.time())
        super().__init__(address, _Handler)


def _bind(engine: Engine, host: str, port: int, verbose: bool) -> _Server:
    try:
        return _Server((host, port), engine, verbose)
    except OSError as e:
        raise _bind_error(host, port, e) from None


def _bind_error(host: str, port: int, e: OSError) -> ConfigError:
    return ConfigError(
        f"cannot listen on {host}:{port} ({e.strerror or e}); pick another --port or --host"
    )


def check_port(host: str, port: int) -> None:
    """Fail fast (``ConfigError``) when ``host:port`` cannot be bound — before a model loads."""
    try:
        ThreadingHTTPServer((host, port), BaseHTTPRequestHandler).server_close()
    except OSError as e:
        raise _bind_error(host, port, e) from None


class ServerHandle:
    """A server running in a daemon thread. ``url`` ends in ``/v1`` (an openai ``base_url``)."""

    def __init__(self, server: _Server, thread: threading.Thread):
        self._server = server
        self._thread = thread
        self._closed = False
        self.host: str = server.server_address[0]  # type: ignore[assignment]
        self.port: int = server.server_address[1]
        self.url = f"http://{_url_host(self.host)}:{self.port}/v1"

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serve_in_thread(
    engine: Engine, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> ServerHandle:
    """Start serving at once (``port=0``: a free port) and return; the thread is a daemon."""
    server = _bind(engine, host, port, verbose)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},  # close() waits up to one poll interval
        name="halo-forge-serve",
        daemon=True,
    )
    thread.start()
    return ServerHandle(server, thread)


def serve_forever(engine: Engine, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve in this thread until Ctrl-C, logging one line per request to stderr."""
    from halo_forge.ui import console

    server = _bind(engine, host, port, verbose=True)
    url = f"http://{_url_host(host)}:{server.server_address[1]}/v1"
    console.print(f"Serving {engine.model_id} at {url} (OpenAI-compatible; Ctrl-C stops)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning: listening on {host} with no authentication[/]")
    previous = _stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Stopped.")
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm() -> Any:
    """Make SIGTERM (``kill``, ``docker stop``) stop like Ctrl-C; returns the old handler.

    SIGINT gets Python's own handler back too: a process started in the background by a
    non-interactive shell inherits SIGINT *ignored*, and Ctrl-C (or ``kill -INT``) must still
    stop the server.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    return signal.signal(signal.SIGTERM, stop)
