"""Which generator samples each RAFT cycle (``generation_backend``).

Training always stays in this process; only sampling moves:

- ``hf``: the training model itself (``HFGenerator``).
- ``openai``: an OpenAI-compatible server at ``base_url`` (``vllm serve``, ``halo-forge serve``,
  Ollama...). Before cycle ``c`` samples, the adapter it starts from — ``OUT/cycle_{c-1}_final``,
  or the ``--checkpoint`` adapter for cycle 1, else none (the server's base model) — is loaded
  into the server as ``halo-forge-<run hash>-cycle-<c-1>`` through vLLM's runtime LoRA API and
  the previous one unloaded (a failed unload is a warning). ``load_adapters=False`` samples the
  server's model every cycle (servers without that API, e.g. Ollama).
- ``vllm``: ``vllm.LLM`` in this process, with a ``LoRARequest`` for the same adapter per cycle.

``run_cycle`` calls ``factory(cycle)`` like a generator class —
``factory(model, tokenizer, batch_size=..., system_prompt=..., progress=..., progress_task=...)``.
The adapter is loaded on the first ``generate`` call, so a cycle whose samples are all on disk
already never contacts the server.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from halo_forge.errors import ConfigError
from halo_forge.ui import console

if TYPE_CHECKING:
    from halo_forge.rlvr.raft import RaftPlan


def run_hash(root: Path) -> str:
    return hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]


def cycle_adapter(plan: RaftPlan, cycle: int) -> tuple[str, str] | None:
    """(label, absolute path) of the adapter cycle ``cycle`` samples from; None: the base."""
    if cycle > 1:
        return f"cycle-{cycle - 1}", str(plan.run.final_dir(cycle - 1).resolve())
    if plan.model.adapter:
        return "checkpoint", str(Path(plan.model.adapter).expanduser().resolve())
    return None


def adapter_name(plan: RaftPlan, label: str) -> str:
    return f"halo-forge-{run_hash(plan.run.root)}-{label}"


class HFCycles:
    """Sample with the training model (the default) — through a bf16 copy of it, refreshed
    from the adapter before each chunk, when ``generation_dtype`` resolves to bfloat16 (see
    :mod:`halo_forge.generation.inference_copy`)."""

    def __init__(self, dtype: str = "float32"):
        self.dtype = dtype
        self.copy: Any = None

    def start(self) -> None:
        pass

    def factory(self, cycle: int) -> Any:
        from halo_forge.generation.hf import HFGenerator

        if self.dtype == "float32":
            return HFGenerator

        def build(model: Any, tokenizer: Any, **kw: Any) -> Any:
            from halo_forge.generation.inference_copy import InferenceCopy

            if self.copy is None or self.copy.source is not model:
                self.copy = InferenceCopy(model, self.dtype)
            return HFGenerator(model, tokenizer, inference=self.copy, **kw)

        return build

    def close(self) -> None:
        self.copy = None


class ServerCycles:
    """Sample from an OpenAI-compatible server, loading each cycle's adapter into it."""

    def __init__(self, plan: RaftPlan, *, client: Any = None, transport: Any = None):
        cfg = plan.config
        self.plan = plan
        self.base_url = (cfg.base_url or "").rstrip("/")
        self.client = client  # tests: an openai client stand-in
        self.transport = transport  # tests: an httpx transport for the LoRA calls
        self.base_model = cfg.served_model
        self.loaded: str | None = None  # the adapter this run loaded and has not unloaded
        self._adapters: Any = None

    def start(self) -> None:
        """Fail fast (unreachable server, no model) before the training model loads."""
        from halo_forge.generation.openai_backend import GenerationError, served_models

        try:
            names = served_models(self.base_url, client=self.client)
        except GenerationError as e:
            raise GenerationError(str(e).replace("with --model", "with --served-model")) from None
        if self.base_model is None:
            if not names:
                raise ConfigError(
                    f"the server at {self.base_url} lists no model; pass --served-model NAME"
                )
            self.base_model = names[0]
        elif self.base_model not in names:
            raise ConfigError(
                f"the server at {self.base_url} serves {', '.join(names) or 'no model'}, not "
                f"--served-model {self.base_model}; pass one of those"
            )
        how = (
            "each cycle's adapter loaded into it"
            if self.plan.config.load_adapters
            else "[yellow]--no-load-adapters: every cycle samples this model, not the "
            "adapter being trained[/]"
        )
        console.print(
            f"Generation: {self.base_url} (model {self.base_model}); {how}", soft_wrap=True
        )

    def factory(self, cycle: int) -> Any:
        def build(_model: Any, _tokenizer: Any, **kw: Any) -> _ServerCycleGenerator:
            return _ServerCycleGenerator(self, cycle, kw)

        return build

    def use(self, cycle: int) -> tuple[str, bool]:
        """Load cycle ``cycle``'s adapter (unloading the previous one) and return the model
        name to request, and whether it is a loaded adapter."""
        found = cycle_adapter(self.plan, cycle) if self.plan.config.load_adapters else None
        if found is None:
            return self.base_model or "", False
        label, path = found
        name = adapter_name(self.plan, label)
        if name != self.loaded:
            self.adapters().load(name, path)
            console.print(f"Loaded adapter {path} into {self.base_url} as {name}", soft_wrap=True)
            previous, self.loaded = self.loaded, name
            if previous:
                self._unload(previous)
        return name, True

    def adapters(self) -> Any:
        from halo_forge.generation.openai_backend import LoraAdapters

        if self._adapters is None:
            self._adapters = LoraAdapters(self.base_url, transport=self.transport)
        return self._adapters

    def _unload(self, name: str) -> None:
        warning = self.adapters().unload(name)
        if warning:
            console.print(f"[yellow]Warning: {warning}[/]", soft_wrap=True)

    def close(self) -> None:
        """Unload what this run loaded (best effort: a warning when the server refuses)."""
        if self.loaded:
            self._unload(self.loaded)
            self.loaded = None
        if self._adapters is not None:
            self._adapters.close()
            self._adapters = None


