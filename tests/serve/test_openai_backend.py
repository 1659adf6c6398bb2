"""The ``openai`` generation backend: against a fake client, our server, and via benchmark run."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from halo_forge.cli.main import run
from halo_forge.generation.base import SamplingParams
from halo_forge.generation.openai_backend import (
    GenerationError,
    OpenAIGenerator,
    served_models,
    split_tokens,
)
from halo_forge.types import Problem

PROBLEMS = [Problem(id="a", prompt="Write add."), Problem(id="b", prompt="Write sub.")]
ANSWER = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n"


class FakeClient:
    """``client.chat.completions.create`` that returns at most ``cap`` choices per call."""

    def __init__(self, cap: int = 100, error: Exception | None = None):
        self.cap, self.error, self.calls = cap, error, []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    def create(self, **kw):
        self.calls.append(kw)
        if self.error:
            raise self.error
        k = min(kw["n"], self.cap)
        choices = [
            SimpleNamespace(
                index=i,
                message=SimpleNamespace(content=ANSWER if i % 2 == 0 else "no code"),
                finish_reason="stop" if i % 2 == 0 else "length",
            )
            for i in range(k)
        ]
        return SimpleNamespace(choices=choices, usage=SimpleNamespace(completion_tokens=10 * k))


def gen(client, **kw) -> OpenAIGenerator:
    return OpenAIGenerator("http://fake/v1", "m", client=client, concurrency=2, **kw)


def test_samples_grouped_in_order_with_code_and_stats():
    client = FakeClient()
    seen = []
    groups, stats = gen(client, system_prompt="sys").generate(
        PROBLEMS, SamplingParams(n=3, temperature=0.5, max_new_tokens=9, seed=1), seen.append
    )
    assert [[s.problem_id for s in g] for g in groups] == [["a"] * 3, ["b"] * 3]
    assert [s.index for s in groups[0]] == [0, 1, 2]
    assert groups[0][0].code == "def add(a, b):\n    return a + b"
    assert groups[0][0].finish_reason == "stop" and groups[0][1].finish_reason == "length"
    assert stats.samples == 6 and stats.tokens == 60
    assert stats.finish_reasons == {"stop": 4, "length": 2}
    assert sorted(len(b) for b in seen) == [3, 3]
    call = client.calls[0]
    assert call["messages"][0] == {"role": "system", "content": "sys"}
    assert (call["model"], call["max_tokens"], call["temperature"]) == ("m", 9, 0.5)
    assert sorted(c["seed"] for c in client.calls) == [1, 1 + 7919]


def test_server_ignoring_n_is_asked_again():
    client = FakeClient(cap=1)  # like llama.cpp: one choice whatever n says
    groups, _ = gen(client).generate(PROBLEMS[:1], SamplingParams(n=3))
    assert [s.index for s in groups[0]] == [0, 1, 2]
    assert [c["n"] for c in client.calls] == [3, 2, 1]
    assert len({c["seed"] for c in client.calls}) == 3


def test_large_n_is_chunked():
    client = FakeClient()
    groups, _ = gen(client, max_n_per_request=4).generate(PROBLEMS[:1], SamplingParams(n=10))
    assert len(groups[0]) == 10
    assert [c["n"] for c in client.calls] == [4, 4, 2]


@pytest.mark.parametrize(
    "total,lengths,want",
    [
        (10, [1, 1], [5, 5]),
        (10, [3, 1], [8, 2]),
        (7, [0, 0, 0], [3, 2, 2]),
        (5, [5], [5]),
        (0, [2, 3], [0, 0]),
        (3, [], []),
    ],
)
def test_split_tokens(total, lengths, want):
    assert split_tokens(total, lengths) == want
    assert sum(want) == (total if lengths else 0)


@pytest.mark.parametrize(
    "prompt,needles",
    [
        ("too long", ["HTTP 400", "prompt too long"]),
        ("crash", ["HTTP 500", "internal server error"]),
    ],
)
def test_server_errors_become_one_line(fake_server, prompt, needles):
    handle, _ = fake_server
    g = OpenAIGenerator(handle.url, "m", max_retries=0)
    with pytest.raises(GenerationError) as e:
        g.generate([Problem(id="x", prompt=prompt)], SamplingParams(n=1))
    msg = str(e.value)
    assert "\n" not in msg and handle.url in msg
    for n in needles:
        assert n in msg


def test_timeout_is_one_line(fake_server):
    handle, _ = fake_server
    g = OpenAIGenerator(handle.url, "m", max_retries=0, timeout=0.2)
    with pytest.raises(GenerationError, match="did not answer within 0.2 s"):
        g.generate([Problem(id="x", prompt="slow")], SamplingParams(n=1))


def test_against_our_server_over_http(fake_server):
    handle, engine = fake_server
    g = OpenAIGenerator(handle.url, "fake-model", max_retries=0)
    groups, stats = g.generate(PROBLEMS, SamplingParams(n=2, temperature=0.0, seed=5))
    assert [s.completion for s in groups[1]] == ["Write sub.#0", "Write sub.#1"]
    assert stats.tokens == 8  # 2 tokens x 2 choices x 2 problems
    assert {c["n"] for c in engine.calls} == {2}
    assert served_models(handle.url) == ["fake-model"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(GenerationError, match=f"cannot reach the generation server at {url}"):
        OpenAIGenerator(url, "m", max_retries=0).generate(PROBLEMS, SamplingParams(n=1))


# --- benchmark run --backend openai -------------------------------------------------------


def bench(*args: str) -> int:
    return run(["benchmark", "run", "--samples", "2", "--k", "1,2", *args])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("halo-forge: error: "), err
    return err[0]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--backend", "openai"], "--backend openai needs --base-url"),
        (["--base-url", "http://127.0.0.1:1/v1"], "add --backend openai"),
        (["--backend", "nope"], "--backend must be one of hf, openai"),
        (["--backend", "openai", "--base-url", "127.0.0.1:8000"], "must start with http://"),
        (
            ["--backend", "openai", "--base-url", "http://x/v1", "--checkpoint", "c"],
            "halo-forge serve --checkpoint",
        ),
        (
            ["--backend", "openai", "--base-url", "http://x/v1", "--concurrency", "0"],
            "--concurrency",
        ),
    ],
)
def test_backend_config_errors(args, needle, capsys):
    assert bench("-p", "basic_python:test", *args) == 2
    assert needle in one_error_line(capsys)


def test_unreachable_server_is_one_line(capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    rc = bench("-p", "basic_python:test", "--backend", "openai", "--base-url", url, "-m", "x")
    assert rc == 1
    assert f"cannot reach the generation server at {url}" in one_error_line(capsys)


@pytest.mark.integration
def test_benchmark_through_our_server(tiny_server, tiny_model, prompts_file, tmp_path):
    out = tmp_path / "results.json"
    rc = bench(
        "-p", str(prompts_file), "--verifier", "python", "--backend", "openai",
        "--base-url", tiny_server.url, "--max-new-tokens", "8", "-o", str(out),
    )  # fmt: skip
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["model"] == tiny_model.name  # discovered from /v1/models
    assert res["num_problems"] == 2 and res["samples_per_problem"] == 2
    assert set(res["pass_at_k"]) == {"1", "2"}
    assert sum(p["n"] for p in res["problems"]) == 4
    assert res["settings"]["backend"] == "openai"
    assert res["settings"]["base_url"] == tiny_server.url
    assert 0 < res["timing"]["generated_tokens"] <= 4 * 8


@pytest.mark.integration
def test_server_rejection_is_one_line(tiny_server, prompts_file, capsys):
    rc = bench(
        "-p", str(prompts_file), "--verifier", "python", "--backend", "openai",
        "--base-url", tiny_server.url, "--max-new-tokens", "100000",
    )  # fmt: skip
    assert rc == 1
    line = one_error_line(capsys)
    assert tiny_server.url in line and "HTTP 400" in line and "maximum context length" in line
