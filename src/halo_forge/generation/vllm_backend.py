"""``Generator`` over vLLM in this process (``vllm.LLM``), with a LoRA adapter per call.

vLLM is optional and imported lazily: nothing here imports it at module load, and the mapping
between our types and vLLM's is pure functions (``llm_kwargs``, ``sampling_kwargs``,
``build_requests``, ``to_sample``) so it is tested without vLLM installed.

Written against vLLM's documented offline API — ``LLM(model, enable_lora=True, max_lora_rank)``,
``LLM.chat(conversations, sampling_params, lora_request=...)``, ``SamplingParams(n,
temperature, top_p, max_tokens, seed)``, ``LoRARequest(lora_name, lora_int_id, lora_path)``.
Where it departs from the HF backend, it departs like the openai backend does: no stop at the
closing code fence (a ``"```"`` stop string would fire on the opening fence), so completions run
to EOS or ``max_tokens`` and ``extract_code`` finds the block; seeds are
``params.seed + 7919 * problem_index``, one ``SamplingParams`` per problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from halo_forge.generation.base import (
    DEFAULT_SYSTEM_PROMPT,
    GenerationStats,
    SamplingParams,
    chat_messages,
)
from halo_forge.types import Problem, Sample
from halo_forge.verify.extract import extract_code

# Ranks vLLM accepts for --max-lora-rank / max_lora_rank.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
# The training model shares the accelerator with vLLM in RAFT: vLLM's own default (0.9) would
# leave it nothing.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.5


def max_lora_rank(r: int) -> int:
    """The smallest rank vLLM accepts that holds a LoRA of rank ``r``."""
    for allowed in LORA_RANKS:
        if r <= allowed:
            return allowed
    raise ValueError(f"LoRA rank {r} is above the largest vLLM supports ({LORA_RANKS[-1]})")


def llm_kwargs(
    model_path: str,
    *,
    lora_rank: int = 16,
    seed: int = 0,
    dtype: str = "auto",
    gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION,
    max_model_len: int | None = None,
) -> dict[str, Any]:
    """``vllm.LLM(**kwargs)`` for sampling ``model_path`` with our LoRA adapters."""
    kw: dict[str, Any] = {
        "model": model_path,
        "enable_lora": True,
        "max_lora_rank": max_lora_rank(lora_rank),
        "max_loras": 1,  # one adapter per cycle
        "seed": seed,
        "dtype": dtype,
        "gpu_memory_utilization": gpu_memory_utilization,
    }
    if max_model_len is not None:
        kw["max_model_len"] = max_model_len
    return kw


def sampling_kwargs(params: SamplingParams, n: int, seed: int) -> dict[str, Any]:
    """``vllm.SamplingParams(**kwargs)`` for ``n`` samples of one problem."""
    return {
        "n": n,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_tokens": params.max_new_tokens,
        "seed": seed,
    }


def problem_seed(seed: int, problem_index: int) -> int:
    return seed + 7919 * problem_index  # as the openai backend's first request per problem


@dataclass(frozen=True)
class Request:
    """One problem's share of a ``generate`` call."""

    problem_index: int
    indices: list[int]  # the sample indices to produce, in order
    messages: list[dict[str, str]]
    sampling: dict[str, Any]


def build_requests(
    problems: list[Problem],
    params: SamplingParams,
    system_prompt: str | None,
    skip: set[tuple[str, int]] | None = None,
) -> list[Request]:
    """One request per problem with samples left to make (``skip``: (id, index) pairs done)."""
    skip = skip or set()
    out = []
    for pi, p in enumerate(problems):
        indices = [j for j in range(params.n) if (p.id, j) not in skip]
        if indices:
            out.append(
                Request(
                    pi,
                    indices,
                    chat_messages(p.prompt, system_prompt),
                    sampling_kwargs(params, len(indices), problem_seed(params.seed, pi)),
                )
            )
    return out


def to_sample(problem: Problem, index: int, completion: Any) -> Sample:
    """A vLLM ``CompletionOutput`` (``.text``, ``.token_ids``, ``.finish_reason``) as a Sample.

    vLLM's finish reasons are "stop" (EOS or a stop string), "length", "abort", or None while
    unfinished; the last is reported as "unknown".
    """
    text = completion.text or ""
    return Sample(
        problem_id=problem.id,
        index=index,
        completion=text,
        code=extract_code(text, problem.language),
        num_tokens=len(completion.token_ids or ()),
        finish_reason=completion.finish_reason or "unknown",
    )


def lora_request(name: str, int_id: int, path: str) -> Any:
    """vLLM's ``LoRARequest`` (``int_id`` >= 1, unique per adapter in one ``LLM``)."""
    from vllm.lora.request import LoRARequest

    return LoRARequest(lora_name=name, lora_int_id=int_id, lora_path=path)


class VLLMGenerator:
    """``Generator`` over a ``vllm.LLM``: every problem of a ``generate`` call in one
    ``LLM.chat`` call, with ``lora_request`` (None: the base model)."""

    def __init__(
        self,
        llm: Any,
        *,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        lora_request: Any = None,
        progress: Any = None,
        progress_task: Any = None,
        sampling_params_cls: Any = None,
    ):
        self.llm = llm
        self.system_prompt = system_prompt
        self.lora_request = lora_request
        self.progress = progress
        self.progress_task = progress_task
        self._sampling_params_cls = sampling_params_cls  # tests: a stand-in for vLLM's

    @staticmethod
    def load_llm(model_path: str, **kwargs: Any) -> Any:
        """``vllm.LLM`` for ``model_path`` (``llm_kwargs``' keywords)."""
        from vllm import LLM

        return LLM(**llm_kwargs(model_path, **kwargs))

    def generate(
        self,
        problems: list[Problem],
        params: SamplingParams,
        on_samples: Callable[[list[Sample]], None] | None = None,
        skip: set[tuple[str, int]] | None = None,
    ) -> tuple[list[list[Sample]], GenerationStats]:
        cls = self._sampling_params_cls
        if cls is None:
            from vllm import SamplingParams as cls
        requests = build_requests(problems, params, self.system_prompt, skip)
        out: list[list[Sample]] = [[] for _ in problems]
        stats = GenerationStats()
        task = self.progress_task
        if task is None and self.progress:
            task = self.progress.add_task("Generating", total=sum(len(r.indices) for r in requests))
        start = time.perf_counter()
        results = (
            self.llm.chat(
                [r.messages for r in requests],
                [cls(**r.sampling) for r in requests],
                use_tqdm=False,
                lora_request=self.lora_request,
            )
            if requests
            else []
        )
        for req, result in zip(requests, results, strict=True):
            problem = problems[req.problem_index]
            completions = sorted(result.outputs, key=lambda c: c.index)[: len(req.indices)]
            samples = [
                to_sample(problem, j, c) for j, c in zip(req.indices, completions, strict=False)
            ]
            out[req.problem_index] = samples
            stats.samples += len(samples)
            for s in samples:
                stats.tokens += s.num_tokens
                stats.finish_reasons[s.finish_reason] = (
                    stats.finish_reasons.get(s.finish_reason, 0) + 1
                )
            if on_samples:
                on_samples(samples)
            if task is not None:
                self.progress.advance(task, len(samples))
        stats.seconds = time.perf_counter() - start
        return out, stats
