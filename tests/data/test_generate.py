"""``halo-forge data generate``: parsing and checks (pure), then the real CLI against
``halo-forge serve`` on loopback — a scripted engine with canned answers, and the tiny random
model behind ``HFEngine`` — and the CLI's one-line errors."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from halo_forge.cli.main import run
from halo_forge.data.generate import (
    GenerateConfig,
    Reject,
    build_messages,
    check_draft,
    extract_json,
    load_existing,
    parse_draft,
    prompt_key,
    resolve_endpoint,
)
from halo_forge.data.prompts import read_problems_jsonl
from halo_forge.data.topics import TOPICS
from halo_forge.errors import ConfigError
from halo_forge.serve import Completion, EngineRequestError, serve_in_thread

PY = TOPICS["python_basics"]
CPP = TOPICS["cpp_stdin"]


# --- pure: parsing ------------------------------------------------------------------------------


def test_extract_json_tolerates_fences_prose_and_think():
    obj = {"prompt": "p {x}", "solution": "def f():\n    return '}'", "tests": []}
    raw = json.dumps(obj)
    assert extract_json(raw) == obj
    assert extract_json(f"Here you go:\n```json\n{raw}\n```\nEnjoy!") == obj
    assert extract_json(f"```\n{raw}\n```") == obj
    assert extract_json(f"Sure. {raw} Hope it helps {{not json}}") == obj
    assert extract_json(f'<think>maybe {{"prompt": 1}}</think>\n{raw}') == obj
    # a raw newline inside a string (invalid strict JSON) is accepted
    assert extract_json('{"prompt": "line1\nline2"}') == {"prompt": "line1\nline2"}
    assert extract_json("no object here [1, 2]") is None
    assert extract_json("") is None


def _answer(**fields) -> str:
    base = {
        "prompt": "Write a Python function `add_seven(x)` that returns x plus 7.",
        "entry_point": "add_seven",
        "solution": "def add_seven(x):\n    return x + 7\n",
        "tests": ["assert add_seven(1) == 8", "assert add_seven(-7) == 0"],
    }
    base.update(fields)
    return json.dumps(base)


def _reason(text: str, topic=PY, finish: str | None = "stop") -> str:
    with pytest.raises(Reject) as e:
        check_draft(parse_draft(text, finish, topic), topic)
    return e.value.reason


def test_parse_draft_and_check_draft_accept_a_good_answer():
    d = check_draft(parse_draft(_answer(), "stop", PY), PY)
    assert d.entry_point == "add_seven" and len(d.tests) == 2
    fenced = _answer(solution="```python\ndef add_seven(x):\n    return x + 7\n```")
    assert parse_draft(fenced, "stop", PY).solution == "def add_seven(x):\n    return x + 7"
    as_string = _answer(tests="assert add_seven(1) == 8\nassert add_seven(2) == 9\n")
    assert parse_draft(as_string, "stop", PY).tests == [
        "assert add_seven(1) == 8",
        "assert add_seven(2) == 9",
    ]


@pytest.mark.parametrize(
    "text,finish,reason",
    [
        ("I cannot do that.", "stop", "unparseable"),
        ('{"prompt": "Write a', "length", "truncated"),
        (json.dumps({"prompt": "x", "tests": []}), "stop", "bad_fields"),
        (_answer(tests={"a": 1}), "stop", "bad_fields"),
        (_answer(entry_point="class"), "stop", "bad_entry_point"),
        (_answer(tests=["assert add_seven(1 == 8", "assert add_seven(2) == 9"]), None, "bad_tests"),
        (_answer(tests=["x = add_seven(1)", "assert add_seven(2) == 9"]), None, "bad_tests"),
        (
            _answer(tests=["assert 1 == 1", "assert add_seven(2) == 9"]),
            None,
            "test_skips_entry_point",
        ),
        (_answer(tests=["assert add_seven(1) == 8"] * 3), None, "too_few_tests"),
        (_answer(prompt="Add seven to a number."), None, "prompt_skips_entry_point"),
    ],
)
def test_rejects_have_reasons(text, finish, reason):
    assert _reason(text, finish=finish) == reason


def test_io_checks():
    good = {
        "prompt": "Read two integers, print their sum.",
        "solution": "int main(){}",
        "tests": [{"input": "1 2\n", "output": 3}, {"input": "2 2", "output": "4\n"}],
    }
    d = check_draft(parse_draft(json.dumps(good), "stop", CPP), CPP)
    assert d.io_tests == [{"input": "1 2\n", "output": "3"}, {"input": "2 2", "output": "4\n"}]
    same = dict(good, tests=[{"input": "1", "output": "YES\n"}, {"input": "2", "output": "YES"}])
    assert _reason(json.dumps(same), CPP) == "vacuous_tests"
    one = dict(good, tests=[{"input": "1", "output": "1"}, {"input": "1", "output": "1"}])
    assert _reason(json.dumps(one), CPP) == "too_few_tests"
    assert _reason(json.dumps(dict(good, tests=["1 2 -> 3"])), CPP) == "bad_fields"


def test_prompt_key_ignores_case_spacing_punctuation_and_answer_format():
    a = "Write a Python function `f(x)`  that doubles x."
    assert prompt_key(a) == prompt_key("write a python function F(x) that doubles X")
    assert prompt_key(f"{a}\n{PY.answer_format}") == prompt_key(a)
    assert prompt_key(a) != prompt_key("Write a Python function `f(x)` that triples x.")


def test_build_messages_names_subject_schema_and_recent_prompts():
    msgs = build_messages(PY, "digits of a number", "hard", ["Write `g(x)`...\nmore"])
    user = msgs[-1]["content"]
    assert msgs[0]["role"] == "system" and "JSON" in msgs[0]["content"]
    for needle in ('"entry_point"', '"tests"', "hard Python", "digits of a number", "- Write"):
        assert needle in user
    io = build_messages(CPP, "sorting", "easy")[-1]["content"]
    assert '"input"' in io and "C++17" in io and "entry_point" not in io


# --- pure: config and endpoints -----------------------------------------------------------------


def _cfg(**kw) -> GenerateConfig:
    base = dict(topic="python_basics", backend="deepseek", model="m", count=3, output="o.jsonl")
    return GenerateConfig(**{**base, **kw})


def test_endpoints_keys_and_overrides():
    with pytest.raises(ConfigError, match="set DEEPSEEK_API_KEY"):
        resolve_endpoint(_cfg(), env={})
    e = resolve_endpoint(_cfg(), env={"DEEPSEEK_API_KEY": "sk"})
    assert (e.base_url, e.api_key, e.json_mode) == ("https://api.deepseek.com/v1", "sk", True)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        resolve_endpoint(_cfg(backend="openai"), env={})
    # the OpenAI protocol at another URL (halo-forge serve, a proxy): the key is optional
    e = resolve_endpoint(_cfg(backend="openai", base_url="http://h:1/v1/"), env={})
    assert (e.base_url, e.api_key) == ("http://h:1/v1", "not-needed")
    e = resolve_endpoint(_cfg(backend="openai", base_url="http://h:1/v1"), {"OPENAI_API_KEY": "k"})
    assert e.api_key == "k"
    e = resolve_endpoint(_cfg(backend="vllm", base_url="http://h:1/v1/"), env={})
    assert (e.base_url, e.json_mode) == ("http://h:1/v1", False) and e.api_key
    assert resolve_endpoint(_cfg(backend="ollama"), env={}).base_url.endswith(":11434/v1")


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"count": 0}, "--count must be a positive"),
        ({"count": -3}, "got -3"),
        ({"count": None}, "--count"),
        ({"topic": "klingon"}, "unknown topic 'klingon'"),
        ({"backend": "bard"}, "unknown --backend"),
        ({"model": None}, "--model is required"),
        ({"output": None}, "--output is required"),
        ({"base_url": "localhost:8000"}, "http://"),
        ({"concurrency": 0}, "--concurrency"),
        ({"temperature": 3.0}, "--temperature"),
    ],
)
def test_config_errors(kw, needle):
    with pytest.raises(ConfigError, match=None) as e:
        _cfg(**kw).validate()
    assert needle in str(e.value)


def test_load_existing_repairs_a_cut_last_line(tmp_path):
    p = tmp_path / "out.jsonl"
    row = {"id": "python_basics/0000", "prompt": "P", "metadata": {"topic": "python_basics"}}
    other = {"id": "x", "prompt": "Q", "metadata": {"topic": "cpp_stdin"}}
    p.write_text(json.dumps(row) + "\n" + json.dumps(other) + "\n" + '{"id": "python_ba')
    ex = load_existing(p, PY)
    assert "incomplete last line" in ex.repaired
    assert (ex.topic_rows, ex.ids) == (1, {"python_basics/0000", "x"})
    assert p.read_text().endswith("}\n") and len(p.read_text().splitlines()) == 2
    p.write_text(json.dumps(row))  # a complete row without its newline is kept
    assert load_existing(p, PY).topic_rows == 1 and p.read_text().endswith("}\n")


# --- against the real server --------------------------------------------------------------------


class ScriptedEngine:
    """The serve ``Engine`` protocol with canned answers, in order (then "no more")."""

    model_id = "scripted"

    def __init__(self, answers: list[str | Exception]):
        self.answers = list(answers)
        self.requests: list[list[dict]] = []
        self.lock = threading.Lock()

    def chat(self, messages, *, max_tokens, temperature, top_p, n, stop, seed):
        with self.lock:
            self.requests.append(messages)
            text = self.answers.pop(0) if self.answers else "no more answers"
        if isinstance(text, Exception):
            raise text
        return [Completion(text, "stop", 100, 50) for _ in range(n)]

    def complete(self, prompt, **kw):
        raise AssertionError("data generate uses chat")


def _py(fn: str, body: str, behaviour: str, tests: list[str], prompt: str | None = None) -> str:
    return json.dumps(
        {
            "prompt": prompt or f"Write a Python function `{fn}(x)` that {behaviour}.",
            "entry_point": fn,
            "solution": f"def {fn}(x):\n    {body}\n",
            "tests": tests,
        }
    )


ADD7 = _py(
    "add_seven",
    "return x + 7",
    "returns x plus 7",
    ["assert add_seven(1) == 8", "assert add_seven(0) == 7"],
)  # noqa: E501
SQUARE = (
    "Sure! Here it is:\n```json\n"
    + _py(
        "square",
        "return x * x",
        "returns x squared",
        ["assert square(3) == 9", "assert square(-2) == 4"],
    )
    + "\n```"
)
WRONG = _py(
    "triple",
    "return x * 2",
    "returns 3 times x",
    ["assert triple(2) == 6", "assert triple(0) == 0"],
)  # noqa: E501
GARBAGE = "def f(x): return x  # no JSON at all"
DUP = _py(
    "add_seven",
    "return 7 + x",
    "",
    ["assert add_seven(2) == 9", "assert add_seven(3) == 10"],
    prompt="write a python function  add_seven(x) that RETURNS x plus 7",
)
VACUOUS = _py(
    "noop", "return None", "does nothing", ["assert noop(1) is None", "assert noop(2) is None"]
)  # noqa: E501
NO_CALL = _py("neg", "return -x", "negates x", ["assert neg(1) == -1", "assert -1 == -1"])
NEGATE = _py(
    "negate", "return -x", "returns minus x", ["assert negate(1) == -1", "assert negate(-4) == 4"]
)  # noqa: E501
BROKEN = _py("half", "return x / / 2", "halves x", ["assert half(4) == 2", "assert half(0) == 0"])
CUBE = _py(
    "cube", "return x ** 3", "returns x cubed", ["assert cube(2) == 8", "assert cube(-1) == -1"]
)  # noqa: E501
ABS = _py(
    "absolute",
    "return abs(x)",
    "returns |x|",
    ["assert absolute(-2) == 2", "assert absolute(3) == 3"],
)  # noqa: E501


def _generate(url: str, out: Path, count: int, *extra: str, topic: str = "python_basics") -> int:
    return run(
        [
            "data", "generate", "--topic", topic, "--backend", "vllm", "--base-url", url,
            "--model", "scripted", "--count", str(count), "--output", str(out),
            "--concurrency", "1", "--retries", "0", "--seed", "1", *extra,
        ]
    )  # fmt: skip


def test_roundtrip_keeps_exactly_the_valid_examples_and_resumes(tmp_path, capsys):
    out = tmp_path / "gen" / "problems.jsonl"
    first = [ADD7, SQUARE, WRONG, GARBAGE, DUP, VACUOUS, NO_CALL, NEGATE]
    engine = ScriptedEngine([*first, BROKEN, CUBE, ABS])
    with serve_in_thread(engine) as server:
        assert _generate(server.url, out, 3) == 0
        summary = capsys.readouterr().out
        assert len(engine.requests) == len(first)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["entry_point"] for r in rows] == ["add_seven", "square", "negate"]
        assert [r["id"] for r in rows] == [f"python_basics/000{i}" for i in range(3)]
        assert "kept 3/3 python_basics rows" in summary and "rejected 5" in summary
        for label in (
            "1 solution fails its tests",
            "1 no JSON object",
            "1 duplicate prompt",
            "1 tests pass a trivial stub",
            "1 a test does not call the entry point",
            "8 requests, 800 prompt + 400 completion tokens",
        ):
            assert label in summary, summary
        r = rows[0]
        assert r["prompt"].endswith(PY.answer_format) and r["language"] == "python"
        assert r["reference"].startswith("def add_seven(x):")
        assert r["metadata"]["topic"] == "python_basics"
        assert r["metadata"]["generator"] == {
            "model": "scripted",
            "backend": "vllm",
            "base_url": server.url,
        }

        # --count 5 with 3 present: generates exactly 2 more, ids stay unique
        assert _generate(server.url, out, 5) == 0
        assert "kept 2/2 python_basics rows" in capsys.readouterr().out
        assert len(engine.requests) == len(first) + 3  # BROKEN rejected, CUBE and ABS kept
        # the same command again: nothing to do, no request
        assert _generate(server.url, out, 5) == 0
        assert "nothing to generate" in capsys.readouterr().out
        assert len(engine.requests) == len(first) + 3

    problems = read_problems_jsonl(out)
    assert [p.entry_point for p in problems] == [
        "add_seven",
        "square",
        "negate",
        "cube",
        "absolute",
    ]
    assert len({p.id for p in problems}) == 5
    assert problems[3].tests == ["assert cube(2) == 8", "assert cube(-1) == -1"]
    # the rows are what raft train --prompts reads: the reference passes its own tests
    from halo_forge.verify import get_verifier

    results = get_verifier("python").verify_batch([(p, p.reference or "") for p in problems])
    assert all(r.passed for r in results)


def test_unparseable_answers_are_re_asked(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    engine = ScriptedEngine([GARBAGE, GARBAGE, ADD7])
    with serve_in_thread(engine) as server:
        cfg = GenerateConfig(
            topic="python_basics", backend="vllm", base_url=server.url, model="x", count=1,
            output=str(out), retries=2, backoff=0.0, concurrency=1,
        )  # fmt: skip
        from halo_forge.data.generate import run_generate

        s = run_generate(cfg, show_progress=False)
    assert (s.kept, s.attempts, s.requests, dict(s.rejected)) == (1, 1, 3, {})


def test_budget_ends_a_run_of_garbage(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    with serve_in_thread(ScriptedEngine([])) as server:
        assert _generate(server.url, out, 2, "--max-attempts", "3") == 0
    text = capsys.readouterr().out
    assert "kept 0/2" in text and "3 no JSON object" in text
    assert "stopped after 3 attempts (--max-attempts 3) with 2 rows missing" in text
    assert not out.exists()  # nothing kept: no empty file left behind


def test_concurrent_workers_keep_exactly_count_without_surplus(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    engine = ScriptedEngine([ADD7, SQUARE, NEGATE, CUBE, ABS])
    with serve_in_thread(engine) as server:
        assert _generate(server.url, out, 3, "--concurrency", "4") == 0
    assert "kept 3/3" in capsys.readouterr().out
    assert len(engine.requests) == 3  # never more in flight than rows missing
    assert len({p.id for p in read_problems_jsonl(out)}) == 3


def test_server_error_mid_run_is_one_line_and_keeps_finished_rows(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    engine = ScriptedEngine([ADD7, EngineRequestError("prompt too long for this model")])
    with serve_in_thread(engine) as server:
        rc = _generate(server.url, out, 3)
        line = _one_line_error(capsys, rc, server.url, "HTTP 400", "prompt too long")
    assert "Traceback" not in line
    assert [p.entry_point for p in read_problems_jsonl(out)] == ["add_seven"]


SUM = "#include <iostream>\nint main(){long a,b; std::cin>>a>>b; std::cout<<a+b<<'\\n';}\n"


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not found on PATH")
def test_cpp_topic_verifies_io_tests_with_gcc(tmp_path, capsys):
    def cpp(solution: str, prompt: str = "Read two integers a and b; print a + b.") -> str:
        tests = [{"input": "1 2\n", "output": "3\n"}, {"input": "-5 5", "output": "0"}]
        return json.dumps({"prompt": prompt, "solution": solution, "tests": tests})

    out = tmp_path / "cpp.jsonl"
    wrong = SUM.replace("a+b", "a-b")
    answers = [cpp("int main( {"), cpp(wrong, "Print a minus b?"), cpp(SUM)]
    with serve_in_thread(ScriptedEngine(answers)) as server:
        assert _generate(server.url, out, 1, topic="cpp_stdin") == 0
    text = capsys.readouterr().out
    assert "1 solution does not compile" in text and "1 solution fails its tests" in text, text
    (p,) = read_problems_jsonl(out)
    assert p.language == "cpp" and p.tests == [] and p.entry_point is None
    assert p.metadata["io_tests"][1] == {"input": "-5 5", "output": "0"}
    assert p.prompt.endswith(CPP.answer_format)


@pytest.mark.integration
def test_tiny_random_model_keeps_nothing_and_finishes(tmp_path, tiny_model, capsys):
    """Garbage from a real model through HFEngine: every attempt rejected, no traceback."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from halo_forge.serve import HFEngine

    # The tokenizer (300 tokens) spends ~1 token per 2 characters of our request: give the
    # random model room past its configured 512 positions (rotary embeddings don't care).
    model = AutoModelForCausalLM.from_pretrained(tiny_model, max_position_embeddings=4096)
    engine = HFEngine(model, AutoTokenizer.from_pretrained(tiny_model), "tiny")
    out = tmp_path / "tiny.jsonl"
    with serve_in_thread(engine) as server:
        rc = _generate(server.url, out, 2, "--max-tokens", "16", "--max-attempts", "3")
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "kept 0/2" in captured.out and "rejected 3" in captured.out
    assert "stopped after 3 attempts" in captured.out
    assert "Traceback" not in captured.out + captured.err


