"""The verifier registry: names, options, third-party verifiers, and conformance of every name."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import pytest
from conformance_cases import CASES

from halo_forge.errors import VerifierError
from halo_forge.types import Problem, Status, VerifyResult
from halo_forge.verify import (
    GCCVerifier,
    HumanEvalVerifier,
    MBPPVerifier,
    PythonTestVerifier,
    Verifier,
    get_verifier,
    known_verifiers,
    registry,
)
from halo_forge.verify.pytest_verifier import PytestVerifier, UnittestVerifier

BUILTIN = {"clang", "gcc", "humaneval", "mbpp", "pytest", "python", "unittest"}


def test_known_names():
    names = known_verifiers()
    assert names == sorted(names)
    assert set(names) >= BUILTIN


def test_every_registered_verifier_has_a_conformance_case():
    missing = sorted(set(known_verifiers()) - set(CASES))
    assert not missing, (
        f"registered verifiers without a conformance case: {missing}; "
        "add one to tests/verify/conformance_cases.py"
    )


@pytest.mark.parametrize("name", known_verifiers())
def test_conformance_reference_passes_and_bad_code_fails(name: str):
    case = CASES.get(name)
    if case is None:
        pytest.fail(f"no conformance case for {name!r} in tests/verify/conformance_cases.py")
    if case.covered_by:
        path, _, test = case.covered_by.partition("::")
        source = Path(__file__).parents[2] / path
        assert source.is_file() and f"def {test}(" in source.read_text(), case.covered_by
        pytest.skip(f"{name}: conformance is checked by {case.covered_by} (needs its fixture)")
    for tool in case.tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{name}: {tool} not found on PATH")
    verifier = get_verifier(name, **case.options)
    good = verifier.verify(case.problem, case.good)
    assert (good.status, good.reward) == (Status.PASS, case.reward), good
    assert good.verifier == name
    bad = verifier.verify(case.problem, case.bad)
    assert bad.status is not Status.PASS and bad.reward < good.reward, bad


def test_python_family():
    assert type(get_verifier("python")) is PythonTestVerifier
    assert type(get_verifier("mbpp")) is MBPPVerifier
    assert type(get_verifier("humaneval")) is HumanEvalVerifier
    assert type(get_verifier("pytest")) is PytestVerifier
    assert type(get_verifier("unittest")) is UnittestVerifier
    assert get_verifier("Python", timeout=2.5).timeout == 2.5


def test_get_verifier_records_how_to_rebuild_it():
    assert get_verifier("python", timeout=2.5).spec == ("python", {"timeout": 2.5})


@pytest.mark.toolchain("gcc", "g++")
def test_gcc_with_options():
    v = get_verifier("gcc", run_after_compile=True, flags=["-O0"])
    assert isinstance(v, GCCVerifier) and v.run_after_compile and v.flags == ("-O0",)


def test_unknown_name_lists_known_ones_on_one_line():
    with pytest.raises(VerifierError) as info:
        get_verifier("rustc")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("unknown verifier 'rustc'; known: ")
    assert msg.endswith("(or module:Class for your own)")
    assert ", ".join(known_verifiers()) in msg


def test_bad_option_is_one_line():
    with pytest.raises(VerifierError, match="verifier 'python': bad options: TypeError"):
        get_verifier("python", no_such_option=1)


@pytest.mark.skipif(shutil.which("clang") is not None, reason="clang is installed here")
def test_clang_absent_says_how_to_install():
    with pytest.raises(VerifierError) as info:
        get_verifier("clang")
    assert str(info.value) == "clang not found on PATH; install it with apt-get install clang"


@pytest.mark.toolchain("clang", "clang++")
def test_clang_present_uses_clang():
    v = get_verifier("clang")
    assert v.name == "clang" and v.compilers["cpp"].endswith("clang++")


PLUGIN = """
from halo_forge.types import Status, VerifyResult
from halo_forge.verify import Verifier


class Always(Verifier):
    name = "always"

    def __init__(self, reward=1.0):
        self.reward = reward

    def verify(self, problem, code):
        return VerifyResult(Status.PASS, self.reward, verifier=self.name)


