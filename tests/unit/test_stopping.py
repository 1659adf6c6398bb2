import pytest

from halo_forge.errors import ConfigError
from halo_forge.rlvr.stopping import StopAdvice, advise


def test_no_previous_cycle_continues():
    for rates in ([], [0.41]):
        a = advise(rates)
        assert a.stop is False
        assert "no previous cycle to compare" in a.message
    assert advise([0.412]).message.startswith("Pass rate 41.2%")


def test_flattened_gain_stops():
    a = advise([0.412, 0.420])
    assert a == StopAdvice(
        True,
        "Pass rate 41.2% → 42.0% (+0.8 points, under 2): gains have flattened;"
        " consider stopping (--early-stop stops here)",
    )
    assert advise([0.5, 0.5]).stop is True  # no gain at all


def test_improving_continues():
    a = advise([0.30, 0.412, 0.463])
    assert a == StopAdvice(False, "Pass rate 41.2% → 46.3% (+5.1 points): improving; continue")


def test_exact_min_gain_is_enough_despite_float_error():
    assert 0.42 - 0.40 < 0.02  # the float trap the slack avoids
    assert advise([0.40, 0.42]).stop is False


def test_drop_names_the_best_cycle():
    a = advise([0.30, 0.45, 0.44, 0.40])
    assert a.stop is True
    assert "dropped" in a.message
    assert a.message.endswith("stop and keep cycle 2 (45.0%)")
    assert "(-4.0 points)" in a.message
    assert advise([0.5, 0.4, 0.5, 0.45]).message.endswith("keep cycle 1 (50.0%)")  # earliest


def test_custom_min_gain():
    assert advise([0.40, 0.45], min_gain=0.10).stop is True
    assert "under 10" in advise([0.40, 0.45], min_gain=0.10).message
    assert advise([0.40, 0.40], min_gain=0.0).stop is False


@pytest.mark.parametrize(
    ("rates", "min_gain", "match"),
    [
        ([41.2, 42.0], 0.02, "did you mean 0.412"),
        ([-0.1, 0.2], 0.02, r"fractions in \[0, 1\]"),
        ([0.1, 0.2], -0.01, "min_gain"),
        ([0.1, 0.2], 2, "did you mean 0.02"),
    ],
)
def test_bad_inputs(rates, min_gain, match):
    with pytest.raises(ConfigError, match=match):
        advise(rates, min_gain)
