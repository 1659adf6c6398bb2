"""When to stop RAFT: the seeds' guidance as a pure function, printed after every cycle.

The seeds' advice: RAFT's gains shrink cycle after cycle, and a cycle that lowers the pass
rate is a sign of overfitting to its own samples — stop and keep the best checkpoint. So
:func:`advise` says stop when the last cycle improved the pass rate by less than ``min_gain``
(absolute, in pass-rate units: 0.02 = 2 points), or lowered it, naming the best cycle.

Comparisons allow 1e-9 of float slack, so 0.40 → 0.42 counts as a 2-point gain (it is
``0.01999…`` in floats) and does not trip a 0.02 minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from halo_forge.errors import ConfigError

__all__ = ["StopAdvice", "advise"]

_EPS = 1e-9


@dataclass(frozen=True)
class StopAdvice:
    """``stop``: whether ``--early-stop`` should end the run now; ``message``: one line to print."""

    stop: bool
    message: str


def advise(rates: Sequence[float], min_gain: float = 0.02) -> StopAdvice:
    """Advice after the last of ``rates``: one pass rate per finished cycle, in [0, 1]."""
    if not (_number(min_gain) and 0.0 <= min_gain <= 1.0):
        hint = f" — did you mean {min_gain / 100:g}?" if _number(min_gain) and min_gain > 1 else ""
        raise ConfigError(f"min_gain must be in [0, 1] (pass-rate units); got {min_gain!r}{hint}")
    for r in rates:
        if not (_number(r) and 0.0 <= r <= 1.0):
            hint = f" — did you mean {r / 100:g}?" if _number(r) and 1 < r <= 100 else ""
            raise ConfigError(f"pass rates must be fractions in [0, 1]; got {r!r}{hint}")
    if not rates:
        return StopAdvice(False, "No pass rate yet: no previous cycle to compare; continue")
    if len(rates) < 2:
        return StopAdvice(
            False, f"Pass rate {rates[-1]:.1%}: no previous cycle to compare; continue"
        )
    prev, last = rates[-2], rates[-1]
    gain = last - prev
    points = gain * 100
    head = f"Pass rate {prev:.1%} → {last:.1%}"
    if gain < -_EPS:
        best = max(range(len(rates)), key=lambda i: (rates[i], -i)) + 1  # earliest best
        return StopAdvice(
            True,
            f"{head} ({points:+.1f} points): dropped; stop and keep cycle {best}"
            f" ({rates[best - 1]:.1%})",
        )
    if gain < min_gain - _EPS:
        return StopAdvice(
            True,
            f"{head} ({_plus(points)} points, under {min_gain * 100:g}): gains have flattened;"
            " consider stopping (--early-stop stops here)",
        )
    verdict = "unchanged" if gain <= _EPS else "improving"  # only reachable with min_gain 0
    return StopAdvice(False, f"{head} ({_plus(points)} points): {verdict}; continue")


def _plus(points: float) -> str:
    return f"{abs(points):+.1f}" if abs(points) < 0.05 else f"{points:+.1f}"  # no "-0.0"


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
