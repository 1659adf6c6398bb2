"""``halo-forge data generate``: an LLM writes problems, our sandbox keeps the ones that hold up.

One request asks any OpenAI-compatible chat API (DeepSeek, OpenAI, ollama, vLLM, ``halo-forge
serve``) for one exercise as a JSON object — ``prompt``, ``entry_point``, ``solution``,
``tests`` (see :func:`build_messages`) — on a subject and difficulty drawn for that attempt
(:mod:`halo_forge.data.topics`). An example is kept only if

1. the answer holds a JSON object with those fields (fenced ```json blocks, leading prose and
   ``<think>`` sections are tolerated; an unparseable answer is re-asked up to ``retries`` times
   with exponential backoff, the API client's own retries covering transport errors);
2. it is well formed: Python tests are ≥ 2 distinct one-line ``assert`` statements that each call
   the entry point, and the prompt names the entry point (the model being trained cannot call a
   function it was never told the name of); I/O tests are ≥ 2 distinct ``{input, output}`` cases;
3. its prompt is not a duplicate (normalized text) of a row already in the file or kept earlier;
4. its ``solution`` passes its own tests in our sandbox — ``get_verifier(topic.verifier)
   .verify_batch`` must answer ``Status.PASS``;
5. its tests are not vacuous: a stub (``def f(*args, **kwargs): return None``) must *fail* them,
   and I/O cases must not all expect the same output (a program printing a constant would pass).
   Such tests reward nothing, so a model trained on them learns nothing; checking costs one more
   sandbox run per Python example and nothing for I/O topics.

Each attempt ends in exactly one outcome — kept, or one counted reject reason (:data:`REASONS`)
— so ``kept + sum(rejected) == attempts``. At most ``max_attempts`` attempts are made
(default :data:`ATTEMPTS_PER_ROW` × missing rows), so a model that only writes garbage ends
the run instead of spending money forever; the summary says so.

The output is JSONL that ``halo_forge.data.prompts.read_problems_jsonl`` (``raft train
--prompts FILE``) reads. Each kept row is appended, flushed and fsync'd as soon as it is
verified. ``--count`` is the number of rows *of this topic* the file should hold: a rerun counts
them and generates only what is missing (one file can hold several topics), keeps ids unique,
and repairs a last line cut short by a crash. No more requests are in flight than rows still
missing, so no paid answer is thrown away as surplus.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import keyword
import os
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halo_forge.data.prompts import read_jsonl
from halo_forge.data.topics import DIFFICULTIES, TOPICS, Topic, get_topic
from halo_forge.errors import ConfigError, DataError, HaloForgeError
from halo_forge.types import Problem, Status

__all__ = [
    "ATTEMPTS_PER_ROW",
    "BACKENDS",
    "REASONS",
    "Draft",
    "Endpoint",
    "GenerateConfig",
    "GenerateSummary",
    "Reject",
    "build_messages",
    "check_draft",
    "extract_json",
    "parse_draft",
    "prompt_key",
    "resolve_endpoint",
    "run_generate",
]

ATTEMPTS_PER_ROW = 4
MIN_TESTS = 2
_RECENT = 8  # recent prompts listed in each request as "do not repeat these"

# Reject reason → what the summary calls it.
REASONS: dict[str, str] = {
    "unparseable": "no JSON object",
    "truncated": "cut off at --max-tokens",
    "bad_fields": "missing or ill-typed fields",
    "bad_entry_point": "entry_point not a function name",
    "bad_tests": "tests not single assert lines",
    "test_skips_entry_point": "a test does not call the entry point",
    "prompt_skips_entry_point": "prompt does not name the function",
    "too_few_tests": f"fewer than {MIN_TESTS} distinct tests",
    "duplicate": "duplicate prompt",
    "solution_fail": "solution fails its tests",
    "solution_compile_error": "solution does not compile",
    "solution_runtime_error": "solution crashes",
    "solution_timeout": "solution times out",
    "sandbox_error": "sandbox error (ours, not the model's)",
    "vacuous_tests": "tests pass a trivial stub",
}
_PARSE_REASONS = ("unparseable", "truncated", "bad_fields")  # re-asked up to `retries` times


@dataclass(frozen=True)
class Backend:
    base_url: str
    key_env: str | None  # required API key variable, None: no key needed
    json_mode: bool  # send response_format={"type": "json_object"}
    example_model: str
    optional_key_env: str | None = None


BACKENDS: dict[str, Backend] = {
    "deepseek": Backend("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", True, "deepseek-chat"),
    "openai": Backend("https://api.openai.com/v1", "OPENAI_API_KEY", True, "gpt-4o-mini"),
    "ollama": Backend("http://localhost:11434/v1", None, True, "qwen2.5-coder:7b"),
    # vLLM's JSON mode is guided decoding, slow or absent depending on the version: off.
    "vllm": Backend(
        "http://localhost:8000/v1", None, False, "the served model's name", "VLLM_API_KEY"
    ),
}


@dataclass
class GenerateConfig:
    """Settings of one ``data generate`` run (CLI flags left at None take these defaults)."""

    topic: str | None = None
    backend: str | None = None
    model: str | None = None
    count: int | None = None
    output: str | None = None
    base_url: str | None = None  # overrides the backend's default URL
    temperature: float = 0.7
    max_tokens: int = 2048
    concurrency: int = 4
    retries: int = 3  # transport retries (openai client) and re-asks of unparseable answers
    max_attempts: int | None = None  # None: ATTEMPTS_PER_ROW × missing rows
    timeout: float = 180.0  # seconds per request
    seed: int | None = None  # subjects/difficulties drawn per attempt; None: a random seed
    backoff: float = 1.0  # seconds before the first re-ask of an unparseable answer; doubles

    def validate(self) -> GenerateConfig:
        if not self.topic:
            raise ConfigError(
                f"--topic is required; choose one of: {', '.join(TOPICS)} (see --list)"
            )
        get_topic(self.topic)
        if not self.backend:
            raise ConfigError(f"--backend is required: {', '.join(BACKENDS)}")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"unknown --backend {self.backend!r}; choose one of: {', '.join(BACKENDS)} "
                "(any other OpenAI-compatible server: --backend vllm --base-url URL)"
            )
        if not self.model:
            example = BACKENDS[self.backend].example_model
            raise ConfigError(f"--model is required (for {self.backend}: e.g. {example})")
        if self.count is None or self.count <= 0:
            got = "" if self.count is None else f"; got {self.count}"
            raise ConfigError(f"--count must be a positive number of rows, e.g. 100{got}")
        if not self.output:
            raise ConfigError("--output is required: the JSONL file to append rows to")
        if self.base_url is not None and not re.match(r"https?://", self.base_url):
            raise ConfigError(
                f"--base-url must start with http:// or https://, e.g. "
                f"http://localhost:8000/v1; got {self.base_url!r}"
            )
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"--temperature must be in [0, 2]; got {self.temperature}")
        for name, value, lo in (
            ("--max-tokens", self.max_tokens, 1),
            ("--concurrency", self.concurrency, 1),
            ("--retries", self.retries, 0),
            ("--max-attempts", self.max_attempts, 1),
        ):
            if value is not None and value < lo:
                raise ConfigError(f"{name} must be an integer >= {lo}; got {value}")
        if not self.timeout > 0:
            raise ConfigError(f"--timeout must be > 0 seconds; got {self.timeout}")
        return self


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str
    json_mode: bool


def resolve_endpoint(cfg: GenerateConfig, env: Mapping[str, str] = os.environ) -> Endpoint:
    """The URL, API key and JSON mode for ``cfg.backend``; ConfigError naming a missing key."""
    backend = BACKENDS[str(cfg.backend)]
    url = (cfg.base_url or backend.base_url).rstrip("/")
    hosted = url == backend.base_url.rstrip("/")
    if backend.key_env and hosted:
        key = env.get(backend.key_env, "").strip()
        if not key:
            raise ConfigError(f"the {cfg.backend} backend needs an API key: set {backend.key_env}")
    elif backend.key_env:  # the same protocol at another --base-url (halo-forge serve, a proxy)
        key = env.get(backend.key_env, "").strip() or "not-needed"
    else:
        key = env.get(backend.optional_key_env or "", "").strip() or "not-needed"
    return Endpoint(url, key, backend.json_mode)


# --- the request -------------------------------------------------------------------------------

SYSTEM_PROMPT = (
    "You write programming exercises for training code models: a task statement, a correct "
    "reference solution, and tests that check it. You answer with one JSON object and nothing "
    "else."
)

_SCHEMA_ASSERTS = """{
  "prompt": "<the task for a student: what the function must do, its exact signature as `name(arg1, arg2)`, input constraints, and one example call with its result>",
  "entry_point": "<the function's name>",
  "solution": "<a complete, correct Python solution defining that function; standard library only; no input(), print() or file access>",
  "tests": ["assert name(...) == ...", "<3 to 7 more>"]
}"""  # noqa: E501 - the schema reads best unwrapped

_RULES_ASSERTS = """Rules:
- "tests": 4 to 8 one-line assert statements, each calling the function with literal arguments and comparing the result with the exact expected value; no imports. Include edge cases.
- The solution must pass every test: each expected value is what a correct solution returns.
- The prompt must not contain the solution."""  # noqa: E501

_SCHEMA_IO = """{{
  "prompt": "<the task for a student: what the program reads from standard input (exact format and constraints) and what it must print>",
  "solution": "<a complete, correct {lang} program with main() that reads standard input and writes standard output>",
  "tests": [{{"input": "<stdin>", "output": "<exact expected stdout>"}}, "<3 to 7 more>"]
}}"""  # noqa: E501

_RULES_IO = """Rules:
- "tests": 4 to 8 cases with different inputs, including edge cases; each "output" is exactly what a correct program prints for its "input".
- The solution must pass every test.
- The prompt must not contain the solution."""  # noqa: E501

_IO_LANG = {"cpp": "C++17", "c": "C11"}


def build_messages(
    topic: Topic, subject: str, difficulty: str, avoid: list[str] | tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """The chat request for one exercise. ``avoid``: recent prompts not to repeat."""
    lang = "Python" if topic.kind == "asserts" else _IO_LANG.get(topic.language, topic.language)
    schema = _SCHEMA_ASSERTS if topic.kind == "asserts" else _SCHEMA_IO.format(lang=lang)
    rules = _RULES_ASSERTS if topic.kind == "asserts" else _RULES_IO
    parts = [
        f"Write one new {difficulty} {lang} exercise.\nTopic: {topic.description}.\n"
        f"Subject: {subject}.",
        f"Answer with a single JSON object with exactly these keys:\n{schema}",
        rules + "\n- Output only the JSON object: no markdown fences, no comments. Escape "
        "newlines inside JSON strings as \\n.",
    ]
    if avoid:
        listed = "\n".join(f"- {_first_line(p, 100)}" for p in avoid)
        parts.append(f"Do not repeat any of these exercises:\n{listed}")
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def _first_line(text: str, width: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


# --- parsing and checks (pure) -----------------------------------------------------------------


class Reject(Exception):
    """An example that is not kept; ``reason`` is a key of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Draft:
    """One parsed answer. ``prompt`` is the task as written, before the answer-format line."""

    prompt: str
    solution: str
    entry_point: str | None = None
    tests: list[str] = field(default_factory=list)  # asserts topics
    io_tests: list[dict[str, str]] = field(default_factory=list)  # io topics


