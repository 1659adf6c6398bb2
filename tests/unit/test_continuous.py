"""The continuous-batching sampler against a plain reference (tiny random Llama model).

Greedy decoding makes the comparison exact: every row must produce the tokens a one-prompt,
no-cache, no-padding loop produces, however rows were admitted, merged, padded and trimmed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from halo_forge.generation.base import SamplingParams  # noqa: E402
from halo_forge.generation.continuous import GrowCache, sample_continuous, sample_next  # noqa: E402


def _stop(tokens: list[int]) -> bool:
    """A stop rule that ends rows at different lengths (a stand-in for the closed fence)."""
    return len(tokens) >= 3 and tokens[-1] % 5 == 0


def _reference(model, prompt: list[int], limit: int, eos: set[int]) -> tuple[list[int], bool]:
    ids = list(prompt)
    out: list[int] = []
    with torch.inference_mode():
        for _ in range(limit):
            t = int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())
            if t in eos:
                return out, True
            out.append(t)
            ids.append(t)
            if _stop(out):
                return out, True
    return out, False


@pytest.fixture(scope="module")
def model(tiny_model: Path):
    from transformers import AutoModelForCausalLM

    m = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa")
    # larger weights than the default init: outputs then hinge on every position, mask and
    # cached key, so a misplaced pad column or an off-by-one position changes greedy tokens
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return m.eval()


@pytest.mark.parametrize("max_batch", [1, 3, 5, 64])
def test_greedy_rows_match_one_prompt_reference(model, max_batch: int) -> None:
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(5, 290, (n,), generator=g).tolist() for n in (4, 11, 7, 19, 2)]
    rows = [(pi, j) for pi in (0, 1, 2, 3, 4) for j in range(2 if pi != 3 else 3)]
    params = SamplingParams(n=2, temperature=0.0, max_new_tokens=16)
    eos = {1}
    got = sample_continuous(
        model,
        prompts,
        rows,
        params,
        eos,
        _stop,
        frozenset(range(300)),
        max_batch=max_batch,
    )
    assert len(got) == len(rows)
    lengths = set()
    for (pi, _), r in zip(rows, got, strict=True):
        want, stopped = _reference(model, prompts[pi], 16, eos)
        assert r.tokens == want, f"prompt {pi}"
        assert r.stopped == stopped
        lengths.add(len(want))
    assert len(lengths) > 1  # rows really ended at different steps (refill and trim ran)


def test_on_row_reports_every_row_once(model) -> None:
    prompts = [[5, 6, 7], [8, 9]]
    rows = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    seen: list[int] = []
    sample_continuous(
        model,
        prompts,
        rows,
        SamplingParams(n=1, temperature=0.8, max_new_tokens=5, seed=3),
        set(),
        lambda t: False,
        max_batch=2,
        on_row=lambda i, r: seen.append(i),
    )
    assert sorted(seen) == list(range(len(rows)))


def test_sampling_is_deterministic_for_a_seed(model) -> None:
    prompts = [[5, 6, 7, 8], [9, 10]]
    rows = [(0, j) for j in range(4)] + [(1, j) for j in range(4)]
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=8)

    def run() -> list[list[int]]:
        torch.manual_seed(7)
        res = sample_continuous(model, prompts, rows, params, set(), _stop, frozenset(range(300)))
        return [r.tokens for r in res]

    assert run() == run()


def test_sample_next_matches_the_nucleus_distribution() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(40000, 1)
    torch.manual_seed(0)
    picks = sample_next(logits, temperature=1.0, top_p=0.9)
    freq = torch.bincount(picks, minlength=4).float() / len(picks)
    # top-p 0.9 keeps 0.5, 0.3, 0.15 (the mass before 0.05 is 0.95 >= 0.9), renormalised
    want = torch.tensor([0.5, 0.3, 0.15, 0.0]) / 0.95
    assert torch.allclose(freq, want, atol=0.01)
    assert int(sample_next(logits[:1], temperature=0.0, top_p=1.0)) == 0


def test_grow_cache_appends_without_losing_earlier_positions() -> None:
    cache = GrowCache()
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)
    cache.set_tensors([(k, k + 100)])
    for step in range(100):  # past the spare capacity: the buffer regrows
        new = torch.full((2, 1, 1, 2), float(step))
        keys, values = cache.layers[0].update(new, new + 100)
    assert keys.shape == (2, 1, 103, 2)
    assert torch.equal(keys[:, :, :3], k)
    assert torch.equal(values[:, :, 102], torch.full((2, 1, 2), 199.0))
    cache.batch_select_indices(torch.tensor([1]))
    cache.trim_left(2)
    assert cache.layers[0].keys.shape == (1, 1, 101, 2)
    assert torch.equal(cache.layers[0].keys[0, 0, 0], k[1, 0, 2])
    assert cache.get_seq_length() == 101


def test_sample_next_sorts_in_full_when_the_nucleus_is_wider_than_top_k() -> None:
    from halo_forge.generation import continuous

    # 200 equally likely tokens: top-64 hold 0.32 < top_p, so the full sort must be used
    flat = torch.zeros((20000, 200))
    peaked = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05] + [1e-9] * 196)).repeat(20000, 1)
    torch.manual_seed(0)
    picks = continuous.sample_next(torch.cat([flat, peaked]), temperature=1.0, top_p=0.9)
    wide = torch.bincount(picks[:20000], minlength=200).float() / 20000
    assert int((wide > 0).sum()) >= 170  # ~180 tokens form the nucleus, not just 64
    assert float(wide.max()) < 0.012
    narrow = torch.bincount(picks[20000:], minlength=200).float() / 20000
    assert torch.allclose(narrow[:4], torch.tensor([0.5, 0.3, 0.15, 0.0]) / 0.95, atol=0.015)
