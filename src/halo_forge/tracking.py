"""Experiment tracking: ``--report-to tensorboard,wandb`` (or ``none``).

``metrics.jsonl`` in the run folder is always the source of truth (the loop writes it); a
tracker only mirrors numbers into TensorBoard (``OUT/tensorboard/``) or Weights & Biases
(``OUT/wandb/``). Only numeric scalars are logged: nested dicts are flattened
(``statuses.PASS``), strings, lists and ``None`` are skipped.

Cycle metrics are logged as ``raft/<key>`` at step ``cycle``; a summary's
``train_loss_history`` (per-cycle steps) becomes ``train/loss`` at the global step (offset by
the earlier cycles' steps in ``metrics.jsonl``, so a resumed run lines up).

W&B runs offline unless ``WANDB_MODE`` says otherwise or ``WANDB_API_KEY`` is set, so it works
with no network and no account (``wandb sync OUT/wandb/offline-run-*`` uploads later). The run
id is kept in ``OUT/wandb/run_id``, so a rerun over the same folder continues the same run. Its
steps must increase across all keys, so cycle metrics are plotted against a ``cycle`` metric
and per-step metrics against ``train/global_step`` (``define_metric``), never ``step=``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from halo_forge.errors import ConfigError

TRACKERS = ("none", "tensorboard", "wandb")
INSTALL_HINT = "pip install 'halo-forge[tracking]'"
# Summary keys that are bookkeeping, not metrics.
_SKIP = {"event", "cycle", "cycles", "time"}
CYCLE_PREFIX = "raft/"


class Tracker(Protocol):
    def log_cycle(self, summary: dict[str, Any]) -> None:
        """Log one finished cycle's summary (a ``metrics.jsonl`` row) at step ``cycle``."""

    def log_step(self, name: str, value: float, step: int) -> None:
        """Log one scalar at a training step."""

    def close(self) -> None: ...


def parse_report_to(value: str | Sequence[str] | None) -> list[str]:
    """``"tensorboard,wandb"`` or a list → validated names; ``none``/empty → ``[]``."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names = [n.strip().lower() for n in items if n and n.strip()]
    unknown = [n for n in names if n not in TRACKERS]
    if unknown:
        raise ConfigError(
            f"--report-to: unknown tracker '{unknown[0]}'; choose from {', '.join(TRACKERS)} "
            f"(comma-separated; tensorboard and wandb need: {INSTALL_HINT})"
        )
    return list(dict.fromkeys(n for n in names if n != "none"))


def create_tracker(
    report_to: str | Sequence[str],
    run_dir: Path,
    config: dict[str, Any],
    run_name: str | None = None,
) -> Tracker:
    """Trackers for ``report_to``; unknown names or a missing package → ``ConfigError``."""
    names = parse_report_to(report_to)
    run_dir = Path(run_dir)
    made: list[Tracker] = []
    try:
        for name in names:
            if name == "tensorboard":
                made.append(TensorBoardTracker(run_dir, config))
            else:
                made.append(WandbTracker(run_dir, config, run_name or run_dir.name))
    except BaseException:
        for t in made:
            t.close()
        raise
    if not made:
        return NullTracker()
    return made[0] if len(made) == 1 else MultiTracker(made)


def flatten_scalars(d: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested dict: ``{"statuses": {"PASS": 3}}`` → ``{"statuses.PASS": 3.0}``.
    Booleans, strings, lists and ``None`` are dropped."""
    out: dict[str, float] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten_scalars(v, key + "."))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[key] = float(v)
    return out


def cycle_scalars(summary: Mapping[str, Any]) -> dict[str, float]:
    return flatten_scalars({k: v for k, v in summary.items() if k not in _SKIP})


def loss_steps(run_dir: Path, summary: Mapping[str, Any]) -> list[tuple[int, float]]:
    """``(global step, loss)`` of ``summary["train_loss_history"]`` (per-cycle steps), offset
    by the steps of the earlier cycles in ``metrics.jsonl`` — so a resumed run lines up."""
    from halo_forge.rlvr.report import load_cycles, loss_points

    cycle = summary.get("cycle")
    if not summary.get("train_loss_history") or not isinstance(cycle, int):
        return []
    earlier = [c for c in load_cycles(run_dir) if c["cycle"] < cycle]
    return [(int(s), v) for s, v, c in loss_points([*earlier, dict(summary)]) if c == cycle]


