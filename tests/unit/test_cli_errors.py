"""Bad input → one line on stderr, non-zero exit, no traceback, before any model loads.

Run as real subprocesses: the same path a user takes, and proof that no model was loaded
(each call finishes without importing torch — checked with -X importtime would be overkill;
we check that no 'Loading'/'Generating' output appears and the call is an error line).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    code = (
        "import sys; from halo_forge.cli.main import run; rc = run(sys.argv[1:]); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def assert_one_line_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode != 0, p
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("halo-forge: error: ")
    assert "Traceback" not in p.stderr + p.stdout
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_prompts_file(tmp_path):
    assert_one_line_error(
        cli("raft", "train", "-p", str(tmp_path / "nope.jsonl")), "does not exist"
    )


def test_malformed_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"prompt": "x"}) + "\n{oops\n")
    assert_one_line_error(
        cli("raft", "train", "-p", str(p), "--verifier", "python"), f"{p}:2:", "invalid JSON"
    )


def test_unknown_verifier_lists_known_ones():
    p = cli("raft", "train", "-p", "basic_python", "--verifier", "nonesuch")
    assert_one_line_error(p, "nonesuch", "python", "gcc")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--keep-percent", "50"], "fraction in (0, 1], e.g. 0.5"),
        (["--reward-threshold", "2"], "fraction in [0, 1]"),
        (["--cycles", "0"], "positive integer"),
        (["--cycles", "abc"], "--cycles"),
        (["--samples-per-prompt", "-1"], "positive integer"),
    ],
)
def test_out_of_range_values(args, needle):
    assert_one_line_error(cli("raft", "train", "-p", "basic_python", *args), needle)


def test_prompts_required():
    assert_one_line_error(cli("raft", "train"), "--prompts is required")


def test_unreachable_model_path(tmp_path):
    assert_one_line_error(
        cli("raft", "train", "-p", "basic_python", "-m", str(tmp_path / "no-model")),
        "does not exist",
    )


def test_bad_yaml_key(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("raft:\n  num_cycels: 2\n")
    assert_one_line_error(
        cli("raft", "train", "-p", "basic_python", "--config", str(y)), "raft.num_cycles"
    )


def test_benchmark_bad_k():
    assert_one_line_error(cli("benchmark", "run", "-p", "basic_python:test", "--k", "1,a"), "--k")


def test_sft_missing_data(tmp_path):
    assert_one_line_error(
        cli("sft", "train", "--data", str(tmp_path / "x.jsonl")), "does not exist"
    )


def test_help_is_fast_and_lists_commands():
    p = cli("--help")
    assert p.returncode == 0
    for cmd in ("raft", "sft", "benchmark", "info"):
        assert cmd in p.stdout
