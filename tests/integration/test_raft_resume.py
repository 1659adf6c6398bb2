"""Crash-safe resume: a RAFT run SIGKILLed at a named point (``HALO_FORGE_KILL_AT``, a real
``kill -9`` of the process) and started again with the same command ends in exactly the state an
uninterrupted run reaches — same samples, verdicts, kept set, metrics and adapter weights — with
nothing lost or duplicated.

Each run is a real subprocess of the CLI on the tiny random model (~5–15 s each). One kill
point (mid-append while generating) runs in the default tier; the full matrix is ``slow``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TIMING = {
    "time",
    "train_seconds",
    "seconds_per_step",
    "gen_seconds",
    "gen_tokens_per_s",
    "verify_seconds",
    "duration",
}


def _raft(tiny_model: Path, prompts: Path, out: Path, config: Path, kill: str | None = None):
    env = {**os.environ, "HALO_FORGE_SANDBOX": os.environ.get("HALO_FORGE_SANDBOX", "")}
    env.pop("HALO_FORGE_KILL_AT", None)
    if not env["HALO_FORGE_SANDBOX"]:
        env.pop("HALO_FORGE_SANDBOX")
    if kill:
        env["HALO_FORGE_KILL_AT"] = kill
    argv = [
        sys.executable,
        "-c",
        "from halo_forge.cli.main import main; main()",
        "raft",
        "train",
        "-m",
        str(tiny_model),
        "-p",
        str(prompts),
        "--verifier",
        "python",
        "-o",
        str(out),
        "--config",
        str(config),
    ]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def setup(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    prompts = root / "prompts.jsonl"
    rows = [
        {"id": f"p{i}", "prompt": f"Write add{i}(a, b).", "tests": [f"assert add{i}(1, 2) == 3"]}
        for i in range(3)
    ]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = root / "raft.yaml"
    config.write_text(
        "cycles: 2\nsamples_per_prompt: 2\nmax_new_tokens: 10\nreward_threshold: 0.0\n"
        "keep_percent: 1.0\nrequire_pass: false\ngeneration_chunk_size: 1\n"
        "train_batch_size: 2\n"
    )
    ref = root / "reference"
    done = _raft(tiny_model, prompts, ref, config)
    assert done.returncode == 0, done.stderr
    return tiny_model, prompts, config, ref


def _state(out: Path) -> dict:
    """Everything a finished run leaves that must not depend on having been interrupted."""
    from safetensors.torch import load_file

    def rows(path: Path) -> list[dict]:
        return [
            {k: v for k, v in json.loads(x).items() if k not in TIMING}
            for x in path.read_text().splitlines()
        ]

    state: dict = {"metrics": rows(out / "metrics.jsonl")}
    for c in (1, 2):
        d = out / f"cycle_{c}"
        state[f"samples{c}"] = rows(d / "samples.jsonl")
        state[f"verified{c}"] = rows(d / "verified.jsonl")
        state[f"kept{c}"] = rows(d / "kept.jsonl")
        weights = load_file(str(out / f"cycle_{c}_final" / "adapter_model.safetensors"))
        state[f"adapter{c}"] = {k: v.tolist() for k, v in sorted(weights.items())}
    return state


def _killed_then_resumed(setup, tmp_path: Path, point: str) -> Path:
    tiny_model, prompts, config, _ = setup
    out = tmp_path / "run"
    killed = _raft(tiny_model, prompts, out, config, kill=point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.returncode, killed.stderr[-800:])
    again = _raft(tiny_model, prompts, out, config)
    assert again.returncode == 0, again.stderr
    if point.startswith(("gen", "torn", "verify")):
        assert "Resumed cycle" in again.stdout
    return out


def _assert_same_as_reference(setup, out: Path) -> None:
    ref_state, state = _state(setup[3]), _state(out)
    assert state.keys() == ref_state.keys()
    for key in ref_state:
        assert state[key] == ref_state[key], key
    # one line per sample per chunk, nothing duplicated: 3 prompts x 2 samples, 3 chunk markers
    for c in (1, 2):
        lines = (out / f"cycle_{c}" / "samples.jsonl").read_text().splitlines()
        assert len(lines) == 6 + 3


@pytest.mark.parametrize("point", ["torn:1:1"])  # mid-append, while generating
def test_killed_while_generating_resumes_to_the_same_state(setup, tmp_path, point):
    _assert_same_as_reference(setup, _killed_then_resumed(setup, tmp_path, point))


@pytest.mark.slow
@pytest.mark.parametrize(
    "point",
    [
        "gen:1:0",
        "verify:1:1",
        "train:1",
        "save:1",
        "metrics:1",
        "gen:2:0",
        "torn:2:2",
        "verify:2:2",
    ],
)
def test_killed_anywhere_resumes_to_the_same_state(setup, tmp_path, point):
    _assert_same_as_reference(setup, _killed_then_resumed(setup, tmp_path, point))


def test_rerun_of_a_finished_run_does_nothing_and_changed_settings_are_refused(setup, tmp_path):
    tiny_model, prompts, config, ref = setup
    again = _raft(tiny_model, prompts, ref, config)
    assert again.returncode == 0 and "already complete" in again.stdout
    changed = tmp_path / "changed.yaml"
    changed.write_text(config.read_text().replace("max_new_tokens: 10", "max_new_tokens: 11"))
    refused = _raft(tiny_model, prompts, ref, changed)
    assert refused.returncode != 0
    err = refused.stderr.strip()
    assert "max_new_tokens: 10 → 11" in err and "--restart" in err and err.count("\n") == 0
