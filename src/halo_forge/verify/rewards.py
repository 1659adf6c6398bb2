"""The graduated reward ladder: how far a sample got, as a number in [0, 1].

A binary pass/fail reward gives a small model almost no signal early in training (nearly every
sample scores 0). The ladder rewards each rung a program climbs:

======================  =======  ==============================================================
rung                    default  meaning
======================  =======  ==============================================================
``no_code``             0.0      nothing to verify (empty extraction)
``compile_error``       0.0      does not compile / Python ``SyntaxError``
``compile_warnings``    0.3      compiled, with warnings (``-Wall -Wextra``)
``compile_clean``       0.5      compiled cleanly
``runs``                0.7      compiled program ran without crashing; floor for its tests
``script_runs``         0.1      Python code loaded without error; floor for its tests
all tests pass          1.0      the only way to reach 1.0, and the only ``PASS`` with tests
======================  =======  ==============================================================

``runs`` is for compiled languages only: for Python, parsing and importing a module is nearly
free, so rewarding it like a successful compile would pay the model for syntactically valid
nonsense. Python therefore starts its partial credit at the much lower ``script_runs``.

Partial credit (:meth:`RewardLadder.test_reward`) maps the fraction of tests passed linearly from
the floor towards 1.0: ``floor + (1 - floor) * passed / total``, which is < 1.0 whenever a test
fails. A program that crashes or times out at run time keeps the compile rung it earned (native),
or gets 0.0 (Python, where there is no compile rung).

All functions here are pure; the ladder is a frozen dataclass so a run's config can carry it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from halo_forge.errors import ConfigError

__all__ = ["RewardLadder", "DEFAULT_LADDER"]


@dataclass(frozen=True)
class RewardLadder:
    """Reward for each rung; see the module docstring for the meaning of each field."""

    no_code: float = 0.0
    compile_error: float = 0.0
    compile_warnings: float = 0.3
    compile_clean: float = 0.5
    runs: float = 0.7
    script_runs: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ConfigError(
                    f"reward ladder: {f.name} must be in [0, 1) (1.0 is reserved for passing every "
                    f"test); got {value!r}"
                )
        order = ("compile_error", "compile_warnings", "compile_clean", "runs")
        values = [getattr(self, name) for name in order]
        if values != sorted(values):
            got = ", ".join(f"{n}={v}" for n, v in zip(order, values, strict=True))
            raise ConfigError(
                f"reward ladder: rungs must not decrease in the order {' <= '.join(order)}; "
                f"got {got}"
            )

    def compile_reward(self, ok: bool, warnings: bool = False) -> float:
        """Reward for a compile step: error, clean, or with warnings."""
        if not ok:
            return self.compile_error
        return self.compile_warnings if warnings else self.compile_clean

    def test_reward(self, passed: int, total: int, floor: float | None = None) -> float:
        """Partial credit for ``passed`` of ``total`` tests, in ``[floor, 1.0]``.

        ``floor`` defaults to :attr:`runs` (compiled programs); Python verifiers pass
        :attr:`script_runs`. Exactly 1.0 only when every test passes.
        """
        if total <= 0:
            raise ValueError(f"test_reward needs total > 0; got total={total}")
        if not 0 <= passed <= total:
            raise ValueError(f"passed must be in [0, {total}]; got {passed}")
        if passed == total:
            return 1.0
        base = self.runs if floor is None else floor
        # Float rounding must never turn a failing sample into a 1.0.
        return min(base + (1.0 - base) * passed / total, math.nextafter(1.0, 0.0))


DEFAULT_LADDER = RewardLadder()
