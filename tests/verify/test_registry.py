from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from halo_forge.errors import VerifierError
from halo_forge.types import Problem
from halo_forge.verify import (
    GCCVerifier,
    HumanEvalVerifier,
    MBPPVerifier,
    PythonTestVerifier,
    Verifier,
    get_verifier,
    known_verifiers,
)


def test_known_names():
    assert known_verifiers() == ["clang", "gcc", "humaneval", "mbpp", "python"]


def test_python_family():
    assert type(get_verifier("python")) is PythonTestVerifier
    assert type(get_verifier("mbpp")) is MBPPVerifier
    assert type(get_verifier("humaneval")) is HumanEvalVerifier
    assert get_verifier("Python", timeout=2.5).timeout == 2.5


@pytest.mark.toolchain("gcc", "g++")
def test_gcc_with_options():
    v = get_verifier("gcc", run_after_compile=True, flags=["-O0"])
    assert isinstance(v, GCCVerifier) and v.run_after_compile and v.flags == ("-O0",)


def test_unknown_name_lists_known_ones_on_one_line():
    with pytest.raises(VerifierError) as info:
        get_verifier("rustc")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg == (
        "unknown verifier 'rustc'; known: clang, gcc, humaneval, mbpp, python "
        "(or module:Class for your own)"
    )


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
