"""RAFT's generation backends without a model: settings and their errors, vLLM's mapping (no
vLLM needed), the LoRA load/unload client, and what a resumed run accepts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from halo_forge.cli.main import run
from halo_forge.config import RaftConfig, resolve
from halo_forge.errors import ConfigError
from halo_forge.generation.base import SamplingParams
from halo_forge.generation.openai_backend import GenerationError, LoraAdapters, OpenAIGenerator
from halo_forge.generation.vllm_backend import (
    VLLMGenerator,
    build_requests,
    llm_kwargs,
    max_lora_rank,
    sampling_kwargs,
    to_sample,
)
from halo_forge.types import Problem

URL = "http://127.0.0.1:8000/v1"

# --- settings ------------------------------------------------------------------------------


def cfg(**kw) -> RaftConfig:
    return RaftConfig(prompts="basic_python", **kw)


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"generation_backend": "tgi"}, "--generation-backend must be one of hf, openai, vllm"),
        ({"generation_backend": "openai"}, "needs --base-url"),
        ({"generation_backend": "openai", "base_url": "localhost:8000"}, "http:// or https://"),
        ({"generation_backend": "openai", "base_url": URL, "concurrency": 0}, "--concurrency"),
        ({"base_url": URL}, "--base-url is only used with --generation-backend openai"),
        ({"served_model": "m"}, "--served-model is only used with --generation-backend openai"),
        ({"load_adapters": False}, "--no-load-adapters is only used with"),
    ],
)
def test_bad_backend_settings(kw, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        cfg(**kw).validate()


def test_good_backend_settings():
    cfg().validate()
    cfg(generation_backend="openai", base_url=URL, served_model="m", load_adapters=False).validate()


def test_vllm_missing_names_the_install_doc(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError
    with pytest.raises(ConfigError) as e:
        cfg(generation_backend="vllm").validate()
    msg = str(e.value)
    assert "import vllm" in msg and "Faster generation: vLLM or a server" in msg
    assert "--generation-backend openai" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--generation-backend", "openai"], "needs --base-url"),
        (["--base-url", URL], "--base-url is only used with --generation-backend openai"),
        (["--generation-backend", "openai", "--base-url", "ftp://x"], "http:// or https://"),
    ],
)
def test_cli_errors_are_one_line(args, needle, tmp_path, capsys):
    rc = run(["raft", "train", "-p", "basic_python", "-o", str(tmp_path / "r"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("halo-forge: error: ") and needle in err


def test_cli_vllm_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "vllm", None)
    argv = ["raft", "train", "-p", "basic_python", "--generation-backend", "vllm", "--dry-run"]
    assert run([*argv, "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Faster generation: vLLM or a server" in err


def test_yaml_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "generation:\n  backend: openai\n  base_url: http://h:1/v1\n  served_model: m\n"
        "  concurrency: 2\n  load_adapters: false\n"
    )
    c = resolve(RaftConfig, str(path), {"prompts": "basic_python"})
    assert (c.generation_backend, c.base_url, c.served_model) == ("openai", "http://h:1/v1", "m")
    assert (c.concurrency, c.load_adapters) == (2, False)
    path.write_text("generation_backend: openai\nbase_url: http://h:1/v1\n")
    c = resolve(RaftConfig, str(path), {})
    assert (c.generation_backend, c.base_url) == ("openai", "http://h:1/v1")


def test_resumed_run_accepts_new_settings_at_default_and_a_backend_change(tmp_path):
    import yaml

    from halo_forge.rlvr.raft import _fingerprint
    from halo_forge.rlvr.state import RunDir

    run_dir = RunDir(tmp_path)
    old = _fingerprint(cfg())
    new_keys = ("generation_backend", "base_url", "served_model", "concurrency", "load_adapters")
    for k in new_keys:  # a run started before these settings existed
        del old[k]
    tmp_path.joinpath("config.yaml").write_text(yaml.safe_dump(old))
    defaults = _fingerprint(RaftConfig())
    run_dir.check_config(_fingerprint(cfg()), defaults)
    # generation moved to a server (or back): same sampling settings, allowed
    served = cfg(generation_backend="openai", base_url=URL)
    run_dir.check_config(_fingerprint(served), defaults)
    with pytest.raises(ConfigError, match="other settings"):
        run_dir.check_config(_fingerprint(cfg(temperature=0.2)), defaults)


# --- vLLM's mapping (no vLLM needed) -------------------------------------------------------


def test_lora_rank_and_llm_kwargs():
    assert [max_lora_rank(r) for r in (1, 8, 9, 16, 64, 300)] == [8, 8, 16, 16, 64, 320]
    with pytest.raises(ValueError):
        max_lora_rank(1024)
    kw = llm_kwargs("/models/base", lora_rank=12, seed=3, dtype="bfloat16")
    assert kw["model"] == "/models/base" and kw["enable_lora"] is True
    assert (kw["max_lora_rank"], kw["seed"], kw["dtype"]) == (16, 3, "bfloat16")
    assert 0 < kw["gpu_memory_utilization"] < 0.9 and "max_model_len" not in kw


def test_sampling_kwargs_and_requests():
    params = SamplingParams(n=3, temperature=0.6, top_p=0.9, max_new_tokens=50, seed=7)
    assert sampling_kwargs(params, 3, 7) == {
        "n": 3,
        "temperature": 0.6,
        "top_p": 0.9,
        "max_tokens": 50,
        "seed": 7,
    }
    problems = [Problem(id="a", prompt="A?"), Problem(id="b", prompt="B?")]
    reqs = build_requests(problems, params, "sys", skip={("a", 1), ("b", 0), ("b", 1), ("b", 2)})
    assert len(reqs) == 1  # b is done
    r = reqs[0]
    assert (r.problem_index, r.indices) == (0, [0, 2])
    assert r.messages == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "A?"},
    ]
    assert r.sampling["n"] == 2 and r.sampling["seed"] == 7
    seeds = [q.sampling["seed"] for q in build_requests(problems, params, None)]
    assert seeds == [7, 7 + 7919]  # as the openai backend's


def completion(index, text, finish="stop", tokens=5):
    return SimpleNamespace(
        index=index, text=text, token_ids=list(range(tokens)), finish_reason=finish
    )


def test_to_sample():
    p = Problem(id="a", prompt="?")
    s = to_sample(p, 4, completion(0, "x\n```python\nprint(1)\n```\n", "length", 9))
    assert (s.problem_id, s.index, s.code, s.num_tokens) == ("a", 4, "print(1)", 9)
    assert s.finish_reason == "length"
    assert to_sample(p, 0, completion(0, "", None, 0)).finish_reason == "unknown"


class FakeLLM:
    """``LLM.chat`` returning canned outputs (in reverse index order, as vLLM may)."""

    def __init__(self):
        self.calls = []

    def chat(self, conversations, sampling_params, use_tqdm, lora_request):
        self.calls.append((conversations, sampling_params, lora_request))
        return [
            SimpleNamespace(
                outputs=[
                    completion(i, f"```python\nv = {i}\n```", "stop", 3)
                    for i in reversed(range(sp["n"]))
                ]
            )
            for sp in sampling_params
        ]


class FakeBar:
    def __init__(self):
        self.advanced = 0

    def add_task(self, *a, **kw):
        return "t"

    def advance(self, task, n):
        self.advanced += n


def test_vllm_generator_with_a_fake_llm():
    llm, bar, seen = FakeLLM(), FakeBar(), []
    gen = VLLMGenerator(
        llm,
        system_prompt=None,
        lora_request="LORA",
        progress=bar,
        progress_task="t",
        sampling_params_cls=dict,
    )
    problems = [Problem(id="a", prompt="A?"), Problem(id="b", prompt="B?")]
    groups, stats = gen.generate(problems, SamplingParams(n=2), seen.append, skip={("b", 0)})
    assert [[(s.problem_id, s.index, s.code) for s in g] for g in groups] == [
        [("a", 0, "v = 0"), ("a", 1, "v = 1")],
        [("b", 1, "v = 0")],
    ]
    assert stats.samples == 3 and stats.tokens == 9 and stats.finish_reasons == {"stop": 3}
    assert bar.advanced == 3 and [len(x) for x in seen] == [2, 1]
    conversations, sps, lora = llm.calls[0]
    assert lora == "LORA" and conversations[0] == [{"role": "user", "content": "A?"}]
    assert [sp["n"] for sp in sps] == [2, 1]


def test_vllm_for_real(request):
    pytest.importorskip("vllm", reason="vLLM is not installed (see the README: Faster generation)")
    tiny_model = request.getfixturevalue("tiny_model")
    llm = VLLMGenerator.load_llm(str(tiny_model), gpu_memory_utilization=0.3, max_model_len=256)
    groups, stats = VLLMGenerator(llm).generate(
        [Problem(id="a", prompt="Write add.")], SamplingParams(n=2, max_new_tokens=8)
    )
    assert [s.index for s in groups[0]] == [0, 1] and stats.tokens > 0


# --- the LoRA client and the openai generator's extras --------------------------------------


def lora_server(answers):
    """An httpx transport answering POSTs from ``answers`` (a list of (status, body)) in order."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        status, body = answers.pop(0)
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)

    return httpx.MockTransport(handle), seen


