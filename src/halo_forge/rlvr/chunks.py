"""Chunked JSONL run files: a chunk's rows count only once its closing marker is on disk.

A cycle's prompts are processed in chunks of ``generation_chunk_size``: generate the chunk,
append its samples, verify them, append the verdicts. Each append is the chunk's rows followed
by a marker line ``{"chunk_done": k, "rows": n}``, then an fsync. After a kill (``kill -9``
included) at any instant, a chunk is either complete on disk — marker present, all ``n`` rows
before it — or it is not there at all: :func:`read_chunks` ignores rows of a chunk without its
marker and rewrites the file without them (tmp + rename), so the rerun appends nothing twice.

A chunk is regenerated only as a whole, with a seed that depends on (run seed, cycle, chunk)
alone, so the regenerated chunk is the one the interrupted run would have produced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from halo_forge.jsonl import jsonl_lines
from halo_forge.rlvr.state import append_jsonl

__all__ = ["read_chunks", "append_chunk", "chunk_seed"]

MARKER = "chunk_done"


def read_chunks(path: Path, repair: bool = True) -> dict[int, list[dict[str, Any]]]:
    """Complete chunks of ``path`` by index; with ``repair``, drop incomplete ones from disk."""
    if not path.is_file():
        return {}
    pending: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    done: dict[int, list[dict[str, Any]]] = {}
    kept_lines: list[str] = []
    dirty = False
    for line in jsonl_lines(path.read_text(encoding="utf-8")):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # torn by a kill mid-write
            dirty = True
            continue
        if MARKER in row:
            k, rows = int(row[MARKER]), pending.pop(int(row[MARKER]), [])
            if len(rows) == int(row.get("rows", -1)) and k not in done:
                done[k] = [r for _, r in rows]
                kept_lines.extend(raw for raw, _ in rows)
                kept_lines.append(line)
            else:
                dirty = True
            continue
        pending.setdefault(int(row.get("chunk", -1)), []).append((line, row))
    if pending:
        dirty = True
    if dirty and repair:
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write("".join(raw + "\n" for raw in kept_lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return done


def append_chunk(path: Path, chunk: int, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` (each tagged ``"chunk": chunk``) and the chunk's marker, fsync'd."""
    tagged = [{**r, "chunk": chunk} for r in rows]
    append_jsonl(path, [*tagged, {MARKER: chunk, "rows": len(tagged)}])


def chunk_seed(seed: int, cycle: int, chunk: int) -> int:
    """A sampling seed that depends on nothing but (run seed, cycle, chunk)."""
    return (seed * 1_000_003 + cycle * 10_007 + chunk) % (2**31 - 1)
