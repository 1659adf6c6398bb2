"""The run directory: what is finished, what a rerun may skip, and atomic writes.

```
OUT/config.yaml                 resolved settings of the run (a rerun must match them)
OUT/metrics.jsonl               one JSON object per finished cycle
OUT/cycle_N/samples.jsonl       generated samples, appended per chunk (rlvr.chunks)
OUT/cycle_N/verified.jsonl      sample + verdict rows, appended per chunk
OUT/cycle_N/kept.jsonl          what the cycle trained on
OUT/cycle_N_final/              the adapter after cycle N + cycle_summary.json
```
A cycle is complete when ``cycle_N_final/`` exists: it is written under a temporary name and
renamed, so it is never half there. Its ``cycle_summary.json`` is the source of truth for the
metrics line, which is re-appended on the next run if a crash lost it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from halo_forge.errors import ConfigError
from halo_forge.jsonl import jsonl_lines

# Settings that may differ between the run that started OUT and a rerun over it.
RERUN_MAY_CHANGE = {
    "cycles",
    "workers",
    "cache_dir",
    "output",
    "generation_batch_size",
    "verification_chunk_size",
    "clear_cache_every_n_batches",
    "early_stop",
    "report_to",
    # where samples come from (same sampling settings, another transport): may change
    "generation_backend",
    "base_url",
    "served_model",
    "concurrency",
    "load_adapters",
}
SUMMARY = "cycle_summary.json"


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.jsonl"

    def cycle_dir(self, cycle: int) -> Path:
        return self.root / f"cycle_{cycle}"

    def final_dir(self, cycle: int) -> Path:
        return self.root / f"cycle_{cycle}_final"

    def check_config(
        self, settings: dict[str, Any], defaults: dict[str, Any] | None = None
    ) -> None:
        """Refuse to continue a run that was started with different settings.

        A setting the earlier run's config.yaml does not have (written by an older version)
        matches when the new value is that setting's default.
        """
        if not self.config_path.is_file():
            return
        previous = yaml.safe_load(self.config_path.read_text()) or {}
        defaults = defaults or {}
        changed = [
            f"{k}: {previous.get(k)!r} → {v!r}"
            for k, v in settings.items()
            if k not in RERUN_MAY_CHANGE
            and previous.get(k) != v
            and not (k not in previous and k in defaults and defaults[k] == v)
        ]
        if changed:
            raise ConfigError(
                f"{self.root} holds a run with other settings ({'; '.join(changed)}); "
                "rerun with the same settings, add --restart to discard that run, or choose "
                "another --output"
            )

    def write_config(self, settings: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, yaml.safe_dump(settings, sort_keys=True))

    def completed_cycles(self) -> int:
        n = 0
        while (self.final_dir(n + 1) / SUMMARY).is_file():
            n += 1
        return n

    def cycle_summary(self, cycle: int) -> dict[str, Any]:
        return json.loads((self.final_dir(cycle) / SUMMARY).read_text())

    def logged_cycles(self) -> set[int]:
        if not self.metrics_path.is_file():
            return set()
        cycles = set()
        for row in read_jsonl_tolerant(self.metrics_path):
            if row.get("event") == "cycle":
                cycles.add(int(row["cycle"]))
        return cycles

    def repair_metrics(self) -> None:
        """Re-append the metrics line of any complete cycle whose line a crash lost."""
        logged = self.logged_cycles()
        for c in range(1, self.completed_cycles() + 1):
            if c not in logged:
                append_jsonl(self.metrics_path, [self.cycle_summary(c)])

    def finish_cycle(
        self, cycle: int, save: Any, summary: dict[str, Any], before_metrics: Any = None
    ) -> Path:
        """``save(tmp_dir)`` writes the adapter; then summary, rename, metrics line."""
        final = self.final_dir(cycle)
        tmp = final.with_name(final.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save(tmp)
        atomic_write_text(tmp / SUMMARY, json.dumps(summary, indent=2))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        if before_metrics is not None:
            before_metrics()
        append_jsonl(self.metrics_path, [summary])
        return final


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def append_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append rows and fsync, so a kill after return loses none of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl_tolerant(path: Path) -> list[dict[str, Any]]:
    """Rows of a file we wrote ourselves; a torn last line (killed mid-write) is dropped."""
    rows = []
    if not path.is_file():
        return rows
    for line in jsonl_lines(path.read_text(encoding="utf-8")):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
