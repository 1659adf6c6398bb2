"""Servers for the serve tests: a canned fake engine (no torch) and the tiny random Llama."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from halo_forge.serve.engine import Completion, EngineRequestError
from halo_forge.serve.server import ServerHandle, serve_in_thread


class FakeEngine:
    """Echoes its input so tests can check what the server passed through."""

    model_id = "fake-model"

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def chat(self, messages, **kw) -> list[Completion]:
        self.calls.append({"messages": messages, **kw})
        if messages[-1]["content"] == "slow":
            time.sleep(1)
        if messages[-1]["content"] == "crash":
            raise RuntimeError("engine bug")
        if messages[-1]["content"] == "too long":
            raise EngineRequestError(
                "prompt too long", param="messages", code="context_length_exceeded"
            )
        return self._answers(messages[-1]["content"], **kw)

    def complete(self, prompt, **kw) -> list[Completion]:
        self.calls.append({"prompt": prompt, **kw})
        if prompt == "slow":
            time.sleep(1)
        return self._answers(prompt, **kw)

    def _answers(self, text, *, n, **kw) -> list[Completion]:
        return [Completion(f"{text}#{i}", "stop", 3, 2) for i in range(n)]


@pytest.fixture()
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture(scope="module")
def _module_fake_server() -> Iterator[tuple[ServerHandle, FakeEngine]]:
    engine = FakeEngine()
    with serve_in_thread(engine) as handle:
        yield handle, engine


@pytest.fixture()
def fake_server(_module_fake_server) -> tuple[ServerHandle, FakeEngine]:
    """One server per module (fast); its engine's call log is fresh for each test."""
    _module_fake_server[1].calls.clear()
    return _module_fake_server


@pytest.fixture()
def own_fake_server() -> Iterator[tuple[ServerHandle, FakeEngine]]:
    """A server of this test's own, for tests that stop it."""
    engine = FakeEngine()
    with serve_in_thread(engine) as handle:
        yield handle, engine


@pytest.fixture(scope="session")
def tiny_engine(tiny_model):
    from halo_forge.serve.engine import HFEngine

    return HFEngine.load(str(tiny_model))


@pytest.fixture(scope="session")
def tiny_server(tiny_engine) -> Iterator[ServerHandle]:
    with serve_in_thread(tiny_engine) as handle:
        yield handle
