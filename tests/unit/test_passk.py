import math

import pytest

from halo_forge.bench.passk import mean_pass_at_k, pass_at_k


def brute(n: int, c: int, k: int) -> float:
    return 1 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize(
    "n,c,k",
    [(10, 0, 1), (10, 3, 1), (10, 3, 5), (10, 9, 5), (20, 1, 10), (5, 5, 5), (200, 17, 100)],
)
def test_matches_combinatorial_definition(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(brute(n, c, k), rel=1e-9, abs=1e-12)


def test_pass_at_1_is_fraction_correct():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


def test_mean_and_errors():
    assert mean_pass_at_k([(10, 10), (10, 0)], 1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
