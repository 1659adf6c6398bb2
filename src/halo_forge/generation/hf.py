"""``Generator`` over a loaded transformers model: chat formatting, stop rules, ``Sample``s.

Every (problem, sample index) pair is one row; rows are sorted by prompt length and sampled by
the continuous-batching sampler (:mod:`halo_forge.generation.continuous`). A row stops as soon
as its completion closes a fenced code block (small models otherwise ramble on to the token
limit) or emits EOS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from halo_forge.generation.base import (
    DEFAULT_SYSTEM_PROMPT,
    GenerationStats,
    SamplingParams,
    chat_messages,
)
from halo_forge.generation.continuous import RowResult, sample_continuous
from halo_forge.types import Problem, Sample
from halo_forge.verify.extract import extract_code


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
        progress_task: Any = None,
        inference: Any = None,
    ):
        self.model = model
        self.inference = inference  # an InferenceCopy to sample from (refreshed per call)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.system_prompt = system_prompt
        self.progress = progress
        self.progress_task = progress_task  # advance this task instead of adding one per call
        self._backticks = backtick_token_ids(tokenizer)

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
        ids = [tok(t, add_special_tokens=False).input_ids for t in texts]
        skip = skip or set()
        rows = [
            (pi, j)
            for pi, p in enumerate(problems)
            for j in range(params.n)
            if (p.id, j) not in skip
        ]
        rows.sort(key=lambda r: (len(ids[r[0]]), r))
        out: list[list[Sample]] = [[] for _ in problems]
        stats = GenerationStats()
        torch.manual_seed(params.seed)
        self.model.eval()
        model = self.inference.refresh() if self.inference is not None else self.model
        task = self.progress_task
        if task is None and self.progress:
            task = self.progress.add_task("Generating", total=len(rows))
        eos = {tok.eos_token_id, tok.pad_token_id} - {None}
        pending: list[Sample] = []

        def on_row(i: int, r: RowResult) -> None:
            pi, j = rows[i]
            problem = problems[pi]
            completion = tok.decode(r.tokens, skip_special_tokens=True)
            s = Sample(
                problem_id=problem.id,
                index=j,
                completion=completion,
                code=extract_code(completion, problem.language),
                num_tokens=len(r.tokens),
                finish_reason="stop" if r.stopped else "length",
            )
            out[pi].append(s)
            stats.samples += 1
            stats.tokens += s.num_tokens
            stats.finish_reasons[s.finish_reason] = stats.finish_reasons.get(s.finish_reason, 0) + 1
            pending.append(s)
            if task is not None:
                self.progress.advance(task, 1)
            if on_samples and len(pending) >= self.batch_size:
                on_samples(pending[:])
                pending.clear()

        start = time.perf_counter()
        sample_continuous(
            model,
            ids,
            rows,
            params,
            eos,
            lambda t: fence_closed(tok.decode(t)),
            self._backticks,
            max_batch=self.batch_size,
            on_row=on_row,
            pad_id=tok.pad_token_id if tok.pad_token_id is not None else 0,
        )
        if on_samples and pending:
            on_samples(pending[:])
        stats.seconds = time.perf_counter() - start
        for group in out:
            group.sort(key=lambda s: s.index)
        return out, stats


def backtick_token_ids(tokenizer: Any) -> frozenset[int]:
    """Ids whose text contains a backtick: only after one of them can a fence have closed."""
    vocab = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return frozenset(i for i, t in enumerate(vocab) if t and "`" in t)