def test_lora_load_and_unload():
    transport, seen = lora_server(
        [(200, "Success: LoRA adapter 'a' added successfully."), (200, "")]
    )
    client = LoraAdapters(URL + "/", transport=transport)
    client.load("a", "/runs/x/cycle_1_final")
    assert client.unload("a") is None
    assert seen == [
        ("/v1/load_lora_adapter", {"lora_name": "a", "lora_path": "/runs/x/cycle_1_final"}),
        ("/v1/unload_lora_adapter", {"lora_name": "a"}),
    ]


def test_lora_already_loaded_is_replaced():
    already = {"object": "error", "message": "The lora adapter 'a' has already been loaded."}
    transport, seen = lora_server([(400, already), (200, "ok"), (200, "ok")])
    LoraAdapters(URL, transport=transport).load("a", "/p")
    assert [p for p, _ in seen] == [
        "/v1/load_lora_adapter",
        "/v1/unload_lora_adapter",
        "/v1/load_lora_adapter",
    ]


@pytest.mark.parametrize(
    "status,body,needle",
    [
        (404, {"detail": "Not Found"}, "HTTP 404: Not Found"),  # vLLM without the env variable
        (400, {"error": {"message": "LoRA is not enabled"}}, "HTTP 400: LoRA is not enabled"),
        (500, "boom", "HTTP 500: boom"),
    ],
)
def test_lora_load_failures_are_one_line_with_the_fix(status, body, needle):
    transport, _ = lora_server([(status, body)])
    with pytest.raises(GenerationError) as e:
        LoraAdapters(URL, transport=transport).load("a", "/p")
    msg = str(e.value)
    assert "\n" not in msg and URL in msg and needle in msg and "/p" in msg
    assert "--enable-lora" in msg and "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True" in msg


