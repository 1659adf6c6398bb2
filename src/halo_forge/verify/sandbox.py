"""Run one untrusted job: a child process with resource limits, a wall-clock kill and capped output.

Model output is hostile input. :func:`run_sandboxed` is the only way verifiers execute it.

What it protects against (today, without bubblewrap — :func:`isolation_level` says
``"rlimits-only"``):

- **Hangs**: a wall-clock deadline kills the child's whole process group (``SIGKILL``), and
  ``RLIMIT_CPU`` stops a CPU spinner even if our own process stalls. The call returns within
  about ``timeout + 0.3`` s even when a grandchild that escaped the group keeps the output pipes
  open (we stop reading after a short grace period instead of waiting for EOF).
- **Memory bombs**: ``RLIMIT_AS`` (default 1 GiB) turns them into ``MemoryError``/``ENOMEM``.
- **Disk bombs**: ``RLIMIT_FSIZE`` caps each file written (``SIGXFSZ``).
- **Output floods**: stdout/stderr are read concurrently and the first ``output_bytes`` kept; the
  rest is read and discarded so the child never blocks on a full pipe.
- **Leaking our secrets**: the child gets a fixed minimal environment (``PATH``, ``LANG``,
  ``HOME``=its scratch dir), nothing inherited from ours, and only the file descriptors we pass.
- **Orphans**: the child is a session/process-group leader killed as a group when it finishes,
  and gets ``PR_SET_PDEATHSIG=SIGKILL`` so it dies if the thread that started it dies.
- **Core dumps**: ``RLIMIT_CORE`` = 0.
- **Verdict forgery via stdout/exit code**: the harness reports on a private pipe
  (``verdict_fd=True``), never on stdout or the exit status, which the candidate controls.

What it does NOT protect against yet (bubblewrap, a later issue, slots into :func:`_wrap_argv`):

- **No filesystem isolation**: the job runs as our user (root here) and can read and write
  anything we can; ``cwd`` is only a scratch directory, not a jail. The Python harness blocks
  the obvious destructive calls in-process, but native code is unrestricted.
- **No network isolation**: the job can open sockets.
- **No PID namespace**: a process that calls ``setsid()`` leaves our process group and survives
  the group kill (it is still bounded by ``RLIMIT_CPU``). ``RLIMIT_NPROC`` is ignored for root,
  so fork bombs are only bounded by the kill and the CPU limit.
- **Root can raise its own hard limits** (``CAP_SYS_RESOURCE``): against deliberate code, the
  rlimits are advisory when we run as root; the wall-clock kill is the hard guarantee.

One fresh interpreter/binary per job costs ~10-20 ms; the design's fork-server (a warm zygote per
worker) is the faster path and will reuse this module's limits and output handling.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.types import ExecResult

__all__ = ["Limits", "run_sandboxed", "isolation_level", "SANDBOX_PATH"]

log = logging.getLogger(__name__)

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
_GRACE = 0.2  # seconds we keep draining pipes after the child exited or was killed
_POLL = 0.05  # longest we sleep without checking whether the child exited
_VERDICT_CAP = 64 << 10


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. ``None`` leaves that limit as inherited.

    ``cpu_seconds=None`` means ``ceil(timeout) + 1``: the CPU limit backs up the wall clock.
    ``processes`` maps to ``RLIMIT_NPROC``, which counts *all* processes of the uid and is
    ignored for root; set it only when jobs run as a dedicated non-root uid.
    """

    address_space: int | None = 1 << 30  # RLIMIT_AS, bytes
    file_size: int | None = 16 << 20  # RLIMIT_FSIZE, bytes per file
    open_files: int | None = 64  # RLIMIT_NOFILE
    processes: int | None = None  # RLIMIT_NPROC
    cpu_seconds: int | None = None  # RLIMIT_CPU
    output_bytes: int = 64 << 10  # kept per stream (stdout, stderr); the rest is discarded