_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.S)
_DECODER = json.JSONDecoder(strict=False)  # strict=False: raw newlines inside strings are fine
_MAX_SCAN = 64  # "{" positions tried by extract_json's last resort


def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's answer, or None.

    Tries, in order: the whole answer; each fenced block (```json first); a JSON object starting
    at each of the first ``{``s (answers with leading prose). ``<think>…</think>`` is dropped.
    """
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    text = text.strip()
    fenced = sorted(_FENCE.findall(text), key=lambda m: m[0].lower() != "json")
    for candidate in [text, *(body.strip() for _, body in fenced)]:
        try:
            value = _DECODER.decode(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    for n, m in enumerate(re.finditer(r"\{", text)):
        if n >= _MAX_SCAN:
            break
        try:
            value, _ = _DECODER.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _strip_fence(code: str, language: str) -> str:
    if "```" not in code:
        return code.strip("\n")
    from halo_forge.verify.extract import extract_code

    return extract_code(code, language)


def parse_draft(text: str, finish_reason: str | None, topic: Topic) -> Draft:
    """A :class:`Draft` from a model's answer; :class:`Reject` with a parse reason otherwise."""
    obj = extract_json(text or "")
    if obj is None:
        if finish_reason == "length":
            raise Reject("truncated", "the answer hit --max-tokens before the JSON ended")
        raise Reject("unparseable", _first_line(text or "(empty answer)", 80))
    prompt, solution = _text(obj.get("prompt")), _text(obj.get("solution"))
    if prompt is None or solution is None:
        raise Reject("bad_fields", "'prompt' and 'solution' must be non-empty strings")
    solution = _strip_fence(solution, topic.language)
    tests = obj.get("tests")
    if isinstance(tests, str):
        tests = tests.splitlines()
    if not isinstance(tests, list):
        raise Reject("bad_fields", "'tests' must be a list")
    if topic.kind == "io":
        return Draft(prompt.strip(), solution, io_tests=_io_cases(tests))
    entry = obj.get("entry_point")
    if not isinstance(entry, str):
        raise Reject("bad_fields", "'entry_point' must be a string")
    lines = []
    for t in tests:
        if not isinstance(t, str):
            raise Reject("bad_fields", "'tests' must be a list of strings")
        lines += [ln.strip() for ln in t.splitlines() if ln.strip()]
    return Draft(prompt.strip(), solution, entry.strip().removesuffix("()"), tests=lines)


def _io_cases(tests: list[Any]) -> list[dict[str, str]]:
    cases = []
    for t in tests:
        if not isinstance(t, dict) or "input" not in t or "output" not in t:
            raise Reject("bad_fields", "each test must be {'input': str, 'output': str}")
        case = {}
        for k in ("input", "output"):
            v = t[k]
            if isinstance(v, int | float) and not isinstance(v, bool):
                v = str(v)  # "output": 5 means the text 5
            if not isinstance(v, str):
                raise Reject("bad_fields", f"test {k} must be a string")
            case[k] = v
        cases.append(case)
    return cases


def _calls(tree: ast.AST, name: str) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(tree)
    )


