"""What the HTTP server calls: an ``Engine`` turns messages or a prompt into ``n`` completions.

The server knows nothing about torch; it validates requests and calls an ``Engine``. Tests (and
other tools) can serve any object with this shape — e.g. a fake engine with canned answers.

``HFEngine`` samples with ``generation.continuous.sample_continuous`` (the same sampler as
training and benchmarking, so a served model behaves like the one ``benchmark run`` measured):
the ``n`` choices of one request share one prefill and are one batch. It is not thread-safe;
the server holds a lock around it.
Departures from OpenAI: a stop string ends the completion but, as in OpenAI, is not included in
the returned text; ``completion_tokens`` counts every sampled token, including those of the
trimmed stop string.

LoRA adapters can be loaded at run time (vLLM's ``/v1/load_lora_adapter`` API): ``HFEngine``
keeps them as named peft adapters on its one base model, and a request names the adapter it
wants as its ``model`` (anything else samples the base model). An engine that supports this has
``adapters()``, ``load_adapter`` and ``unload_adapter`` and takes ``adapter=`` in ``chat`` and
``complete``; the server never passes ``adapter`` to an engine without ``adapters()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from halo_forge.models.loader import ModelSpec


class EngineRequestError(ValueError):
    """The request cannot be served by this model (no chat template, prompt too long...).

    The server answers it with HTTP ``status`` (400); ``param``/``code`` fill OpenAI's error
    fields.
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
    ):
        super().__init__(message)
        self.param = param
        self.code = code
        self.status = status


@dataclass
class Completion:
    """One choice. ``finish_reason`` is ``"stop"`` (EOS or a stop string) or ``"length"``."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class Engine(Protocol):
    """What the server serves. It may be called from several request threads at once: an
    engine that is not thread-safe serializes itself (``HFEngine`` holds a lock).
    Raise ``EngineRequestError`` for a request this model cannot serve (→ HTTP 400)."""

    model_id: str

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str] | None,
        seed: int | None,
    ) -> list[Completion]:
        """``n`` replies to ``messages`` (``[{"role", "content"}]``), via the chat template."""
        ...

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str] | None,
        seed: int | None,
    ) -> list[Completion]:
        """``n`` continuations of the raw ``prompt`` (no template)."""
        ...


def model_id_for(spec: ModelSpec) -> str:
    """A short name for ``/v1/models``: the adapter or model folder's name, or the hub id."""
    from halo_forge.models.embedded import EMBEDDED_NAME

    if spec.adapter:
        return Path(spec.adapter).name
    if spec.base is None:
        return EMBEDDED_NAME
    p = Path(spec.base)
    return p.name if p.is_dir() else spec.base


