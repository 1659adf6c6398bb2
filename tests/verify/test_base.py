"""Verifier.verify_batch: ordering, de-duplication, exceptions → SANDBOX_ERROR, progress."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from halo_forge.types import Problem, Status, VerifyResult
from halo_forge.verify.base import Verifier, one_line, trim
from halo_forge.verify.python import PythonTestVerifier

P1, P2 = Problem(id="p1", prompt=""), Problem(id="p2", prompt="")


class Recording(Verifier):
    """Rewards len(code)/10, raises on 'boom', sleeps on 'slow' (to scramble finish order)."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def verify(self, problem: Problem, code: str) -> VerifyResult:
        with self.lock:
            self.calls.append((problem.id, code))
        if code == "boom":
            raise RuntimeError("toolchain exploded\nsecond line")
        if code.startswith("slow"):
            time.sleep(0.2)
        return VerifyResult(Status.PASS, len(code) / 10, verifier=self.name, details=problem.id)


def test_results_in_input_order_despite_finish_order():
    items = [(P1, "slow1"), (P1, "a"), (P2, "bb"), (P2, "slow22")]
    results = Recording().verify_batch(items, workers=4)
    assert [r.reward for r in results] == [0.5, 0.1, 0.2, 0.6]
    assert [r.details for r in results] == ["p1", "p1", "p2", "p2"]


def test_identical_pairs_are_verified_once():
    v = Recording()
    items = [(P1, "x"), (P1, "x"), (P2, "x"), (P1, "y"), (P1, "x")]
    results = v.verify_batch(items, workers=2)
    assert sorted(v.calls) == [("p1", "x"), ("p1", "y"), ("p2", "x")]
    assert results[0] is results[1] is results[4]


def test_exception_becomes_counted_sandbox_error(caplog: pytest.LogCaptureFixture):
    results = Recording().verify_batch([(P1, "ok"), (P1, "boom")], workers=2)
    assert results[0].status is Status.PASS
    bad = results[1]
    assert (bad.status, bad.reward, bad.verifier) == (Status.SANDBOX_ERROR, 0.0, "recording")
    assert bad.details == "RuntimeError: toolchain exploded second line"
    assert "1 of 2 distinct samples hit SANDBOX_ERROR" in caplog.text


def test_on_done_adds_up_to_the_number_of_items():
    seen: list[int] = []
    items = [(P1, "x"), (P1, "x"), (P1, "y"), (P2, "boom")]
    Recording().verify_batch(items, workers=2, on_done=seen.append)
    assert sorted(seen) == [1, 1, 2] and sum(seen) == len(items)


def test_empty_batch():
    assert Recording().verify_batch([]) == []


def test_real_batch_matches_single_verification():
    problem = Problem(id="add", prompt="", tests=["assert add(1, 2) == 3"])
    codes = ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 0\n", "def add("]
    results = PythonTestVerifier(timeout=3.0).verify_batch([(problem, c) for c in codes])
    assert [r.status for r in results] == [Status.PASS, Status.FAIL, Status.COMPILE_ERROR]


def test_trim_keeps_head_and_tail():
    text = "H" * 3000 + "T" * 3000
    out = trim(text, 100)
    assert out.startswith("H" * 50) and out.endswith("T" * 50) and "5900 chars omitted" in out
    assert trim("short", 100) == "short"


def test_one_line():
    assert one_line(ValueError("a\n  b")) == "ValueError: a b"
    assert one_line(KeyError()) == "KeyError"


# --- the seeds' custom-verifier contract -------------------------------------------------------


def test_verify_result_the_seeds_way():
    ok = VerifyResult(success=True, reward=1.0, details="fine")
    assert (ok.status, ok.passed, ok.success, ok.details) == (Status.PASS, True, True, "fine")
    bad = VerifyResult(success=False, reward=0.0, details="nope", error="boom")
    assert (bad.status, bad.success, bad.stderr) == (Status.FAIL, False, "boom")
    assert VerifyResult("RUNTIME_ERROR", 0.0).status is Status.RUNTIME_ERROR
    # our positional form is unchanged, and dataclasses.replace still works
    ours = VerifyResult(Status.PASS, 1.0, 3, 3)
    assert ours.success and ours.tests_total == 3
    changed = dataclasses.replace(ours, status=Status.FAIL, reward=0.5)
    assert (changed.status, changed.reward, changed.success) == (Status.FAIL, 0.5, False)
    assert VerifyResult.from_dict(ok.to_dict()) == ok
    assert "success" not in ok.to_dict() and ok.to_dict()["passed"] is True
    with pytest.raises(TypeError, match="needs a status"):
        VerifyResult(reward=1.0)
    with pytest.raises(TypeError, match="needs a reward"):
        VerifyResult(Status.PASS)


class SeedsStyle(Verifier):
    """No name, one-argument verify, returns whatever it is told to."""

    def __init__(self, answer: object) -> None:
        super().__init__(max_workers=3)
        self.answer = answer

    def verify(self, code: str) -> VerifyResult:  # type: ignore[override]
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[return-value]


def test_one_argument_verify_accepts_both_calling_conventions():
    v = SeedsStyle(VerifyResult(success=True, reward=1.0))
    assert v.name == "SeedsStyle" and v.max_workers == 3
    assert v.verify("code").passed and v.verify(P1, "code").passed
    assert v.verify(problem=P1, code="code").passed
    assert getattr(SeedsStyle.verify, "code_only", False)
    assert not getattr(Recording.verify, "code_only", False)  # two-argument ones untouched


@pytest.mark.parametrize(
    "answer,details",
    [
        (None, "SeedsStyle.verify returned NoneType, not a VerifyResult"),
        ((True, 1.0), "SeedsStyle.verify returned tuple, not a VerifyResult"),
        (VerifyResult(Status.PASS, 1.5), "SeedsStyle.verify returned reward 1.5, outside [0, 1]"),
        (VerifyResult(Status.FAIL, float("nan")), "returned reward nan, outside [0, 1]"),
        (ValueError("bad input\nline 2"), "ValueError: bad input line 2"),
    ],
)
def test_verifier_misbehaviour_is_a_counted_sandbox_error(answer, details, caplog):
    results = SeedsStyle(answer).verify_batch([(P1, "x"), (P2, "y")])
    assert [r.status for r in results] == [Status.SANDBOX_ERROR] * 2
    assert all(r.reward == 0.0 and r.verifier == "SeedsStyle" for r in results)
    assert details in results[0].details
    assert "2 of 2 distinct samples hit SANDBOX_ERROR" in caplog.text


def test_safe_verify_fills_provenance():
    r = SeedsStyle(VerifyResult(success=False, reward=0.25)).safe_verify(P1, "x")
    assert (r.status, r.reward, r.verifier) == (Status.FAIL, 0.25, "SeedsStyle")
    assert r.duration > 0


def test_extract_code_helper_and_context_manager():
    with SeedsStyle(None) as v:
        assert v.extract_code("text\n```python\nx = 1\n```\n") == "x = 1"