def check_draft(draft: Draft, topic: Topic) -> Draft:
    """Static checks before the sandbox (see the module docstring); returns the draft with
    duplicate tests removed, or raises :class:`Reject`."""
    if topic.kind == "io":
        seen: dict[str, dict[str, str]] = {}
        for case in draft.io_tests:
            seen.setdefault(case["input"], case)
        if len(seen) < MIN_TESTS:
            raise Reject("too_few_tests", f"{len(seen)} distinct inputs")
        from halo_forge.verify.native import normalize_output

        if len({normalize_output(c["output"]) for c in seen.values()}) == 1:
            raise Reject("vacuous_tests", "every case expects the same output")
        return Draft(draft.prompt, draft.solution, io_tests=list(seen.values()))
    ep = draft.entry_point or ""
    if not ep.isidentifier() or keyword.iskeyword(ep):
        raise Reject("bad_entry_point", repr(ep))
    tests: list[str] = []
    for t in draft.tests:
        try:
            tree = ast.parse(t)
        except SyntaxError:
            raise Reject("bad_tests", f"not valid Python: {t[:60]}") from None
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
            raise Reject("bad_tests", f"not one assert statement: {t[:60]}")
        if not _calls(tree, ep):
            raise Reject("test_skips_entry_point", t[:60])
        if t not in tests:
            tests.append(t)
    if len(tests) < MIN_TESTS:
        raise Reject("too_few_tests", f"{len(tests)} distinct tests")
    if not re.search(rf"\b{re.escape(ep)}\b", draft.prompt):
        raise Reject("prompt_skips_entry_point", ep)
    return Draft(draft.prompt, draft.solution, ep, tests=tests)


