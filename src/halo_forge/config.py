"""Validated configs per command, resolved as defaults < YAML file < flags the user typed.

CLI options default to ``None`` so "not typed" is distinguishable from "typed the default":
only non-None flag values override YAML. YAML may use our flat field names or the seeds'
sectioned layout (``raft: {num_cycles: ...}``, ``training: {...}``); unknown keys are errors
with a suggestion, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from halo_forge.errors import ConfigError

T = TypeVar("T")


@dataclass
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


@dataclass
class RaftConfig:
    prompts: str | None = None
    model: str | None = None
    checkpoint: str | None = None
    output: str = "models/raft"
    cycles: int = 3
    verifier: str | None = None  # None: the dataset's own, or the seeds' default (gcc)
    reward_threshold: float = 0.5
    keep_percent: float = 0.5
    samples_per_prompt: int = 8
    temperature: float = 0.7
    top_p: float = 0.95
    learning_rate: float = 5e-5
    max_new_tokens: int = 256
    max_prompts: int | None = None
    generation_batch_size: int = 32
    train_epochs: int = 1
    train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_steps: int = 0
    max_seq_length: int = 1024
    bf16: bool = False
    gradient_checkpointing: bool = False
    workers: int | None = None
    seed: int = 0
    system_prompt: str = "You are an expert programmer."
    cache_dir: str | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    verifier_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> RaftConfig:
        if not self.prompts:
            raise ConfigError("--prompts is required (a JSONL file or a built-in: basic_python)")
        _fraction("keep_percent", "--keep-percent", self.keep_percent, lo_open=True)
        _fraction("reward_threshold", "--reward-threshold", self.reward_threshold, lo_open=False)
        _positive_int("cycles", "--cycles", self.cycles)
        _positive_int("samples_per_prompt", "--samples-per-prompt", self.samples_per_prompt)
        _positive_int("max_new_tokens", "--max-new-tokens", self.max_new_tokens)
        _positive_int("generation_batch_size", "generation_batch_size", self.generation_batch_size)
        _positive_int("train_batch_size", "train_batch_size", self.train_batch_size)
        _positive_int("train_epochs", "train_epochs", self.train_epochs)
        if self.max_prompts is not None:
            _positive_int("max_prompts", "--max-prompts", self.max_prompts)
        _temperature(self.temperature)
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1]; got {self.top_p}")
        if not (0 < self.learning_rate < 1):
            raise ConfigError(
                f"--learning-rate must be in (0, 1), e.g. 5e-5; got {self.learning_rate}"
            )
        return self


@dataclass
class SftConfig:
    data: str | None = None
    model: str | None = None
    output: str = "models/sft"
    epochs: int = 3
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_seq_length: int = 1024
    warmup_ratio: float = 0.03
    lr_scheduler_type: str = "cosine"
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    logging_steps: int = 10
    validation_split: float = 0.0
    bf16: bool = False
    gradient_checkpointing: bool = False
    seed: int = 0
    cache_dir: str | None = None
    system_prompt: str = "You are an expert programmer."
    lora: LoraSettings = field(default_factory=LoraSettings)

    def validate(self) -> SftConfig:
        if not self.data:
            raise ConfigError("--data is required (a JSONL file of prompt/completion or text)")
        _positive_int("epochs", "--epochs", self.epochs)
        _positive_int("batch_size", "training.per_device_train_batch_size", self.batch_size)
        if not (0 < self.learning_rate < 1):
            raise ConfigError(
                f"learning_rate must be in (0, 1), e.g. 2e-4; got {self.learning_rate}"
            )
        if not (0 <= self.validation_split < 1):
            raise ConfigError(
                f"data.validation_split must be in [0, 1), e.g. 0.05; got {self.validation_split}"
            )
        return self


@dataclass
class BenchmarkConfig:
    prompts: str | None = None
    model: str | None = None
    checkpoint: str | None = None
    verifier: str | None = None
    samples: int = 10
    k: list[int] = field(default_factory=lambda: [1, 5, 10])
    output: str | None = None
    temperature: float = 0.2
    top_p: float = 0.95
    max_new_tokens: int = 256
    max_prompts: int | None = None
    generation_batch_size: int = 32
    workers: int | None = None
    seed: int = 0
    system_prompt: str = "You are an expert programmer."
    cache_dir: str | None = None
    # "hf": load --model here; "openai": sample from an OpenAI-compatible server at base_url
    backend: str = "hf"
    base_url: str | None = None
    concurrency: int = 4  # requests in flight (openai backend)

    def validate(self) -> BenchmarkConfig:
        if not self.prompts:
            raise ConfigError("--prompts is required (a JSONL file or e.g. basic_python:test)")
        _benchmark_backend(self)
        _positive_int("samples", "--samples", self.samples)
        _positive_int("max_new_tokens", "--max-new-tokens", self.max_new_tokens)
        if self.max_prompts is not None:
            _positive_int("max_prompts", "--max-prompts", self.max_prompts)
        if not self.k or any(k < 1 for k in self.k):
            raise ConfigError(f"--k takes positive integers, e.g. 1,5,10; got {self.k}")
        _temperature(self.temperature)
        return self


BENCHMARK_BACKENDS = ("hf", "openai")


def _benchmark_backend(cfg: BenchmarkConfig) -> None:
    if cfg.backend not in BENCHMARK_BACKENDS:
        raise ConfigError(
            f"--backend must be one of {', '.join(BENCHMARK_BACKENDS)}; got '{cfg.backend}'"
        )
    if cfg.backend == "openai":
        if not cfg.base_url:
            raise ConfigError(
                "--backend openai needs --base-url, the server's API root, e.g. "
                "--base-url http://127.0.0.1:8000/v1 (start one with: halo-forge serve)"
            )
        if not cfg.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"--base-url must start with http:// or https://, e.g. "
                f"http://127.0.0.1:8000/v1; got '{cfg.base_url}'"
            )
        if cfg.checkpoint:
            raise ConfigError(
                "--checkpoint is not used with --backend openai; serve it instead "
                "(halo-forge serve --checkpoint PATH) and benchmark the server"
            )
        _positive_int("concurrency", "--concurrency", cfg.concurrency)
    elif cfg.base_url:
        raise ConfigError(
            "--base-url is only used with --backend openai; add --backend openai to "
            "benchmark that server, or drop --base-url to load --model here"
        )


def parse_k(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ConfigError(
            f"--k takes comma-separated integers, e.g. 1,5,10; got '{text}'"
        ) from None
    if not ks or ks[0] < 1:
        raise ConfigError(f"--k takes positive integers, e.g. 1,5,10; got '{text}'")
    return ks


# --- validation helpers ---------------------------------------------------------------------


def _fraction(name: str, flag: str, value: float, *, lo_open: bool) -> None:
    ok = (0 < value <= 1) if lo_open else (0 <= value <= 1)
    if not ok:
        interval = "(0, 1]" if lo_open else "[0, 1]"
        hint = f" — did you mean {value / 100:g}?" if 1 < value <= 100 else ""
        raise ConfigError(
            f"{flag} ({name}) is a fraction in {interval}, e.g. 0.5; got {value:g}{hint}"
        )


def _positive_int(name: str, flag: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{flag} ({name}) must be a positive integer; got {value!r}")


def _temperature(value: float) -> None:
    if not (0 <= value <= 5) or math.isnan(value):
        raise ConfigError(f"--temperature must be in [0, 5] (0 = greedy), e.g. 0.7; got {value}")


# --- YAML ------------------------------------------------------------------------------------

# The seeds' sectioned RAFT layout → our flat fields (configs/raft_example.yaml).
_RAFT_ALIASES: dict[str, str] = {
    "sft_checkpoint": "checkpoint",
    "base_model": "model",
    "output_dir": "output",
    "num_cycles": "cycles",
    "raft.num_cycles": "cycles",
    "raft.samples_per_prompt": "samples_per_prompt",
    "raft.reward_threshold": "reward_threshold",
    "raft.keep_top_percent": "keep_percent",
    "keep_top_percent": "keep_percent",
    "raft.max_prompts": "max_prompts",
    "generation.max_new_tokens": "max_new_tokens",
    "generation.temperature": "temperature",
    "generation.top_p": "top_p",
    "generation.batch_size": "generation_batch_size",
    "training.epochs": "train_epochs",
    "training.batch_size": "train_batch_size",
    "training.gradient_accumulation_steps": "gradient_accumulation_steps",
    "training.learning_rate": "learning_rate",
    "training.warmup_steps": "warmup_steps",
    "training.max_seq_length": "max_seq_length",
    "hardware.bf16": "bf16",
    "hardware.gradient_checkpointing": "gradient_checkpointing",
    "verifier.type": "verifier",
    "lora.r": "lora.r",
    "lora.alpha": "lora.alpha",
    "lora.dropout": "lora.dropout",
    "lora.target_modules": "lora.target_modules",
}
# Seeds' keys that only matter on their GPU setup; accepted and ignored on purpose.
_IGNORED = {
    "training.dataloader_num_workers",
    "training.dataloader_pin_memory",
    "hardware.attn_implementation",
    "model.trust_remote_code",
    "model.attn_implementation",
}

_SFT_ALIASES: dict[str, str] = {
    "model.name": "model",
    "data.train_file": "data",
    "data.max_seq_length": "max_seq_length",
    "data.validation_split": "validation_split",
    "training.output_dir": "output",
    "training.num_train_epochs": "epochs",
    "training.per_device_train_batch_size": "batch_size",
    "training.gradient_accumulation_steps": "gradient_accumulation_steps",
    "training.learning_rate": "learning_rate",
    "training.warmup_ratio": "warmup_ratio",
    "training.lr_scheduler_type": "lr_scheduler_type",
    "training.weight_decay": "weight_decay",
    "training.max_grad_norm": "max_grad_norm",
    "training.gradient_checkpointing": "gradient_checkpointing",
    "training.bf16": "bf16",
    "training.logging_steps": "logging_steps",
    "lora.r": "lora.r",
    "lora.alpha": "lora.alpha",
    "lora.dropout": "lora.dropout",
    "lora.target_modules": "lora.target_modules",
}
_SFT_IGNORED = _IGNORED | {
    "training.per_device_eval_batch_size",
    "training.save_strategy",
    "training.save_steps",
    "training.save_total_limit",
    "training.eval_strategy",
    "training.eval_steps",
    "training.load_best_model_at_end",
}
_BENCH_ALIASES: dict[str, str] = {}


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key != "verifier_options":  # options stay one mapping
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def read_yaml(path: str) -> dict[str, Any]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(e, 'problem', e)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def _yaml_to_fields(
    cls: type, data: dict[str, Any], aliases: dict[str, str], ignored: set[str], path: str
) -> dict[str, Any]:
    """Map a (possibly sectioned) YAML mapping onto ``cls``'s field names (``lora.r`` nested)."""
    names = {f.name for f in dataclasses.fields(cls)}
    lora_names = {f.name for f in dataclasses.fields(LoraSettings)}
    valid = names | set(aliases) | ignored | {f"lora.{n}" for n in lora_names}
    # verifier: may be a string (name) or the seeds' section {type:, options...}
    if isinstance(data.get("verifier"), dict) and "verifier" in names:
        section = dict(data["verifier"])
        name = section.pop("type", None)
        data = {**data, "verifier": name}
        if section:
            data["verifier_options"] = {**section, **data.get("verifier_options", {})}
    out: dict[str, Any] = {}
    for key, value in _flatten(data).items():
        if key in ignored:
            continue
        target = aliases.get(key, key)
        if target not in names and not (target.startswith("lora.") and target[5:] in lora_names):
            guess = difflib.get_close_matches(key, sorted(valid), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            raise ConfigError(f"{path}: unknown setting '{key}'{hint}")
        out[target] = value
    return out


def resolve(cls: type[T], yaml_path: str | None, flags: dict[str, Any], *, kind: str = "raft") -> T:
    """defaults < YAML < flags that are not None. Returns an instance (not yet validated)."""
    aliases, ignored = {
        "raft": (_RAFT_ALIASES, _IGNORED),
        "sft": (_SFT_ALIASES, _SFT_IGNORED),
        "benchmark": (_BENCH_ALIASES, set()),
    }[kind]
    values: dict[str, Any] = {}
    if yaml_path:
        values.update(_yaml_to_fields(cls, read_yaml(yaml_path), aliases, ignored, yaml_path))
    values.update({k: v for k, v in flags.items() if v is not None})
    lora = {k[5:]: values.pop(k) for k in list(values) if k.startswith("lora.")}
    field_types = {f.name: f for f in dataclasses.fields(cls)}
    for k, v in list(values.items()):
        values[k] = _coerce(k, v, field_types[k].default, yaml_path)
    obj = cls(**values)
    if lora and hasattr(obj, "lora"):
        obj.lora = dataclasses.replace(obj.lora, **lora)
    return obj


def _coerce(name: str, value: Any, default: Any, source: str | None) -> Any:
    """YAML reads ``5e-5`` as a string (YAML 1.1); accept numeric strings for numeric fields."""
    if isinstance(default, float) and isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(
                f"{source or 'config'}: {name} must be a number; got {value!r}"
            ) from None
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(
                f"{source or 'config'}: {name} must be an integer; got {value!r}"
            ) from None
    return value


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