def isolation_level() -> str:
    """What isolation :func:`run_sandboxed` applies here, for ``halo-forge info`` and logs.

    ``"rlimits-only"``: resource limits, process-group kill, scrubbed env; no namespaces.
    (``"bubblewrap"`` once the later issue wires it into :func:`_wrap_argv`.)
    """
    return "rlimits-only"


def bubblewrap_available() -> bool:
    """Whether ``bwrap`` is on PATH (not used yet; reported so users know what they could get)."""
    return shutil.which("bwrap") is not None


_warned = threading.Event()


def _warn_reduced_isolation() -> None:
    if not _warned.is_set():
        _warned.set()
        log.warning(
            "sandbox isolation is reduced (%s): untrusted code runs with resource limits but "
            "without filesystem or network isolation%s",
            isolation_level(),
            "" if bubblewrap_available() else "; bubblewrap is not installed",
        )


def _wrap_argv(argv: Sequence[str], cwd: Path) -> list[str]:
    """Hook for the isolation layer: today the identity; bubblewrap will prefix its argv here."""
    return list(argv)


def _env(cwd: Path) -> dict[str, str]:
    """The complete environment a job sees: fixed, so nothing of ours (tokens, keys) leaks."""
    return {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8", "HOME": str(cwd)}


def _load_prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True).prctl if name else None
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _rlimits(limits: Limits, timeout: float) -> list[tuple[int, int]]:
    """(resource, value) pairs to set in the child, each clamped to our own hard limit."""
    cpu = limits.cpu_seconds if limits.cpu_seconds is not None else math.ceil(timeout) + 1
    wanted = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, limits.address_space),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes),
    ]
    out = []
    for res, value in wanted:
        if value is None:
            continue
        hard = resource.getrlimit(res)[1]
        out.append((res, value if hard == resource.RLIM_INFINITY else min(value, hard)))
    return out


def _make_preexec(settings: list[tuple[int, int]]) -> Callable[[], None]:
    """The function run in the child between fork and exec.

    It only calls C functions on precomputed values (no imports, no allocation-heavy work), the
    safe subset of code for a child forked from a multithreaded parent.
    """

    def preexec() -> None:
        for res, value in settings:
            # CPU: soft limit sends SIGXCPU, the hard one a second later SIGKILL.
            hard = value + 1 if res == resource.RLIMIT_CPU else value
            resource.setrlimit(res, (value, hard))
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return preexec


class _Capture:
    """Bytes read from one pipe: the first ``cap`` kept, the rest counted and dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.data.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[halo-forge: {self.dropped} more bytes discarded]"
        return out


def _exited(pid: int) -> bool:
    """Has ``pid`` exited? Does not reap it, so its pid (= its group id) cannot be reused yet."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def parse_verdict(raw: bytes) -> dict[str, Any] | None:
    """The last well-formed JSON object line on the verdict channel, or ``None``.

    The channel carries JSON Lines so a harness can report progress (e.g. "loaded") before its
    final verdict; garbage lines (which only the candidate would write) are skipped.
    """
    for line in reversed(raw.split(b"\n")):
        line = line.strip()
        if not line.startswith(b"{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def run_sandboxed(
    argv: list[str],
    *,
    cwd: Path,
    timeout: float,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so sharing the default is safe
    stdin: bytes | None = None,
    verdict_fd: bool = False,
) -> ExecResult:
    """Run ``argv`` in ``cwd`` under ``limits``; kill its process group after ``timeout`` seconds.

    With ``verdict_fd=True`` a private pipe's write end is passed to the child and its fd number
    appended to ``argv``; the last JSON object line read from it becomes ``ExecResult.verdict``.
    ``stdin`` is written concurrently with reading (``None`` gives the child ``/dev/null``).
    Raises ``OSError`` if the program cannot be started (e.g. not found).
    """
    _warn_reduced_isolation()
    argv = list(argv)
    vr = vw = -1
    if verdict_fd:
        vr, vw = os.pipe()
        argv.append(str(vw))
    preexec = _make_preexec(_rlimits(limits, timeout))
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            _wrap_argv(argv, cwd),
            cwd=cwd,
            env=_env(cwd),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(vw,) if verdict_fd else (),
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509 - only C calls on precomputed values, see above
            close_fds=True,
        )
    except BaseException:
        if verdict_fd:
            os.close(vr)
            os.close(vw)
        raise
    if verdict_fd:
        os.close(vw)
    try:
        out, err, verdict, timed_out = _communicate(proc, stdin, vr, limits, start + timeout)
    finally:
        if proc.returncode is None:  # unwinding from an error, or unkillable: not reaped yet,
            _kill_group(proc.pid)  # so its pid/group id cannot have been reused
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # unkillable (D state): leave it, say so
                log.error("sandboxed process %d did not die after SIGKILL", proc.pid)
    rc = proc.returncode
    return ExecResult(
        returncode=rc,
        signal=-rc if rc is not None and rc < 0 else None,
        timed_out=timed_out,
        stdout=out.text(),
        stderr=err.text(),
        wall_time=time.monotonic() - start,
        verdict=parse_verdict(bytes(verdict.data)) if verdict_fd else None,
    )


