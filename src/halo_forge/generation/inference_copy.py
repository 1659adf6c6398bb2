"""A bfloat16 copy of a LoRA-wrapped training model, for sampling only.

RAFT trains in float32 but spends most of its time sampling, and on a CPU with native bf16
instructions (AVX512-BF16 / AMX) a bf16 forward pass is much faster: ``bench/generation.py``
measured 26.7 s against 50.8 s for the same 64 samples (SmolLM2-135M, 2 cores, AVX512-BF16),
with comparable pass rates. So the generator samples from a bf16 copy whose LoRA-targeted
weights are refreshed from the training model before each use: ``W + ΔW`` computed in float32
from the adapter, then rounded to bf16 once (no merge/unmerge of the training weights, which
would not restore them bit for bit). The copy depends only on the weights, so a resumed run
(adapter loaded from disk) samples from exactly the copy the uninterrupted run would have.
Everything that is not a LoRA target (embeddings, norms) is frozen and copied once.
"""

from __future__ import annotations

import copy
from typing import Any

DTYPES = ("auto", "float32", "bfloat16")


def bf16_is_fast() -> bool:
    """True where the CPU has native bf16 matmuls (oneDNN's check) or a CUDA device is used."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - torch without oneDNN
        return False


def resolve_dtype(name: str) -> str:
    """``auto``: bfloat16 when :func:`bf16_is_fast`, else float32."""
    if name == "auto":
        return "bfloat16" if bf16_is_fast() else "float32"
    return name


class InferenceCopy:
    """``model`` as a plain (adapter-merged) ``dtype`` model; call :meth:`refresh` to sync."""

    def __init__(self, model: Any, dtype: str = "bfloat16"):
        import torch

        self.source = model
        self.dtype = getattr(torch, dtype)
        base = _base_model(model)
        lora = _lora_layers(model)
        # deep-copy the plain base without its LoRA wrappers: each wrapper is copied as (a copy
        # of) its base layer; the training model is left as it was
        memo: dict[int, Any] = {
            id(wrapper): copy.deepcopy(wrapper.base_layer) for wrapper in lora.values()
        }
        self.model = copy.deepcopy(base, memo).to(self.dtype).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self._targets = {name: self.model.get_submodule(name) for name in lora}
        self._lora = lora

    def refresh(self) -> Any:
        """Copy the current adapter-merged weights in; returns the inference model."""
        import torch

        with torch.no_grad():
            for name, wrapper in self._lora.items():
                weight = wrapper.base_layer.weight
                for adapter in wrapper.active_adapters:
                    if adapter in wrapper.lora_A:
                        weight = weight + wrapper.get_delta_weight(adapter)
                self._targets[name].weight.copy_(weight.to(self.dtype))
        return self.model


def _base_model(model: Any) -> Any:
    """The transformers model inside a PeftModel (the model itself otherwise)."""
    get = getattr(model, "get_base_model", None)
    return get() if callable(get) else model


def _lora_layers(model: Any) -> dict[str, Any]:
    """LoRA-wrapped linear layers, by their name inside the base model."""
    from peft.tuners.lora import LoraLayer

    base = _base_model(model)
    return {name: m for name, m in base.named_modules() if isinstance(m, LoraLayer)}
