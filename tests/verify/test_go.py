"""GoVerifier: offline, hermetic go build; vet findings as warnings; run mode."""

from __future__ import annotations

import pytest

from halo_forge.types import Problem, Status
from halo_forge.verify.go import GoVerifier

pytestmark = pytest.mark.toolchain("go")

SUM = Problem(
    id="sum",
    prompt="",
    language="go",
    metadata={"io_tests": [{"input": "2 3\n", "output": "5\n"}, {"input": "1 1", "output": "2"}]},
)
FREE = Problem(id="free", prompt="", language="golang")
GOOD = (
    'package main\n\nimport "fmt"\n\n'
    "func main() {\n\tvar a, b int\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n"
)
VET = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Printf("%d\\n", "x") }\n'


@pytest.fixture(scope="module")
def compile_only() -> GoVerifier:
    return GoVerifier(cache=False)


def test_build_rungs(compile_only: GoVerifier):
    assert compile_only.verify(FREE, "package main\n\nfunc main() {}\n").status is Status.PASS
    r = compile_only.verify(FREE, "package main\n\nfunc main() { x := 1 }\n")
    assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0)
    assert "declared" in r.details and "not used" in r.details
    # go has no compiler warnings: without vet, a vet finding is a clean build
    assert compile_only.verify(FREE, VET).reward == 0.5


def test_no_network_no_modules(compile_only: GoVerifier):
    code = 'package main\n\nimport "github.com/x/y"\n\nfunc main() { y.Z() }\n'
    r = compile_only.verify(FREE, code)
    assert r.status is Status.COMPILE_ERROR
    assert "github.com/x/y" in r.details


def test_vet_findings_are_warnings():
    v = GoVerifier(vet=True, cache=False)
    r = v.verify(FREE, VET)
    assert (r.status, r.reward) == (Status.FAIL, 0.3)
    assert r.details.startswith("vet: ") and "Printf" in r.details


def test_run_mode():
    v = GoVerifier(run_after_compile=True, run_timeout=2.0, cache=False)
    r = v.verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed) == (Status.PASS, 1.0, 2)
    r = v.verify(SUM, GOOD.replace("a + b", "a - b"))
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    r = v.verify(FREE, 'package main\n\nfunc main() { panic("boom") }\n')
    assert (r.status, r.reward, r.details) == (Status.RUNTIME_ERROR, 0.5, "exit code 2")
