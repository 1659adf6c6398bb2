"""tracking: none / tensorboard / wandb (offline) mirrors of the per-cycle metrics."""

from __future__ import annotations

import json
import sys

import pytest

from halo_forge.errors import ConfigError
from halo_forge.tracking import (
    NullTracker,
    create_tracker,
    flatten_scalars,
    parse_report_to,
)

SUMMARY = {
    "event": "cycle",
    "cycle": 2,
    "cycles": 3,
    "pass_rate": 0.5,
    "statuses": {"PASS": 4, "FAIL": 4},
    "kept": 3,
    "train_loss": 1.25,
    "train_steps": 2,
    "train_loss_history": [[1, 1.5], [2, 1.0]],
    "finish_reasons": {"stop": 6, "length": 2},
    "verifier": "python",  # strings, None, bools: not logged
    "note": None,
    "early": True,
    "time": 1.7e9,
}


def write_metrics(run_dir, *rows):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_flatten_keeps_numeric_leaves_only():
    assert flatten_scalars({"a": 1, "b": {"c": 2.5, "d": "x"}, "e": None, "f": True, "g": [1]}) == {
        "a": 1.0,
        "b.c": 2.5,
    }


def test_none_and_empty_write_nothing(tmp_path):
    for value in ([], ["none"], "none", ""):
        t = create_tracker(value, tmp_path, {})
        assert isinstance(t, NullTracker)
        t.log_cycle(SUMMARY)
        t.log_step("train/loss", 1.0, 1)
        t.close()
    assert list(tmp_path.iterdir()) == []


def test_unknown_tracker_and_missing_package_are_one_line_config_errors(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown tracker 'mlflow'.*halo-forge\[tracking\]"):
        parse_report_to(["mlflow"])
    assert parse_report_to("tensorboard, wandb,none") == ["tensorboard", "wandb"]
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb → ImportError
    with pytest.raises(ConfigError, match=r"needs the wandb package: pip install") as e:
        create_tracker(["wandb"], tmp_path, {})
    assert "\n" not in str(e.value)


def test_tensorboard_event_file_reads_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # cycle 1 trained 3 steps, so cycle 2's per-cycle steps 1, 2 are global steps 4, 5
    write_metrics(tmp_path, {"event": "cycle", "cycle": 1, "train_steps": 3}, SUMMARY)
    t = create_tracker(["tensorboard"], tmp_path, {"cycles": 3, "lora": {"r": 16}})
    t.log_cycle(SUMMARY)
    t.log_step("train/lr", 5e-5, 7)
    t.close()
    files = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert files
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"raft/pass_rate", "raft/statuses.PASS", "raft/finish_reasons.length"} <= tags
    assert not {"raft/verifier", "raft/note", "raft/early", "raft/time", "raft/cycle"} & tags
    [ev] = acc.Scalars("raft/pass_rate")
    assert (ev.step, ev.value) == (2, 0.5)
    assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [(4, 1.5), (5, 1.0)]
    assert [e.step for e in acc.Scalars("train/lr")] == [7]


def test_wandb_offline_run_holds_the_logged_keys(tmp_path, monkeypatch):
    for var, sub in (("WANDB_DIR", "wb"), ("WANDB_CONFIG_DIR", "cfg"), ("WANDB_CACHE_DIR", "c")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    run_dir = tmp_path / "run"
    write_metrics(run_dir, SUMMARY)
    t = create_tracker(["wandb"], run_dir, {"cycles": 3}, run_name="test-run")
    t.log_cycle(SUMMARY)
    t.log_step("train/lr", 5e-5, 9)
    t.close()
    run_id = (run_dir / "wandb" / "run_id").read_text().strip()
    [run] = list((tmp_path / "wb" / "wandb").glob(f"offline-run-*-{run_id}"))
    # offline wandb-core writes only its transaction log; its protobuf records hold the keys
    [log] = list(run.glob("run-*.wandb"))
    data = log.read_bytes()
    for key in ("raft/pass_rate", "raft/statuses.PASS", "train/loss", "train/lr", "test-run"):
        assert key.encode() in data, key
    assert b"raft/verifier" not in data and b"raft/time" not in data
