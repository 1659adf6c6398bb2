"""GCCVerifier: the compile ladder, run mode, io tests and hostile binaries (needs gcc/g++)."""

from __future__ import annotations

import time

import pytest

from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem, Status
from halo_forge.verify.native import GCCVerifier, io_tests, normalize_output

pytestmark = pytest.mark.toolchain("gcc", "g++")

SUM = Problem(
    id="sum",
    prompt="Read two integers, print their sum.",
    language="cpp",
    metadata={
        "io_tests": [
            {"input": "2 3\n", "output": "5\n"},
            {"input": "10 -4", "output": "6"},
            {"input": "0 0\n", "output": "0\n"},
        ]
    },
)
GOOD = (
    "#include <iostream>\n"
    "int main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
)
HALF = (  # right unless the first number is 0
    "#include <iostream>\n"
    "int main() { long a, b; std::cin >> a >> b; std::cout << (a ? a + b : 1) << '\\n'; }\n"
)
NO_TESTS = Problem(id="free", prompt="", language="cpp")
CLEAN = "int main() { return 0; }\n"
WARNS = "int main() { int unused; return 0; }\n"


@pytest.fixture(scope="module")
def compile_only() -> GCCVerifier:
    return GCCVerifier(flags=["-O0"])


@pytest.fixture(scope="module")
def runner() -> GCCVerifier:
    return GCCVerifier(flags=["-O0"], run_after_compile=True, run_timeout=1.0)


def test_compile_error(compile_only: GCCVerifier):
    r = compile_only.verify(NO_TESTS, "int main() { return }\n")
    assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0)
    assert "error" in r.details and "error:" in r.stderr


def test_clean_compile_without_tests_passes_at_half(compile_only: GCCVerifier):
    r = compile_only.verify(NO_TESTS, CLEAN)
    assert (r.status, r.reward) == (Status.PASS, 0.5)


def test_warnings_without_tests_fail_at_point_three(compile_only: GCCVerifier):
    r = compile_only.verify(NO_TESTS, WARNS)
    assert (r.status, r.reward) == (Status.FAIL, 0.3)
    assert "unused" in r.details


def test_compile_only_with_tests_is_never_pass(compile_only: GCCVerifier):
    r = compile_only.verify(SUM, GOOD)
    assert (r.status, r.reward) == (Status.FAIL, 0.5)
    assert "3 tests not run" in r.details


def test_c_language_uses_gcc(compile_only: GCCVerifier):
    problem = Problem(id="c", prompt="", language="c")
    r = compile_only.verify(
        problem, "#include <math.h>\nint main(void) { return (int)sqrt(0.0); }\n"
    )
    assert r.status is Status.PASS
    r = compile_only.verify(problem, "int main() { std::vector<int> v; }\n")  # C++ in C mode
    assert r.status is Status.COMPILE_ERROR


def test_io_tests_all_pass(runner: GCCVerifier):
    r = runner.verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed, r.tests_total) == (Status.PASS, 1.0, 3, 3)


def test_io_tests_partial(runner: GCCVerifier):
    r = runner.verify(SUM, HALF)
    assert (r.status, r.tests_passed) == (Status.FAIL, 2)
    assert r.reward == pytest.approx(0.7 + 0.3 * 2 / 3)
    assert r.details == "case 3: wrong output"


def test_run_without_tests_is_point_seven(runner: GCCVerifier):
    r = runner.verify(NO_TESTS, CLEAN)
    assert (r.status, r.reward) == (Status.PASS, 0.7)


def test_crash_keeps_compile_rung(runner: GCCVerifier):
    code = "int main() { volatile int *p = 0; return *p; }\n"
    r = runner.verify(NO_TESTS, code)
    assert (r.status, r.reward) == (Status.RUNTIME_ERROR, 0.5)
    assert r.details == "killed by signal 11"


def test_infinite_loop_stops_after_first_timeout(runner: GCCVerifier):
    code = "int main() { volatile int x = 0; for (;;) x++; }\n"
    start = time.monotonic()
    r = runner.verify(SUM, code)
    assert (r.status, r.reward, r.tests_passed) == (Status.TIMEOUT, 0.5, 0)
    assert time.monotonic() - start < 4.0  # one compile + one 1 s case, not three


def test_memory_bomb_binary_is_not_a_pass(runner: GCCVerifier):
    code = (
        "#include <cstdlib>\n#include <cstring>\n#include <iostream>\n"
        "int main() { char *p = (char *)malloc(8000000000UL); if (!p) return 3;\n"
        "  memset(p, 1, 8000000000UL); std::cout << 5; }\n"
    )
    r = runner.verify(SUM, code)
    assert r.status is Status.RUNTIME_ERROR and r.details == "case 1: exit code 3"


def test_huge_output_binary_is_capped(runner: GCCVerifier):
    code = "#include <cstdio>\nint main() { for (long i = 0; i < 20000000; i++) putchar('x'); }\n"
    r = runner.verify(SUM, code)
    assert r.status is Status.FAIL and len(r.stdout) < 2200


def test_empty_code(compile_only: GCCVerifier):
    assert compile_only.verify(NO_TESTS, "").status is Status.COMPILE_ERROR


def test_no_w_flag():
    with pytest.raises(ConfigError, match="-w"):
        GCCVerifier(flags=["-O2", "-w"])


def test_wrong_language_and_bad_io_tests(runner: GCCVerifier):
    with pytest.raises(DataError, match="verifies c or cpp"):
        runner.verify(Problem(id="py", prompt=""), CLEAN)
    with pytest.raises(DataError, match="io_tests\\[1\\]"):
        io_tests(Problem(id="x", prompt="", metadata={"io_tests": [{"input": 1}]}))
    with pytest.raises(DataError, match="cannot run"):
        runner.verify(Problem(id="t", prompt="", language="cpp", tests=["assert x"]), CLEAN)


def test_normalize_output():
    assert normalize_output("1 \r\n2\t\n\n\n") == "1\n2"
    assert normalize_output("") == ""
    assert normalize_output("\n1") == "\n1"
