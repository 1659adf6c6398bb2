"""Continuous batching for ``transformers`` models on a CPU: the sampler behind ``HFGenerator``.

What ``model.generate`` does not do, and why each matters for RAFT rollouts (n samples of each
of many prompts, most ending after a short code block, a few rambling to the token limit):

* **Prefix sharing** — a prompt is prefilled once and its KV cache copied to its ``n`` sample
  rows; ``generate(num_return_sequences=n)`` prefills it ``n`` times (prefill is ~40 % of the
  naive loop's compute on 150-token prompts and 50-token answers).
* **Refill** — a row leaves the batch the moment it ends (EOS, or a closed code fence after a
  backtick token), and the free slots are refilled with the next prompt's rows, so the batch
  stays full until the work runs out instead of shrinking to one rambling row per batch.
* **A growable cache** — ``DynamicCache`` concatenates every layer's keys and values at every
  step (O(length) copies per token); :class:`GrowLayer` writes into a buffer that doubles when
  full and hands attention a view.

Rows of different ages share one cache: a row's cache is left-padded (zeros, masked out) to the
batch's cache length, each row keeps its own position ids, and columns every row masks are
trimmed away as rows leave. Sampling is the same distribution as ``generate(do_sample=True,
temperature, top_p)`` — temperature then nucleus over the same logits — and deterministic for
a seed (the admission order depends only on the inputs).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transformers.cache_utils import DynamicCache, DynamicLayer

if TYPE_CHECKING:
    import torch

    from halo_forge.generation.base import SamplingParams


class GrowLayer(DynamicLayer):
    """A KV cache layer over a preallocated buffer (capacity doubles), not a per-step concat."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        self.kbuf: torch.Tensor | None = None
        self.vbuf: torch.Tensor | None = None
        self.length = 0
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        need = self.length + key_states.shape[-2]
        if self.kbuf is None:
            b, h, _, d = key_states.shape
            self.kbuf = key_states.new_empty((b, h, need + 64, d))
            self.vbuf = value_states.new_empty((b, h, need + 64, value_states.shape[-1]))
        elif need > self.kbuf.shape[-2]:
            self._reserve(2 * need)
        assert self.vbuf is not None
        self.kbuf[:, :, self.length : need] = key_states
        self.vbuf[:, :, self.length : need] = value_states
        self.length = need
        self.keys = self.kbuf[:, :, :need]
        self.values = self.vbuf[:, :, :need]
        return self.keys, self.values

    def _reserve(self, capacity: int) -> None:
        import torch

        self.kbuf = _regrow(self.kbuf, self.length, capacity, torch)
        self.vbuf = _regrow(self.vbuf, self.length, capacity, torch)

    def set_tensors(self, keys: torch.Tensor, values: torch.Tensor, spare: int = 64) -> None:
        """Replace the contents with ``keys``/``values`` (batch, heads, length, dim)."""
        import torch

        self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
        b, h, n, d = keys.shape
        self.kbuf = torch.empty((b, h, n + spare, d), dtype=keys.dtype)
        self.vbuf = torch.empty((b, h, n + spare, d), dtype=values.dtype)
        self.kbuf[:, :, :n] = keys
        self.vbuf[:, :, :n] = values
        self.length = n
        self.keys, self.values = self.kbuf[:, :, :n], self.vbuf[:, :, :n]

    def get_seq_length(self) -> int:
        return self.length if self.is_initialized else 0

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.kbuf is None:
            return
        self.kbuf, self.vbuf = self.kbuf[indices], self.vbuf[indices]
        self.keys = self.kbuf[:, :, : self.length]
        self.values = self.vbuf[:, :, : self.length]

    def trim_left(self, start: int) -> None:
        """Drop the first ``start`` positions (columns every row masks)."""
        if self.kbuf is None or start <= 0:
            return
        self.set_tensors(self.keys[:, :, start:], self.values[:, :, start:])


def _regrow(buf: Any, length: int, capacity: int, torch: Any) -> Any:
    b, h, _, d = buf.shape
    new = torch.empty((b, h, capacity, d), dtype=buf.dtype)
    new[:, :, :length] = buf[:, :, :length]
    return new


