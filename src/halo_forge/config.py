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
    generation_batch_size: int = 64  # rows sampled together (continuous batching refills them)
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
    # -- the per-cycle schedule (rlvr.curriculum, rlvr.shaping, rlvr.stopping) --
    curriculum: str = "none"  # none | complexity | progressive | adaptive
    reward_shaping: str = "fixed"  # fixed | annealing | warmup | adaptive
    shaping_start_threshold: float = 0.0  # annealing/warmup start here, end at reward_threshold
    shaping_start_keep: float = 0.8  # ... and at keep_percent
    warmup_cycles: int = 1
    lr_decay: float = 1.0  # learning rate of cycle c = learning_rate * lr_decay ** (c - 1)
    max_per_prompt: int | None = None  # cap on kept samples per prompt (after keep_percent)
    require_pass: bool = True  # prompts with no PASS sample contribute nothing (see filtering)
    early_stop: bool = False  # stop when the stop advice says so (gain < 2 points, or a drop)
    # Per-cycle overrides, the seeds' ``cycles:`` list: {verifier, reward_threshold,
    # keep_percent, run_after_compile, learning_rate, temperature, verifier_options}.
    cycle_settings: list[dict[str, Any]] = field(default_factory=list)
    # -- chunking (the seeds' RAFTConfig names) --
    generation_chunk_size: int = 32  # prompts generated (then verified) as one unit of work
    verification_chunk_size: int = 256  # samples whose verdicts are appended together
    clear_cache_every_n_batches: int = 0  # gc (and CUDA cache) every N generation batches
    report_to: list[str] = field(default_factory=list)  # tensorboard, wandb
    # -- where samples come from (rlvr.generators); training always stays in this process --
    generation_backend: str = "hf"  # hf | openai (a server at base_url) | vllm (in-process)
    base_url: str | None = None  # openai: the server's API root, e.g. http://127.0.0.1:8000/v1
    served_model: str | None = None  # openai: the base model's name there (None: first listed)
    concurrency: int = 4  # openai: requests in flight
    load_adapters: bool = True  # openai: load each cycle's adapter into the server
    # hf: sample from a copy in this dtype (auto: bfloat16 where the CPU has native bf16)
    generation_dtype: str = "auto"

    def validate(self) -> RaftConfig:
        if not self.prompts:
            raise ConfigError("--prompts is required (a JSONL file or a built-in: basic_python)")
        self._validate_schedule()
        _raft_backend(self)
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

    def _validate_schedule(self) -> None:
        choices = {
            "curriculum": ("none", "complexity", "progressive", "adaptive"),
            "reward_shaping": ("fixed", "annealing", "warmup", "adaptive"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}; "
                    f"got {getattr(self, name)!r}"
                )
        _fraction(
            "shaping_start_threshold",
            "shaping_start_threshold",
            self.shaping_start_threshold,
            lo_open=False,
        )
        _fraction("shaping_start_keep", "shaping_start_keep", self.shaping_start_keep, lo_open=True)
        _positive_int("warmup_cycles", "warmup_cycles", self.warmup_cycles)
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(
                f"--lr-decay must be in (0, 1] (0.85 works well); got {self.lr_decay}"
            )
        if self.max_per_prompt is not None:
            _positive_int("max_per_prompt", "--max-per-prompt", self.max_per_prompt)
        _positive_int("generation_chunk_size", "generation_chunk_size", self.generation_chunk_size)
        _positive_int(
            "verification_chunk_size", "verification_chunk_size", self.verification_chunk_size
        )
        if (
            not isinstance(self.clear_cache_every_n_batches, int)
            or self.clear_cache_every_n_batches < 0
        ):
            raise ConfigError(
                "clear_cache_every_n_batches must be an integer >= 0 (0: never); got "
                f"{self.clear_cache_every_n_batches!r}"
            )
        known = {"tensorboard", "wandb"}
        bad = [r for r in self.report_to if r not in known and r != "none"]
        if bad:
            raise ConfigError(f"--report-to takes tensorboard and/or wandb; got {bad[0]!r}")
        if self.cycle_settings:
            if len(self.cycle_settings) != self.cycles:
                raise ConfigError(
                    f"the config's cycles: list has {len(self.cycle_settings)} entries but "
                    f"--cycles is {self.cycles}; drop --cycles or give one entry per cycle"
                )
            for i, entry in enumerate(self.cycle_settings, start=1):
                _check_cycle_entry(i, entry)


