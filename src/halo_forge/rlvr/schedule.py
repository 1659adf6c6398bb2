"""What cycle N of a RAFT run uses: its prompts (curriculum), reward threshold and keep fraction
(reward shaping), learning rate (decay), verifier, temperature — one pure function of the config,
the prompts' complexity scores and the pass rates of the cycles before it.

Precedence, lowest to highest: the run's settings; the strategies (``--curriculum``,
``--reward-shaping``, ``--lr-decay``); an entry of the seeds' ``cycles:`` list, whose explicit
``reward_threshold``/``keep_percent``/``learning_rate``/``temperature``/``verifier``/
``run_after_compile`` win for that cycle. Being pure, a resumed run recomputes exactly the plan
the interrupted one used, and ``--dry-run`` prints it without loading a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from halo_forge.config import RaftConfig
from halo_forge.rlvr import curriculum, shaping

__all__ = ["CycleSchedule", "plan_cycle", "ADAPTIVE_PENDING"]

ADAPTIVE_PENDING = "decided after the previous cycle's pass rate"


@dataclass(frozen=True)
class CycleSchedule:
    cycle: int
    cycles: int
    step: curriculum.CurriculumStep
    shaping: shaping.Shaping
    reward_threshold: float
    keep_percent: float
    learning_rate: float
    temperature: float
    verifier: str
    verifier_options: dict[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()  # keys a ``cycles:`` entry set for this cycle

    @property
    def indices(self) -> tuple[int, ...]:
        return self.step.indices

    def lines(self) -> list[str]:
        """The seeds' per-cycle lines: curriculum, reward shaping (+ what a cycles: entry set)."""
        out = [self.step.describe()]
        if self.step.note:
            out[-1] += f" — {self.step.note}"
        shaped = shaping.Shaping(self.reward_threshold, self.keep_percent)
        out.append(shaped.describe() + (f" — {self.shaping.note}" if self.shaping.note else ""))
        if self.overrides:
            out.append(
                f"Cycle settings from the config's cycles: list: {', '.join(self.overrides)}"
            )
        return out


def plan_cycle(
    cfg: RaftConfig,
    scores: Sequence[float],
    cycle: int,
    pass_rates: Sequence[float],
    default_verifier: str,
) -> CycleSchedule:
    """The schedule of ``cycle`` (1-based) given the pass rates of cycles ``1..cycle-1``."""
    step = curriculum.plan_cycle(cfg.curriculum, scores, cycle, cfg.cycles, list(pass_rates))
    shaped = shaping.schedule(
        cfg.reward_shaping,
        cycle,
        cfg.cycles,
        threshold=cfg.reward_threshold,
        keep=cfg.keep_percent,
        start_threshold=cfg.shaping_start_threshold,
        start_keep=cfg.shaping_start_keep,
        warmup_cycles=cfg.warmup_cycles,
        pass_rates=list(pass_rates),
    )
    entry: dict[str, Any] = cfg.cycle_settings[cycle - 1] if cfg.cycle_settings else {}
    options = {**cfg.verifier_options, **entry.get("verifier_options", {})}
    if "run_after_compile" in entry:
        options["run_after_compile"] = entry["run_after_compile"]
    return CycleSchedule(
        cycle=cycle,
        cycles=cfg.cycles,
        step=step,
        shaping=shaped,
        reward_threshold=float(entry.get("reward_threshold", shaped.threshold)),
        keep_percent=float(entry.get("keep_percent", shaped.keep)),
        learning_rate=float(
            entry.get(
                "learning_rate", shaping.learning_rate(cfg.learning_rate, cycle, cfg.lr_decay)
            )
        ),
        temperature=float(entry.get("temperature", cfg.temperature)),
        verifier=str(entry.get("verifier") or cfg.verifier or default_verifier),
        verifier_options=options,
        overrides=tuple(k for k in entry if k != "name"),
    )


def depends_on_history(cfg: RaftConfig) -> bool:
    return cfg.curriculum == "adaptive" or cfg.reward_shaping == "adaptive"
