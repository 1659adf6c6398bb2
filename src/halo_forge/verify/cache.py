"""Content-addressed compile cache: (source, language, toolchain, flags) → binary + verdict.

RAFT samples the same prompts every cycle and a model repeats itself, so the same source is
compiled again and again: across problems within a batch (``Verifier.verify_batch`` already
dedupes identical ``(problem, code)`` pairs, not identical code under different problems),
across cycles and across runs. A compile costs 0.1–1.5 s; a cache hit costs a file copy.

Layout (``root`` defaults to ``cache_root()/"compile"``)::

    root/bin/ab/<sha256>/meta.json      the compile verdict (our JSON record)
    root/bin/ab/<sha256>/artifact       the compiled binary, when the compile succeeded
    root/pch/ab/<sha256>/...            precompiled headers (see ``native.py``)
    root/tmp/                           entries being written

Concurrency: an entry is written in ``root/tmp`` and published with one ``rename`` of its
directory, so readers see a whole entry or none, across threads and processes. Two writers
racing on one key both compile; the loser's rename fails and its copy is dropped. Within one
process :meth:`CompileCache.lock` makes the second caller wait for the first instead
(single-flight), so a batch never compiles one source twice.

Size is bounded (``max_bytes``): after a store pushes the total over it, the least recently
used entries (a hit touches ``meta.json``) are removed until 80 % remain. Eviction renames an
entry away before deleting it, so a reader that loses the race sees a miss, never half a file.

What the cache trusts: its own directory. Under rlimits-only isolation a hostile binary runs as
our user and could plant a fake entry; with bubblewrap the cache lies outside the sandbox's
writable scratch. Key parts include the compiler's path, size, mtime and ``--version`` output,
so an upgraded toolchain never serves stale binaries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CompileCache", "CacheStats", "cache_key", "default_cache_dir"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 << 30
_META = "meta.json"
_ARTIFACT = "artifact"


def default_cache_dir() -> Path:
    """``cache_root()/"compile"`` (``$HALO_FORGE_CACHE`` or ``~/.cache/halo-forge``)."""
    from halo_forge.models.embedded import cache_root  # light module: no torch import

    return cache_root() / "compile"


def cache_key(*parts: str | bytes) -> str:
    """SHA-256 over length-prefixed parts (so ``("ab", "c")`` and ``("a", "bc")`` differ)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0


