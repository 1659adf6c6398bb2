"""``train_lora`` on the tiny random Llama (tests/conftest.py): it trains, the loss it computes
is the model's own, micro-batching does not change the update, and the options run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from halo_forge.config import LoraSettings  # noqa: E402
from halo_forge.sft.train import (  # noqa: E402
    TrainSettings,
    _backbone_and_head,
    add_lora,
    collate,
    evaluate,
    loss_sum,
    to_example,
    tokenize,
    train_lora,
)

COMPLETION = "```python\ndef add(a, b):\n    return a + b\n```"


def _examples(n: int = 10) -> list[dict[str, Any]]:
    return [
        to_example(f"Write add_{i}(a, b).", COMPLETION * (1 + i % 3), "You are a programmer.")
        for i in range(n)
    ]


def _load(path: Path, dropout: float = 0.0) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    return add_lora(model, LoraSettings(dropout=dropout), seed=0), tok


def _lora(model: Any) -> dict[str, Any]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_tokenize_masks_the_prompt(tiny_model: Path) -> None:
    _, tok = _load(tiny_model)
    ex = _examples(1)[0]
    t = tokenize(tok, ex, 512)
    assert t is not None
    head = tok(
        tok.apply_chat_template(ex["prompt"], tokenize=False, add_generation_prompt=True),
        add_special_tokens=False,
    ).input_ids
    assert t.start == len(head) and t.ids[: t.start] == head
    assert tok.decode(t.ids[t.start :]).startswith("```python")
    assert tokenize(tok, ex, t.start) is None  # truncated down to the prompt: nothing to learn
    assert len(tokenize(tok, ex, t.start + 3).ids) == t.start + 3


def test_compact_loss_equals_the_models_own(tiny_model: Path) -> None:
    model, tok = _load(tiny_model)
    rows = [tokenize(tok, e, 512) for e in _examples(4)]
    batch = collate(rows, tok.pad_token_id)
    parts = _backbone_and_head(model)
    assert parts is not None  # Llama: logits are lm_head(hidden)
    with torch.no_grad():
        compact = float(loss_sum(model, parts, batch))
        full = float(loss_sum(model, None, batch))
        n = int((batch["labels"][:, 1:] != -100).sum())
        own = float(model(**batch).loss) * n
    assert compact == pytest.approx(own, rel=1e-5)
    assert full == pytest.approx(own, rel=1e-5)


def test_train_lora_trains(tiny_model: Path) -> None:
    model, tok = _load(tiny_model, dropout=0.05)
    model.eval()
    before = _lora(model)
    examples = _examples()
    settings = TrainSettings(batch_size=4, learning_rate=1e-3, seed=1)
    out = train_lora(model, tok, examples, settings, eval_examples=examples[:3])
    assert out.steps == 3 and out.examples == 10
    assert out.loss is not None and math.isfinite(out.loss)
    assert len(out.losses) == 3 and all(math.isfinite(x) for x in out.losses)
    assert out.eval_loss is not None and math.isfinite(out.eval_loss)
    assert 0 < out.loss_tokens < out.tokens <= out.padded_tokens
    after = dict(model.named_parameters())
    moved = [n for n, p in before.items() if not after[n].detach().equal(p)]
    assert any("lora_B" in n for n in moved)
    assert not model.training  # left in the mode it came in (generation switches anyway)


def test_micro_batching_does_not_change_the_update(tiny_model: Path) -> None:
    weights = []
    for budget in (0, 64, 1):  # one batch; a few rows each; one row each
        model, tok = _load(tiny_model, dropout=0.0)
        settings = TrainSettings(
            batch_size=4, learning_rate=1e-3, seed=2, micro_batch_tokens=budget
        )
        out = train_lora(model, tok, _examples(), settings)
        weights.append((out, torch.cat([p.flatten() for p in _lora(model).values()])))
    (one, w0), (some, w1), (each, w2) = weights
    assert some.padded_tokens < one.padded_tokens and each.padded_tokens == each.tokens
    assert one.tokens == some.tokens == each.tokens
    assert torch.allclose(w0, w1, atol=1e-6) and torch.allclose(w0, w2, atol=1e-6)
    assert one.loss == pytest.approx(each.loss, rel=1e-5)


def test_same_seed_same_weights(tiny_model: Path) -> None:
    runs = []
    for _ in range(2):
        model, tok = _load(tiny_model, dropout=0.05)
        train_lora(model, tok, _examples(), TrainSettings(batch_size=4, seed=5))
        runs.append(torch.cat([p.flatten() for p in _lora(model).values()]))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize(
    "options",
    [
        {"bf16": True},
        {"gradient_checkpointing": True},
        {"gradient_accumulation_steps": 2, "lr_scheduler_type": "cosine", "warmup_ratio": 0.5},
        {"epochs": 0.5},
    ],
)
def test_options_train(tiny_model: Path, options: dict[str, Any]) -> None:
    model, tok = _load(tiny_model, dropout=0.05)
    before = _lora(model)
    out = train_lora(model, tok, _examples(), TrainSettings(batch_size=2, **options))
    assert out.loss is not None and math.isfinite(out.loss)
    after = dict(model.named_parameters())
    assert any(not after[n].detach().equal(p) for n, p in before.items())
    assert all(p.dtype == torch.float32 for p in _lora(model).values())


def test_nothing_to_train(tiny_model: Path) -> None:
    model, tok = _load(tiny_model)
    assert train_lora(model, tok, [], TrainSettings()).loss is None
    out = train_lora(model, tok, _examples(2), TrainSettings(max_seq_length=4))
    assert out.loss is None and out.steps == 0 and out.examples == 2


def test_evaluate_matches_per_example_loss(tiny_model: Path) -> None:
    model, tok = _load(tiny_model)
    examples = _examples(3)
    total = count = 0.0
    with torch.no_grad():
        for e in examples:
            b = collate([tokenize(tok, e, 512)], tok.pad_token_id)
            n = int((b["labels"][:, 1:] != -100).sum())
            total += float(model(**b).loss) * n
            count += n
    assert evaluate(model, tok, examples) == pytest.approx(total / count, rel=1e-5)
