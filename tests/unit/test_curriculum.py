import pytest

from halo_forge.data.complexity import complexity
from halo_forge.data.prompts import load_problems
from halo_forge.errors import ConfigError, DataError
from halo_forge.rlvr.curriculum import (
    ADAPTIVE_MAX_PCT,
    ADAPTIVE_MIN_PCT,
    ADAPTIVE_START_PCT,
    STRATEGIES,
    plan_cycle,
    problem_scores,
)
from halo_forge.types import Problem

# 374 scores like MBPP's train split: i/373, shuffled deterministically, so the easiest 75 are
# 0/373 .. 74/373 (mean 37/373 = 0.0992 -> "0.10").
SCORES_374 = [((i * 151) % 374) / 373 for i in range(374)]


def test_strategies_registry():
    assert STRATEGIES == ("none", "complexity", "progressive", "adaptive")


def test_none_keeps_everything_in_given_order():
    step = plan_cycle("none", [0.9, 0.1, 0.5], 1, 3)
    assert step.indices == (0, 1, 2)
    assert step.fraction == 1.0 and step.total == 3
    assert step.avg_complexity == pytest.approx(0.5)


def test_complexity_sorts_easiest_first_and_is_stable():
    step = plan_cycle("complexity", [0.5, 0.1, 0.5, 0.1, 0.0], 2, 3)
    assert step.indices == (4, 1, 3, 0, 2)  # ties keep their given order
    assert step.fraction == 1.0


def test_progressive_374_over_5_cycles():
    sizes = [len(plan_cycle("progressive", SCORES_374, c, 5).indices) for c in range(1, 6)]
    assert sizes == [75, 150, 224, 299, 374]
    first = plan_cycle("progressive", SCORES_374, 1, 5)
    assert first.describe() == "Curriculum: 75/374 prompts (avg complexity: 0.10)"
    assert sorted(SCORES_374[i] for i in first.indices) == [i / 373 for i in range(75)]
    assert first.fraction == pytest.approx(75 / 374)


def test_progressive_is_easiest_first_and_nested():
    scores = [0.3, 0.1, 0.2, 0.0, 0.4]
    plans = [plan_cycle("progressive", scores, c, 5).indices for c in range(1, 6)]
    assert plans == [(3,), (3, 1), (3, 1, 2), (3, 1, 2, 0), (3, 1, 2, 0, 4)]


@pytest.mark.parametrize(
    ("n", "cycles", "sizes"),
    [
        (1, 1, [1]),
        (1, 3, [1, 1, 1]),  # never empty
        (2, 3, [1, 1, 2]),  # 0.67 -> 1, 1.33 -> 1, 2
        (3, 2, [2, 3]),  # 1.5 rounds half up
        (3, 3, [1, 2, 3]),
        (10, 4, [3, 5, 8, 10]),  # 2.5 -> 3 (half up, not Python's half-to-even)
        (5, 1, [5]),
    ],
)
def test_progressive_small_sizes(n, cycles, sizes):
    scores = [i / 10 for i in range(n)]
    got = [len(plan_cycle("progressive", scores, c, cycles).indices) for c in range(1, cycles + 1)]
    assert got == sizes


def test_describe_format():
    step = plan_cycle("none", [0.125, 0.125], 1, 1)
    assert step.describe() == "Curriculum: 2/2 prompts (avg complexity: 0.12)"


def _window(history, total=100, cycles=10):
    step = plan_cycle(
        "adaptive", [i / total for i in range(total)], len(history) + 1, cycles, history
    )
    return len(step.indices), step


def test_adaptive_starts_at_40_percent():
    n, step = _window(())
    assert n == 40 == ADAPTIVE_START_PCT
    assert step.indices == tuple(range(40))
    assert "40%" in step.note


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.6, 60), (0.9, 60), (0.3, 50), (0.59, 50), (0.29, 30), (0.0, 30)],
)
def test_adaptive_bands(rate, expected):
    assert _window((rate,))[0] == expected


def test_adaptive_note_explains():
    note = _window((0.72,))[1].note
    assert note.startswith("pass rate 0.72 ≥ 0.60: harder")
    assert "60%" in note
    assert "easier" in _window((0.1,))[1].note


def test_adaptive_bounds():
    assert _window((0.0,) * 9)[0] == ADAPTIVE_MIN_PCT == 20
    assert _window((1.0,) * 9)[0] == ADAPTIVE_MAX_PCT == 100
    # back down from the top, and up from the floor
    assert _window((1.0, 1.0, 1.0, 1.0, 0.1))[0] == 90
    assert _window((0.0, 0.0, 0.0, 0.9))[0] == 40
    assert _window((0.0,) * 5, total=3)[0] == 1  # 20% of 3 rounds to 1; never 0
    assert len(plan_cycle("adaptive", [0.5], 3, 3, (0.0, 0.0)).indices) == 1


def test_adaptive_replays_history_deterministically():
    history = [0.7, 0.5, 0.2, 0.65]
    scores = SCORES_374
    # what each cycle saw while running == what a resumed run recomputes from the full history
    live = [plan_cycle("adaptive", scores, c, 5, history[: c - 1]) for c in range(1, 6)]
    resumed = [plan_cycle("adaptive", scores, c, 5, history) for c in range(1, 6)]
    assert live == resumed
    assert [round(s.fraction * 100) for s in live] == [40, 60, 70, 60, 80]
    assert plan_cycle("adaptive", scores, 3, 5, history) == plan_cycle(
        "adaptive", scores, 3, 5, history
    )


def test_adaptive_missing_history_holds_window():
    # cycle 3 with only one rate recorded: replay what is there
    assert len(plan_cycle("adaptive", [i / 10 for i in range(10)], 3, 5, [0.9]).indices) == 6


def test_last_adaptive_cycle_does_not_force_everything():
    assert _window((0.1,) * 9)[1].fraction < 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("easy", [0.1], 1, 1), "choose one of: none, complexity, progressive, adaptive"),
        (("none", [0.1], 0, 3), r"cycle must be in 1\.\.3"),
        (("none", [0.1], 4, 3), r"cycle must be in 1\.\.3"),
        (("none", [0.1], 1, 0), "cycles must be a positive integer"),
        (("none", [], 1, 1), "at least one prompt"),
        (("none", [float("nan")], 1, 1), "finite"),
        (("adaptive", [0.1], 2, 2, [42.0]), "did you mean 0.42"),
    ],
)
def test_bad_inputs(args, match):
    with pytest.raises(ConfigError, match=match):
        plan_cycle(*args)


def test_problem_scores_prefer_difficulty():
    probs = [
        Problem("a", "Write a function that returns 1.", difficulty=0.7),
        Problem("b", "Write a thread-safe LRU cache with a mutex and O(1) operations."),
    ]
    assert problem_scores(probs) == [0.7, complexity(probs[1].prompt)]
    with pytest.raises(DataError, match="rescale difficulties to"):
        problem_scores([Problem("c", "x", difficulty=3.0)])


def test_problem_scores_mbpp_train():
    scores = problem_scores(load_problems("mbpp:train"))
    assert len(scores) == 374
    assert all(0.0 <= s <= 1.0 for s in scores)
    first = plan_cycle("progressive", scores, 1, 5)
    assert len(first.indices) == 75
    # mbpp:train has no difficulty column: the complexity heuristic's easiest fifth
    assert first.describe() == "Curriculum: 75/374 prompts (avg complexity: 0.03)"
    assert first.avg_complexity < plan_cycle("none", scores, 1, 5).avg_complexity
