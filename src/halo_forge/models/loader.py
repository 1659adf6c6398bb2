"""Load a model + tokenizer from the embedded default, a local folder, or a hub id.

Resolution is split from loading so the CLI can reject a bad ``--model``/``--checkpoint``
before any weights are read (``resolve_model``), and so a rerun that has nothing to do never
touches torch at all.

A checkpoint is either a full model folder (``config.json``) or a peft adapter folder
(``adapter_config.json``); an adapter is applied on top of ``--model`` when given, else on the
base model recorded in the adapter (when that folder still exists), else the embedded default.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from halo_forge.errors import ModelLoadError
from halo_forge.models.embedded import EMBEDDED_NAME, embedded_model_dir, is_embedded_ready

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class ModelSpec:
    """Where the weights come from. ``base`` is a local folder, a hub id, or None (embedded)."""

    base: str | None
    adapter: str | None = None

    @property
    def label(self) -> str:
        name = self.base or EMBEDDED_NAME
        return f"{name} + adapter {self.adapter}" if self.adapter else name


def _is_adapter(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def _looks_like_path(s: str) -> bool:
    return s.startswith((".", "/", "~")) or s.count("/") > 1 or os.sep == "\\" and "\\" in s


def _check_local(path: Path, flag: str) -> None:
    if not path.exists():
        raise ModelLoadError(f"{flag} {path} does not exist")
    if not (_is_adapter(path) or _is_model_dir(path)):
        raise ModelLoadError(
            f"{flag} {path} is neither a model folder (config.json) nor a peft adapter "
            "folder (adapter_config.json)"
        )


def resolve_model(model: str | None, checkpoint: str | None = None) -> ModelSpec:
    """Validate ``--model``/``--checkpoint`` without loading anything. Raises ModelLoadError."""
    base: str | None = None
    adapter: str | None = None
    if model is not None:
        p = Path(model).expanduser()
        if p.exists() or _looks_like_path(model):
            _check_local(p, "--model")
            if _is_adapter(p):
                adapter = str(p)
                base = _adapter_base(p)
            else:
                base = str(p)
        else:
            base = model  # a hub id: checked when loading
    if checkpoint is not None:
        c = Path(checkpoint).expanduser()
        _check_local(c, "--checkpoint")
        if _is_adapter(c):
            if adapter is not None:
                raise ModelLoadError("--model is already an adapter; pass the base model instead")
            adapter = str(c)
            if base is None:
                base = _adapter_base(c)
        else:
            base = str(c)
    return ModelSpec(base=base, adapter=adapter)


def _adapter_base(adapter: Path) -> str | None:
    """The adapter's recorded base if that folder exists here; None means the embedded model."""
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    recorded = cfg.get("base_model_name_or_path")
    if recorded and Path(recorded).is_dir():
        return recorded
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _base_path(spec: ModelSpec, cache_dir: str | None) -> str:
    if spec.base is None:
        return str(embedded_model_dir(cache_dir, create=True))
    return spec.base


def load_tokenizer(spec: ModelSpec, cache_dir: str | None = None) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    src = spec.adapter if spec.adapter and _has_tokenizer(Path(spec.adapter)) else None
    src = src or _base_path(spec, cache_dir)
    tok = _from_pretrained(AutoTokenizer, src)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # decoder-only batched generation
    return tok


def _has_tokenizer(path: Path) -> bool:
    return (path / "tokenizer_config.json").is_file()


def _from_pretrained(cls: Any, src: str, **kw: Any) -> Any:
    """``cls.from_pretrained`` that fails in one line (and fast) when a hub id is unreachable."""
    if Path(src).is_dir():
        return cls.from_pretrained(src, **kw)
    try:
        return cls.from_pretrained(src, local_files_only=True, **kw)
    except OSError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
        raise ModelLoadError(
            f"model '{src}' is not a local folder and the Hugging Face hub is not reachable; "
            "download it where there is network and pass its local path with --model"
        ) from None
    try:
        return cls.from_pretrained(src, **kw)
    except OSError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(
            f"cannot load model '{src}' ({first}); pass a local path with --model"
        ) from None


def load_model(
    spec: ModelSpec,
    *,
    cache_dir: str | None = None,
    dtype: str = "float32",
    trainable_adapter: bool = False,
) -> PreTrainedModel:
    """Load the base weights, then the adapter (trainable when asked) on top."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    model = _from_pretrained(AutoModelForCausalLM, _base_path(spec, cache_dir), dtype=torch_dtype)
    if spec.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, spec.adapter, is_trainable=trainable_adapter)
    return model


__all__ = [
    "ModelSpec",
    "is_embedded_ready",
    "load_model",
    "load_tokenizer",
    "resolve_model",
]