def prompt_key(prompt: str) -> str:
    """Duplicate-detection key: lower-case words and numbers, answer-format lines removed."""
    text = prompt.strip()
    for topic in TOPICS.values():
        text = text.removesuffix(topic.answer_format).strip()
    return " ".join(re.findall(r"[a-z0-9_]+", text.lower()))


def stub_for(draft: Draft) -> str:
    """A solution that does nothing; tests it passes are vacuous."""
    return f"def {draft.entry_point}(*args, **kwargs):\n    return None\n"


def to_problem(draft: Draft, topic: Topic, pid: str, metadata: dict[str, Any]) -> Problem:
    meta = dict(metadata)
    if topic.kind == "io":
        meta["io_tests"] = draft.io_tests
    return Problem(
        id=pid,
        prompt=f"{draft.prompt}\n{topic.answer_format}",
        language=topic.language,
        tests=list(draft.tests),
        entry_point=draft.entry_point if topic.kind == "asserts" else None,
        reference=draft.solution,
        source="halo-forge data generate",
        metadata=meta,
    )


def to_row(problem: Problem) -> dict[str, Any]:
    """The JSONL row (the fields ``read_problems_jsonl`` reads)."""
    return {
        "id": problem.id,
        "prompt": problem.prompt,
        "language": problem.language,
        "tests": problem.tests,
        "entry_point": problem.entry_point,
        "reference": problem.reference,
        "metadata": problem.metadata,
    }


