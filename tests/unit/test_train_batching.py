"""The training loop's pure helpers: the step plan, token-budget micro-batches, collation."""

from __future__ import annotations

from collections import Counter

import pytest

from halo_forge.sft.train import (
    Tokenized,
    TrainSettings,
    collate,
    common_prefix,
    micro_batches,
    step_plan,
)


def test_step_plan_one_epoch_covers_every_example_once() -> None:
    plan = step_plan(20, 8, 1, seed=0)
    assert [len(s) for s in plan] == [8, 8, 4]
    assert sorted(i for s in plan for i in s) == list(range(20))


def test_step_plan_is_seeded_and_shuffled() -> None:
    assert step_plan(50, 8, 1, seed=3) == step_plan(50, 8, 1, seed=3)
    assert step_plan(50, 8, 1, seed=3) != step_plan(50, 8, 1, seed=4)
    assert [i for s in step_plan(50, 8, 1, seed=3) for i in s] != list(range(50))


def test_step_plan_epochs_reshuffle_and_fractions_round_up() -> None:
    plan = step_plan(16, 8, 2, seed=0)
    assert len(plan) == 4
    assert Counter(i for s in plan for i in s) == {i: 2 for i in range(16)}
    assert plan[:2] != plan[2:]  # a fresh order each epoch
    assert len(step_plan(16, 8, 0.5, seed=0)) == 1
    assert len(step_plan(24, 8, 0.4, seed=0)) == 2  # ceil(0.4 * 3)
    assert len(step_plan(5, 8, 0.01, seed=0)) == 1  # at least one step
    assert step_plan(0, 8, 1, seed=0) == []


def test_micro_batches_respect_the_budget_longest_first() -> None:
    lengths = [100, 300, 120, 90, 250, 110, 95, 130]
    groups = micro_batches(lengths, 512)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    flat = [lengths[i] for g in groups for i in g]
    assert flat == sorted(lengths, reverse=True)
    for g in groups:
        assert len(g) * max(lengths[i] for i in g) <= 512
    assert groups[0] == [1]  # 300: a second row would pad to 600


def test_micro_batches_oversize_alone_and_no_budget() -> None:
    assert micro_batches([700, 10, 600], 512) == [[0], [2], [1]]
    assert micro_batches([3, 1, 2], 0) == [[0, 2, 1]]
    assert micro_batches([], 512) == []
    assert micro_batches([5, 5, 5, 5], 10) == [[0, 1], [2, 3]]


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 3, 4]) == 3
    assert common_prefix([1, 2, 9], [1, 2, 3, 4]) == 2
    assert common_prefix([], [1]) == 0


def test_collate_pads_right_and_masks_prompt_and_padding() -> None:
    torch = pytest.importorskip("torch")
    batch = collate([Tokenized([5, 6, 7, 8], 2), Tokenized([9, 10, 11], 1)], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8], [9, 10, 11, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, -100, 7, 8], [-100, 10, 11, -100]]
    assert batch["input_ids"].dtype == torch.long


def test_default_micro_batch_budget_is_set() -> None:
    assert TrainSettings().micro_batch_tokens == 512
