"""defaults < YAML < flags the user typed."""

from pathlib import Path

import pytest

from halo_forge.config import RaftConfig, SftConfig, parse_k, resolve
from halo_forge.errors import ConfigError


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return str(p)


def test_defaults_when_nothing_given():
    cfg = resolve(RaftConfig, None, {"prompts": "basic_python", "keep_percent": None})
    assert cfg.keep_percent == 0.5 and cfg.cycles == 3 and cfg.output == "models/raft"


def test_yaml_overrides_defaults_and_untyped_flags_do_not_override_yaml(tmp_path):
    y = write(tmp_path, "keep_percent: 0.3\ncycles: 5\nprompts: basic_python\n")
    cfg = resolve(RaftConfig, y, {"keep_percent": None, "cycles": None, "prompts": None})
    assert cfg.keep_percent == 0.3 and cfg.cycles == 5


def test_typed_flag_overrides_yaml_even_when_equal_to_default(tmp_path):
    y = write(tmp_path, "keep_percent: 0.3\n")
    cfg = resolve(RaftConfig, y, {"keep_percent": 0.5})
    assert cfg.keep_percent == 0.5


def test_seeds_sectioned_yaml(tmp_path):
    y = write(
        tmp_path,
        """
sft_checkpoint: models/sft/final_model
output_dir: models/raft_x
prompts: data/prompts.jsonl
raft:
  num_cycles: 5
  samples_per_prompt: 4
  reward_threshold: 0.7
  keep_top_percent: 0.25
generation:
  max_new_tokens: 512
  temperature: 0.9
training:
  learning_rate: 5e-5
  dataloader_num_workers: 0
verifier:
  type: gcc
  run_after_compile: true
""",
    )
    cfg = resolve(RaftConfig, y, {})
    assert (cfg.checkpoint, cfg.output, cfg.cycles) == (
        "models/sft/final_model",
        "models/raft_x",
        5,
    )
    assert (cfg.samples_per_prompt, cfg.reward_threshold, cfg.keep_percent) == (4, 0.7, 0.25)
    assert (cfg.max_new_tokens, cfg.temperature, cfg.learning_rate) == (512, 0.9, 5e-5)
    assert cfg.verifier == "gcc" and cfg.verifier_options == {"run_after_compile": True}


def test_unknown_yaml_key_suggests_the_right_one(tmp_path):
    y = write(tmp_path, "raft:\n  keep_top_percnt: 0.5\n")
    with pytest.raises(ConfigError, match="did you mean 'raft.keep_top_percent'"):
        resolve(RaftConfig, y, {})


def test_sft_sections(tmp_path):
    y = write(
        tmp_path,
        """
model: {name: some/model, trust_remote_code: true}
data: {train_file: d.jsonl, max_seq_length: 512}
lora: {r: 8, alpha: 16}
training: {num_train_epochs: 2, learning_rate: 1e-4, save_steps: 500}
""",
    )
    cfg = resolve(SftConfig, y, {"epochs": None}, kind="sft")
    assert (cfg.model, cfg.data, cfg.max_seq_length, cfg.epochs) == (
        "some/model",
        "d.jsonl",
        512,
        2,
    )
    assert cfg.learning_rate == 1e-4 and cfg.lora.r == 8 and cfg.lora.alpha == 16
    assert resolve(SftConfig, y, {"epochs": 7}, kind="sft").epochs == 7


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("keep_percent", 50, "fraction in (0, 1], e.g. 0.5; got 50 — did you mean 0.5?"),
        ("keep_percent", 0, "fraction in (0, 1]"),
        ("reward_threshold", 1.5, "fraction in [0, 1]"),
        ("cycles", 0, "--cycles (cycles) must be a positive integer"),
        ("temperature", -1.0, "--temperature must be in [0, 5]"),
    ],
)
def test_out_of_range_values_say_how_to_fix(field, value, needle):
    cfg = RaftConfig(prompts="basic_python", **{field: value})
    with pytest.raises(ConfigError) as e:
        cfg.validate()
    assert needle in str(e.value)


def test_parse_k():
    assert parse_k("10,1,5") == [1, 5, 10]
    with pytest.raises(ConfigError):
        parse_k("1,x")
    with pytest.raises(ConfigError):
        parse_k("0")
