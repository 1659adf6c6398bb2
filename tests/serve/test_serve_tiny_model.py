"""The real engine on a tiny random Llama, spoken to by the ``openai`` client."""

from __future__ import annotations

import threading

import openai
import pytest

pytestmark = pytest.mark.integration

USER = [{"role": "user", "content": "Write add(a, b)."}]


@pytest.fixture()
def client(tiny_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=tiny_server.url, api_key="none", max_retries=0, timeout=30)


def test_models_list(client, tiny_model):
    assert [m.id for m in client.models.list().data] == [tiny_model.name]


def test_chat_n_choices_and_usage(client, tiny_engine):
    r = client.chat.completions.create(
        model="anything", messages=USER, max_tokens=8, n=3, temperature=1.0, seed=1
    )
    assert r.object == "chat.completion" and r.model == tiny_engine.model_id
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert all(c.message.role == "assistant" for c in r.choices)
    assert all(c.finish_reason in ("stop", "length") for c in r.choices)
    prompt = tiny_engine.tokenizer.apply_chat_template(
        USER, tokenize=False, add_generation_prompt=True
    )
    assert r.usage.prompt_tokens == len(tiny_engine.tokenizer(prompt).input_ids)
    assert 0 < r.usage.completion_tokens <= 3 * 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_seed_and_greedy_are_reproducible(client):
    def ask(**kw):
        r = client.chat.completions.create(model="m", messages=USER, max_tokens=8, **kw)
        return [c.message.content for c in r.choices]

    assert ask(seed=7, n=2) == ask(seed=7, n=2)
    assert ask(temperature=0) == ask(temperature=0)


def test_stop_string_ends_and_is_trimmed(client):
    def greedy(**kw):
        r = client.completions.create(model="m", prompt="def", max_tokens=12, temperature=0, **kw)
        return r.choices[0]

    full = greedy().text
    stop = full.strip()[2:4]
    assert stop, f"greedy output too short to pick a stop string: {full!r}"
    cut = greedy(stop=[stop])
    assert cut.text == full[: full.find(stop)]
    assert cut.finish_reason == "stop"


def test_too_long_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="m", messages=USER, max_tokens=100_000)
    assert e.value.code == "context_length_exceeded"
    assert "maximum context length is 512" in e.value.message


def test_stream_is_a_clear_400(client):
    with pytest.raises(openai.BadRequestError, match="streaming is not supported"):
        client.chat.completions.create(model="m", messages=USER, max_tokens=4, stream=True)


def test_concurrent_requests_all_answered(client):
    results: list[int] = []

    def ask() -> None:
        r = client.chat.completions.create(model="m", messages=USER, max_tokens=6, n=2)
        results.append(len(r.choices))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [2, 2, 2, 2]
