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
from halo_forge.generation.continuous import RowResult, sample_continuous, sample_next
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


def sample_pruned(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    params: SamplingParams,
    eos_ids: set[int],
    text_done: Callable[[list[int]], bool],
    check_ids: frozenset[int] = frozenset(),
) -> tuple[list[list[int]], list[bool]]:
    """Temperature/top-p sampling with a KV cache that drops rows as they finish.

    ``transformers.generate`` keeps computing finished rows until the longest row of the batch
    ends, so one rambling sample makes a whole batch pay for ``max_new_tokens`` steps. Here a
    finished row (EOS, or ``text_done`` true after a token in ``check_ids``) leaves the batch
    and the cache at once.
    Same distribution as ``generate(do_sample=True, temperature, top_p)``; ``temperature=0``
    is greedy. Returns the generated ids per row (without EOS) and whether each row stopped
    before the token limit. Shapes: input_ids/attention_mask (batch, prompt_len), left-padded.
    """
    import torch
    from transformers import DynamicCache

    batch = input_ids.shape[0]
    out: list[list[int]] = [[] for _ in range(batch)]
    stopped = [False] * batch
    active = list(range(batch))
    cache = DynamicCache()
    position = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        logits = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1, :]
        pos = position[:, -1]
        for step in range(params.max_new_tokens):
            nxt = _sample_next(logits, params.temperature, params.top_p)
            keep = []
            for i, (row, t) in enumerate(zip(active, nxt.tolist(), strict=True)):
                if t in eos_ids:
                    stopped[row] = True
                    continue
                out[row].append(t)
                if t in check_ids and text_done(out[row]):
                    stopped[row] = True
                    continue
                keep.append(i)
            if not keep or step == params.max_new_tokens - 1:
                break
            if len(keep) < len(active):
                idx = torch.tensor(keep)
                cache.batch_select_indices(idx)
                attention_mask, nxt, pos = attention_mask[idx], nxt[idx], pos[idx]
                active = [active[i] for i in keep]
            attention_mask = torch.cat(
                [attention_mask, attention_mask.new_ones((attention_mask.shape[0], 1))], dim=1
            )
            pos = pos + 1
            logits = model(
                input_ids=nxt[:, None],
                attention_mask=attention_mask,
                position_ids=pos[:, None],
                past_key_values=cache,
                use_cache=True,
            ).logits[:, -1, :]
    return out, stopped


def backtick_token_ids(tokenizer: Any) -> frozenset[int]:
    """Ids whose text contains a backtick: only after one of them can a fence have closed."""
    vocab = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return frozenset(i for i, t in enumerate(vocab) if t and "`" in t)


_sample_next = sample_next  # the serve engine and older callers