class _ServerCycleGenerator:
    """``OpenAIGenerator`` for one cycle; loads the cycle's adapter on the first call."""

    def __init__(self, cycles: ServerCycles, cycle: int, kw: dict[str, Any]):
        self.cycles, self.cycle, self.kw = cycles, cycle, kw
        self._gen: Any = None

    def generate(self, problems: Any, params: Any, on_samples: Any = None, skip: Any = None):
        if self._gen is None:
            from halo_forge.generation.openai_backend import OpenAIGenerator

            name, is_adapter = self.cycles.use(self.cycle)
            cfg = self.cycles.plan.config
            self._gen = OpenAIGenerator(
                self.cycles.base_url,
                name,
                system_prompt=self.kw.get("system_prompt", cfg.system_prompt),
                concurrency=cfg.concurrency,
                progress=self.kw.get("progress"),
                progress_task=self.kw.get("progress_task"),
                check_model=is_adapter,
                client=self.cycles.client,
            )
        return self._gen.generate(problems, params, on_samples=on_samples, skip=skip)


class VLLMCycles:
    """Sample with ``vllm.LLM`` in this process; the adapter goes in as a ``LoRARequest``.

    The training model and vLLM's copy of the base model are both in memory (on a GPU, vLLM
    takes ``DEFAULT_GPU_MEMORY_UTILIZATION`` of it)."""

    def __init__(self, plan: RaftPlan):
        self.plan = plan
        self.llm: Any = None

    def start(self) -> None:
        from halo_forge.generation.vllm_backend import VLLMGenerator
        from halo_forge.models.loader import _base_path

        cfg = self.plan.config
        path = _base_path(self.plan.model, cfg.cache_dir)
        console.print(f"Generation: vLLM in this process ({path})", soft_wrap=True)
        self.llm = VLLMGenerator.load_llm(
            path,
            lora_rank=cfg.lora.r,
            seed=cfg.seed,
            dtype="bfloat16" if cfg.bf16 else "auto",
        )

    def factory(self, cycle: int) -> Any:
        from halo_forge.generation.vllm_backend import VLLMGenerator, lora_request

        found = cycle_adapter(self.plan, cycle)
        request = None
        if found is not None:
            label, path = found
            # a new id per cycle: vLLM caches adapters by id, and each cycle's is new
            request = lora_request(adapter_name(self.plan, label), cycle, path)

        def build(_model: Any, _tokenizer: Any, **kw: Any) -> VLLMGenerator:
            return VLLMGenerator(
                self.llm,
                system_prompt=kw.get("system_prompt", self.plan.config.system_prompt),
                lora_request=request,
                progress=kw.get("progress"),
                progress_task=kw.get("progress_task"),
            )

        return build

    def close(self) -> None:
        self.llm = None


def cycle_generators(plan: RaftPlan) -> HFCycles | ServerCycles | VLLMCycles:
    backend = plan.config.generation_backend
    if backend == "openai":
        return ServerCycles(plan)
    if backend == "vllm":
        return VLLMCycles(plan)
    from halo_forge.generation.inference_copy import resolve_dtype

    return HFCycles(resolve_dtype(plan.config.generation_dtype))