class GrowCache(DynamicCache):
    """``DynamicCache`` whose layers are :class:`GrowLayer` (no per-step concatenation)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer_class_to_replicate = GrowLayer
        self.layers = []

    def tensors(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(layer.keys, layer.values) for layer in self.layers]

    def set_tensors(self, tensors: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
        while len(self.layers) < len(tensors):
            self.layers.append(GrowLayer())
        for layer, (k, v) in zip(self.layers, tensors, strict=True):
            layer.set_tensors(k, v)

    def trim_left(self, start: int) -> None:
        for layer in self.layers:
            layer.trim_left(start)


@dataclass
class RowResult:
    """One generated row: token ids (EOS excluded) and whether it stopped before the limit."""

    tokens: list[int]
    stopped: bool


def sample_continuous(
    model: Any,
    prompts: Sequence[Sequence[int]],
    rows: Sequence[tuple[int, int]],
    params: SamplingParams,
    eos_ids: set[int],
    text_done: Callable[[list[int]], bool],
    check_ids: frozenset[int] = frozenset(),
    *,
    max_batch: int = 64,
    on_row: Callable[[int, RowResult], None] | None = None,
    pad_id: int = 0,
) -> list[RowResult]:
    """Sample every row of ``rows`` — ``(prompt index, sample index)`` pairs — with continuous
    batching; returns one :class:`RowResult` per row, in ``rows`` order.

    Rows are admitted prompt by prompt in the order given (callers sort by prompt length), all
    rows of a prompt together, whenever the batch has room for them (a prompt with more rows
    than ``max_batch`` is admitted alone). ``on_row(i, result)`` is called as row ``i`` ends.
    ``prompts`` are token ids (no padding); ``text_done`` is asked only after a token in
    ``check_ids``.
    """
    import torch

    groups: dict[int, list[int]] = {}
    for i, (pi, _) in enumerate(rows):
        groups.setdefault(pi, []).append(i)
    pending = deque(groups)  # prompt indices, in first-appearance order
    results: list[RowResult | None] = [None] * len(rows)
    out: dict[int, list[int]] = {}
    cache = GrowCache()
    active: list[int] = []  # row indices, aligned with the batch dimension
    mask = torch.zeros((0, 0), dtype=torch.long)
    pos = torch.zeros((0,), dtype=torch.long)
    logits: torch.Tensor | None = None
    limit = params.max_new_tokens

    def finish(row: int, stopped: bool) -> None:
        results[row] = RowResult(out.pop(row), stopped)
        if on_row:
            on_row(row, results[row])  # type: ignore[arg-type]

    with torch.inference_mode():
        while pending or active:
            # 1. admit whole prompts while they fit (a too-large group goes alone)
            admit: list[int] = []
            room = max_batch - len(active)
            while pending and (len(groups[pending[0]]) <= room or (not active and not admit)):
                pi = pending.popleft()
                admit.append(pi)
                room -= len(groups[pi])
            if admit:
                new_logits, new_tensors, new_mask, new_pos = _prefill(
                    model, [prompts[pi] for pi in admit], [len(groups[pi]) for pi in admit], pad_id
                )
                new_rows = [r for pi in admit for r in groups[pi]]
                for r in new_rows:
                    out[r] = []
                if active:
                    tensors, mask = _merge(cache.tensors(), mask, new_tensors, new_mask)
                    cache.set_tensors(tensors)
                    pos = torch.cat([pos, new_pos])
                    assert logits is not None
                    logits = torch.cat([logits, new_logits])
                else:
                    cache = GrowCache()
                    cache.set_tensors(new_tensors)
                    mask, pos, logits = new_mask, new_pos, new_logits
                active = active + new_rows
            assert logits is not None
            # 2. one token for every active row
            nxt = sample_next(logits, params.temperature, params.top_p)
            keep: list[int] = []
            for i, (row, t) in enumerate(zip(active, nxt.tolist(), strict=True)):
                toks = out[row]
                if t in eos_ids:
                    finish(row, True)
                    continue
                toks.append(t)
                if t in check_ids and text_done(toks):
                    finish(row, True)
                elif len(toks) >= limit:
                    finish(row, False)
                else:
                    keep.append(i)
            if len(keep) < len(active):
                if not keep:
                    active, logits = [], None
                    mask = mask[:0]
                    pos = pos[:0]
                    cache = GrowCache()
                    continue
                idx = torch.tensor(keep)
                cache.batch_select_indices(idx)
                mask, nxt, pos = mask[idx], nxt[idx], pos[idx]
                active = [active[i] for i in keep]
                start = int((mask.cumsum(dim=1) == 0).sum(dim=1).min())
                if start:  # columns no remaining row attends to
                    cache.trim_left(start)
                    mask = mask[:, start:]
            # 3. extend every active row by its new token
            mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
            pos = pos + 1
            logits = model(
                input_ids=nxt[:, None],
                attention_mask=mask,
                position_ids=pos[:, None],
                past_key_values=cache,
                use_cache=True,
            ).logits[:, -1, :]
    missing = results.count(None)
    if missing:  # pragma: no cover - every admitted row ends by the token limit
        raise RuntimeError(f"sample_continuous: {missing} rows never finished")
    return [r for r in results if r is not None]


def _prefill(
    model: Any, prompts: list[Sequence[int]], copies: list[int], pad_id: int
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor, torch.Tensor]:
    """Run the prompts once (left-padded together) and copy each prompt's cache, last logits,
    mask and position to its ``copies`` rows. Returns (logits, per-layer (k, v), mask, pos)."""
    import torch

    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[i, width - len(p) :] = 1
    position = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache()
    logits = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=position,
        past_key_values=cache,
        use_cache=True,
        logits_to_keep=1,
    ).logits[:, -1, :]
    reps = torch.tensor(copies)
    tensors = [
        (layer.keys.repeat_interleave(reps, dim=0), layer.values.repeat_interleave(reps, dim=0))
        for layer in cache.layers
    ]
    return (
        logits.repeat_interleave(reps, dim=0),
        tensors,
        mask.repeat_interleave(reps, dim=0),
        position[:, -1].repeat_interleave(reps, dim=0),
    )


def _merge(
    old: list[tuple[torch.Tensor, torch.Tensor]],
    old_mask: torch.Tensor,
    new: list[tuple[torch.Tensor, torch.Tensor]],
    new_mask: torch.Tensor,
) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """Stack two batches' caches: the shorter is left-padded with masked zero columns."""
    import torch
    import torch.nn.functional as F

    width = max(old_mask.shape[1], new_mask.shape[1])

    def pad(t: torch.Tensor, n: int, dim_from_end: int) -> torch.Tensor:
        if n == 0:
            return t
        spec = [0, 0] * (dim_from_end - 1) + [n, 0]
        return F.pad(t, spec)

    po, pn = width - old_mask.shape[1], width - new_mask.shape[1]
    tensors = [
        (
            torch.cat([pad(ko, po, 2), pad(kn, pn, 2)]),
            torch.cat([pad(vo, po, 2), pad(vn, pn, 2)]),
        )
        for (ko, vo), (kn, vn) in zip(old, new, strict=True)
    ]
    mask = torch.cat([pad(old_mask, po, 1), pad(new_mask, pn, 1)])
    return tensors, mask


