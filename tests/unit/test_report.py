"""rlvr.report: plots and summary.md from a synthetic run folder (no model)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from halo_forge.rlvr.report import PLOTS, load_cycles, loss_points, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def _cycle(c: int, **extra) -> dict:
    row = {
        "event": "cycle",
        "cycle": c,
        "prompts": 4,
        "samples": 8,
        "passed": 2 + c,
        "pass_rate": (2 + c) / 8,
        "statuses": {"PASS": 2 + c, "FAIL": 6 - c},
        "mean_reward": 0.3 + 0.1 * c,
        "kept": 2 + c,
        "kept_prompts": 1 + c,
        "reward_threshold": 0.5,
        "keep_percent": 0.5,
        "learning_rate": 5e-5,
        "train_loss": 2.0 / c,
        "train_steps": 3,
        "gen_seconds": 1.5,
        "verify_seconds": 0.5,
        "train_seconds": 2.25,
    }
    row.update(extra)
    return row


def make_run(root: Path, cycles: list[dict]) -> Path:
    root.mkdir(parents=True)
    (root / "metrics.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cycles))
    for c in cycles:
        d = root / f"cycle_{c['cycle']}"
        d.mkdir()
        rows = [{"problem_id": f"p{i}", "reward": i / 7, "status": "FAIL"} for i in range(8)]
        (d / "verified.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_plots_and_summary(tmp_path):
    history = [[1, 2.5], [2, 2.0], [3, 1.5]]
    run = make_run(
        tmp_path / "run",
        # cycle 1 has a per-step history; cycle 2 is an older run's line (no history, no kept
        # prompts); cycle 3 has a torn/absent verified file
        [
            _cycle(1, train_loss_history=history),
            _cycle(2, kept_prompts=None),
            _cycle(3, total_prompts=10),  # a curriculum cycle on 4 of 10 prompts
        ],
    )
    (run / "cycle_3" / "verified.jsonl").write_text('{"reward": 1.0}\n{"rew')  # torn line
    t = time.perf_counter()
    paths = write_report(run)
    elapsed = time.perf_counter() - t
    names = {p.name for p in paths}
    assert names == {*PLOTS, "summary.md"}
    for name in PLOTS:
        data = (run / "report" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 1000
    assert not list((run / "report").glob("*.tmp"))
    md = (run / "report" / "summary.md").read_text()
    lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + 3  # header + one row per cycle
    assert "| 1 | 4 | 8 | 37.5% | 0.400 | 3 (2) | 0.5 / 50% |" in md
    assert "| 2 | 4 | 8 | 50.0% |" in md and "4 (—)" in md
    assert "| 3 | 4/10 | 8 |" in md
    assert "FAIL 5, PASS 3" in md and "![loss](loss.png)" in md
    assert "Held-out" not in md
    assert elapsed < 5, f"report took {elapsed:.1f}s"


def test_held_out_results_are_read_from_the_benchmark_full_layout(tmp_path):
    run = make_run(tmp_path / "full" / "raft", [_cycle(1), _cycle(2)])
    bench = tmp_path / "full" / "benchmark"
    bench.mkdir()
    for name, p1 in (("baseline", 0.25), ("cycle_1", 0.5), ("cycle_2", 0.625)):
        res = {"pass_at_k": {"1": p1, "5": 0.9}, "compile_rate": 0.875}
        (bench / f"{name}.json").write_text(json.dumps(res))
    (bench / "notes.json").write_text("{}")  # not a result: ignored
    write_report(run)
    md = (run / "report" / "summary.md").read_text()
    assert "## Held-out benchmark" in md
    assert "| baseline | 0.250 | 0.900 | 0.875 |" in md and "| cycle 2 | 0.625 |" in md


def test_no_cycle_yet_gives_only_the_summary(tmp_path):
    (tmp_path / "run").mkdir()
    paths = write_report(tmp_path / "run")
    assert [p.name for p in paths] == ["summary.md"]
    assert "No cycle has finished yet" in paths[0].read_text()


def test_metrics_lines_are_deduplicated_and_loss_laid_end_to_end(tmp_path):
    run = make_run(tmp_path / "run", [_cycle(1), _cycle(2)])
    with (run / "metrics.jsonl").open("a") as f:  # crash repair re-appended cycle 2
        f.write(json.dumps(_cycle(2, train_loss=9.0)) + "\n")
    cycles = load_cycles(run)
    assert [c["cycle"] for c in cycles] == [1, 2] and cycles[1]["train_loss"] == 9.0
    per_cycle = [
        {"cycle": 1, "train_steps": 2, "train_loss_history": [[1, 3.0], [2, 2.0]]},
        {"cycle": 2, "train_steps": 2, "train_loss_history": [[1, 1.5], [2, 1.0]]},
        {"cycle": 3, "train_steps": 2, "train_loss": 0.5},  # no history: one point
        {"cycle": 4, "train_steps": 0, "train_loss": None},  # nothing trained
    ]
    assert loss_points(per_cycle) == [
        (1.0, 3.0, 1),
        (2.0, 2.0, 1),
        (3.0, 1.5, 2),
        (4.0, 1.0, 2),
        (6.0, 0.5, 3),
    ]
