"""How strict RAFT's sample filter is in each cycle (``--reward-shaping``), and the per-cycle
learning rate. Pure functions, no model.

The filter (:func:`halo_forge.rlvr.filtering.select_top`) keeps, per prompt, the samples whose
reward is at least ``threshold``, then the best ``keep`` fraction of those. Early on a weak
model produces few fully passing samples, so a loose filter (partial credit, keep most) gives
it something to learn from; later a strict one trains only on its best work.

=========== =====================================================================================
strategy    (threshold, keep) in cycle ``c`` of ``C``
=========== =====================================================================================
fixed       the targets ``(threshold, keep)`` every cycle
annealing   ``start + (target - start) * (c - 1) / (C - 1)`` for each; the targets when C == 1
warmup      ``(start_threshold, start_keep)`` for the first ``warmup_cycles``, then the targets
adaptive    from start toward the targets as the previous cycle's pass rate rises (below)
=========== =====================================================================================

With 5 cycles and the defaults, ``annealing`` prints the seeds' table: thresholds 0.00, 0.12,
0.25, 0.38, 0.50 and keep 80%, 73%, 65%, 57%, 50%. The formula is evaluated exactly as written
above, and the tests check the printed strings, because the halves in that table are decided
by float representation, not arithmetic: 72.5% prints 73% because it is stored as
``0.7250000000000001``, and 57.5% prints 57% because ``0.575`` is stored just below it.

``adaptive`` uses the same pass-rate bands as the adaptive curriculum
(:mod:`halo_forge.rlvr.curriculum`). With ``p`` the training-sample pass rate of the previous
cycle (``pass_rates[cycle - 2]``; the last one given if fewer), the position between start and
target is ``u = clamp((p - 0.30) / (0.60 - 0.30), 0, 1)``:

* cycle 1, or no history: the start values (``u = 0``), as ``annealing`` begins;
* ``p < 0.30``: the start values — few samples pass, so accept partial credit and keep most;
* ``p ≥ 0.60``: the targets — passing samples are plentiful, so train only on the best;
* in between: linear.

It reads only the last rate (no accumulated state), so it is a pure function of
``(cycle, pass_rates, start, target)`` and a resumed run gets the same values; both values
are convex combinations of inputs in range, so they stay in [0, 1] and (0, 1]. Departure from
an annealing schedule: the filter can loosen again if a cycle goes badly, instead of tightening
on a timetable regardless of the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from halo_forge.errors import ConfigError

__all__ = [
    "ADAPTIVE_HIGH",
    "ADAPTIVE_LOW",
    "STRATEGIES",
    "Shaping",
    "learning_rate",
    "schedule",
]

STRATEGIES = ("fixed", "annealing", "warmup", "adaptive")
ADAPTIVE_LOW = 0.30  # at or below: the start (loosest) filter
ADAPTIVE_HIGH = 0.60  # at or above: the target (strictest) filter


@dataclass(frozen=True)
class Shaping:
    """The filter for one cycle: minimum reward and the fraction of survivors kept per prompt."""

    threshold: float
    keep: float
    note: str = ""

    def describe(self) -> str:
        """``Reward shaping: threshold=0.12, keep=73%``."""
        return f"Reward shaping: threshold={self.threshold:.2f}, keep={self.keep:.0%}"


def schedule(
    strategy: str,
    cycle: int,
    cycles: int,
    *,
    threshold: float = 0.5,
    keep: float = 0.5,
    start_threshold: float = 0.0,
    start_keep: float = 0.8,
    warmup_cycles: int = 1,
    pass_rates: Sequence[float] = (),
) -> Shaping:
    """The filter for cycle ``cycle`` (1-based, of ``cycles``) under ``strategy``.

    ``threshold``/``keep`` are the targets, ``start_*`` where ``annealing``, ``warmup`` and
    ``adaptive`` begin. ``pass_rates``: training-sample pass rate of each finished cycle.
    """
    _validate(strategy, cycle, cycles, threshold, keep, start_threshold, start_keep)
    if strategy == "fixed":
        return Shaping(threshold, keep)
    if strategy == "annealing":
        if cycles == 1:
            return Shaping(threshold, keep, "single cycle: targets")
        t = start_threshold + (threshold - start_threshold) * (cycle - 1) / (cycles - 1)
        k = start_keep + (keep - start_keep) * (cycle - 1) / (cycles - 1)
        return Shaping(t, k, f"annealing {cycle}/{cycles}")
    if strategy == "warmup":
        if (
            not isinstance(warmup_cycles, int)
            or isinstance(warmup_cycles, bool)
            or warmup_cycles < 0
        ):
            raise ConfigError(f"warmup_cycles must be an integer ≥ 0; got {warmup_cycles!r}")
        if cycle <= warmup_cycles:
            return Shaping(start_threshold, start_keep, f"warmup {cycle}/{warmup_cycles}")
        return Shaping(threshold, keep, "after warmup")
    return _adaptive(cycle, pass_rates, threshold, keep, start_threshold, start_keep)


def _adaptive(
    cycle: int,
    pass_rates: Sequence[float],
    threshold: float,
    keep: float,
    start_threshold: float,
    start_keep: float,
) -> Shaping:
    for r in pass_rates:
        _fraction("pass rate", r, low_open=False)
    history = pass_rates[: cycle - 1]
    if cycle == 1 or not history:
        return Shaping(start_threshold, start_keep, "no previous cycle: start values")
    p = history[-1]
    u = min(1.0, max(0.0, (p - ADAPTIVE_LOW) / (ADAPTIVE_HIGH - ADAPTIVE_LOW)))
    t = start_threshold + (threshold - start_threshold) * u
    k = start_keep + (keep - start_keep) * u
    return Shaping(t, k, f"pass rate {p:.2f}: {u:.0%} of the way from start to target")


def learning_rate(base: float, cycle: int, decay: float = 1.0) -> float:
    """``base * decay ** (cycle - 1)``: the learning rate for cycle ``cycle`` (1-based).

    ``decay`` in (0, 1]; 1.0 keeps it constant. The seeds' guidance: about 0.85 per cycle, so
    later cycles, which train on a model already close to its data, take smaller steps.
    """
    if not (isinstance(base, int | float) and math.isfinite(base) and base > 0):
        raise ConfigError(f"learning rate must be a positive number; got {base!r}")
    if not (isinstance(decay, int | float) and 0.0 < decay <= 1.0):
        raise ConfigError(f"lr decay must be in (0, 1] (e.g. 0.85 per cycle); got {decay!r}")
    if not isinstance(cycle, int) or isinstance(cycle, bool) or cycle < 1:
        raise ConfigError(f"cycle must be an integer ≥ 1 (1-based); got {cycle!r}")
    return base * decay ** (cycle - 1)


def _fraction(name: str, value: float, *, low_open: bool) -> None:
    ok = isinstance(value, int | float) and (
        0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0
    )
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        hint = ""
        if isinstance(value, int | float) and 1.0 < value <= 100.0:
            hint = f" — did you mean {value / 100:g}?"
        raise ConfigError(f"{name} must be in {interval}; got {value!r}{hint}")


def _validate(
    strategy: str,
    cycle: int,
    cycles: int,
    threshold: float,
    keep: float,
    start_threshold: float,
    start_keep: float,
) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown reward shaping '{strategy}'; choose one of: {', '.join(STRATEGIES)}"
        )
    if not isinstance(cycles, int) or isinstance(cycles, bool) or cycles < 1:
        raise ConfigError(f"cycles must be a positive integer; got {cycles!r}")
    if not isinstance(cycle, int) or isinstance(cycle, bool) or not 1 <= cycle <= cycles:
        raise ConfigError(f"cycle must be in 1..{cycles} (1-based); got {cycle!r}")
    _fraction("reward threshold", threshold, low_open=False)
    _fraction("start threshold", start_threshold, low_open=False)
    _fraction("keep fraction", keep, low_open=True)
    _fraction("start keep fraction", start_keep, low_open=True)
