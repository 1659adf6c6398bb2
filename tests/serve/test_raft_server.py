"""``raft train --generation-backend openai``: training here, sampling in a real
``halo-forge serve`` on loopback, each cycle's adapter loaded into it (vLLM's LoRA API)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from halo_forge.cli.main import run
from halo_forge.rlvr.generators import run_hash
from halo_forge.serve.engine import HFEngine
from halo_forge.serve.server import serve_in_thread

pytestmark = pytest.mark.integration


class RecordingEngine(HFEngine):
    """HFEngine that logs adapter loads/unloads and which adapter each request used."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.events: list[tuple] = []
        self.events_lock = threading.Lock()

    def _log(self, *event) -> None:
        with self.events_lock:
            self.events.append(event)

    def load_adapter(self, name, path):
        self._log("load", name, path)
        super().load_adapter(name, path)

    def unload_adapter(self, name):
        self._log("unload", name)
        super().unload_adapter(name)

    def chat(self, messages, **kw):
        self._log("chat", kw.get("adapter"))
        return super().chat(messages, **kw)


def raft(tiny_model, prompts_file, out, url, *extra: str) -> int:
    return run(
        [
            "raft",
            "train",
            *("-m", str(tiny_model), "-p", str(prompts_file), "--verifier", "python"),
            *("-o", str(out), "--samples-per-prompt", "2", "--max-new-tokens", "8"),
            *("--reward-threshold", "0", "--keep-percent", "1", "--no-require-pass"),
            *("--generation-backend", "openai", "--base-url", url),
            *extra,
        ]
    )


def error_line(stderr: str) -> str:
    """The one error line (transformers' loading bars may precede it), no traceback."""
    assert "Traceback" not in stderr
    errors = [x for x in stderr.splitlines() if x.startswith("halo-forge: error: ")]
    assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
    return errors[0]


def kinds(events) -> list[str]:
    """Events with consecutive duplicate chats collapsed: ["chat:None", "load:...", ...]."""
    out: list[str] = []
    for e in events:
        k = f"{e[0]}:{e[1]}"
        if not (out and out[-1] == k and e[0] == "chat"):
            out.append(k)
    return out


def test_each_cycle_samples_the_previous_cycles_adapter(tiny_model, prompts_file, tmp_path):
    out = tmp_path / "run"
    name = f"halo-forge-{run_hash(out)}-cycle-"
    engine = RecordingEngine.load(str(tiny_model))
    with serve_in_thread(engine) as h:
        # cycle 1 samples the server's base model: nothing to load
        assert raft(tiny_model, prompts_file, out, h.url, "--cycles", "1") == 0
        assert kinds(engine.events) == ["chat:None"]
        assert len(engine.events) == 2  # one request (n=2) per prompt

        # resumed after cycle 1: cycle 1's adapter is loaded before cycle 2 samples; cycle 3
        # switches to cycle 2's adapter (the previous one unloaded); the end unloads the last
        engine.events.clear()
        assert raft(tiny_model, prompts_file, out, h.url, "--cycles", "3") == 0
        assert kinds(engine.events) == [
            f"load:{name}1",
            f"chat:{name}1",
            f"load:{name}2",
            f"unload:{name}1",
            f"chat:{name}2",
            f"unload:{name}2",
        ]
        loads = [e for e in engine.events if e[0] == "load"]
        assert [e[2] for e in loads] == [str((out / f"cycle_{c}_final").resolve()) for c in (1, 2)]
        assert engine.events.count(("chat", f"{name}1")) == 2
        assert engine.adapters() == {}  # nothing of ours stays loaded
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["cycle"] for m in metrics] == [1, 2, 3]
    assert all(m["samples"] == 4 for m in metrics)
    assert "generation_backend: openai" in (out / "config.yaml").read_text()


@pytest.fixture(scope="module")
def start_adapter(tiny_model, tmp_path_factory) -> Path:
    """A (zero-initialised) LoRA adapter of the tiny model, to start a run from."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("start") / "adapter"
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model),
        LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    model.save_pretrained(out)
    return out


def test_checkpoint_adapter_is_loaded_for_cycle_one(
    tiny_model, prompts_file, tmp_path, start_adapter
):
    out = tmp_path / "run"
    engine = RecordingEngine.load(str(tiny_model))
    with serve_in_thread(engine) as h:
        argv = ("--cycles", "1", "--checkpoint", str(start_adapter))
        assert raft(tiny_model, prompts_file, out, h.url, *argv) == 0
    name = f"halo-forge-{run_hash(out)}-checkpoint"
    assert kinds(engine.events) == [f"load:{name}", f"chat:{name}", f"unload:{name}"]
    assert engine.events[0][2] == str(start_adapter.resolve())


def test_server_without_lora_api(
    fake_server, tiny_model, prompts_file, tmp_path, capsys, start_adapter
):
    """Ollama-like (no runtime LoRA loading): one error line with the fix; or, with
    --no-load-adapters, every cycle samples the server's own model."""
    handle, engine = fake_server
    argv = ("--cycles", "1", "--checkpoint", str(start_adapter))
    assert raft(tiny_model, prompts_file, tmp_path / "a", handle.url, *argv) == 1
    err = error_line(capsys.readouterr().err)
    for needle in (handle.url, "cannot load LoRA adapters", "--enable-lora", "--no-load-adapters"):
        assert needle in err
    assert engine.calls == []  # nothing was sampled from the base by mistake

    out = tmp_path / "b"
    assert raft(tiny_model, prompts_file, out, handle.url, *argv, "--no-load-adapters") == 0
    assert "every cycle samples this model" in capsys.readouterr().out
    assert len(engine.calls) == 2 and all(c["n"] == 2 for c in engine.calls)
    assert (out / "cycle_1_final").is_dir()


def test_unreachable_server_fails_before_the_model_loads(
    tiny_model, prompts_file, tmp_path, capsys
):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "run"
    url = f"http://127.0.0.1:{port}/v1"
    assert raft(tiny_model, prompts_file, out, url, "--cycles", "1") == 1
    cap = capsys.readouterr()
    assert f"cannot reach the generation server at {url}" in error_line(cap.err)
    assert "Model loaded" not in cap.out and not (out / "cycle_1").exists()


def test_served_model_must_be_served(fake_server, tiny_model, prompts_file, tmp_path, capsys):
    handle, _ = fake_server
    out = tmp_path / "run"
    argv = ("--cycles", "1", "--served-model", "nope")
    assert raft(tiny_model, prompts_file, out, handle.url, *argv) == 2
    cap = capsys.readouterr()
    assert "serves fake-model, not --served-model nope" in error_line(cap.err)
    assert "Model loaded" not in cap.out