def _require(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"--report-to {what} needs the {what} package: {INSTALL_HINT}") from None


class NullTracker:
    """``--report-to none``: metrics.jsonl only."""

    def log_cycle(self, summary: dict[str, Any]) -> None:
        pass

    def log_step(self, name: str, value: float, step: int) -> None:
        pass

    def close(self) -> None:
        pass


class MultiTracker:
    def __init__(self, trackers: Sequence[Tracker]):
        self.trackers = list(trackers)

    def log_cycle(self, summary: dict[str, Any]) -> None:
        for t in self.trackers:
            t.log_cycle(summary)

    def log_step(self, name: str, value: float, step: int) -> None:
        for t in self.trackers:
            t.log_step(name, value, step)

    def close(self) -> None:
        for t in self.trackers:
            t.close()


class TensorBoardTracker:
    """Event files in ``OUT/tensorboard/`` (``tensorboard --logdir OUT/tensorboard``)."""

    def __init__(self, run_dir: Path, config: dict[str, Any]):
        _require("tensorboard", "tensorboard")
        self.run_dir = run_dir
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # pragma: no cover - torch without tensorboard support
            SummaryWriter = _require("tensorboardX", "tensorboard").SummaryWriter
        import yaml

        self.dir = run_dir / "tensorboard"
        self.writer = SummaryWriter(log_dir=str(self.dir))
        text = yaml.safe_dump(config, sort_keys=True, default_flow_style=False)
        self.writer.add_text("config", "```\n" + text + "```", 0)
        self.writer.flush()

    def log_cycle(self, summary: dict[str, Any]) -> None:
        step = int(summary.get("cycle", 0))
        for key, value in cycle_scalars(summary).items():
            self.writer.add_scalar(CYCLE_PREFIX + key, value, step)
        for global_step, loss in loss_steps(self.run_dir, summary):
            self.log_step("train/loss", loss, global_step)
        self.writer.flush()  # a crash between cycles keeps what was logged

    def log_step(self, name: str, value: float, step: int) -> None:
        if _finite_number(value):
            self.writer.add_scalar(name, float(value), step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


class WandbTracker:
    """A W&B run in ``OUT/wandb/`` (or ``$WANDB_DIR``); offline unless told otherwise."""

    def __init__(self, run_dir: Path, config: dict[str, Any], run_name: str):
        wandb = _require("wandb", "wandb")
        self.run_dir = run_dir
        mode = os.environ.get("WANDB_MODE") or (
            "online" if os.environ.get("WANDB_API_KEY") else "offline"
        )
        base = Path(os.environ.get("WANDB_DIR") or run_dir)
        base.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "halo-forge"),
            name=run_name,
            id=_run_id(run_dir),
            resume="allow",
            dir=str(base),
            config=config,
            mode=mode,
        )
        self.run.define_metric("cycle")
        self.run.define_metric(CYCLE_PREFIX + "*", step_metric="cycle")
        self.run.define_metric("train/global_step")
        self._step_metrics: set[str] = set()

    def log_cycle(self, summary: dict[str, Any]) -> None:
        row: dict[str, float] = {"cycle": float(summary.get("cycle", 0))}
        row.update({CYCLE_PREFIX + k: v for k, v in cycle_scalars(summary).items()})
        self.run.log(row)
        for global_step, loss in loss_steps(self.run_dir, summary):
            self.log_step("train/loss", loss, global_step)

    def log_step(self, name: str, value: float, step: int) -> None:
        if not _finite_number(value):
            return
        if name not in self._step_metrics:
            self.run.define_metric(name, step_metric="train/global_step")
            self._step_metrics.add(name)
        self.run.log({name: float(value), "train/global_step": step})

    def close(self) -> None:
        self.run.finish()


def _run_id(run_dir: Path) -> str:
    """One W&B run per run folder: a rerun (resume) continues it instead of starting another."""
    import uuid

    path = run_dir / "wandb" / "run_id"
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if found:
        return found
    new = uuid.uuid4().hex[:12]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new + "\n")
    return new


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
