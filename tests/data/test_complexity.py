"""Tests for the prompt complexity estimator: orderings, bounds, determinism, histogram."""

from __future__ import annotations

import random
import statistics
import time

import pytest

from halo_forge.data.complexity import WEIGHTS, complexity, explain, histogram, summary

ADD = "Write a function that adds two numbers."

CONCURRENT = """Implement a thread-safe bounded queue in C++ using a mutex and two condition
variables.

Requirements:
- push() blocks while the queue holds N items; pop() blocks while it is empty.
- close() wakes every waiting thread; push() after close() must raise an exception.
- No busy waiting; avoid deadlock and lost wake-ups; every operation is O(1).

Write a stress test with 8 producer threads and 8 consumer threads that moves 10^6 items and
checks, with atomic counters, that no item is lost or duplicated.

```cpp
template <typename T> class BoundedQueue;
```
"""

COMPONENTS = {"length", "keywords", "specificity", "structure"}


def test_one_liner_scores_far_below_a_concurrency_task() -> None:
    low, high = complexity(ADD), complexity(CONCURRENT)
    assert low < 0.05 and high > 0.6
    parts_low, parts_high = explain(ADD), explain(CONCURRENT)
    assert all(parts_high[k] > parts_low[k] for k in COMPONENTS)
    assert {"mutex", "deadlock", "atomic", "thread"} <= set(parts_high["matched_keywords"])


@pytest.mark.parametrize(
    ("easier", "harder"),
    [
        ("Reverse a string.", "Reverse a linked list in place using pointer manipulation."),
        (
            "Return the sum of a list.",
            "Return the sum of a list. Raise ValueError on invalid input; n is at most 10^5.",
        ),
        ("Sort the numbers.", "Find the shortest path in a weighted graph with Dijkstra."),
        ("Count the words.", "Count the words.\n\n- ignore punctuation\n- treat case equally"),
    ],
)
def test_adding_difficulty_raises_the_score(easier: str, harder: str) -> None:
    assert complexity(easier) < complexity(harder)


def test_repeating_a_keyword_counts_once() -> None:
    once, many = explain("Use a thread."), explain("Use a thread thread thread thread.")
    assert once["keywords"] == many["keywords"]


def test_loader_boilerplate_is_ignored() -> None:
    task = "Write a function to find the nth tetrahedral number."
    wrapped = (
        f"{task}\nWrite it as a Python function `tetra(n)`.\n"
        "Return only the code in a ```python code block."
    )
    assert explain(task)["words"] == explain(wrapped)["words"]
    assert complexity(task) == complexity(wrapped)


def test_numbers_in_examples_are_not_constraints() -> None:
    example = "Add the numbers.\nExample: add([100, 200, 300]) == 600"
    bound = "Add the numbers. There are at most 100000 of them, each below 10^9."
    assert explain(example)["specificity"] == 0.0
    assert explain(bound)["specificity"] > 0.25


def test_bounds_on_empty_random_and_huge_input() -> None:
    rng = random.Random(1234)
    alphabet = "abc xyz 0123456789^*<>≤()O.,!?\n-`#>= e"
    texts = ["", " ", "\n\n\n", "```", "x" * 100_000, "thread " * 50_000, "1" * 100_000]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 3000)))]
    texts += [CONCURRENT * 200]
    for text in texts:
        parts = explain(text)
        assert 0.0 <= parts["score"] <= 1.0, text[:40]
        assert all(0.0 <= parts[k] <= 1.0 for k in COMPONENTS)
    assert complexity("") == 0.0


def test_huge_input_is_linear_time() -> None:
    rng = random.Random(7)
    alphabet = "abc xyz 0123456789^*<>≤()O.,!?\n-`#>= e"
    huge = "".join(rng.choice(alphabet) for _ in range(200_000))
    for text in (huge, "1" * 100_000 + "x", "\n" * 100_000, "9^" * 50_000):
        start = time.monotonic()
        complexity(text)
        assert time.monotonic() - start < 5, text[:10]


def test_deterministic_and_keys() -> None:
    assert [complexity(CONCURRENT) for _ in range(3)] == [complexity(CONCURRENT)] * 3
    parts = explain(CONCURRENT)
    assert set(parts) == COMPONENTS | {"score", "words", "matched_keywords"}
    assert parts["score"] == pytest.approx(sum(WEIGHTS[k] * parts[k] for k in COMPONENTS), 1e-3)
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    with pytest.raises(TypeError, match="str prompt"):
        complexity(None)  # type: ignore[arg-type]


def test_histogram_counts_and_edges() -> None:
    scores = [0.0, 0.05, 0.1, 0.55, 0.99, 1.0, 1.0, -0.2, 1.7, 0.3]
    hist = histogram(scores)
    assert len(hist) == 10 and sum(c for *_, c in hist) == len(scores)
    assert hist[0][0] == 0.0 and hist[-1][1] == 1.0
    assert all(hist[i][1] == hist[i + 1][0] for i in range(9))
    assert [c for *_, c in hist] == [3, 1, 0, 1, 0, 1, 0, 0, 0, 4]
    assert histogram([0.57], bins=100)[57][2] == 1  # a score on an edge goes to the bin above
    assert histogram([], bins=3) == [(0.0, 1 / 3, 0), (1 / 3, 2 / 3, 0), (2 / 3, 1.0, 0)]
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        histogram([0.5], bins=0)


def test_summary() -> None:
    assert summary([]) == {"n": 0, "mean": 0.0, "min": 0.0, "max": 0.0}
    assert summary([0.2, 0.4]) == {"n": 2, "mean": 0.3, "min": 0.2, "max": 0.4}


def test_builtin_datasets_are_ordered() -> None:
    """basic_python < mbpp < humaneval by mean score (see the module docstring's numbers)."""
    from halo_forge.data.prompts import load_problems

    means = {
        spec: statistics.mean(complexity(p.prompt) for p in load_problems(spec))
        for spec in ("basic_python:train", "mbpp:train", "humaneval")
    }
    assert means["basic_python:train"] < means["mbpp:train"] < means["humaneval"]
