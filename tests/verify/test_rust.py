"""RustVerifier: rustc edition 2021, warnings collected, suppression refused, run mode."""

from __future__ import annotations

import time

import pytest

from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem, Status
from halo_forge.verify.rust import RustVerifier, real_rustc

pytestmark = pytest.mark.toolchain("rustc")

SUM = Problem(
    id="sum",
    prompt="",
    language="rust",
    metadata={"io_tests": [{"input": "2 3\n", "output": "5\n"}, {"input": "1 1", "output": "2"}]},
)
FREE = Problem(id="free", prompt="", language="rust")
GOOD = (
    "use std::io::Read;\nfn main() { let mut s = String::new();\n"
    " std::io::stdin().read_to_string(&mut s).unwrap();\n"
    " let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
    ' println!("{}", v[0] + v[1]); }\n'
)
WARNS = "fn main() { let unused = 1; }\n"


@pytest.fixture(scope="module")
def compile_only() -> RustVerifier:
    return RustVerifier(cache=False)


def test_clean_warning_and_error_rungs(compile_only: RustVerifier):
    r = compile_only.verify(FREE, "fn main() {}\n")
    assert (r.status, r.reward) == (Status.PASS, 0.5)
    r = compile_only.verify(FREE, WARNS)
    assert (r.status, r.reward) == (Status.FAIL, 0.3)
    assert r.details.startswith("warning: unused variable")
    r = compile_only.verify(FREE, 'fn main() { let x: i32 = "no"; }\n')
    assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0)
    assert r.details.startswith("error[E0308]")


@pytest.mark.parametrize(
    "attr", ["#![allow(unused)]", "#![allow(warnings)]", "#[allow(unused_variables)]"]
)
def test_allow_attributes_do_not_buy_the_clean_rung(compile_only: RustVerifier, attr: str):
    r = compile_only.verify(FREE, f"{attr}\n{WARNS}")
    assert (r.status, r.reward) == (Status.FAIL, 0.3)
    assert "suppresses compiler warnings" in r.details


def test_edition_2021_is_the_default(compile_only: RustVerifier):
    # `async` became a keyword in 2018: a 2015-edition identifier fails under 2021
    r = compile_only.verify(FREE, "fn main() { let async = 1; let _ = async; }\n")
    assert r.status is Status.COMPILE_ERROR
    r = RustVerifier(edition="2015", cache=False).verify(
        FREE, "fn main() { let async = 1; let _ = async; }\n"
    )
    assert r.status is not Status.COMPILE_ERROR


def test_run_mode_io_tests_and_panics():
    v = RustVerifier(run_after_compile=True, run_timeout=1.0, cache=False)
    r = v.verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed) == (Status.PASS, 1.0, 2)
    r = v.verify(SUM, GOOD.replace("v[0] + v[1]", "v[0] * v[1]"))
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    r = v.verify(FREE, 'fn main() { panic!("boom"); }\n')
    assert (r.status, r.reward, r.details) == (Status.RUNTIME_ERROR, 0.5, "exit code 101")
    start = time.monotonic()
    r = v.verify(SUM, "fn main() { loop { std::hint::black_box(0); } }\n")
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.5)
    assert time.monotonic() - start < 5


def test_flags_that_hide_warnings_are_refused():
    for flags in (["-A", "warnings"], ["-Awarnings"], ["--cap-lints", "allow"], ["--allow=unused"]):
        with pytest.raises(ConfigError, match="warnings are part of the reward"):
            RustVerifier(flags=flags)
    with pytest.raises(ConfigError, match="edition"):
        RustVerifier(edition="2020")


def test_language_is_checked_and_the_real_rustc_is_used(compile_only: RustVerifier):
    with pytest.raises(DataError, match="rust verifies rust"):
        compile_only.verify(Problem(id="c", prompt="", language="cpp"), "int main() {}")
    # rustup's proxy needs $HOME/.rustup, which the sandbox's HOME does not have
    assert "/toolchains/" in real_rustc("rustc") or "rustup" not in real_rustc("rustc")
