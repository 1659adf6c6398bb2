"""Registry-wide: every built-in dataset's reference solutions pass its own tests through the
verifier the registry names for it, in the sandbox. Known exceptions are listed with the reason;
an exception that starts passing fails the test too (the list must stay true).

Hub datasets (``codeforces_*``) are checked on the local fixture in the hub's schema
(``tests/data/test_codeforces.py``), since the hub is not reachable here.
"""

from __future__ import annotations

import shutil

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

# The tool each verifier needs (skip with the reason when absent).
TOOLS = {"gcc": "g++", "rust": "rustc", "go": "go"}

LOCAL = [name for name, ds in BUILTINS.items() if not ds.hub]


def _marks(name: str) -> list[pytest.MarkDecorator]:
    tool = TOOLS.get(BUILTINS[name].verifier)
    marks = [pytest.mark.toolchain(tool)] if tool else []
    if name in ("basic_rust", "basic_go"):  # ~1 s per compile: 72 programs
        marks.append(pytest.mark.slow)
    return marks


def test_every_builtin_is_covered():
    assert {n for n, ds in BUILTINS.items() if ds.hub} == {"codeforces_cpp", "codeforces_python"}
    assert set(LOCAL) == {
        "basic_python",
        "basic_cpp",
        "basic_rust",
        "basic_go",
        "humaneval",
        "mbpp",
    }


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in LOCAL])
def test_references_pass_their_own_tests(name: str):
    ds = BUILTINS[name]
    tool = TOOLS.get(ds.verifier)
    if tool and shutil.which(tool) is None:
        pytest.skip(f"{tool} not found on PATH")
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
