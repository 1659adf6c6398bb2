"""The HTTP layer over a fake engine: OpenAI shapes, and every bad request is a JSON error."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

from halo_forge.serve.engine import trim_at_stop
from halo_forge.serve.server import MAX_N, parse_sampling


def connect(handle) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(urlparse(handle.url).hostname, handle.port, timeout=10)


def request(conn, method, path, body=None, raw: bytes | None = None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    payload = resp.read()
    assert resp.getheader("Content-Type") == "application/json"
    return resp.status, json.loads(payload)


def assert_error(status, payload, want_status, param=None):
    assert status == want_status, payload
    assert set(payload) == {"error"}
    err = payload["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"] and "Traceback" not in err["message"]
    if param is not None:
        assert err["param"] == param, err


CHAT = {"model": "whatever", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "path,method,body,raw,status,param",
    [
        ("/v1/chat/completions", "POST", None, b"{not json", 400, None),
        ("/v1/chat/completions", "POST", None, b"\xff\xfe", 400, None),
        ("/v1/chat/completions", "POST", [1, 2], None, 400, None),
        ("/v1/chat/completions", "POST", {"model": "m"}, None, 400, "messages"),
        ("/v1/chat/completions", "POST", {"messages": []}, None, 400, "messages"),
        ("/v1/chat/completions", "POST", {"messages": [{"content": "x"}]}, None, 400, "messages"),
        (
            "/v1/chat/completions",
            "POST",
            {"messages": [{"role": "user", "content": 3}]},
            None,
            400,
            "messages",
        ),
        ("/v1/chat/completions", "POST", {**CHAT, "n": 0}, None, 400, "n"),
        ("/v1/chat/completions", "POST", {**CHAT, "n": MAX_N + 1}, None, 400, "n"),
        ("/v1/chat/completions", "POST", {**CHAT, "n": 1.5}, None, 400, "n"),
        ("/v1/chat/completions", "POST", {**CHAT, "temperature": "hot"}, None, 400, "temperature"),
        ("/v1/chat/completions", "POST", {**CHAT, "temperature": 3}, None, 400, "temperature"),
        ("/v1/chat/completions", "POST", {**CHAT, "top_p": 1.5}, None, 400, "top_p"),
        ("/v1/chat/completions", "POST", {**CHAT, "max_tokens": 0}, None, 400, "max_tokens"),
        ("/v1/chat/completions", "POST", {**CHAT, "stop": ["a"] * 5}, None, 400, "stop"),
        ("/v1/chat/completions", "POST", {**CHAT, "stop": [1]}, None, 400, "stop"),
        ("/v1/chat/completions", "POST", {**CHAT, "seed": "x"}, None, 400, "seed"),
        ("/v1/chat/completions", "POST", {**CHAT, "stream": True}, None, 400, "stream"),
        ("/v1/chat/completions", "POST", {**CHAT, "logprobs": True}, None, 400, "logprobs"),
        ("/v1/completions", "POST", {"model": "m"}, None, 400, "prompt"),
        ("/v1/completions", "POST", {"prompt": [1, 2, 3]}, None, 400, "prompt"),
        ("/v1/nope", "POST", CHAT, None, 404, None),
        ("/", "GET", None, None, 404, None),
        ("/v1/models/other", "GET", None, None, 404, None),
        ("/v1/chat/completions", "GET", None, None, 405, None),
        ("/v1/models", "POST", {}, None, 405, None),
        ("/v1/models", "POST", None, b"{bad", 405, None),
        ("/v1/completions", "DELETE", None, None, 405, None),
    ],
)
def test_bad_requests_get_openai_errors(fake_server, path, method, body, raw, status, param):
    handle, engine = fake_server
    conn = connect(handle)
    assert_error(*request(conn, method, path, body, raw), status, param)
    # the connection survives the error (keep-alive) and the server still answers
    assert request(conn, "GET", "/v1/models")[0] == 200
    assert engine.calls == []


def test_missing_content_length_is_411(fake_server):
    handle, _ = fake_server
    conn = connect(handle)
    conn.putrequest("POST", "/v1/chat/completions")
    conn.endheaders()
    resp = conn.getresponse()
    assert_error(resp.status, json.loads(resp.read()), 411)


def test_engine_bug_is_500_json_and_server_lives_on(fake_server, capsys):
    handle, _ = fake_server
    conn = connect(handle)
    msgs = [{"role": "user", "content": "crash"}]
    status, payload = request(conn, "POST", "/v1/chat/completions", {"messages": msgs})
    assert_error(status, payload, 500)
    assert payload["error"]["type"] == "server_error"
    assert "engine bug" not in payload["error"]["message"]
    assert "RuntimeError: engine bug" in capsys.readouterr().err  # logged server-side
    assert request(conn, "POST", "/v1/chat/completions", CHAT)[0] == 200


def test_engine_request_error_is_400_with_code(fake_server):
    handle, _ = fake_server
    msgs = [{"role": "user", "content": "too long"}]
    status, payload = request(connect(handle), "POST", "/v1/chat/completions", {"messages": msgs})
    assert_error(status, payload, 400, "messages")
    assert payload["error"]["code"] == "context_length_exceeded"


def test_chat_shape_and_parameters_pass_through(fake_server):
    handle, engine = fake_server
    body = {
        **CHAT,
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "h"}, {"type": "text", "text": "i"}],
            },
        ],
        "n": 2,
        "max_tokens": 7,
        "temperature": 0,
        "top_p": 0.5,
        "stop": "```",
        "seed": 3,
    }
    status, out = request(connect(handle), "POST", "/v1/chat/completions", body)
    assert status == 200
    assert out["object"] == "chat.completion" and out["model"] == "fake-model"
    assert out["id"].startswith("chatcmpl-") and isinstance(out["created"], int)
    assert [c["index"] for c in out["choices"]] == [0, 1]
    assert out["choices"][1]["message"] == {"role": "assistant", "content": "hi#1"}
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    call = engine.calls[0]
    assert call["messages"][1] == {"role": "user", "content": "hi"}
    assert call["max_tokens"] == 7 and call["n"] == 2 and call["temperature"] == 0
    assert call["top_p"] == 0.5 and call["stop"] == ["```"] and call["seed"] == 3


def test_developer_role_is_system(fake_server):
    handle, engine = fake_server
    body = {"messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "u"}]}
    assert request(connect(handle), "POST", "/v1/chat/completions", body)[0] == 200
    assert engine.calls[0]["messages"][0] == {"role": "system", "content": "d"}


def test_completions_with_several_prompts(fake_server):
    handle, _ = fake_server
    body = {"prompt": ["a", "b"], "n": 2}
    status, out = request(connect(handle), "POST", "/v1/completions", body)
    assert status == 200 and out["object"] == "text_completion"
    assert [(c["index"], c["text"]) for c in out["choices"]] == [
        (0, "a#0"),
        (1, "a#1"),
        (2, "b#0"),
        (3, "b#1"),
    ]
    assert out["usage"]["prompt_tokens"] == 6


def test_models_and_health(fake_server):
    handle, _ = fake_server
    conn = connect(handle)
    status, out = request(conn, "GET", "/v1/models")
    assert status == 200 and out["object"] == "list"
    assert [m["id"] for m in out["data"]] == ["fake-model"]
    assert request(conn, "GET", "/v1/models/fake-model")[1]["object"] == "model"
    assert request(conn, "GET", "/health")[1] == {"status": "ok", "model": "fake-model"}
    assert handle.url == f"http://127.0.0.1:{handle.port}/v1"


def test_sampling_defaults():
    s = parse_sampling({})
    assert (s.max_tokens, s.temperature, s.top_p, s.n, s.stop, s.seed) == (
        256,
        1.0,
        1.0,
        1,
        None,
        None,
    )
    assert parse_sampling({"max_completion_tokens": 5}).max_tokens == 5
    assert 0 < parse_sampling({"top_p": 0}).top_p < 1e-6  # top-1, not a division of nothing


@pytest.mark.parametrize(
    "text,stops,want",
    [
        ("abc```def", ["```"], ("abc", True)),
        ("abcdef", ["x"], ("abcdef", False)),
        ("a-b+c", ["+", "-"], ("a", True)),
        ("abc", [], ("abc", False)),
    ],
)
def test_trim_at_stop(text, stops, want):
    assert trim_at_stop(text, stops) == want


def test_close_frees_the_port(own_fake_server):
    from halo_forge.serve.server import check_port, serve_in_thread

    handle, engine = own_fake_server
    port = handle.port
    handle.close()
    check_port("127.0.0.1", port)  # no ConfigError: the port is free again
    with serve_in_thread(engine, port=port) as again:
        assert request(connect(again), "GET", "/v1/models")[0] == 200
