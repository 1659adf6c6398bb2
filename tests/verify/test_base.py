"""Verifier.verify_batch: ordering, de-duplication, exceptions → SANDBOX_ERROR, progress."""

from __future__ import annotations

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