# --- the output file ---------------------------------------------------------------------------


@dataclass
class Existing:
    """What the output file already holds."""

    topic_rows: int = 0
    ids: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    recent: list[str] = field(default_factory=list)  # this topic's last prompts
    repaired: str = ""  # what was done to a damaged last line, if anything


def _repair_tail(path: Path) -> str:
    """Make the file end with a complete line. A crash mid-append leaves a partial last line:
    it is dropped (the row was never counted as kept); a complete one only gets its newline."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return ""
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:])
    except ValueError:
        with path.open("r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
        return f"dropped an incomplete last line of {path} (an interrupted write)"
    with path.open("ab") as f:
        f.write(b"\n")
    return ""


def load_existing(path: Path, topic: Topic) -> Existing:
    if path.is_dir():
        raise ConfigError(f"--output {path} is a folder; give a .jsonl file path")
    if not path.exists():
        return Existing()
    try:
        repaired = _repair_tail(path)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from None
    out = Existing(repaired=repaired)
    for row in read_jsonl(path):
        if "id" in row:
            out.ids.add(str(row["id"]))
        if isinstance(row.get("prompt"), str):
            out.keys.add(prompt_key(row["prompt"]))
        meta = row.get("metadata")
        if isinstance(meta, dict) and meta.get("topic") == topic.name:
            out.topic_rows += 1
            if isinstance(row.get("prompt"), str):
                out.recent.append(row["prompt"])
    out.recent = out.recent[-_RECENT:]
    return out


# --- the run -----------------------------------------------------------------------------------


@dataclass
class GenerateSummary:
    output: Path
    topic: str
    count: int  # rows of this topic the file should hold
    existing: int  # ... that it held before this run
    kept: int = 0
    attempts: int = 0
    budget: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(0, self.count - self.existing - self.kept)

    def lines(self) -> list[str]:
        """The final summary: one line, plus one saying why the run stopped short."""
        wanted = max(0, self.count - self.existing)
        if wanted == 0:
            return [
                f"{self.output} already holds {self.existing} {self.topic} rows "
                f"(--count {self.count}); nothing to generate"
            ]
        rej = sum(self.rejected.values())
        reasons = ", ".join(f"{n} {REASONS.get(k, k)}" for k, n in self.rejected.most_common())
        line = (
            f"kept {self.kept}/{wanted} {self.topic} rows in {self.output} "
            f"({self.existing + self.kept}/{self.count} in the file); rejected {rej}"
            + (f" ({reasons})" if reasons else "")
            + f"; {self.requests} requests, {self.prompt_tokens:,} prompt + "
            f"{self.completion_tokens:,} completion tokens; {self.seconds:.1f} s"
        )
        out = [*self.notes, line]
        if self.missing:
            out.append(
                f"stopped after {self.attempts} attempts (--max-attempts {self.budget}) with "
                f"{self.missing} rows missing; rerun the same command to continue"
            )
        return out


class _Run:
    """State shared by the worker threads (everything mutable is behind ``cond``)."""

    def __init__(
        self,
        cfg: GenerateConfig,
        topic: Topic,
        endpoint: Endpoint,
        existing: Existing,
        summary: GenerateSummary,
        client: Any,
        verifier: Any,
    ):
        self.cfg = cfg
        self.topic = topic
        self.endpoint = endpoint
        self.client = client  # openai.OpenAI (thread-safe)
        self.verifier = verifier
        self.summary = summary
        self.needed = summary.count - summary.existing
        self.ids = set(existing.ids)
        self.keys = set(existing.keys)
        self.recent: deque[str] = deque(existing.recent, maxlen=_RECENT)
        self.next_index = existing.topic_rows
        self.out: Any = None  # the open output file, set by _run_threads
        self.on_outcome: Callable[[str], None] = lambda outcome: None
        self.cond = threading.Condition()
        self.in_flight = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)

    # -- scheduling --------------------------------------------------------------------------
    def take(self) -> int | None:
        """The next attempt's number, or None when the run is over for this worker."""
        s = self.summary
        with self.cond:
            while True:
                if self.stop.is_set() or s.kept >= self.needed or s.attempts >= s.budget:
                    return None
                if self.in_flight < self.needed - s.kept:
                    s.attempts += 1
                    self.in_flight += 1
                    return s.attempts - 1
                self.cond.wait(0.5)

    def finish(self, outcome: str) -> None:
        with self.cond:
            self.in_flight -= 1
            if outcome not in ("kept", "surplus", "aborted"):
                self.summary.rejected[outcome] += 1
            self.cond.notify_all()
        self.on_outcome(outcome)

    def fail(self, error: BaseException) -> None:
        """End the run: the first error is raised by the main thread once workers are done."""
        with self.cond:
            self.in_flight -= 1
            if self.error is None:
                self.error = error
            self.stop.set()
            self.cond.notify_all()

    def worker(self) -> None:
        while (n := self.take()) is not None:
            try:
                outcome = self.attempt(n)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread, raised there
                self.fail(e)
                return
            self.finish(outcome)

    # -- one attempt -------------------------------------------------------------------------
    def attempt(self, n: int) -> str:
        """One example sought: request (re-asking unparseable answers), check, verify, keep."""
        rng = random.Random(f"{self.seed}:{n}")
        subject, difficulty = rng.choice(self.topic.subjects), rng.choice(DIFFICULTIES)
        with self.cond:
            avoid = list(self.recent)
        messages = build_messages(self.topic, subject, difficulty, avoid)
        try:
            draft = self.ask(messages, self.seed + n)
            draft = check_draft(draft, self.topic)
            key = prompt_key(draft.prompt)
            with self.cond:
                if key in self.keys:
                    raise Reject("duplicate")
            meta = {
                "topic": self.topic.name,
                "verifier": self.topic.verifier,
                "subject": subject,
                "difficulty": difficulty,
                "generator": {
                    "model": self.cfg.model,
                    "backend": self.cfg.backend,
                    "base_url": self.endpoint.base_url,
                },
            }
            problem = to_problem(draft, self.topic, f"{self.topic.name}/draft-{n}", meta)
            self.verify(draft, problem)
        except Reject as r:
            return r.reason
        return self.keep(problem, key)

    def ask(self, messages: list[dict[str, str]], seed: int) -> Draft:
        last: Reject | None = None
        for i in range(self.cfg.retries + 1):
            if i and self.stop.wait(self.cfg.backoff * 2 ** (i - 1)):
                break
            text, finish = self.request(messages, seed + i * 100_003)
            try:
                return parse_draft(text, finish, self.topic)
            except Reject as r:
                last = r
        raise last or Reject("unparseable")

    def request(self, messages: list[dict[str, str]], seed: int) -> tuple[str, str | None]:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.cfg.model,
            "messages": messages,
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
        }
        if self.cfg.seed is not None:  # not every server accepts "seed"
            kwargs["seed"] = seed
        if self.endpoint.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except openai.APIError as e:
            raise api_error(e, self.cfg, self.endpoint) from None
        with self.cond:
            self.summary.requests += 1
            if resp.usage is not None:
                self.summary.prompt_tokens += resp.usage.prompt_tokens or 0
                self.summary.completion_tokens += resp.usage.completion_tokens or 0
        if not resp.choices:
            return "", None
        choice = resp.choices[0]
        return choice.message.content or "", choice.finish_reason

    def verify(self, draft: Draft, problem: Problem) -> None:
        items = [(problem, draft.solution)]
        if self.topic.kind == "asserts":
            items.append((problem, stub_for(draft)))
        results = self.verifier.verify_batch(items, workers=len(items))
        status = results[0].status
        if status is Status.SANDBOX_ERROR:
            raise Reject("sandbox_error", results[0].details)
        if status is not Status.PASS:
            raise Reject(f"solution_{status.value.lower()}", results[0].details)
        if len(results) > 1 and results[1].status is Status.PASS:
            raise Reject("vacuous_tests", "a stub returning None passes every test")

    def keep(self, problem: Problem, key: str) -> str:
        with self.cond:
            if self.stop.is_set():
                return "aborted"
            if key in self.keys:
                return "duplicate"
            if self.summary.kept >= self.needed:
                return "surplus"  # cannot happen while in_flight <= missing rows; not written
            while (pid := f"{self.topic.name}/{self.next_index:04d}") in self.ids:
                self.next_index += 1
            self.next_index += 1
            row = to_row(dataclasses.replace(problem, id=pid))
            self.out.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.out.flush()
            os.fsync(self.out.fileno())
            self.ids.add(pid)
            self.keys.add(key)
            self.recent.append(problem.prompt)
            self.summary.kept += 1
        return "kept"


