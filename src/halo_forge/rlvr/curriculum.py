"""Which prompts each RAFT cycle samples from (``--curriculum``). Pure functions, no model.

Every problem gets a score in [0, 1] (:func:`problem_scores`: its ``difficulty`` when the dataset
has one, else the text heuristic :func:`halo_forge.data.complexity.complexity`), and
:func:`plan_cycle` turns the scores into the indices one cycle uses, easiest first:

============ ==================================================================================
strategy     problems used in cycle ``c`` of ``C``
============ ==================================================================================
none         all, in the given order
complexity   all, easiest first (stable: equal scores keep their given order)
progressive  the easiest ``round(total * c / C)`` (at least 1); the last cycle uses all
adaptive     the easiest ``window``% (at least 1), the window set by the previous pass rates
============ ==================================================================================

Rounding is half-up in exact integer arithmetic (``(2·total·c + C) // (2·C)``), not Python's
half-to-even ``round``: the two differ only on exact halves (10 problems, 4 cycles: cycle 1
takes 3, not 2), and half-up keeps the window from shrinking on a tie. 374 problems over 5
cycles give 75, 150, 224, 299, 374.

``adaptive`` moves the window with the training-sample pass rate of the cycle before (the
share of sampled completions that passed), in percentage points of ``total``:

=====================  ===========  ============================================================
last pass rate         window       why
=====================  ===========  ============================================================
(cycle 1, no history)  40%          easy enough that most prompts yield a passing sample
≥ 0.60                 +20 points   the model is comfortable: add harder prompts quickly
0.30 – 0.60            +10 points   still learning, still yielding data: widen slowly
< 0.30                 −10 points   too few passing samples to train on: back off to easier
=====================  ===========  ============================================================

The window stays in [20%, 100%]. It is computed by replaying the whole history from cycle 1
(``pass_rates[:cycle - 1]``, one rate per finished cycle; extra entries are ignored, missing
ones leave the window where it was), never from state kept between calls, so a resumed run
recomputes exactly the plan the interrupted one used. Unlike ``progressive``, ``adaptive``
does not force the last cycle to use everything: if the model is struggling, more hard
prompts would only produce fewer training samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from halo_forge.data.complexity import complexity
from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem

__all__ = [
    "ADAPTIVE_BANDS",
    "ADAPTIVE_MAX_PCT",
    "ADAPTIVE_MIN_PCT",
    "ADAPTIVE_START_PCT",
    "STRATEGIES",
    "CurriculumStep",
    "adaptive_window",
    "plan_cycle",
    "problem_scores",
]

STRATEGIES = ("none", "complexity", "progressive", "adaptive")

# adaptive: window in integer percentage points, so replaying never accumulates float error.
ADAPTIVE_START_PCT = 40
ADAPTIVE_MIN_PCT = 20
ADAPTIVE_MAX_PCT = 100
# (lowest pass rate of the band, change in points, word for the note); first match wins.
ADAPTIVE_BANDS: tuple[tuple[float, int, str], ...] = (
    (0.60, +20, "harder"),
    (0.30, +10, "slightly harder"),
    (0.00, -10, "easier"),
)


def problem_scores(problems: Sequence[Problem]) -> list[float]:
    """One score per problem in [0, 1]: ``difficulty`` when set, else ``complexity(prompt)``."""
    scores = []
    for p in problems:
        if p.difficulty is None:
            scores.append(complexity(p.prompt))
            continue
        d = float(p.difficulty)
        if not 0.0 <= d <= 1.0:  # also rejects NaN
            raise DataError(
                f"problem {p.id} has difficulty {p.difficulty!r}; rescale difficulties to [0, 1]"
                " or remove them to use the complexity estimate"
            )
        scores.append(d)
    return scores


@dataclass(frozen=True)
class CurriculumStep:
    """The problems one cycle uses: ``indices`` into the problem list, in the order to use them."""

    strategy: str
    indices: tuple[int, ...]
    total: int
    avg_complexity: float  # mean score of the chosen problems
    fraction: float  # len(indices) / total
    note: str = ""  # adaptive: why the window moved

    def describe(self) -> str:
        """``Curriculum: 75/374 prompts (avg complexity: 0.15)``."""
        return (
            f"Curriculum: {len(self.indices)}/{self.total} prompts"
            f" (avg complexity: {self.avg_complexity:.2f})"
        )


def plan_cycle(
    strategy: str,
    scores: Sequence[float],
    cycle: int,
    cycles: int,
    pass_rates: Sequence[float] = (),
) -> CurriculumStep:
    """The problems cycle ``cycle`` (1-based, of ``cycles``) uses under ``strategy``.

    ``pass_rates`` (only read by ``adaptive``) holds the training-sample pass rate of each
    finished cycle, fractions in [0, 1], oldest first.
    """
    _validate(strategy, scores, cycle, cycles, pass_rates)
    total = len(scores)
    if strategy == "none":
        return _step(strategy, tuple(range(total)), scores)
    easiest = tuple(sorted(range(total), key=lambda i: scores[i]))  # sorted() is stable
    if strategy == "complexity":
        return _step(strategy, easiest, scores)
    if strategy == "progressive":
        n = max(1, _round_half_up(total * cycle, cycles))
        return _step(strategy, easiest[:n], scores)
    pct, note = adaptive_window(pass_rates[: cycle - 1])
    n = max(1, _round_half_up(total * pct, 100))
    return _step(strategy, easiest[:n], scores, note)


def adaptive_window(history: Sequence[float]) -> tuple[int, str]:
    """``(window in percent, note)`` after replaying ``history`` (one pass rate per cycle)."""
    pct = ADAPTIVE_START_PCT
    note = f"start at the easiest {pct}%"
    for rate in history:
        low, change, word = next(b for b in ADAPTIVE_BANDS if rate >= b[0])
        pct = min(ADAPTIVE_MAX_PCT, max(ADAPTIVE_MIN_PCT, pct + change))
        note = f"pass rate {rate:.2f} {_band_text(low)}: {word} ({change:+d} points → {pct}%)"
    return pct, note


def _band_text(low: float) -> str:
    if low >= ADAPTIVE_BANDS[0][0]:
        return f"≥ {low:.2f}"
    if low > 0.0:
        return f"in [{low:.2f}, {ADAPTIVE_BANDS[0][0]:.2f})"
    return f"< {ADAPTIVE_BANDS[1][0]:.2f}"


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _step(
    strategy: str, indices: tuple[int, ...], scores: Sequence[float], note: str = ""
) -> CurriculumStep:
    total = len(scores)
    avg = sum(scores[i] for i in indices) / len(indices)
    return CurriculumStep(strategy, indices, total, avg, len(indices) / total, note)


def _validate(
    strategy: str,
    scores: Sequence[float],
    cycle: int,
    cycles: int,
    pass_rates: Sequence[float],
) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown curriculum '{strategy}'; choose one of: {', '.join(STRATEGIES)}"
        )
    if not isinstance(cycles, int) or isinstance(cycles, bool) or cycles < 1:
        raise ConfigError(f"cycles must be a positive integer; got {cycles!r}")
    if not isinstance(cycle, int) or isinstance(cycle, bool) or not 1 <= cycle <= cycles:
        raise ConfigError(f"cycle must be in 1..{cycles} (1-based); got {cycle!r}")
    if len(scores) == 0:
        raise ConfigError("curriculum needs at least one prompt; check --prompts/--max-prompts")
    for s in scores:
        if not (isinstance(s, int | float) and math.isfinite(s)):
            raise ConfigError(f"curriculum scores must be finite numbers; got {s!r}")
    for r in pass_rates:
        if not (isinstance(r, int | float) and 0.0 <= r <= 1.0):
            hint = f" — did you mean {r / 100:g}?" if isinstance(r, int | float) and r > 1 else ""
            raise ConfigError(f"pass rates must be fractions in [0, 1]; got {r!r}{hint}")