# --- CLI errors ---------------------------------------------------------------------------------


def _one_line_error(capsys, rc: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1, err
    assert err[0].startswith("halo-forge: error: ")
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_unreachable_server(tmp_path, capsys):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    rc = _generate(url, tmp_path / "o.jsonl", 2, "--retries", "1")
    _one_line_error(capsys, rc, f"cannot reach {url}", "after 1 retries")
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_missing_api_key(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    argv = ["data", "generate", "--topic", "python_basics", "--backend", "deepseek"]
    rc = run([*argv, "--model", "deepseek-chat", "--count", "2", "-o", str(tmp_path / "o.jsonl")])
    assert rc == 2
    _one_line_error(capsys, rc, "DEEPSEEK_API_KEY")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--topic", "klingon"], "unknown topic 'klingon'"),
        (["--topic", "python_basics", "--count", "0"], "--count must be a positive"),
        (["--topic", "python_basics", "--count", "-1"], "got -1"),
    ],
)
def test_cli_config_errors(tmp_path, capsys, args, needle):
    base = ["data", "generate", "--backend", "ollama", "--model", "m", "-o", str(tmp_path / "o")]
    rc = run([*base, "--count", "2", *args])
    assert rc == 2
    _one_line_error(capsys, rc, needle)


def test_cli_list(capsys):
    assert run(["data", "generate", "--list"]) == 0
    out = capsys.readouterr().out
    for name in TOPICS:
        assert name in out
    assert "gcc" in out and "python" in out