CYCLE_KEYS = {
    "verifier": str,
    "reward_threshold": float,
    "keep_percent": float,
    "run_after_compile": bool,
    "learning_rate": float,
    "temperature": float,
    "verifier_options": dict,
    "name": str,
}


def _check_cycle_entry(i: int, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(f"cycles[{i}] must be a mapping of settings, e.g. {{verifier: gcc}}")
    for key, value in entry.items():
        if key not in CYCLE_KEYS:
            guess = difflib.get_close_matches(key, sorted(CYCLE_KEYS), n=1)
            hint = (
                f"; did you mean '{guess[0]}'?"
                if guess
                else f" (allowed: {', '.join(sorted(CYCLE_KEYS))})"
            )
            raise ConfigError(f"cycles[{i}]: unknown setting '{key}'{hint}")
        want = CYCLE_KEYS[key]
        ok = isinstance(value, want) and not (want is not bool and isinstance(value, bool))
        if want is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise ConfigError(f"cycles[{i}].{key} must be a {want.__name__}; got {value!r}")
        if key in ("reward_threshold", "keep_percent"):
            _fraction(
                f"cycles[{i}].{key}", f"cycles[{i}].{key}", value, lo_open=key == "keep_percent"
            )
        if key == "temperature":
            _temperature(value)


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
    generation_batch_size: int = 64
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


RAFT_BACKENDS = ("hf", "openai", "vllm")
VLLM_DOC = "README, section 'Faster generation: vLLM or a server'"


def _raft_backend(cfg: RaftConfig) -> None:
    backend = cfg.generation_backend
    if cfg.generation_dtype not in ("auto", "float32", "bfloat16"):
        raise ConfigError(
            "--generation-dtype must be auto, float32 or bfloat16 (auto: bfloat16 where the CPU "
            f"has native bf16); got '{cfg.generation_dtype}'"
        )
    if backend not in RAFT_BACKENDS:
        raise ConfigError(
            f"--generation-backend must be one of {', '.join(RAFT_BACKENDS)}; got '{backend}'"
        )
    if backend == "openai":
        if not cfg.base_url:
            raise ConfigError(
                "--generation-backend openai needs --base-url, the server's API root, e.g. "
                "--base-url http://127.0.0.1:8000/v1 (start one with: halo-forge serve)"
            )
        if not cfg.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"--base-url must start with http:// or https://, e.g. "
                f"http://127.0.0.1:8000/v1; got '{cfg.base_url}'"
            )
        _positive_int("concurrency", "--concurrency", cfg.concurrency)
        return
    for name, flag in (("base_url", "--base-url"), ("served_model", "--served-model")):
        if getattr(cfg, name):
            raise ConfigError(
                f"{flag} is only used with --generation-backend openai; add "
                f"--generation-backend openai to sample from that server, or drop {flag}"
            )
    if not cfg.load_adapters:
        raise ConfigError(
            "--no-load-adapters is only used with --generation-backend openai (a server "
            "without runtime LoRA loading); drop it"
        )
    if backend == "vllm":
        problem = vllm_import_problem()
        if problem:
            raise ConfigError(
                f"--generation-backend vllm needs vLLM in this environment ({problem}); install "
                f"it as the {VLLM_DOC} says, or run vllm serve elsewhere and use "
                "--generation-backend openai --base-url URL"
            )


def vllm_import_problem() -> str | None:
    """None when ``import vllm`` works here, else why not (one line)."""
    try:
        import vllm  # noqa: F401
    except Exception as e:  # noqa: BLE001 - a broken install (wrong torch...) is not ImportError
        text = str(e).strip()
        return f"import vllm: {text.splitlines()[0] if text else type(e).__name__}"
    return None


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
    "curriculum_strategy": "curriculum",
    "raft.curriculum_strategy": "curriculum",
    "reward_shaping_strategy": "reward_shaping",
    "raft.reward_shaping": "reward_shaping",
    "lr_decay_per_cycle": "lr_decay",
    "raft.lr_decay": "lr_decay",
    "max_samples_per_prompt": "max_per_prompt",
    "raft.generation_chunk_size": "generation_chunk_size",
    "raft.verification_chunk_size": "verification_chunk_size",
    "raft.clear_cache_every_n_batches": "clear_cache_every_n_batches",
    "report_to": "report_to",
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
    "generation.backend": "generation_backend",
    "generation.dtype": "generation_dtype",
    "generation.base_url": "base_url",
    "generation.served_model": "served_model",
    "generation.concurrency": "concurrency",
    "generation.load_adapters": "load_adapters",
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
    if isinstance(data.get("cycles"), list) and "cycle_settings" in names:  # the seeds' list
        data = {**data, "cycle_settings": data["cycles"], "cycles": len(data["cycles"])}
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


