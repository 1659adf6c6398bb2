"""``raft train --dry-run`` and the seeds' config shapes: the per-cycle plan, without a model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from halo_forge.cli.main import run
from halo_forge.config import RaftConfig, resolve
from halo_forge.errors import ConfigError


def test_dry_run_prints_the_seeds_annealing_table_and_progressive_curriculum(tmp_path, capsys):
    argv = "raft train -p mbpp:train --cycles 5 --curriculum progressive --reward-shaping annealing"
    assert run([*argv.split(), "--dry-run", "-o", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "Curriculum: 75/374 prompts (avg complexity: " in out
    for threshold, keep in [("0.00", 80), ("0.12", 73), ("0.25", 65), ("0.38", 57), ("0.50", 50)]:
        assert f"Reward shaping: threshold={threshold}, keep={keep}%" in out
    assert [f"Curriculum: {n}/374" in out for n in (150, 224, 299, 374)] == [True] * 4
    assert "Dry run: nothing was loaded or written" in out
    assert not (tmp_path / "run").exists()


def test_dry_run_loads_no_model_and_no_torch(tmp_path):
    code = (
        "import sys\nfrom halo_forge.cli.main import run\n"
        f"rc = run(['raft', 'train', '-p', 'basic_python', '--dry-run', '-o', {str(tmp_path)!r}])\n"
        "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]


SEEDS_YAML = """\
# the seeds' curriculum example: per-cycle verifier settings
curriculum_strategy: progressive
samples_per_prompt: 4
temperature: 0.6
generation_chunk_size: 8
verification_chunk_size: 64
clear_cache_every_n_batches: 5
lr_decay_per_cycle: 0.85
cycles:
  - name: compile
    verifier: gcc
    reward_threshold: 0.3
    run_after_compile: false
  - verifier: gcc
    reward_threshold: 0.5
    run_after_compile: true
  - verifier: clang
    reward_threshold: 0.7
    run_after_compile: true
"""


def test_seeds_cycles_list_and_raftconfig_names(tmp_path, capsys):
    cfg_file = tmp_path / "curriculum.yaml"
    cfg_file.write_text(SEEDS_YAML)
    cfg = resolve(RaftConfig, str(cfg_file), {"prompts": "x"}, kind="raft").validate()
    assert cfg.cycles == 3 and len(cfg.cycle_settings) == 3
    assert (cfg.curriculum, cfg.samples_per_prompt, cfg.temperature) == ("progressive", 4, 0.6)
    assert (cfg.generation_chunk_size, cfg.verification_chunk_size) == (8, 64)
    assert (cfg.clear_cache_every_n_batches, cfg.lr_decay) == (5, 0.85)

    prompts = tmp_path / "c.jsonl"
    prompts.write_text(
        "".join(json.dumps({"prompt": f"Write a C program number {i}."}) + "\n" for i in range(10))
    )
    argv = ["raft", "train", "-p", str(prompts), "--config", str(cfg_file), "--dry-run"]
    assert run([*argv, "-o", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "Reward shaping: threshold=0.30" in out and "threshold=0.70" in out
    assert "gcc (run)" in out and "clang (run)" in out
    assert "Curriculum: 3/10 prompts" in out  # progressive over 3 cycles: 10/3 → 3
    assert "4.25e-05" in out and "3.61e-05" in out  # 5e-5 × 0.85, × 0.85²


@pytest.mark.parametrize(
    ("yaml_text", "flags", "message"),
    [
        ("cycles:\n  - verifer: gcc\n", {}, "did you mean 'verifier'"),
        ("cycles:\n  - reward_threshold: 2\n", {}, "reward_threshold"),
        ("cycles:\n  - run_after_compile: yes please\n", {}, "must be a bool"),
        ("cycles:\n  - {}\n  - {}\n", {"cycles": 3}, "has 2 entries but --cycles is 3"),
        ("curriculum_strategy: hardest\n", {}, "--curriculum must be one of"),
        ("lr_decay_per_cycle: 1.5\n", {}, "--lr-decay must be in (0, 1]"),
        ("generation_chunk_size: 0\n", {}, "generation_chunk_size"),
        ("report_to: [mlflow]\n", {}, "tensorboard and/or wandb"),
    ],
)
def test_bad_schedule_settings_are_one_line_errors(tmp_path, yaml_text, flags, message):
    f = tmp_path / "c.yaml"
    f.write_text("prompts: basic_python\n" + yaml_text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(RaftConfig, str(f), flags, kind="raft").validate()


def test_changed_settings_are_refused_naming_the_change(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("prompts: basic_python\nmax_new_tokens: 128\n")
    assert run(["raft", "train", "-p", "basic_python", "-o", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "max_new_tokens: 128 → 256" in err and "--restart" in err
