"""Registry-wide: every built-in dataset's reference solutions pass its own tests through the
verifier the registry names for it, in the sandbox. Known exceptions are listed with the reason;
an exception that starts passing fails the test too (the list must stay true).

Checked elsewhere, by name (this test asserts those tests exist): the procedural stdin→stdout
suites in ``tests/data/test_basic_native.py`` (which also checks that each reference compiles
without warnings and that a wrong program fails every problem), and the hub datasets
(``codeforces_*``) on a local fixture in the hub's schema in ``tests/data/test_codeforces.py``,
since the hub is not reachable here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.data.registry import BUILTINS
from halo_forge.types import Status
from halo_forge.verify import get_verifier

# (dataset, problem id) -> why its reference does not pass here.
KNOWN_FAILURES = {
    ("mbpp", "642"): "test 2 expects one iteration order of a set of tuples built from sets; "
    "CPython 3.11 yields another (the dataset's own notes call it version-dependent)",
    ("mbpp", "596"): "asserts sys.getsizeof() of tuples, which differs between CPython versions",
    ("mbpp", "533"): "passes the type `int` as an argument; only plain data crosses to the "
    "sandboxed candidate, so the judge refuses the call (a verifier limitation)",
}
# Passes alone (~1.5 s here) but can exceed the 5 s sample timeout on a loaded machine: only a
# TIMEOUT is excused.
SLOW = {("mbpp", "123")}

COVERED_BY = {
    "basic_cpp": "test_basic_native.py::test_cpp_references_pass_gcc",
    "basic_rust": "test_basic_native.py::test_rust_references_pass_rustc",
    "basic_go": "test_basic_native.py::test_go_references_pass_go",
    "codeforces_cpp": "test_codeforces.py::test_cpp_references_pass_gcc",
    "codeforces_python": "test_codeforces.py::test_python_references_pass_python_io",
}
HERE = [name for name in BUILTINS if name not in COVERED_BY]


def test_every_builtin_is_covered():
    assert set(HERE) == {"basic_python", "humaneval", "mbpp"}
    for name, where in COVERED_BY.items():
        file, test = where.split("::")
        assert f"def {test}(" in (Path(__file__).parent / file).read_text(), (name, where)


@pytest.mark.parametrize("name", HERE)
def test_references_pass_their_own_tests(name: str):
    ds = BUILTINS[name]
    verifier = get_verifier(ds.verifier)
    try:
        failed: dict[str, str] = {}
        total = 0
        for split in ds.splits:
            problems = ds.load(split)
            missing = [p.id for p in problems if not p.reference]
            assert not missing, f"{name}:{split} problems without a reference: {missing[:5]}"
            results = verifier.verify_batch([(p, p.reference or "") for p in problems])
            total += len(problems)
            for p, r in zip(problems, results, strict=True):
                if r.status is Status.PASS and r.reward == 1.0:
                    continue
                if (name, p.id) in SLOW and r.status is Status.TIMEOUT:
                    continue
                failed[p.id] = f"{r.status} {r.details[:120]}"
    finally:
        verifier.cleanup()
    known = {pid for (ds_name, pid) in KNOWN_FAILURES if ds_name == name}
    assert set(failed) == known, {k: v for k, v in failed.items() if k not in known} or (
        f"known failures now pass, update KNOWN_FAILURES: {known - set(failed)}"
    )
    assert total > 0
