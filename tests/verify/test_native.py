"""Native verifiers: the compile ladder, run mode, io tests and hostile binaries.

The first half drives GCCVerifier in detail (needs gcc/g++); the conformance test at the end
runs every compiled-language verifier in the registry (gcc, clang, mingw, rust, go; msvc_ssh
has its own against a real sshd in test_remote_ssh.py) through the same reference / wrong /
broken / warning samples. Fixtures use ``cache=False`` unless a test is about the cache, so
every test really compiles.
"""

from __future__ import annotations

import time

import pytest

from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem, Status
from halo_forge.verify.native import (
    GCCVerifier,
    IOCase,
    MingwVerifier,
    io_tests,
    is_pe,
    leading_includes,
    normalize_output,
)

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
    return GCCVerifier(flags=["-O0"], cache=False, run_after_compile=False)


@pytest.fixture(scope="module")
def runner() -> GCCVerifier:
    return GCCVerifier(flags=["-O0"], run_after_compile=True, run_timeout=1.0, cache=False)


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


def test_default_runs_io_tests_when_the_problem_has_them():
    r = GCCVerifier(flags=["-O0"], cache=False).verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed) == (Status.PASS, 1.0, 3)


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


def test_io_case_timeout_overrides_run_timeout(runner: GCCVerifier):
    slow = (  # sleeps 1.5 s, then answers: too slow for the verifier's 1 s, fine with 3 s
        "#include <iostream>\n#include <unistd.h>\n"
        "int main() { long a, b; std::cin >> a >> b; usleep(1500000); std::cout << a + b; }\n"
    )
    problem = Problem(
        id="slow",
        prompt="",
        language="cpp",
        metadata={"io_tests": [{"input": "2 3", "output": "5", "timeout": 3}]},
    )
    assert io_tests(problem) == [IOCase("2 3", "5", 3)]
    assert runner.verify(problem, slow).status is Status.PASS
    problem = Problem(id="slow", prompt="", language="cpp", metadata=SUM.metadata)
    assert runner.verify(problem, slow).status is Status.TIMEOUT
    with pytest.raises(DataError, match="timeout"):
        io_tests(
            Problem(
                id="x",
                prompt="",
                metadata={"io_tests": [{**SUM.metadata["io_tests"][0], "timeout": -1}]},
            )
        )


def test_compile_timeout():
    v = GCCVerifier(flags=["-O0"], compile_timeout=1.0, cache=False)
    slow = (  # 4e10 constexpr steps: minutes of compile time, little memory
        "constexpr long f() { long x = 0; for (long i = 0; i < 200000; i++)\n"
        "  for (long j = 0; j < 200000; j++) x += i ^ j; return x; }\n"
        "constexpr long r = f();\nint main() { return r > 0; }\n"
    )
    start = time.monotonic()
    r = v.verify(NO_TESTS, slow)
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.0), r.details
    assert r.details.startswith("compile timed out")
    assert time.monotonic() - start < 4


@pytest.mark.parametrize(
    "pragma",
    [
        '#pragma GCC diagnostic ignored "-Wunused-variable"',
        '_Pragma("GCC diagnostic ignored \\"-Wunused-variable\\"")',
        "#pragma GCC system_header",
        '# 1 "main.cpp" 3',
    ],
)
def test_source_that_silences_its_warnings_gets_the_warnings_rung(
    compile_only: GCCVerifier, pragma: str
):
    r = compile_only.verify(NO_TESTS, f"{pragma}\n{WARNS}")
    assert (r.status, r.reward) == (Status.FAIL, 0.3), r.details
    # (gcc itself warns about a system_header pragma in the main file; the others it obeys)
    assert "suppresses compiler warnings" in r.details or "system_header" in r.details


def test_leading_includes():
    assert leading_includes("// hi\n#include <vector>\n\n#include <bits/stdc++.h>\nint x;") == (
        "vector",
        "bits/stdc++.h",
    )
    assert leading_includes("#define N 5\n#include <vector>\n") == ()  # a #define first: none
    assert leading_includes('#include "mine.h"\n#include <vector>\n') == ()
    assert leading_includes("#include <../../etc/passwd>\n") == ()
    assert leading_includes("#include <vector>\nusing namespace std;\n#include <map>\n") == (
        "vector",
    )


def test_precompiled_header_is_built_on_second_sight_and_keeps_verdicts(tmp_path):
    v = GCCVerifier(flags=["-O0"], cache=tmp_path, run_after_compile=True, run_timeout=2.0)
    head = "#include <iostream>\n#include <vector>\n"
    body = "int main() { long a, b; std::cin >> a >> b; std::vector<long> v{a, b};\n"
    good = head + body + " std::cout << v[0] + v[1]; }\n"
    assert v.verify(SUM, good).status is Status.PASS
    assert not list((tmp_path / "pch").glob("*/*/std.h.gch"))  # seen once: not yet
    assert v.verify(SUM, good + "// 2\n").status is Status.PASS
    [gch] = list((tmp_path / "pch").glob("*/*/std.h.gch"))
    assert gch.stat().st_nlink == 1  # the build dir's hard link is gone with the build dir
    warn = head + body + " int unused; std::cout << v[0] + v[1]; }\n"
    r = v.verify(SUM, warn)  # compiled with the PCH: warnings still seen, still runs
    assert (r.status, r.reward) == (Status.PASS, 1.0)
    r = GCCVerifier(flags=["-O0"], cache=tmp_path).verify(NO_TESTS, warn)
    assert (r.status, r.reward) == (Status.FAIL, 0.3) and "unused" in r.details
    r = v.verify(SUM, head + "int main() { std::vector<int> v; v.push_back(; }\n")
    assert r.status is Status.COMPILE_ERROR