# --- benchmark full --------------------------------------------------------------------------


@dataclass
class BenchmarkFullConfig:
    """``benchmark full``: RAFT on ``raft.prompts``, pass@k on held-out prompts before training
    and after every cycle. ``raft`` is resolved like ``raft train``'s config (its ``output`` is
    replaced by ``OUTPUT/raft``); the other fields are the evaluation's."""

    raft: RaftConfig = field(default_factory=RaftConfig)
    output: str = "results/benchmark_full"
    eval_prompts: str | None = None  # None: the training built-in's test split
    # None: a built-in's own verifier, else raft.verifier, else the eval file's default
    eval_verifier: str | None = None
    samples: int = 10
    k: list[int] = field(default_factory=lambda: [1, 5, 10])
    eval_temperature: float = 0.2
    eval_max_new_tokens: int | None = None  # None: raft.max_new_tokens
    max_eval_prompts: int | None = None
    early_stop: bool = False
    min_gain: float = 0.02  # pass@1 gain per cycle below which stopping is advised

    def validate(self) -> BenchmarkFullConfig:
        self.raft.validate()
        _positive_int("samples", "--samples", self.samples)
        if (
            not isinstance(self.k, list)
            or not self.k
            or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in self.k)
        ):
            raise ConfigError(f"--k takes positive integers, e.g. 1,5,10; got {self.k}")
        if not (0 <= self.eval_temperature <= 5) or math.isnan(self.eval_temperature):
            raise ConfigError(
                f"--eval-temperature must be in [0, 5] (0 = greedy), e.g. 0.2; "
                f"got {self.eval_temperature}"
            )
        if self.eval_max_new_tokens is not None:
            _positive_int("eval_max_new_tokens", "--eval-max-new-tokens", self.eval_max_new_tokens)
        if self.max_eval_prompts is not None:
            _positive_int("max_eval_prompts", "--max-eval-prompts", self.max_eval_prompts)
        if not (0 <= self.min_gain < 1):
            raise ConfigError(
                f"--min-gain is a pass@1 difference in [0, 1), e.g. 0.02 (2 points); "
                f"got {self.min_gain}"
            )
        return self


def resolve_benchmark_full(yaml_path: str | None, flags: dict[str, Any]) -> BenchmarkFullConfig:
    """defaults < YAML < typed flags, for both parts. The YAML is a ``raft train`` config (flat
    or sectioned) whose top level may also hold the evaluation's fields (``eval_prompts``,
    ``samples``, ``k``, ...); its ``output``/``output_dir`` is the folder of the whole run."""
    own = {f.name for f in dataclasses.fields(BenchmarkFullConfig)} - {"raft"}
    data = read_yaml(yaml_path) if yaml_path else {}
    full_values = {k: data.pop(k) for k in list(data) if k in own}
    raft_keys = {f.name for f in dataclasses.fields(RaftConfig)} | set(_RAFT_ALIASES) | _IGNORED
    for key in data:  # a typo of one of our own fields: suggest it, not a RAFT setting
        guess = difflib.get_close_matches(key, sorted(own), n=1)
        if key not in raft_keys and not isinstance(data[key], dict) and guess:
            raise ConfigError(f"{yaml_path}: unknown setting '{key}'; did you mean '{guess[0]}'?")
    raft_values = (
        _yaml_to_fields(RaftConfig, data, _RAFT_ALIASES, _IGNORED, yaml_path or "config")
        if data
        else {}
    )
    if "output" in raft_values:
        full_values.setdefault("output", raft_values.pop("output"))
    if isinstance(full_values.get("k"), str):
        full_values["k"] = parse_k(full_values["k"])
    typed = {k: v for k, v in flags.items() if v is not None}
    full_values.update({k: v for k, v in typed.items() if k in own})
    raft_values.update({k: v for k, v in typed.items() if k not in own})
    raft = resolve(RaftConfig, None, raft_values, kind="raft")
    cfg = resolve(BenchmarkFullConfig, None, full_values, kind="benchmark")
    return dataclasses.replace(cfg, raft=raft)