def api_error(e: Exception, cfg: GenerateConfig, endpoint: Endpoint) -> HaloForgeError:
    """One line for an API failure that survived the client's retries."""
    import openai

    url = endpoint.base_url
    msg = _api_message(e)
    if isinstance(e, openai.APITimeoutError):
        return HaloForgeError(
            f"{url} did not answer within --timeout {cfg.timeout:g} s (after {cfg.retries} retries)"
        )
    if isinstance(e, openai.APIConnectionError):
        return HaloForgeError(
            f"cannot reach {url} (after {cfg.retries} retries): is the server running? "
            "Check --base-url"
        )
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        env = BACKENDS[str(cfg.backend)].key_env or BACKENDS[str(cfg.backend)].optional_key_env
        return ConfigError(f"{url} refused the API key (from {env}): {msg}")
    if isinstance(e, openai.NotFoundError):
        return ConfigError(
            f"{url}: not found — is {cfg.model!r} a model it serves, and the URL an "
            f"OpenAI-compatible /v1 endpoint? ({msg})"
        )
    if isinstance(e, openai.RateLimitError):
        return HaloForgeError(
            f"{url} kept rate-limiting after {cfg.retries} retries; lower --concurrency ({msg})"
        )
    if isinstance(e, openai.APIStatusError):
        return HaloForgeError(f"{url} answered HTTP {e.status_code}: {msg}")
    return HaloForgeError(f"{url}: {msg}")


