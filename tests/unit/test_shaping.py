import pytest

from halo_forge.errors import ConfigError
from halo_forge.rlvr.shaping import STRATEGIES, Shaping, learning_rate, schedule


def test_strategies_registry():
    assert STRATEGIES == ("fixed", "annealing", "warmup", "adaptive")


def test_describe_format():
    assert Shaping(0.125, 0.7250000000000001).describe() == (
        "Reward shaping: threshold=0.12, keep=73%"
    )


def test_fixed():
    for c in (1, 3):
        s = schedule("fixed", c, 3, threshold=0.3, keep=0.4)
        assert (s.threshold, s.keep) == (0.3, 0.4)


def test_annealing_prints_the_seeds_table():
    lines = [schedule("annealing", c, 5).describe() for c in range(1, 6)]
    assert lines == [
        "Reward shaping: threshold=0.00, keep=80%",
        "Reward shaping: threshold=0.12, keep=73%",
        "Reward shaping: threshold=0.25, keep=65%",
        "Reward shaping: threshold=0.38, keep=57%",
        "Reward shaping: threshold=0.50, keep=50%",
    ]


def test_annealing_endpoints_and_single_cycle():
    first, last = schedule("annealing", 1, 4), schedule("annealing", 4, 4)
    assert (first.threshold, first.keep) == (0.0, 0.8)
    assert (last.threshold, last.keep) == (0.5, 0.5)
    only = schedule("annealing", 1, 1, threshold=0.7, keep=0.3)
    assert (only.threshold, only.keep) == (0.7, 0.3)


def test_warmup():
    got = [
        (s.threshold, s.keep)
        for s in (schedule("warmup", c, 4, warmup_cycles=2) for c in range(1, 5))
    ]
    assert got == [(0.0, 0.8), (0.0, 0.8), (0.5, 0.5), (0.5, 0.5)]
    assert (schedule("warmup", 1, 3, warmup_cycles=0).threshold) == 0.5
    with pytest.raises(ConfigError, match="warmup_cycles"):
        schedule("warmup", 1, 3, warmup_cycles=-1)


@pytest.mark.parametrize(
    ("rate", "threshold", "keep"),
    [
        (0.0, 0.0, 0.8),
        (0.29, 0.0, 0.8),
        (0.30, 0.0, 0.8),
        (0.45, 0.25, 0.65),
        (0.60, 0.5, 0.5),
        (1.0, 0.5, 0.5),
    ],
)
def test_adaptive_follows_the_previous_pass_rate(rate, threshold, keep):
    s = schedule("adaptive", 2, 5, pass_rates=[rate])
    assert s.threshold == pytest.approx(threshold)
    assert s.keep == pytest.approx(keep)
    assert 0.0 <= s.threshold <= 1.0 and 0.0 < s.keep <= 1.0


def test_adaptive_start_and_purity():
    s = schedule("adaptive", 1, 5, pass_rates=[0.9])  # cycle 1 ignores any history
    assert (s.threshold, s.keep) == (0.0, 0.8)
    assert (schedule("adaptive", 3, 5).threshold) == 0.0  # no history: start values
    history = [0.9, 0.1, 0.45]
    live = [schedule("adaptive", c, 5, pass_rates=history[: c - 1]) for c in range(1, 5)]
    resumed = [schedule("adaptive", c, 5, pass_rates=history) for c in range(1, 5)]
    assert live == resumed
    assert [s.threshold for s in live] == pytest.approx([0.0, 0.5, 0.0, 0.25])


def test_adaptive_bounds_with_extreme_targets():
    for rate in (0.0, 0.45, 1.0):
        s = schedule(
            "adaptive",
            2,
            2,
            threshold=1.0,
            keep=1.0,
            start_threshold=0.0,
            start_keep=0.01,
            pass_rates=[rate],
        )
        assert 0.0 <= s.threshold <= 1.0 and 0.0 < s.keep <= 1.0


def test_learning_rate_decay():
    assert learning_rate(1e-4, 1) == 1e-4
    assert learning_rate(1e-4, 5) == 1e-4  # decay 1.0: constant
    assert learning_rate(1e-4, 3, 0.85) == pytest.approx(1e-4 * 0.7225)
    rates = [learning_rate(2e-5, c, 0.85) for c in range(1, 6)]
    assert rates == sorted(rates, reverse=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"decay": 0.0}, r"lr decay must be in \(0, 1\]"),
        ({"decay": 1.5}, r"lr decay must be in \(0, 1\]"),
        ({"base": 0.0}, "positive"),
        ({"cycle": 0}, "cycle must be"),
    ],
)
def test_learning_rate_bad_inputs(kwargs, match):
    args = {"base": 1e-4, "cycle": 1, **kwargs}
    with pytest.raises(ConfigError, match=match):
        learning_rate(**args)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("cosine", 1, 3), {}, "choose one of: fixed, annealing, warmup, adaptive"),
        (("fixed", 0, 3), {}, r"cycle must be in 1\.\.3"),
        (("fixed", 4, 3), {}, r"cycle must be in 1\.\.3"),
        (("fixed", 1, 0), {}, "cycles must be"),
        (("fixed", 1, 3), {"keep": 0.0}, r"keep fraction must be in \(0, 1\]"),
        (("fixed", 1, 3), {"keep": 50}, "did you mean 0.5"),
        (("fixed", 1, 3), {"threshold": -0.1}, r"reward threshold must be in \[0, 1\]"),
        (("annealing", 1, 3), {"start_keep": 1.2}, "start keep fraction"),
        (("annealing", 1, 3), {"start_threshold": 2}, "start threshold"),
        (("adaptive", 2, 3), {"pass_rates": [-0.1]}, "pass rate"),
    ],
)
def test_bad_inputs(args, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        schedule(*args, **kwargs)
