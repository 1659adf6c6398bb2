"""benchmark full end to end on the tiny random model: baseline, 2 cycles each evaluated on a
held-out file, then a rerun that reuses everything, then --early-stop replayed from disk."""

from __future__ import annotations

import json
import time

import pytest

from halo_forge.cli.main import run

pytestmark = pytest.mark.integration


def full(tiny_model, prompts_file, heldout, out, *extra: str) -> int:
    return run(
        [
            "benchmark",
            "full",
            "-m",
            str(tiny_model),
            "-p",
            str(prompts_file),
            "--eval-prompts",
            str(heldout),
            "--verifier",
            "python",
            "-o",
            str(out),
            "--samples",
            "2",
            "--k",
            "2",
            "--samples-per-prompt",
            "2",
            "--max-new-tokens",
            "4",
            "--reward-threshold",
            "0",
            "--keep-percent",
            "1",
            *extra,
        ]
    )


def test_baseline_cycles_summary_then_rerun_reuses_everything(
    tiny_model, prompts_file, tmp_path, capsys
):
    heldout = tmp_path / "heldout.jsonl"
    row = {"id": "h1", "prompt": "Write inc(x).", "tests": ["assert inc(1) == 2"]}
    heldout.write_text(json.dumps(row) + "\n")
    out = tmp_path / "full"

    assert full(tiny_model, prompts_file, heldout, out, "--cycles", "2") == 0
    text = capsys.readouterr().out
    assert "Held-out evaluation: baseline" in text and "=== Cycle 2/2 ===" in text
    assert "Stop advice (held-out pass@1)" in text and "Δ pass@1" in text

    names = ["baseline", "cycle_1", "cycle_2"]
    results = {n: json.loads((out / "benchmark" / f"{n}.json").read_text()) for n in names}
    assert results["cycle_2"]["model"].endswith("cycle_2_final")
    assert all(set(r["pass_at_k"]) == {"1", "2"} for r in results.values())  # 1 always added
    assert (out / "raft" / "cycle_2_final" / "adapter_config.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert [r["label"] for r in summary["rows"]] == ["baseline", "cycle 1", "cycle 2"]
    assert summary["cycles_evaluated"] == 2 and not summary["stopped_early"]
    assert "| cycle 2 |" in (out / "summary.md").read_text()
    report = out / "raft" / "report"
    assert (report / "pass_rate.png").is_file() and (report / "loss.png").is_file()
    assert "## Held-out benchmark" in (report / "summary.md").read_text()

    # the same command again: nothing trained, nothing sampled, nothing rewritten
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "benchmark").iterdir()}
    t = time.perf_counter()
    assert full(tiny_model, prompts_file, heldout, out, "--cycles", "2") == 0
    elapsed = time.perf_counter() - t
    text = capsys.readouterr().out
    assert "Reused finished evaluations: baseline, cycle 1, cycle 2" in text
    assert "=== Cycle" not in text and "Benchmark:" not in text
    assert {p: p.stat().st_mtime_ns for p in (out / "benchmark").iterdir()} == mtimes
    assert elapsed < 5, f"rerun took {elapsed:.1f}s"

    # --early-stop over more cycles: the random model's held-out pass@1 is flat, so the
    # advice stops after cycle 1 — replayed from the saved results, no cycle 3 trained
    assert full(tiny_model, prompts_file, heldout, out, "--cycles", "3", "--early-stop") == 0
    text = capsys.readouterr().out
    assert "--early-stop: stopping after cycle 1" in text and "=== Cycle" not in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_early"] and summary["cycles_evaluated"] == 1
    assert not (out / "raft" / "cycle_3_final").exists()

    # other evaluation settings over the same output are refused in one line
    assert full(tiny_model, prompts_file, heldout, out, "--cycles", "2", "--samples", "3") == 2
    err = capsys.readouterr().err
    assert "samples: 2 → 3" in err and err.count("\n") == 1


def test_default_eval_split_and_one_line_errors(prompts_file, tmp_path, capsys):
    from halo_forge.bench.full import default_eval_prompts

    assert default_eval_prompts("basic_python") == "basic_python:test"
    assert default_eval_prompts("mbpp:train") == "mbpp:test"
    argv = ["benchmark", "full", "-p", str(prompts_file), "-o", str(tmp_path / "o")]
    assert run(argv) == 2
    assert "--eval-prompts is required" in capsys.readouterr().err
    assert run(["benchmark", "full", "-p", "humaneval", "-o", str(tmp_path / "o")]) == 2
    assert "humaneval test split itself" in capsys.readouterr().err
