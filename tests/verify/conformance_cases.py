"""The registry conformance table: one case per registered verifier name.

``test_registry.py`` checks that every name in :func:`halo_forge.verify.known_verifiers` has a
case here (a registered verifier without one FAILS the suite), then that the verifier gives
the case's ``good`` code ``PASS`` with reward 1.0 and its ``bad`` code something else with
reward < 1.0. Registering a verifier? Add its case below (keyed by its registry name).

``tools``: programs that must be on PATH, else the case is skipped with a reason.
``options``: passed to ``get_verifier(name, **options)``.
``reward``: what ``good`` must score; 1.0 unless the ladder caps a PASS lower (a compile-only
check of a test-less problem passes at the ``compile_clean`` rung, 0.5).
``covered_by``: ``"tests/verify/file.py::test_name"`` when the check needs a fixture of that
module (a real sshd): the conformance test then checks the named test exists and defers to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from halo_forge.types import Problem


@dataclass(frozen=True)
class Case:
    problem: Problem
    good: str
    bad: str
    tools: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    reward: float = 1.0
    covered_by: str | None = None


_ADD_TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"]
_ADD_GOOD = "def add(a, b):\n    return a + b\n"
_ADD_BAD = "def add(a, b):\n    return a - b\n"

_HUMANEVAL = Problem(
    id="conformance/humaneval",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    tests=[
        "METADATA = {}\n\n\ndef check(candidate):\n"
        "    assert candidate(1, 2) == 3\n    assert candidate(0, 0) == 0\n"
        "    assert candidate(-4, 9) == 5\n"
    ],
    entry_point="add",
)

_PYTEST = Problem(
    id="conformance/pytest",
    prompt="Write add(a, b).",
    tests=[
        "import pytest\nfrom solution import add\n\n\n"
        "@pytest.mark.parametrize('a,b,c', [(1, 2, 3), (0, 0, 0), (-4, 9, 5)])\n"
        "def test_add(a, b, c):\n    assert add(a, b) == c\n"
    ],
    entry_point="add",
)

_UNITTEST = Problem(
    id="conformance/unittest",
    prompt="Write add(a, b).",
    tests=[
        "import unittest\n\n\nclass TestAdd(unittest.TestCase):\n"
        "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
        "    def test_negative(self):\n        self.assertEqual(add(-4, 9), 5)\n"
    ],
    entry_point="add",
)

_IO = [{"input": "2 3\n", "output": "5\n"}, {"input": "10 -4\n", "output": "6\n"}]
_CPP = Problem(
    id="conformance/cpp", prompt="Sum two ints.", language="cpp", metadata={"io_tests": _IO}
)
_CPP_GOOD = (
    "#include <iostream>\n"
    "int main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
)
_CPP_BAD = _CPP_GOOD.replace("a + b", "a - b")

_RUST = Problem(
    id="conformance/rust", prompt="Sum two ints.", language="rust", metadata={"io_tests": _IO}
)
_RUST_GOOD = (
    "use std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
    "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
    "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
    '    println!("{}", v[0] + v[1]);\n}\n'
)
_GO = Problem(
    id="conformance/go", prompt="Sum two ints.", language="go", metadata={"io_tests": _IO}
)
_GO_GOOD = (
    'package main\n\nimport "fmt"\n\n'
    "func main() {\n\tvar a, b int\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n"
)

_RUN = {"run_after_compile": True}

CASES: dict[str, Case] = {
    "python": Case(Problem(id="c/python", prompt="", tests=_ADD_TESTS), _ADD_GOOD, _ADD_BAD),
    "mbpp": Case(Problem(id="c/mbpp", prompt="", tests=_ADD_TESTS), _ADD_GOOD, _ADD_BAD),
    # A completion that continues the prompt (the HumanEval convention) and a wrong one.
    "humaneval": Case(_HUMANEVAL, "    return a + b\n", "    return None\n"),
    "pytest": Case(_PYTEST, _ADD_GOOD, _ADD_BAD),
    "unittest": Case(_UNITTEST, _ADD_GOOD, _ADD_BAD),
    "python_io": Case(
        Problem(id="c/python_io", prompt="", metadata={"io_tests": _IO}),
        "a, b = map(int, input().split())\nprint(a + b)\n",
        "a, b = map(int, input().split())\nprint(a - b)\n",
    ),
    "gcc": Case(_CPP, _CPP_GOOD, _CPP_BAD, tools=("g++",), options=_RUN),
    "clang": Case(_CPP, _CPP_GOOD, _CPP_BAD, tools=("clang++",), options=_RUN),
    "rust": Case(
        _RUST, _RUST_GOOD, _RUST_GOOD.replace("v[0] + v[1]", "v[0] - v[1]"), ("rustc",), _RUN
    ),
    "go": Case(_GO, _GO_GOOD, _GO_GOOD.replace("a + b", "a - b"), ("go",), _RUN),
    # mingw compiles to a Windows PE; without wine it is compile-only: a clean compile of a
    # test-less problem passes, a compile error does not.
    "mingw": Case(
        Problem(id="c/mingw", prompt="", language="cpp"),
        "int main() { return 0; }\n",
        "int main() { return 0 }\n",
        tools=("x86_64-w64-mingw32-g++",),
        reward=0.5,
    ),
    # Needs the real sshd on 127.0.0.1 that test_remote_ssh.py builds (a module fixture).
    "msvc_ssh": Case(
        _CPP,
        _CPP_GOOD,
        _CPP_BAD,
        covered_by="tests/verify/test_remote_ssh.py::test_reference_passes_and_bad_ones_fail",
    ),
}