class HFEngine:
    """``Engine`` over a loaded transformers causal LM (adapters merged beforehand)."""

    def __init__(self, model: Any, tokenizer: Any, model_id: str):
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self._eos = {tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}
        self._all_ids = frozenset(range(len(tokenizer)))
        cfg = getattr(model, "config", None)
        self.context_length: int | None = getattr(cfg, "max_position_embeddings", None)
        self._lock = threading.Lock()
        self._adapters: dict[str, str] = {}  # name -> path, in load order
        model.eval()

    @classmethod
    def load(
        cls,
        model: ModelSpec | str | None = None,
        *,
        checkpoint: str | None = None,
        cache_dir: str | None = None,
    ) -> HFEngine:
        """Load like ``benchmark run`` does: resolve, load, merge an adapter for inference.

        ``model`` is a ``ModelSpec``, a folder or hub id, or None for the embedded model.
        Raises ``ModelLoadError`` for a missing folder or unreachable hub id.
        """
        from halo_forge.models.loader import ModelSpec, load_model, load_tokenizer, resolve_model

        spec = model if isinstance(model, ModelSpec) else resolve_model(model, checkpoint)
        tokenizer = load_tokenizer(spec, cache_dir)
        loaded = load_model(spec, cache_dir=cache_dir)
        if spec.adapter:
            loaded = loaded.merge_and_unload()
        return cls(loaded, tokenizer, model_id_for(spec))

    # --- adapters (vLLM's runtime LoRA API) ------------------------------------------------

    def adapters(self) -> dict[str, str]:
        """Loaded adapters: name -> path."""
        with self._lock:
            return dict(self._adapters)

    def load_adapter(self, name: str, path: str) -> None:
        """Load the peft adapter folder ``path`` as ``name`` (EngineRequestError if it cannot)."""
        if name == self.model_id:
            raise EngineRequestError(
                f"'{name}' is the base model's name; choose another lora_name",
                param="lora_name",
            )
        folder = Path(path).expanduser()
        if not (folder / "adapter_config.json").is_file():
            what = "does not exist" if not folder.exists() else "has no adapter_config.json"
            raise EngineRequestError(
                f"{path} is not a peft LoRA adapter folder ({what}; the server reads the "
                "path on its own file system)",
                param="lora_path",
                code="not_an_adapter",
            )
        with self._lock:
            if name in self._adapters:
                raise EngineRequestError(
                    f"The lora adapter '{name}' has already been loaded.",
                    param="lora_name",
                    code="adapter_already_loaded",
                )
            self._attach(name, str(folder.resolve()))
            self._adapters[name] = str(folder.resolve())

    def unload_adapter(self, name: str) -> None:
        with self._lock:
            if name not in self._adapters:
                raise EngineRequestError(
                    f"The lora adapter '{name}' cannot be found.",
                    param="lora_name",
                    code="adapter_not_found",
                    status=404,
                )
            del self._adapters[name]
            if self._adapters:
                self.model.delete_adapter(name)
            else:  # peft cannot hold zero adapters: back to the plain base model
                self.model = self.model.unload()
            self.model.eval()

    def _attach(self, name: str, path: str) -> None:
        """Add adapter ``name``; on failure the model is left as it was."""
        from peft import PeftConfig, PeftModel

        try:
            config = PeftConfig.from_pretrained(path)
        except Exception as e:  # noqa: BLE001 - a malformed adapter_config.json
            raise EngineRequestError(
                f"cannot read the adapter config in {path}: {_first_line(e)}",
                param="lora_path",
                code="not_an_adapter",
            ) from None
        config.inference_mode = True
        fresh = not isinstance(self.model, PeftModel)
        model = None if fresh else self.model
        try:
            if model is None:
                model = PeftModel(self.model, config, adapter_name=name)
            model.load_adapter(path, adapter_name=name, is_trainable=False)
        except Exception as e:  # noqa: BLE001 - e.g. an adapter of another base model
            if fresh and model is not None:
                model.unload()  # the base model got LoRA layers injected: take them out
            elif not fresh and name in model.peft_config:
                model.delete_adapter(name)
            raise EngineRequestError(
                f"cannot load the adapter {path} onto {self.model_id} (is it an adapter of "
                f"this model?): {_first_line(e)}",
                param="lora_path",
            ) from None
        self.model = model
        self.model.eval()

    # --- Engine ---------------------------------------------------------------------------

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str] | None,
        seed: int | None,
        adapter: str | None = None,
    ) -> list[Completion]:
        if not getattr(self.tokenizer, "chat_template", None):
            raise EngineRequestError(
                f"model {self.model_id} has no chat template; use /v1/completions with a "
                "raw prompt",
                param="messages",
            )
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return self.complete(
            text,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            n=n,
            stop=stop,
            seed=seed,
            adapter=adapter,
        )

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str] | None,
        seed: int | None,
        adapter: str | None = None,
    ) -> list[Completion]:
        with self._lock:  # one generation at a time; fast tokenizers are not thread-safe either
            if adapter is not None and adapter not in self._adapters:
                raise EngineRequestError(
                    f"The model `{adapter}` does not exist.",
                    param="model",
                    code="model_not_found",
                    status=404,
                )
            with self._using(adapter):
                return self._complete(prompt, max_tokens, temperature, top_p, n, stop, seed)

    @contextmanager
    def _using(self, adapter: str | None) -> Iterator[None]:
        """Sample with ``adapter``, or the base model when None (adapters switched off)."""
        if not self._adapters:
            yield
        elif adapter is None:
            with self.model.disable_adapter():
                yield
        else:
            self.model.set_adapter(adapter)
            yield

    def _complete(
        self,
        prompt: str,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str] | None,
        seed: int | None,
    ) -> list[Completion]:
        import torch

        from halo_forge.generation.base import SamplingParams
        from halo_forge.generation.continuous import sample_continuous

        ids = self.tokenizer(prompt, add_special_tokens=False).input_ids
        if not ids:
            raise EngineRequestError("the prompt is empty after tokenization", param="prompt")
        if self.context_length and len(ids) + max_tokens > self.context_length:
            raise EngineRequestError(
                f"this model's maximum context length is {self.context_length} tokens; the "
                f"prompt has {len(ids)} and max_tokens asks for {max_tokens} more — shorten "
                "the prompt or lower max_tokens",
                param="max_tokens",
                code="context_length_exceeded",
            )
        stops = [s for s in (stop or []) if s]
        params = SamplingParams(
            n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_tokens
        )

        def text_done(out: list[int]) -> bool:
            return any(s in self.tokenizer.decode(out, skip_special_tokens=True) for s in stops)

        if seed is None:
            torch.seed()  # fresh entropy: an unseeded request must not replay a seeded one
        else:
            torch.manual_seed(seed)
        rows = sample_continuous(
            self.model,
            [ids],
            [(0, j) for j in range(n)],
            params,
            self._eos,
            text_done,
            self._all_ids if stops else frozenset(),
            max_batch=n,
        )
        out = []
        for toks, done in ((r.tokens, r.stopped) for r in rows):
            text = self.tokenizer.decode(toks, skip_special_tokens=True)
            text, hit = trim_at_stop(text, stops)
            out.append(
                Completion(
                    text=text,
                    finish_reason="stop" if done or hit else "length",
                    prompt_tokens=len(ids),
                    completion_tokens=len(toks),
                )
            )
        return out


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def trim_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """``text`` cut before the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
