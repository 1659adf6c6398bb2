"""Batched sampling through ``transformers.generate``.

Every (problem, sample index) pair is one row; rows are sorted by prompt length so a batch pads
little, and a row stops as soon as its completion closes a fenced code block (small models
otherwise ramble on to the token limit) or emits EOS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from halo_forge.generation.base import (
    DEFAULT_SYSTEM_PROMPT,
    GenerationStats,
    SamplingParams,
    chat_messages,
)
from halo_forge.types import Problem, Sample
from halo_forge.verify.extract import extract_code

if TYPE_CHECKING:
    import torch


def format_prompt(tokenizer: Any, prompt: str, system_prompt: str | None) -> str:
    """The chat template when the tokenizer has one, else the raw prompt."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            chat_messages(prompt, system_prompt), tokenize=False, add_generation_prompt=True
        )
    return prompt


def fence_closed(text: str) -> bool:
    """True once ``text`` holds an opening and a closing ``` fence."""
    return text.count("```") >= 2


class _StopOnClosedFence:
    """Per-row stopping criterion (transformers accepts a bool tensor of shape (batch,))."""

    def __init__(self, tokenizer: Any, prompt_len: int):
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        import torch

        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        last = self.tokenizer.convert_ids_to_tokens(input_ids[:, -1].tolist())
        for row, tok in enumerate(last):
            if tok and "`" in tok:
                text = self.tokenizer.decode(input_ids[row, self.prompt_len :])
                done[row] = fence_closed(text)
        return done


class HFGenerator:
    """``Generator`` over a loaded transformers model (plain or peft-wrapped)."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 32,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        progress: Any = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.system_prompt = system_prompt
        self.progress = progress

    def generate(
        self,
        problems: list[Problem],
        params: SamplingParams,
        on_samples: Callable[[list[Sample]], None] | None = None,
        skip: set[tuple[str, int]] | None = None,
    ) -> tuple[list[list[Sample]], GenerationStats]:
        import torch

        tok = self.tokenizer
        texts = [format_prompt(tok, p.prompt, self.system_prompt) for p in problems]
        lengths = [len(tok(t, add_special_tokens=False).input_ids) for t in texts]
        skip = skip or set()
        rows = [
            (pi, j)
            for pi, p in enumerate(problems)
            for j in range(params.n)
            if (p.id, j) not in skip
        ]
        rows.sort(key=lambda r: (lengths[r[0]], r))
        out: list[list[Sample]] = [[] for _ in problems]
        stats = GenerationStats()
        torch.manual_seed(params.seed)
        self.model.eval()
        task = self.progress.add_task("Generating", total=len(rows)) if self.progress else None
        start = time.perf_counter()
        for b in range(0, len(rows), self.batch_size):
            batch = rows[b : b + self.batch_size]
            samples = self._generate_batch(problems, texts, batch, params)
            for s, (pi, _) in zip(samples, batch, strict=True):
                out[pi].append(s)
                stats.tokens += s.num_tokens
                stats.finish_reasons[s.finish_reason] = (
                    stats.finish_reasons.get(s.finish_reason, 0) + 1
                )
            stats.samples += len(samples)
            if on_samples:
                on_samples(samples)
            if task is not None:
                self.progress.advance(task, len(batch))
        stats.seconds = time.perf_counter() - start
        for group in out:
            group.sort(key=lambda s: s.index)
        return out, stats

    def _generate_batch(
        self,
        problems: list[Problem],
        texts: list[str],
        batch: list[tuple[int, int]],
        params: SamplingParams,
    ) -> list[Sample]:
        import torch
        from transformers import StoppingCriteriaList

        tok = self.tokenizer
        enc = tok(
            [texts[pi] for pi, _ in batch],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        prompt_len = enc.input_ids.shape[1]
        do_sample = params.temperature > 0
        gen_kwargs: dict[str, Any] = dict(
            max_new_tokens=params.max_new_tokens,
            do_sample=do_sample,
            pad_token_id=tok.pad_token_id,
            stopping_criteria=StoppingCriteriaList([_StopOnClosedFence(tok, prompt_len)]),
        )
        if do_sample:
            gen_kwargs.update(temperature=params.temperature, top_p=params.top_p)
        with torch.inference_mode():
            seqs = self.model.generate(**enc, **gen_kwargs)
        new = seqs[:, prompt_len:]
        eos = {tok.eos_token_id, tok.pad_token_id} - {None}
        samples = []
        for row, (pi, j) in enumerate(batch):
            ids = new[row].tolist()
            n_tok = len(ids)
            for k, t in enumerate(ids):
                if t in eos:
                    n_tok = k
                    break
            completion = tok.decode(ids[:n_tok], skip_special_tokens=True)
            stopped = n_tok < len(ids) or fence_closed(completion)
            problem = problems[pi]
            samples.append(
                Sample(
                    problem_id=problem.id,
                    index=j,
                    completion=completion,
                    code=extract_code(completion, problem.language),
                    num_tokens=n_tok,
                    finish_reason="stop" if stopped else "length",
                )
            )
        return samples