NotAVerifier = dict
"""


def test_custom_module_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "hf_plugin_mod.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    v = get_verifier("hf_plugin_mod:Always", reward=0.5)
    assert isinstance(v, Verifier)
    assert v.verify(Problem(id="x", prompt=""), "code").reward == 0.5
    with pytest.raises(VerifierError, match="must name a subclass .*found type"):
        get_verifier("hf_plugin_mod:NotAVerifier")
    with pytest.raises(VerifierError, match="found nothing"):
        get_verifier("hf_plugin_mod:Missing")


def test_custom_import_failure_is_one_line():
    with pytest.raises(VerifierError) as info:
        get_verifier("no_such_module_xyz:Thing")
    assert "\n" not in str(info.value)
    assert "cannot import module 'no_such_module_xyz'" in str(info.value)
    with pytest.raises(VerifierError, match="module:Class"):
        get_verifier(":Thing")


# A custom verifier exactly as the seeds' template writes one: verify(code) with one argument,
# super().__init__(max_workers=...), self.extract_code(), VerifyResult(success, reward, details).
SEEDS_PLUGIN = """
from halo_forge.verify import Verifier
from halo_forge.types import VerifyResult


class HasMain(Verifier):
    def __init__(self, max_workers: int = 8):
        super().__init__(max_workers=max_workers)

    def verify(self, code: str) -> VerifyResult:
        extracted = self.extract_code(code)
        if "def main" in extracted:
            return VerifyResult(success=True, reward=1.0, details="has main")
        return VerifyResult(success=False, reward=0.0, details="no main", error="missing main")
"""


def test_seeds_style_custom_verifier_via_module_class(tmp_path: Path, monkeypatch):
    (tmp_path / "hf_seeds_plugin.py").write_text(SEEDS_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    v = get_verifier("hf_seeds_plugin:HasMain", max_workers=2)
    assert v.name == "HasMain" and v.max_workers == 2
    problem = Problem(id="x", prompt="")
    good = v.verify(problem, "```python\ndef main():\n    pass\n```")  # our 2-argument call
    assert (good.status, good.reward, good.success, good.details) == (
        Status.PASS,
        1.0,
        True,
        "has main",
    )
    bad = v.verify("print(1)")  # the seeds' own 1-argument call still works
    assert (bad.status, bad.success, bad.stderr) == (Status.FAIL, False, "missing main")
    results = v.verify_batch([(problem, "def main(): pass"), (problem, "x = 1")])
    assert [r.status for r in results] == [Status.PASS, Status.FAIL]
    assert all(r.verifier == "HasMain" for r in results)


class _FakeEntryPoint:
    def __init__(self, name: str, value: str, obj: object) -> None:
        self.name, self.value, self.group, self._obj = name, value, registry.ENTRY_POINT_GROUP, obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


class Constant(Verifier):
    def __init__(self, reward: float = 1.0) -> None:
        self.reward = reward

    def verify(self, problem: Problem, code: str) -> VerifyResult:
        return VerifyResult(Status.PASS if self.reward == 1.0 else Status.FAIL, self.reward)


@pytest.fixture()
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[_FakeEntryPoint]:
    installed = [
        _FakeEntryPoint("constant", "pkg.mod:Constant", Constant),
        _FakeEntryPoint("broken", "pkg.broken:Thing", ImportError("no module named pkg.broken")),
        _FakeEntryPoint("notaverifier", "pkg.mod:thing", dict),
        _FakeEntryPoint("python", "evil:Shadow", Constant),  # may not shadow a built-in
    ]

    def entry_points(**kw: object) -> list[_FakeEntryPoint]:
        assert kw == {"group": "halo_forge.verifiers"}
        return installed

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return installed


def test_entry_point_verifier(plugins):
    v = get_verifier("constant", reward=0.25)
    assert isinstance(v, Constant) and v.reward == 0.25
    result = v.safe_verify(Problem(id="p", prompt=""), "x")
    assert (result.status, result.reward, result.verifier) == (Status.FAIL, 0.25, "Constant")
    assert "constant" in registry.plugin_verifiers()
    assert "constant" not in known_verifiers()  # the conformance table covers built-ins only
    assert type(get_verifier("python")) is PythonTestVerifier


def test_entry_point_errors_are_one_line(plugins):
    with pytest.raises(VerifierError) as info:
        get_verifier("broken")
    assert str(info.value) == (
        "cannot load verifier 'broken' from entry point 'pkg.broken:Thing' "
        "(halo_forge.verifiers): ImportError: no module named pkg.broken"
    )
    with pytest.raises(VerifierError, match="must name a subclass .*found type"):
        get_verifier("notaverifier")
    with pytest.raises(VerifierError) as info:
        get_verifier("nonesuch")
    assert "plugins: broken, constant, notaverifier, python" in str(info.value)
