"""Runtime LoRA adapters in ``halo-forge serve`` (vLLM's /v1/load_lora_adapter API): the engine
samples with a named adapter, the HTTP layer speaks vLLM's request/response shapes."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from halo_forge.serve.engine import EngineRequestError, HFEngine
from halo_forge.serve.server import serve_in_thread

pytestmark = pytest.mark.integration

MSGS = [{"role": "user", "content": "Write add(a, b)."}]
GREEDY = dict(max_tokens=10, temperature=0.0, top_p=1.0, n=1, stop=None, seed=0)


def make_adapter(base: Path, out: Path, *, scale: float = 0.5, seed: int = 0) -> Path:
    """A LoRA adapter of ``base`` whose B matrices are non-zero (so it changes the outputs)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base),
        LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, scale)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    return make_adapter(tiny_model, tmp_path_factory.mktemp("adapter") / "a1")


@pytest.fixture()
def engine(tiny_model) -> HFEngine:
    return HFEngine.load(str(tiny_model))  # its own: adapters change it


def text(completions) -> str:
    return completions[0].text


def test_engine_samples_with_the_named_adapter_and_base_without(engine, adapter):
    base = text(engine.chat(MSGS, **GREEDY))
    engine.load_adapter("a1", str(adapter))
    assert engine.adapters() == {"a1": str(adapter.resolve())}
    with_adapter = text(engine.chat(MSGS, **GREEDY, adapter="a1"))
    assert with_adapter != base, "a non-zero adapter must change greedy outputs"
    assert text(engine.chat(MSGS, **GREEDY)) == base  # no adapter named: the base model
    engine.load_adapter("a2", str(adapter))  # a second one; switching between them
    assert text(engine.chat(MSGS, **GREEDY, adapter="a2")) == with_adapter
    engine.unload_adapter("a2")
    assert text(engine.chat(MSGS, **GREEDY, adapter="a1")) == with_adapter
    engine.unload_adapter("a1")  # the last one: back to the plain model
    assert engine.adapters() == {}
    assert text(engine.chat(MSGS, **GREEDY)) == base
    with pytest.raises(EngineRequestError, match="does not exist") as e:
        engine.chat(MSGS, **GREEDY, adapter="a1")
    assert e.value.status == 404


def test_engine_rejects_what_is_not_an_adapter(engine, tiny_model, tmp_path, adapter):
    base = text(engine.chat(MSGS, **GREEDY))
    for path, needle in [
        (tiny_model, "has no adapter_config.json"),
        (tmp_path / "nope", "does not exist"),
    ]:
        with pytest.raises(EngineRequestError, match=needle):
            engine.load_adapter("x", str(path))
    # an adapter of another model (other shapes): refused, the model left as it was
    bad = tmp_path / "other"
    bad.mkdir()
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps(cfg))
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(adapter / "adapter_model.safetensors")
    save_file(
        {k: torch.zeros(v.shape[0], v.shape[1] + 3) for k, v in weights.items()},
        bad / "adapter_model.safetensors",
    )
    with pytest.raises(EngineRequestError, match="is it an adapter of this model"):
        engine.load_adapter("x", str(bad))
    assert engine.adapters() == {}
    assert text(engine.chat(MSGS, **GREEDY)) == base
    with pytest.raises(EngineRequestError, match="base model's name"):
        engine.load_adapter(engine.model_id, str(adapter))


def post(handle, path: str, body: dict) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection(urlparse(handle.url).hostname, handle.port, timeout=30)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type"), r.read().decode()


def get(handle, path: str) -> dict:
    conn = http.client.HTTPConnection(urlparse(handle.url).hostname, handle.port, timeout=30)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


def assert_openai_error(status, ctype, body, want, needle):
    assert status == want, body
    assert ctype == "application/json"
    err = json.loads(body)["error"]
    assert set(err) == {"message", "type", "param", "code"} and needle in err["message"]


def test_http_load_use_list_unload(engine, adapter, tiny_model):
    with serve_in_thread(engine) as h:
        load = {"lora_name": "cyc1", "lora_path": str(adapter)}
        status, ctype, body = post(h, "/v1/load_lora_adapter", load)
        assert (status, ctype) == (200, "text/plain")
        assert body == "Success: LoRA adapter 'cyc1' added successfully."  # vLLM's text
        assert_openai_error(*post(h, "/v1/load_lora_adapter", load), 400, "already been loaded")

        models = get(h, "/v1/models")["data"]
        assert [m["id"] for m in models] == [tiny_model.name, "cyc1"]
        assert models[1]["parent"] == tiny_model.name and models[1]["root"] == str(adapter)
        assert get(h, "/v1/models/cyc1")["id"] == "cyc1"

        chat = {"messages": MSGS, "max_tokens": 10, "temperature": 0}
        _, _, base = post(h, "/v1/chat/completions", {**chat, "model": tiny_model.name})
        _, _, tuned = post(h, "/v1/chat/completions", {**chat, "model": "cyc1"})
        base, tuned = json.loads(base), json.loads(tuned)
        assert base["model"] == tiny_model.name and tuned["model"] == "cyc1"
        assert base["choices"][0]["message"] != tuned["choices"][0]["message"]
        _, _, comp = post(h, "/v1/completions", {"prompt": "def", "model": "cyc1", "max_tokens": 2})
        assert json.loads(comp)["model"] == "cyc1"

        status, _, body = post(h, "/v1/unload_lora_adapter", {"lora_name": "cyc1"})
        assert (status, body) == (200, "Success: LoRA adapter 'cyc1' removed successfully.")
        assert_openai_error(
            *post(h, "/v1/unload_lora_adapter", {"lora_name": "cyc1"}), 404, "cannot be found"
        )
        assert [m["id"] for m in get(h, "/v1/models")["data"]] == [tiny_model.name]


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"lora_name": "x"}, "Both 'lora_name' and 'lora_path'"),
        ({"lora_path": "/tmp"}, "Both 'lora_name' and 'lora_path'"),
        ({"lora_name": "x", "lora_path": "/definitely/not/here"}, "not a peft LoRA adapter"),
    ],
)
def test_http_bad_load_requests(engine, body, needle):
    with serve_in_thread(engine) as h:
        assert_openai_error(*post(h, "/v1/load_lora_adapter", body), 400, needle)


def test_http_engine_without_adapters(fake_server):
    handle, _ = fake_server
    status, ctype, body = post(
        handle, "/v1/load_lora_adapter", {"lora_name": "a", "lora_path": "/"}
    )
    assert_openai_error(status, ctype, body, 400, "cannot load LoRA adapters")
