"""``python_io``: whole Python programs judged on stdin → stdout cases in the sandbox."""

from __future__ import annotations

import pytest

from halo_forge.errors import DataError
from halo_forge.types import Problem, Status
from halo_forge.verify import get_verifier

SUM = Problem(
    id="sum",
    prompt="",
    language="python",
    metadata={"io_tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5", "output": "10"}]},
)
GOOD = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture(scope="module")
def verifier():
    v = get_verifier("python_io", cache=False, run_timeout=2.0)
    yield v
    v.cleanup()


def test_reference_passes(verifier):
    r = verifier.verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed, r.tests_total) == (Status.PASS, 1.0, 2, 2)


@pytest.mark.parametrize(
    ("code", "status", "passed"),
    [
        ("print(3)", Status.FAIL, 1),  # right on the first case only: partial credit
        ("def (:", Status.COMPILE_ERROR, 0),
        ("import sys\nsys.exit(0)", Status.FAIL, 0),  # a clean exit with no output is not a pass
        ("print('PASS')\nprint(3)", Status.FAIL, 0),  # printing a verdict is just wrong output
        ("raise SystemExit(0)", Status.FAIL, 0),
        ("while True:\n    pass", Status.TIMEOUT, 0),
        ("import numpy\nprint(3)", Status.RUNTIME_ERROR, 0),  # standard library only
    ],
)
def test_wrong_or_hostile_programs_do_not_pass(verifier, code, status, passed):
    r = verifier.verify(SUM, code)
    assert (r.status, r.tests_passed) == (status, passed), r
    assert r.reward < 1.0


def test_network_is_unreachable(verifier):
    code = (
        "import socket\n"
        "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=1); print('open')\n"
        "except OSError:\n    print('closed')\n"
    )
    p = Problem(
        id="net",
        prompt="",
        language="python",
        metadata={"io_tests": [{"input": "", "output": "closed"}]},
    )
    assert verifier.verify(p, code).status is Status.PASS


def test_warning_is_the_lower_compile_rung(verifier):
    r = verifier.verify(SUM, "x = '\\d'\nprint(0)")  # invalid escape: a DeprecationWarning on 3.11
    assert r.status is Status.FAIL and r.reward == pytest.approx(0.7)
    crashed = verifier.verify(SUM, "x = '\\d'\nraise ValueError")
    assert (crashed.status, crashed.reward) == (Status.RUNTIME_ERROR, 0.3)


def test_other_languages_are_refused(verifier):
    with pytest.raises(DataError, match="python_io verifies python"):
        verifier.verify(Problem(id="c", prompt="", language="cpp"), GOOD)
