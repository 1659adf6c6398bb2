import math

import pytest

from halo_forge.errors import ConfigError
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder


def test_default_rungs():
    ladder = RewardLadder()
    assert (ladder.no_code, ladder.compile_error) == (0.0, 0.0)
    assert ladder.compile_reward(False) == 0.0
    assert ladder.compile_reward(True, warnings=True) == 0.3
    assert ladder.compile_reward(True) == 0.5
    assert ladder.runs == 0.7
    assert ladder.script_runs == 0.1


def test_all_pass_is_exactly_one():
    assert DEFAULT_LADDER.test_reward(5, 5) == 1.0
    assert DEFAULT_LADDER.test_reward(1, 1, floor=0.1) == 1.0


def test_partial_credit_from_runs_floor():
    assert DEFAULT_LADDER.test_reward(0, 4) == pytest.approx(0.7)
    assert DEFAULT_LADDER.test_reward(2, 4) == pytest.approx(0.85)
    assert DEFAULT_LADDER.test_reward(3, 4) == pytest.approx(0.925)


def test_partial_credit_with_python_floor():
    assert DEFAULT_LADDER.test_reward(0, 2, floor=0.1) == pytest.approx(0.1)
    assert DEFAULT_LADDER.test_reward(1, 2, floor=0.1) == pytest.approx(0.55)


def test_failing_sample_never_reaches_one():
    assert DEFAULT_LADDER.test_reward(10**17 - 1, 10**17) < 1.0
    assert DEFAULT_LADDER.test_reward(10**17 - 1, 10**17) == math.nextafter(1.0, 0.0)


def test_bad_counts_raise():
    with pytest.raises(ValueError):
        DEFAULT_LADDER.test_reward(0, 0)
    with pytest.raises(ValueError):
        DEFAULT_LADDER.test_reward(3, 2)
    with pytest.raises(ValueError):
        DEFAULT_LADDER.test_reward(-1, 2)


def test_custom_ladder():
    ladder = RewardLadder(compile_warnings=0.2, compile_clean=0.4, runs=0.6)
    assert ladder.compile_reward(True, warnings=True) == 0.2
    assert ladder.test_reward(1, 2) == pytest.approx(0.8)


def test_validation_messages():
    with pytest.raises(ConfigError, match="runs must be in \\[0, 1\\)"):
        RewardLadder(runs=1.0)
    with pytest.raises(ConfigError, match="must not decrease"):
        RewardLadder(compile_clean=0.8, runs=0.7)


def test_frozen():
    with pytest.raises(AttributeError):
        DEFAULT_LADDER.runs = 0.9  # type: ignore[misc]