@pytest.mark.toolchain("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-g++")
def test_mingw_builds_a_windows_pe(tmp_path):
    v = MingwVerifier(flags=["-O0"], cache=tmp_path)
    r = v.verify(NO_TESTS, CLEAN)
    assert (r.status, r.reward) == (Status.PASS, 0.5)
    [entry] = [p for p in (tmp_path / "bin").glob("*/*/artifact")]
    assert is_pe(entry)
    assert v.verify(NO_TESTS, WARNS).reward == 0.3
    assert v.verify(
        Problem(id="c", prompt="", language="c"), "int main(void) { return 0; }\n"
    ).passed
    assert v.verify(NO_TESTS, "int main() { return }").status is Status.COMPILE_ERROR
    elf = tmp_path / "elf"
    elf.write_bytes(b"\x7fELF" + b"\0" * 100)
    assert not is_pe(elf)


# -- conformance over every compiled-language verifier -----------------------------------------

RS_SUM = (
    "use std::io::Read;\nfn main() { let mut s = String::new();\n"
    " std::io::stdin().read_to_string(&mut s).unwrap();\n"
    " let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
    ' println!("{}", v[0] + v[1]); }\n'
)
GO_SUM = (
    'package main\n\nimport "fmt"\n\n'
    "func main() {\n\tvar a, b int\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n"
)
CONFORMANCE = {
    # name: (language, reference, wrong, broken, with a warning, tools, options)
    "gcc": ("cpp", GOOD, HALF, "int main() { return }", WARNS, ("gcc", "g++"), {}),
    "clang": ("cpp", GOOD, HALF, "int main() { return }", WARNS, ("clang", "clang++"), {}),
    "mingw": (
        "cpp",
        GOOD,
        HALF,
        "int main() { return }",
        WARNS,
        ("x86_64-w64-mingw32-g++", "x86_64-w64-mingw32-gcc", "wine"),
        {},
    ),
    "rust": (
        "rust",
        RS_SUM,
        RS_SUM.replace("v[0] + v[1]", "if v[0] == 0 { 1 } else { v[0] + v[1] }"),
        'fn main() { let x: i32 = "no"; }',
        "fn main() { let unused = 1; }",
        ("rustc",),
        {},
    ),
    "go": (
        "go",
        GO_SUM,
        GO_SUM.replace("a + b)", "a + b + a*0 + map[bool]int{true: 1}[a == 0])"),
        "package main\nfunc main() { x := 1 }\n",
        'package main\n\nimport "fmt"\n\nfunc main() { fmt.Printf("%d\\n", "x") }\n',
        ("go",),
        {"vet": True},
    ),
}


@pytest.fixture
def rlimits_sandbox(monkeypatch: pytest.MonkeyPatch):
    """wine runs only with reduced isolation (see MingwVerifier); restore the probe after."""
    from halo_forge.verify import isolation

    monkeypatch.setenv("HALO_FORGE_SANDBOX", "rlimits")
    isolation.probe(refresh=True)
    yield
    monkeypatch.undo()
    isolation.probe(refresh=True)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.toolchain(*c[5])) for n, c in CONFORMANCE.items()],
)
def test_conformance(name: str, tmp_path, request: pytest.FixtureRequest):
    from halo_forge.verify import get_verifier

    lang, good, wrong, broken, warns, _, options = CONFORMANCE[name]
    if name == "mingw":
        request.getfixturevalue("rlimits_sandbox")
    problem = Problem(id=f"sum-{name}", prompt="", language=lang, metadata=SUM.metadata)
    free = Problem(id=f"free-{name}", prompt="", language=lang)
    v = get_verifier(name, run_after_compile=True, run_timeout=5.0, cache=tmp_path, **options)
    try:
        r = v.verify(problem, good)
        assert (r.status, r.reward, r.tests_passed) == (Status.PASS, 1.0, 3), r
        r = v.verify(problem, wrong)
        assert (r.status, r.tests_passed, r.details) == (Status.FAIL, 2, "case 3: wrong output"), r
        assert r.reward == pytest.approx(0.7 + 0.3 * 2 / 3)
        r = v.verify(problem, broken)
        assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0), r
        assert r.details
        compile_only = get_verifier(name, run_after_compile=False, cache=tmp_path, **options)
        r = compile_only.verify(free, warns)
        assert (r.status, r.reward) == (Status.FAIL, 0.3), r
        assert r.details
        r = compile_only.verify(problem, good)
        assert (r.status, r.reward) == (Status.FAIL, 0.5) and "3 tests not run" in r.details
        [r] = v.verify_batch([(problem, "")])
        assert r.status is Status.COMPILE_ERROR
    finally:
        v.cleanup()