class CompileCache:
    """Compile verdicts and binaries keyed by :func:`cache_key`. Thread- and process-safe."""

    def __init__(self, root: str | Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._mutex = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # key → [Lock, users]
        self._size: int | None = None  # bytes on disk, scanned lazily
        self._swept = False  # stale scratch of crashed writers removed (once, lazily)

    # -- single-flight -------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, key: str, blocking: bool = True) -> Iterator[bool]:
        """Hold the in-process lock for ``key``; yields whether it was acquired.

        With ``blocking=False`` it yields ``False`` at once when another thread holds it (the
        caller then does the work without the cache, e.g. compiles without a precompiled header).
        """
        with self._mutex:
            slot = self._locks.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        got = slot[0].acquire(blocking)
        try:
            yield got
        finally:
            if got:
                slot[0].release()
            with self._mutex:
                slot[1] -= 1
                if slot[1] == 0:
                    del self._locks[key]

    # -- binaries + verdicts -------------------------------------------------------------------
    def _entry(self, kind: str, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache key must be a hex digest; got {key!r}")
        return self.root / kind / key[:2] / key

    def get(self, key: str, dest: Path | None = None, count: bool = True) -> dict[str, Any] | None:
        """The stored record for ``key`` (copying its artifact to ``dest``), or ``None``.

        ``count=False``: a re-check that does not count as a miss in :attr:`stats`.
        """
        entry = self._entry("bin", key)
        try:
            record = json.loads((entry / _META).read_text(encoding="utf-8"))
            if record.get("artifact"):
                if dest is None:
                    raise ValueError("this entry has an artifact: pass dest")
                # A copy, never a link: the sample may write to its binary's path.
                shutil.copyfile(entry / _ARTIFACT, dest)
                os.chmod(dest, 0o755)
            os.utime(entry / _META)  # LRU clock
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            if count:
                with self._mutex:
                    self.stats.misses += 1
            return None
        with self._mutex:
            self.stats.hits += 1
        return record

    def put(self, key: str, record: dict[str, Any], artifact: Path | None = None) -> None:
        """Publish ``record`` (+ a copy of ``artifact``) under ``key``; first writer wins."""
        entry = self._entry("bin", key)
        if (entry / _META).exists():
            return
        tmp = self._tmpdir()
        try:
            size = 0
            if artifact is not None:
                shutil.copyfile(artifact, tmp / _ARTIFACT)
                os.chmod(tmp / _ARTIFACT, 0o555)
                size += (tmp / _ARTIFACT).stat().st_size
            meta = json.dumps({**record, "artifact": artifact is not None, "created": time.time()})
            (tmp / _META).write_text(meta, encoding="utf-8")
            size += len(meta)
            self._publish(tmp, entry, size)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- whole directories (precompiled headers) -----------------------------------------------
    def get_dir(self, key: str, kind: str = "pch") -> Path | None:
        """A complete stored directory for ``key``, or ``None``."""
        entry = self._entry(kind, key)
        try:
            os.utime(entry / _META)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return entry

    def new_dir(self) -> Path:
        """A private scratch dir on the cache's filesystem, to fill and pass to :meth:`put_dir`."""
        return self._tmpdir()

    def put_dir(self, key: str, src: Path, kind: str = "pch") -> Path | None:
        """Publish directory ``src`` (from :meth:`new_dir`) under ``key``; returns the entry."""
        entry = self._entry(kind, key)
        try:
            size = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
            (src / _META).write_text(json.dumps({"created": time.time()}), encoding="utf-8")
            self._publish(src, entry, size)
        finally:
            shutil.rmtree(src, ignore_errors=True)
        return self.get_dir(key, kind)

    # -- internals -----------------------------------------------------------------------------
    def _tmpdir(self) -> Path:
        base = self.root / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        if not self._swept:
            self._swept = True
            self.clear_tmp()
        return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))

    def _publish(self, tmp: Path, entry: Path, size: int) -> None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp, entry)
        except OSError:  # another writer published it first (ENOTEMPTY / EEXIST)
            return
        with self._mutex:
            self.stats.stores += 1
            if self._size is None:
                self._size = self._scan()
            else:
                self._size += size
            over = self._size > self.max_bytes
        if over:
            self.prune()

    def _entries(self) -> list[tuple[float, int, Path]]:
        out = []
        for kind in ("bin", "pch"):
            for meta in (self.root / kind).glob(f"*/*/{_META}"):
                entry = meta.parent
                try:
                    mtime = meta.stat().st_mtime
                    size = sum(p.stat().st_size for p in entry.iterdir() if p.is_file())
                except FileNotFoundError:
                    continue
                out.append((mtime, size, entry))
        return out

    def _scan(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def prune(self, target: float = 0.8) -> None:
        """Remove least recently used entries until the total is ≤ ``target × max_bytes``."""
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, entry in entries:
            if total <= target * self.max_bytes:
                break
            doomed = self.root / "tmp" / f"evict-{os.getpid()}-{entry.name}-{time.monotonic_ns()}"
            try:
                doomed.parent.mkdir(parents=True, exist_ok=True)
                os.rename(entry, doomed)
            except OSError:
                continue  # another process evicted it already
            shutil.rmtree(doomed, ignore_errors=True)
            total -= size
            removed += 1
        with self._mutex:
            self._size = total
            self.stats.evictions += removed
        if removed:
            log.debug("compile cache %s: evicted %d entries", self.root, removed)

    def clear_tmp(self, older_than: float = 3600.0) -> None:
        """Remove scratch dirs a crashed writer left behind (older than ``older_than`` s)."""
        cutoff = time.time() - older_than
        for child in (self.root / "tmp").glob("*"):
            with contextlib.suppress(FileNotFoundError):
                if child.stat().st_mtime < cutoff:
                    shutil.rmtree(child, ignore_errors=True)
