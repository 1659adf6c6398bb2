"""One RAFT cycle end to end through the real CLI on a tiny random model (seconds)."""

from __future__ import annotations

import json

import pytest

from halo_forge.cli.main import run

pytestmark = pytest.mark.integration


def raft(tiny_model, prompts_file, out, *extra: str) -> int:
    return run(
        [
            "raft",
            "train",
            "-m",
            str(tiny_model),
            "-p",
            str(prompts_file),
            "--verifier",
            "python",
            "-o",
            str(out),
            "--samples-per-prompt",
            "2",
            "--max-new-tokens",
            "12",
            "--reward-threshold",
            "0",
            "--keep-percent",
            "1",
            "--no-require-pass",  # a random model never passes; train on its attempts anyway
            *extra,
        ]
    )


def test_one_cycle_then_rerun_skips_then_extend(tiny_model, prompts_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert raft(tiny_model, prompts_file, out, "--cycles", "1") == 0
    text = capsys.readouterr().out
    assert "RAFT Training: 1 cycles" in text and "=== Cycle 1/1 ===" in text
    assert "Generated: 4 samples" in text and "pass rate" in text and "loss" in text

    final = out / "cycle_1_final"
    assert (final / "adapter_config.json").is_file()
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 1 and metrics[0]["cycle"] == 1 and metrics[0]["samples"] == 4
    # threshold 0 keeps everything distinct, so the cycle trained on at least one example
    assert metrics[0]["kept"] >= 1 and metrics[0]["train_steps"] >= 1
    assert metrics[0]["train_loss"] is not None
    assert len((out / "cycle_1" / "samples.jsonl").read_text().splitlines()) == 4 + 1  # + marker

    # loadable by peft + transformers, and the adapter is not the identity
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    model = PeftModel.from_pretrained(base, final)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(float(p.abs().sum()) > 0 for p in lora_b), "training changed nothing"

    # the saved adapter benchmarks through the CLI (base found from adapter_config.json)
    res = tmp_path / "adapter.json"
    argv = f"benchmark run -m {final} -p {prompts_file} --verifier python --samples 2 --k 1"
    assert run([*argv.split(), "--max-new-tokens", "8", "-o", str(res)]) == 0
    assert "adapter" in json.loads(res.read_text())["model"]
    capsys.readouterr()

    # the same command again: nothing to do
    assert raft(tiny_model, prompts_file, out, "--cycles", "1") == 0
    assert "already complete" in capsys.readouterr().out

    # more cycles continue from the saved adapter
    assert raft(tiny_model, prompts_file, out, "--cycles", "2") == 0
    text = capsys.readouterr().out
    assert "Resuming after cycle 1" in text and "=== Cycle 2/2 ===" in text
    assert (out / "cycle_2_final" / "adapter_config.json").is_file()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2

    # a changed setting over the same output is refused in one line
    assert raft(tiny_model, prompts_file, out, "--cycles", "2", "--temperature", "0.9") == 2
    assert "temperature" in capsys.readouterr().err


def test_benchmark_run_writes_pass_at_k(tiny_model, prompts_file, tmp_path):
    res = tmp_path / "results.json"
    rc = run(
        [
            "benchmark",
            "run",
            "-m",
            str(tiny_model),
            "-p",
            str(prompts_file),
            "--verifier",
            "python",
            "--samples",
            "3",
            "--k",
            "1,2,5",
            "--max-new-tokens",
            "8",
            "-o",
            str(res),
        ]
    )
    assert rc == 0
    data = json.loads(res.read_text())
    assert set(data["pass_at_k"]) == {"1", "2"} and data["skipped_k"] == [5]
    assert all(0.0 <= v <= 1.0 for v in data["pass_at_k"].values())
    assert [p["n"] for p in data["problems"]] == [3, 3]
    assert data["settings"]["samples"] == 3 and data["verifier"] == "python"


def test_sft_train_saves_adapter(tiny_model, tmp_path):
    data = tmp_path / "sft.jsonl"
    rows = [
        {"prompt": f"Write f{i}.", "completion": f"def f{i}():\n    return {i}"} for i in range(4)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "sft"
    assert (
        run(
            [
                "sft",
                "train",
                "--data",
                str(data),
                "-o",
                str(out),
                "--epochs",
                "1",
                "-m",
                str(tiny_model),
            ]
        )
        == 0
    )
    assert (out / "final_model" / "adapter_config.json").is_file()
