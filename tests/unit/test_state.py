import json

import pytest

from halo_forge.errors import ConfigError
from halo_forge.rlvr.state import RunDir, append_jsonl, read_jsonl_tolerant


def test_completed_cycles_and_metrics_repair(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.completed_cycles() == 0
    for c in (1, 2):
        run.finish_cycle(
            c, lambda d: (d / "adapter.bin").write_text("x"), {"event": "cycle", "cycle": c}
        )
    assert run.completed_cycles() == 2
    assert (run.final_dir(1) / "adapter.bin").is_file()
    assert not run.final_dir(1).with_name("cycle_1_final.tmp").exists()
    # a crash lost cycle 2's metrics line: the next run re-appends it from the summary
    lines = run.metrics_path.read_text().splitlines()
    run.metrics_path.write_text(lines[0] + "\n")
    run.repair_metrics()
    assert sorted(json.loads(x)["cycle"] for x in run.metrics_path.read_text().splitlines()) == [
        1,
        2,
    ]


def test_half_written_cycle_is_not_complete(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "cycle_1_final.tmp").mkdir()
    assert run.completed_cycles() == 0


def test_changed_settings_are_refused_but_more_cycles_allowed(tmp_path):
    run = RunDir(tmp_path)
    run.write_config({"keep_percent": 0.5, "cycles": 2})
    run.check_config({"keep_percent": 0.5, "cycles": 3})
    with pytest.raises(ConfigError, match=r"keep_percent: 0.5 → 0.3"):
        run.check_config({"keep_percent": 0.3, "cycles": 2})


def test_torn_last_line_is_dropped(tmp_path):
    p = tmp_path / "s.jsonl"
    append_jsonl(p, [{"a": 1}, {"a": 2}])
    with p.open("a") as f:
        f.write('{"a": 3')
    assert read_jsonl_tolerant(p) == [{"a": 1}, {"a": 2}]


def test_rows_holding_unicode_line_separators_survive(tmp_path) -> None:
    """U+2028/U+2029/NEL inside a completion must not split its JSONL row (a RAFT run once
    lost a whole verified chunk that way: ``splitlines`` breaks at them)."""
    from halo_forge.data.prompts import load_problems
    from halo_forge.rlvr.chunks import append_chunk, read_chunks
    from halo_forge.rlvr.state import read_jsonl_tolerant as read_jsonl

    odd = "x = 1\u2028y = 2\u2029z\x85end"
    path = tmp_path / "verified.jsonl"
    append_chunk(path, 0, [{"completion": odd}, {"completion": "ok"}])
    append_chunk(path, 1, [{"completion": odd}])
    assert {k: [r["completion"] for r in v] for k, v in read_chunks(path).items()} == {
        0: [odd, "ok"],
        1: [odd],
    }
    metrics = tmp_path / "metrics.jsonl"
    append_jsonl(metrics, [{"note": odd}])
    assert read_jsonl(metrics) == [{"note": odd}]
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        json.dumps(
            {"id": "a", "prompt": f"Write f. {odd}", "tests": ["assert f()"]}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    assert load_problems(str(prompts))[0].prompt.endswith(odd)
