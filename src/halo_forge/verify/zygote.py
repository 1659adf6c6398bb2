"""The fork-server pool for Python verification: warm, isolated workers, a fresh child per sample.

A fresh interpreter per sample costs ~20 ms and bubblewrap per sample ~12 ms more; forking a
small warm process costs ~0.5 ms. So each worker is started **once**, inside its own isolation
boundary (:mod:`halo_forge.verify.isolation`: bubblewrap with fresh PID/network/IPC/UTS
namespaces, a whitelisted read-only file system, a 64 MiB scratch tmpfs, a clean environment),
and then forks one candidate process per sample from a zygote that never saw a test. How a
worker is built inside, and why the verdict cannot be forged, is in ``_zygote_worker``,
``_py_judge`` and ``_py_harness``; this module is the host side: starting workers, feeding them
jobs, restarting them when they die.

* One worker per CPU by default; each has its own non-root uid for its samples
  (:func:`~halo_forge.verify.isolation.slot_uid`), so ``RLIMIT_NPROC`` bounds each sample.
* Workers are spawned from one long-lived thread: bubblewrap's ``--die-with-parent`` (and our
  ``PR_SET_PDEATHSIG`` at the rlimits-only level) fires when the *thread* that forked it ends,
  and a ``verify_batch`` thread pool's threads end after every batch.
* A job that gets no answer within its timeout + :data:`GRACE` kills its worker (the next job
  starts a new one, ~0.1 s) and comes back as ``{"judge_error": ...}``: a ``SANDBOX_ERROR``,
  never a verdict about the sample.
* The worker's environment is built from scratch (``PYTHONHASHSEED=0`` so set and dict order,
  and so verdicts, are the same on every run), never inherited from the trainer: a forked child
  would still hold the parent's environment bytes in memory (``/proc/<pid>/environ``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import marshal
import os
import queue
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from halo_forge.verify import isolation as iso

__all__ = ["GRACE", "WorkerPool", "close_shared_pools", "shared_pool"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
WORKER_FILES = ("_zygote_worker.py", "_py_harness.py", "_py_judge.py")
INSIDE = "/opt/halo-forge"  # where the worker's own files appear inside the sandbox
SCRATCH = "/scratch"  # the sample's working directory inside the sandbox (a tmpfs)
SCRATCH_BYTES = 64 << 20
STARTUP_TIMEOUT = 30.0
GRACE = 5.0  # seconds past a job's own timeout before the host gives up on its worker

_spawners: dict[int, ThreadPoolExecutor] = {}


def _spawner() -> ThreadPoolExecutor:
    """Popen from one thread that lives as long as the process (see the module docstring).

    Per pid: in a process forked from ours the parent's thread does not exist.
    """
    pid = os.getpid()
    with _pools_lock:
        if pid not in _spawners:
            _spawners[pid] = ThreadPoolExecutor(1, thread_name_prefix="hf-zygote-spawner")
        return _spawners[pid]


_pools: dict[tuple[bool, str], WorkerPool] = {}
_pools_lock = threading.Lock()
_owner: dict[str, int] = {}


class WorkerLost(Exception):
    """A worker died or stopped answering. ``delivered``: it may have seen the job."""

    def __init__(self, message: str, delivered: bool) -> None:
        super().__init__(message)
        self.delivered = delivered


def _worker_env(home: str) -> dict[str, str]:
    return {
        "PATH": iso.SANDBOX_PATH,
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not between fork and exec


def _pdeathsig() -> None:
    """preexec for the rlimits-only level: die with us; no core dumps. C calls only."""
    _PRCTL(1, int(signal.SIGKILL))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _Slots:
    """Concurrency slots 0-63, process-wide: two pools must never share a sample uid."""

    def __init__(self, count: int) -> None:
        self._free = list(range(count - 1, -1, -1))
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            return self._free.pop() if self._free else None

    def give_back(self, slot: int) -> None:
        with self._lock:
            self._free.append(slot)


_SLOTS = _Slots(iso.SLOTS_PER_PROCESS // 2)  # the other half is sandbox.run_sandboxed's


def _ready(fd: int, event: int, deadline: float) -> bool:
    """Wait until ``fd`` is ready for ``event`` (or hung up) or the deadline passes.

    ``poll``, not ``select``: a trainer can have more than 1024 open fds.
    """
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(left * 1000))


class _Worker:
    """One worker process (judge + zygote + its candidates) and the pipes to it."""

    def __init__(self, slot: int, isolation: iso.Isolation, site_packages: bool) -> None:
        self.slot = slot
        self.isolation = isolation
        self.site_packages = site_packages
        self.proc: subprocess.Popen[bytes] | None = None
        self.scratch: str | None = None  # host scratch dir (rlimits-only level)
        self.stderr: Any = None
        self.notes: list[str] = []

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _argv(self) -> tuple[list[str], dict[str, str], str | None]:
        py_flags = ["-s", "-P"] if self.site_packages else ["-s", "-S", "-P"]
        if self.isolation.full:
            assert self.isolation.bwrap is not None
            env = _worker_env(SCRATCH)
            hide = () if self.site_packages else tuple(iso.python_hidden_paths())
            files = tuple((str(HERE / f), f"{INSIDE}/{f}") for f in WORKER_FILES)
            prefix = iso.bwrap_argv(
                self.isolation.bwrap,
                caps=iso.ZYGOTE_CAPS,
                binds=(),
                env=env,
                hide=hide,
                ro_binds=files,
                dirs=(SCRATCH,),
            )
            uid = iso.slot_uid(self.slot)
            worker = f"{INSIDE}/_zygote_worker.py"
            args = ["bwrap", str(uid), SCRATCH, str(SCRATCH_BYTES)]
            return [*prefix, sys.executable, *py_flags, worker, *args], {}, None
        self.scratch = tempfile.mkdtemp(prefix="hf-zygote-")
        worker = str(HERE / "_zygote_worker.py")
        argv = [sys.executable, *py_flags, worker, "rlimits", "-1", self.scratch, "0"]
        return argv, _worker_env(self.scratch), self.scratch

    def start(self) -> None:
        self.stop()
        argv, env, cwd = self._argv()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        full = self.isolation.full
        self.proc = (
            _spawner()
            .submit(
                subprocess.Popen,
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env if not full else {"PATH": iso.SANDBOX_PATH, "LANG": "C.UTF-8"},
                cwd=cwd or "/",
                close_fds=True,
                start_new_session=True,
                preexec_fn=None if full else _pdeathsig,  # noqa: PLW1509 - C calls only
            )
            .result()
        )
        try:
            hello = self._read_frame(time.monotonic() + STARTUP_TIMEOUT)
        except WorkerLost as exc:
            raise WorkerLost(f"worker failed to start: {exc}", delivered=False) from None
        if not (isinstance(hello, dict) and hello.get("hello")):
            self.stop()
            raise WorkerLost(f"worker failed to start: unexpected greeting {hello!r}", False)
        self.notes = list(hello.get("notes", []))
        for note in self.notes:
            log.warning("python sandbox worker %d: %s", self.slot, note)

    def run(self, frame: bytes, deadline: float) -> dict[str, Any]:
        if not self.alive():
            raise WorkerLost("worker is not running", delivered=False)
        try:
            self._write(len(frame).to_bytes(4, "big") + frame, deadline)
        except OSError as exc:
            self.stop()
            raise WorkerLost(f"worker gone before the job: {exc}", delivered=False) from None
        result = self._read_frame(deadline)
        if not isinstance(result, dict):
            self.stop()
            raise WorkerLost(f"worker sent {type(result).__name__}, not a verdict", True)
        return result

    def _write(self, data: bytes, deadline: float) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        os.set_blocking(fd, False)
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except BlockingIOError:
                pass
            if not _ready(fd, select.POLLOUT, deadline):
                raise OSError("worker does not read its jobs")

    def _read_frame(self, deadline: float) -> Any:
        head = self._read_exact(4, deadline)
        return marshal.loads(self._read_exact(int.from_bytes(head, "big"), deadline))

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            if not _ready(fd, select.POLLIN, deadline):
                self.stop()
                raise WorkerLost(f"no answer within the deadline{self._stderr_tail()}", True)
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                tail = self._stderr_tail()
                self.stop()
                raise WorkerLost(f"worker died{tail}", True)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - 600))
            text = self.stderr.read().decode("utf-8", "replace").strip()
            return f": {' | '.join(text.splitlines()[-4:])}" if text else ""
        return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            for f in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    f.close()  # type: ignore[union-attr]
        if self.stderr is not None:
            with contextlib.suppress(OSError):
                self.stderr.close()
            self.stderr = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


class WorkerPool:
    """``size`` workers; :meth:`run` hands a job to an idle one and waits for its verdict."""

    def __init__(
        self,
        size: int | None = None,
        *,
        site_packages: bool = False,
        isolation: iso.Isolation | None = None,
    ) -> None:
        self.isolation = isolation or iso.probe()
        self.site_packages = site_packages
        self._workers: list[_Worker] = []
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.resize(size or os.cpu_count() or 1)

    @property
    def size(self) -> int:
        return len(self._workers)

    def resize(self, size: int) -> None:
        """Grow to ``size`` workers (started lazily, on first use). Never shrinks.

        Stops growing, with a warning, when the process runs out of slots (64 workers).
        """
        with self._lock:
            while len(self._workers) < size:
                slot = _SLOTS.take()
                if slot is None:
                    log.warning("python sandbox: no free worker slot; pool stays at %d", self.size)
                    break
                worker = _Worker(slot, self.isolation, self.site_packages)
                self._workers.append(worker)
                self._idle.put(worker)

    def uids(self) -> list[int]:
        """The uids this pool's samples run as (bubblewrap level)."""
        return [iso.slot_uid(w.slot) for w in self._workers]

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The worker's verdict dict for ``job``, or ``{"judge_error": why}``."""
        frame = marshal.dumps(job)
        worker = self._idle.get()
        try:
            for attempt in range(2):
                try:
                    if not worker.alive():
                        worker.start()
                    return worker.run(frame, time.monotonic() + timeout + GRACE)
                except WorkerLost as exc:
                    log.warning("python sandbox worker %d: %s", worker.slot, exc)
                    if exc.delivered or attempt:
                        return {"judge_error": f"sandbox worker lost: {exc}"[:2000]}
            raise AssertionError("unreachable")
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker and give their slots back; the pool is empty afterwards."""
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
            _SLOTS.give_back(worker.slot)


def shared_pool(
    site_packages: bool = False, size: int | None = None, isolation: iso.Isolation | None = None
) -> WorkerPool:
    """The process-wide pool for this configuration, grown to at least ``size`` workers.

    A process forked from ours (a data loader, a multiprocessing worker) gets pools of its own:
    the parent's pipes must not be shared.
    """
    isolation = isolation or iso.probe()
    key = (site_packages, isolation.level)
    with _pools_lock:
        if _owner.get("pid") != os.getpid():
            _pools.clear()  # the parent's: not ours to use or to close
            _owner["pid"] = os.getpid()
        pool = _pools.get(key)
        if pool is None:
            iso.warn_if_reduced(isolation)
            pool = _pools[key] = WorkerPool(size, site_packages=site_packages, isolation=isolation)
    if size and size > pool.size:
        pool.resize(size)
    return pool


@atexit.register
def close_shared_pools() -> None:
    """Stop every shared pool of this process (they restart on next use)."""
    with _pools_lock:
        pools = list(_pools.values()) if _owner.get("pid") == os.getpid() else []
        _pools.clear()
    for pool in pools:
        pool.close()