def _communicate(
    proc: subprocess.Popen[bytes], stdin: bytes | None, vr: int, limits: Limits, deadline: float
) -> tuple[_Capture, _Capture, _Capture, bool]:
    """Pump stdin/stdout/stderr/verdict until the child is gone (or killed) and pipes drained.

    Kills the process group as soon as the leader has exited (before reaping it, so the group
    id cannot have been reused), and on the deadline. Never waits on a pipe for more than
    ``_GRACE`` seconds after that: an escaped grandchild may hold it open forever.
    """
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    verdict = _Capture(_VERDICT_CAP)
    captures: dict[int, _Capture] = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    owned: list[int] = []
    if vr >= 0:
        captures[vr] = verdict
        owned.append(vr)
    sel = selectors.DefaultSelector()
    for fd in captures:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pending = memoryview(stdin or b"")
    if proc.stdin is not None:
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
    exited = timed_out = False
    grace_end: float | None = None
    nap = 0.0005
    try:
        while True:
            now = time.monotonic()
            if not exited and _exited(proc.pid):
                exited = True
                _kill_group(proc.pid)
                grace_end = now + _GRACE
            elif not exited and not timed_out and now >= deadline:
                timed_out = True
                _kill_group(proc.pid)
                grace_end = now + _GRACE
            if exited and not sel.get_map():
                break
            end = grace_end if grace_end is not None else deadline
            if now >= end:
                break
            if not sel.get_map():
                time.sleep(min(nap, end - now))
                nap = min(nap * 2, _POLL)
                continue
            for key, _ in sel.select(min(end - now, _POLL)):
                fd = key.fd
                if fd in captures:
                    chunk = _read(fd)
                    if chunk:
                        captures[fd].feed(chunk)
                    elif chunk is not None:
                        sel.unregister(fd)
                else:
                    pending = _write_some(fd, pending)
                    if not pending:
                        sel.unregister(fd)
                        assert proc.stdin is not None
                        proc.stdin.close()
    finally:
        sel.close()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        for fd in owned:
            os.close(fd)
    if exited:
        proc.wait()  # already exited and its group killed: reaping is instant
    elif not timed_out:  # pragma: no cover - loop only ends unexited after the grace period
        timed_out = True
    return out, err, verdict, timed_out


def _read(fd: int) -> bytes | None:
    """Read a chunk; ``b""`` at EOF (or on error), ``None`` on a spurious wake-up (no data yet)."""
    try:
        return os.read(fd, 1 << 16)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _write_some(fd: int, pending: memoryview) -> memoryview:
    """Write what the pipe takes; an empty view when done or the child closed its stdin."""
    try:
        n = os.write(fd, pending[: 1 << 16])
    except BlockingIOError:
        return pending
    except (BrokenPipeError, OSError):
        return memoryview(b"")
    return pending[n:]