def _api_message(e: Exception) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return " ".join(inner["message"].split())[:300]
    return " ".join(str(e).split())[:300]


def run_generate(cfg: GenerateConfig, *, show_progress: bool = True) -> GenerateSummary:
    """Generate, verify and append rows until the file holds ``cfg.count`` rows of the topic
    (or the attempt budget is spent). Raises ``HaloForgeError`` on a fatal API error; rows kept
    before it stay in the file."""
    start = time.monotonic()
    cfg.validate()
    topic = get_topic(str(cfg.topic))
    endpoint = resolve_endpoint(cfg)
    path = Path(str(cfg.output)).expanduser()
    existing = load_existing(path, topic)
    summary = GenerateSummary(path, topic.name, int(cfg.count or 0), existing.topic_rows)
    if existing.repaired:
        summary.notes.append(existing.repaired)
    wanted = summary.count - summary.existing
    if wanted <= 0:
        return summary
    summary.budget = cfg.max_attempts or ATTEMPTS_PER_ROW * wanted

    import openai

    from halo_forge.verify import get_verifier

    verifier = get_verifier(topic.verifier)
    client = openai.OpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        max_retries=cfg.retries,
        timeout=cfg.timeout,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    run = _Run(cfg, topic, endpoint, existing, summary, client, verifier)
    try:
        _run_threads(run, path, show_progress)
    finally:
        client.close()
        if created and path.exists() and path.stat().st_size == 0:
            path.unlink()  # nothing kept: leave no empty file behind
    summary.seconds = time.monotonic() - start
    return summary


def _run_threads(run: _Run, path: Path, show_progress: bool) -> None:
    """Run the worker threads with a progress bar; raise the first worker's error."""
    from halo_forge.ui import progress

    topic, summary = run.topic, run.summary
    with path.open("a", encoding="utf-8") as out, progress() as bar:
        task = bar.add_task(topic.name, total=run.needed, visible=show_progress)

        def on_outcome(outcome: str) -> None:
            rej = sum(summary.rejected.values())
            bar.update(
                task,
                advance=1 if outcome == "kept" else 0,
                description=f"{topic.name} (rejected {rej})",
            )

        run.out, run.on_outcome = out, on_outcome
        threads = [
            threading.Thread(target=run.worker, name=f"generate-{i}", daemon=True)
            for i in range(min(run.cfg.concurrency, run.needed))
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except BaseException:  # Ctrl-C: let workers stop; kept rows are already on disk
            with run.cond:  # wait out a row being written; keep() writes none after stop
                run.stop.set()
            raise
    if run.error is not None:
        raise run.error