def sample_next(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """One token per row: greedy at temperature 0, else temperature then nucleus (top-p).

    The nucleus is looked for among each row's ``TOP_K`` most likely tokens first (a partial
    top-k is ~20× cheaper than sorting a 49k vocabulary every step); a row whose top ``TOP_K``
    hold less than ``top_p`` of the mass is sorted in full, so the distribution is exact.
    """
    import torch

    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p >= 1.0:
        return torch.multinomial(probs, num_samples=1).squeeze(1)
    k = min(TOP_K, probs.shape[-1])
    vals, idx = probs.topk(k, dim=-1)  # sorted, descending
    short = vals.sum(dim=-1) < top_p
    if bool(short.any()):  # the nucleus reaches past the top k: sort these rows in full
        full_vals, full_idx = probs[short].sort(dim=-1, descending=True)
        out = torch.empty(probs.shape[0], dtype=torch.long)
        out[short] = _nucleus_pick(full_vals, full_idx, top_p)
        if bool((~short).any()):
            out[~short] = _nucleus_pick(vals[~short], idx[~short], top_p)
        return out
    return _nucleus_pick(vals, idx, top_p)


TOP_K = 64


def _nucleus_pick(vals: torch.Tensor, idx: torch.Tensor, top_p: float) -> torch.Tensor:
    """Sample from descending-sorted ``vals`` (token ids ``idx``) cut to the top-p nucleus."""
    import torch

    # drop tokens once the mass *before* them already reaches top_p (keeps at least one)
    drop = (vals.cumsum(dim=-1) - vals) >= top_p
    pick = torch.multinomial(vals.masked_fill(drop, 0.0), num_samples=1)
    return idx.gather(1, pick).squeeze(1)