def test_lora_unload_failure_is_a_warning_and_unreachable_is_an_error():
    transport, _ = lora_server([(404, {"message": "The lora adapter 'a' cannot be found."})])
    warning = LoraAdapters(URL, transport=transport).unload("a")
    assert warning and "cannot be found" in warning

    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = LoraAdapters(URL, transport=httpx.MockTransport(refuse))
    with pytest.raises(GenerationError, match="cannot reach the generation server"):
        client.load("a", "/p")
    assert "cannot reach" in (client.unload("a") or "")


class OneClient:
    """An openai client stand-in answering every request with ``model`` and n choices."""

    def __init__(self, model: str):
        self.model, self.calls = model, []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    def create(self, **kw):
        self.calls.append(kw)
        choices = [
            SimpleNamespace(index=i, message=SimpleNamespace(content="x"), finish_reason="stop")
            for i in range(kw["n"])
        ]
        return SimpleNamespace(
            model=self.model, choices=choices, usage=SimpleNamespace(completion_tokens=kw["n"])
        )


def test_openai_generator_skip_progress_task_and_model_check():
    bar = FakeBar()
    gen = OpenAIGenerator(URL, "ad", client=OneClient("ad"), progress=bar, progress_task="t")
    groups, stats = gen.generate(
        [Problem(id="a", prompt="?"), Problem(id="b", prompt="?")],
        SamplingParams(n=3),
        skip={("a", 0), ("b", 0), ("b", 1), ("b", 2)},
    )
    assert [[s.index for s in g] for g in groups] == [[1, 2], []]
    assert stats.samples == 2 and bar.advanced == 2

    lost = OpenAIGenerator(URL, "ad", client=OneClient("base"), check_model=True)
    with pytest.raises(GenerationError, match="no longer loaded"):
        lost.generate([Problem(id="a", prompt="?")], SamplingParams(n=1))


def test_no_load_adapters_samples_the_served_model(tmp_path: Path):
    from halo_forge.rlvr.generators import ServerCycles

    plan = SimpleNamespace(
        config=cfg(generation_backend="openai", base_url=URL, load_adapters=False),
        run=SimpleNamespace(root=tmp_path, final_dir=lambda c: tmp_path / f"cycle_{c}_final"),
        model=SimpleNamespace(adapter=None),
    )
    cycles = ServerCycles(plan, client=SimpleNamespace(models=None))
    cycles.base_model = "served"
    assert cycles.use(3) == ("served", False)
    assert cycles._adapters is None  # no LoRA call was made
