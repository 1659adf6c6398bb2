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
    ):
        self.model = model
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
        task = self.progress_task
        if task is None and self.progress:
            task = self.progress.add_task("Generating", total=len(rows))
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
        tok = self.tokenizer
        enc = tok(
            [texts[pi] for pi, _ in batch],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        eos = {tok.eos_token_id, tok.pad_token_id} - {None}
        token_lists, stopped = sample_pruned(
            self.model,
            enc.input_ids,
            enc.attention_mask,
            params,
            eos,
            lambda ids: fence_closed(tok.decode(ids)),
            self._backticks,
        )
        samples = []
        for (pi, j), ids, stop in zip(batch, token_lists, stopped, strict=True):
            completion = tok.decode(ids, skip_special_tokens=True)
            problem = problems[pi]
            samples.append(
                Sample(
                    problem_id=problem.id,
                    index=j,
                    completion=completion,
                    code=extract_code(completion, problem.language),
                    num_tokens=len(ids),
                    finish_reason="stop" if stop else "length",
                )
            )
        return samples


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


def _sample_next(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """One token per row: greedy at temperature 0, else temperature then nucleus (top-p)."""
    import torch

    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        # drop tokens once the mass *before* them already reaches top_p (keeps at least one)
        drop = (sorted_p.cumsum(dim=-1) - sorted_p) >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return torch.multinomial(probs, num_samples=1).squeeze(1)
