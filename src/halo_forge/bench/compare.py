"""``benchmark compare``: pass@k of several ``benchmark run`` results side by side.

Pure functions build the comparison (:func:`comparison`) from ``(label, result)`` pairs; the
same table shows ``benchmark full``'s baseline-and-cycles progress. Columns: pass@k for the
union of the files' k (a k one file lacks is "—"), compile rate (kept apart from pass@k: code
that compiles and fails is still a failure), samples per problem (n), problems, and the
pass@1 difference to the first row (the smallest k when no file has pass@1).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, DataError

DASH = "—"


def load_result(path: str | Path) -> dict[str, Any]:
    """A ``benchmark run`` results JSON, or ``DataError`` naming the file and what is wrong."""
    p = Path(path)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise DataError(f"{path} {what}; give benchmark results JSON files")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not JSON ({e.msg} at line {e.lineno})") from None
    problem = _not_a_result(data)
    if problem:
        raise DataError(
            f"{path} is not a benchmark result ({problem}); make one with: "
            "halo-forge benchmark run -o FILE.json"
        )
    return data


def _not_a_result(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    pak = data.get("pass_at_k")
    if not isinstance(pak, dict):
        return "no pass_at_k"
    for k, v in pak.items():
        if not (str(k).isdigit() and int(k) >= 1):
            return f"pass_at_k key {k!r} is not a positive integer"
        if not _rate(v):
            return f"pass@{k} is {v!r}, not a number in [0, 1]"
    return None


def _rate(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def comparison(entries: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``{"ks", "delta_k", "rows", "warnings"}`` for results in order; deltas are against the
    first entry. A missing value is ``None`` (shown as "—")."""
    if not entries:
        raise ValueError("nothing to compare")
    ks = sorted({int(k) for _, r in entries for k in r["pass_at_k"]})
    ref = entries[0][1]["pass_at_k"]
    common = [k for k in ks if str(k) in ref]
    delta_k = 1 if 1 in common else (common[0] if common else None)
    rows = []
    for label, r in entries:
        pak = {str(k): r["pass_at_k"].get(str(k)) for k in ks}
        delta = {
            str(k): (pak[str(k)] - ref[str(k)])
            if pak[str(k)] is not None and str(k) in ref
            else None
            for k in ks
        }
        rows.append(
            {
                "label": label,
                "model": r.get("model"),
                "prompts": r.get("prompts"),
                "pass_at_k": pak,
                "delta": delta,
                "compile_rate": r.get("compile_rate") if _rate(r.get("compile_rate")) else None,
                "samples_per_problem": r.get("samples_per_problem"),
                "num_problems": r.get("num_problems"),
            }
        )
    warnings = []
    sets = {(row["prompts"], row["num_problems"]) for row in rows}
    if len(sets) > 1:
        listed = "; ".join(
            f"{row['label']}: {row['prompts']} ({row['num_problems']})" for row in rows
        )
        warnings.append(f"the results are on different prompt sets ({listed})")
    return {"ks": ks, "delta_k": delta_k, "rows": rows, "warnings": warnings}


def compare_files(paths: Sequence[str | Path]) -> dict[str, Any]:
    if len(paths) < 2:
        raise ConfigError("benchmark compare needs at least two results files: A.json B.json")
    results = [load_result(p) for p in paths]
    names = [Path(p).name for p in paths]
    labels = names if len(set(names)) == len(names) else [str(p) for p in paths]
    out = comparison(list(zip(labels, results, strict=True)))
    for row, p in zip(out["rows"], paths, strict=True):
        row["file"] = str(p)
    return out


def _cells(cmp: dict[str, Any], row: dict[str, Any], sizes: bool) -> list[str]:
    cells = [_f(row["pass_at_k"][str(k)]) for k in cmp["ks"]]
    cells.append(_f(row["compile_rate"]))
    if sizes:
        cells += [_i(row["samples_per_problem"]), _i(row["num_problems"])]
    dk = cmp["delta_k"]
    cells.append(_signed(row["delta"][str(dk)]) if dk is not None else DASH)
    return cells


def headers(cmp: dict[str, Any], sizes: bool = True, first: str = "results") -> list[str]:
    cols = [first, *(f"pass@{k}" for k in cmp["ks"]), "compile rate"]
    if sizes:
        cols += ["n", "problems"]
    dk = cmp["delta_k"]
    cols.append(f"Δ pass@{dk}" if dk is not None else "Δ")
    return cols


def render_table(
    cmp: dict[str, Any], title: str | None = None, sizes: bool = True, first: str = "results"
) -> Any:
    """A rich ``Table`` (import of rich deferred)."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for i, col in enumerate(headers(cmp, sizes, first)):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for row in cmp["rows"]:
        table.add_row(row["label"], *_cells(cmp, row, sizes))
    return table


def markdown_table(cmp: dict[str, Any], sizes: bool = True, first: str = "results") -> str:
    cols = headers(cmp, sizes, first)
    lines = ["| " + " | ".join(cols) + " |", "|---|" + "---:|" * (len(cols) - 1)]
    for row in cmp["rows"]:
        lines.append("| " + " | ".join([row["label"], *_cells(cmp, row, sizes)]) + " |")
    return "\n".join(lines) + "\n"


def _f(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, int | float) and not isinstance(v, bool) else DASH


def _i(v: Any) -> str:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else DASH


def _signed(v: Any) -> str:
    if not isinstance(v, int | float):
        return DASH
    return "0.000" if abs(v) < 5e-4 else f"{v:+.3f}"
