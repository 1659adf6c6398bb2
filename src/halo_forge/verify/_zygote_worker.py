"""One Python verification worker: started once, forks a fresh candidate process per sample.

Run as ``python -s -S -P _zygote_worker.py MODE UID SCRATCH SCRATCH_BYTES`` by
``halo_forge.verify.zygote`` (inside bubblewrap when available: MODE ``bwrap``; else
``rlimits``). Standalone, standard library only. Three kinds of process:

* **judge** (this process after start-up; trusted, root inside the sandbox with a handful of
  capabilities): reads jobs from the host on stdin, runs the tests (``_py_judge``), writes one
  verdict per job to stdout. It holds the tests and expected values; it never runs candidate
  code and nothing is ever forked from it.
* **zygote** (forked from the judge at start-up, *before any job arrived*, so its memory holds
  no test data): small and warm (the standard library modules samples commonly use are already
  imported, ``gc.freeze()``-d), it only forks. On the judge's request it creates a new PID
  namespace (bubblewrap mode) and forks a **candidate** process, reaps it, and reports how it
  ended. Forking from a ~10 MiB zygote costs ~0.5 ms; from a trainer it would cost many ms.
* **candidate** (``_py_harness.child_main``): PID 1 of its own namespace, switches to the
  slot's non-root uid (every capability dropped, ``RLIMIT_NPROC`` effective), dies with the
  zygote, empties and enters the bounded scratch tmpfs, lowers its rlimits to the job's, then
  runs the sample and answers the judge's calls. Killing it kills everything it started.

The judge and the zygote talk over a ``SOCK_SEQPACKET`` pair: ``spawn`` carries the child's
four pipe ends (``SCM_RIGHTS``); the zygote answers ``("pid", pid)`` then, once reaped,
``("status", wait_status)``. The host channel (stdin/stdout) is moved to high fds at start-up so
nothing the tests print can corrupt it.
"""

import gc
import marshal
import os
import socket
import sys
import time
import traceback

CLONE_NEWPID = 0x20000000
PR_SET_DUMPABLE = 4
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 2, 4, 8, 32
# Imported in the zygote so samples find them warm (HumanEval/MBPP prompts and solutions use
# these); anything else is imported by the sample itself from the read-only standard library.
PRELOAD = (
    "typing",
    "re",
    "collections",
    "itertools",
    "functools",
    "math",
    "heapq",
    "bisect",
    "string",
    "copy",
    "operator",
)


def main():
    mode, uid, scratch, scratch_bytes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import _py_harness
    import _py_judge

    sys.path.remove(here)
    host_in, host_out = _move_host_channel()
    notes = []
    _prefer_for_oom(notes)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    # Not dumpable: processes of our uid cannot ptrace us or read /proc/<pid>/mem (what keeps
    # a same-uid candidate out of the judge's memory at the rlimits-only level, unless root).
    libc.prctl(PR_SET_DUMPABLE, 0)
    if mode == "bwrap":
        _mount_scratch(libc, scratch, uid, int(scratch_bytes), notes)
        _hide_other_processes(libc, notes)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError as exc:
            notes.append(f"preload {name}: {exc}")
    judge_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        judge_end.close()
        os.close(host_in)
        os.close(host_out)
        pidns = libc if mode == "bwrap" else None
        _zygote(zygote_end, pidns, uid if mode == "bwrap" else None, scratch, _py_harness)
    zygote_end.close()
    _write_frame(host_out, {"hello": True, "pid": os.getpid(), "mode": mode, "notes": notes})
    _judge_loop(judge_end, host_in, host_out, _py_judge)


def _move_host_channel():
    """Keep the host pipes on high fds; stdin/stdout become /dev/null and stderr."""
    import fcntl

    host_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 200)
    host_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 200)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    return host_in, host_out


def _prefer_for_oom(notes):
    """Make this sandbox the OOM killer's first choice (children inherit it), not the trainer."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError as exc:
        notes.append(f"oom_score_adj: {exc}")


def _mount_scratch(libc, path, uid, size, notes):
    """A small tmpfs owned by the sample uid: bounded bytes *and* files, no exec, no devices."""
    opts = f"size={size},nr_inodes=4096,mode=0700,uid={uid},gid={uid}".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, opts) != 0:
        import ctypes

        raise OSError(ctypes.get_errno(), f"cannot mount the scratch tmpfs on {path}")


def _hide_other_processes(libc, notes):
    """``hidepid=invisible``: a sample's /proc shows only its own processes."""
    flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC
    if libc.mount(b"proc", b"/proc", b"proc", flags, b"hidepid=invisible") != 0:
        notes.append("/proc hidepid: remount failed")


def _zygote(sock, libc, uid, scratch, harness):
    """The fork loop (never returns). See the module docstring.

    ``unshare(CLONE_NEWPID)`` works once per process (it sets the namespace for *future*
    children, and refuses while that differs from ours), so after each fork the zygote points
    it back at its own namespace with ``setns``: two syscalls per sample, no extra process.
    """
    own_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if libc else -1
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    fork, close, waitpid, exit_ = os.fork, os.close, os.waitpid, os._exit  # before the guards
    # O_PATH: we may not read it (0700, the sample uid's), the child can still fchdir to it.
    scratch_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    harness.prepare(scratch)  # builds the children's code and installs the in-process guards
    gc.collect()
    gc.freeze()  # children do not touch these pages when they collect: cheaper copy-on-write
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 64, 4)
        except OSError:
            exit_(1)
        if not msg:
            exit_(0)
        if libc is not None and libc.unshare(CLONE_NEWPID) != 0:
            for fd in fds:
                close(fd)
            sock.send(marshal.dumps(("error", "unshare(CLONE_NEWPID) failed")))
            continue
        pid = fork()
        if pid == 0:
            sock.close()
            harness.child_main(fds, uid, scratch_fd)
            exit_(1)
        if libc is not None and libc.setns(own_ns, CLONE_NEWPID) != 0:
            exit_(3)  # cannot reset: the next unshare would fail; the host restarts us
        for fd in fds:
            close(fd)
        sock.send(marshal.dumps(("pid", pid)))
        _, status = waitpid(pid, 0)
        sock.send(marshal.dumps(("status", status)))


def _judge_loop(zsock, host_in, host_out, judge_mod):
    judge_mod.install_alarm()
    child = _spawn(zsock, judge_mod)
    while True:
        job = _read_frame(host_in)
        if job is None:
            return
        verdict, pending = _one_job(job, child, zsock, judge_mod)
        _write_frame(host_out, verdict)  # answer first; reaping overlaps with the host's work
        if pending:
            _await_status(zsock, None)
        child = _spawn(zsock, judge_mod)


def _one_job(job, child, zsock, judge_mod):
    """Judge one job with the waiting child and end it: ``(verdict, status still pending)``."""
    start = time.monotonic()
    child.set_output_caps(job["output_bytes"])
    try:
        verdict = judge_mod.judge(job, child)
    except BaseException as exc:  # noqa: BLE001 - a bug of ours: say so, keep serving
        verdict = {"judge_error": "judge crashed: " + "".join(traceback.format_exception(exc))}
    died, pending = "", True
    if child.eof and not child.killed:
        status = _await_status(zsock, 0.2)  # exited on its own, or only closed its channel?
        if status is None:
            died = "closed its channel to the judge"
        else:
            died, pending = _describe_status(status), False
    if pending:
        child.kill()
    child.drain()
    verdict.update(
        timed_out=child.timed_out,
        gone=child.gone,
        died=died,
        stdout=child.out.text(),
        stderr=child.err.text(),
        duration=time.monotonic() - start,
    )
    return verdict, pending


def _await_status(zsock, timeout):
    """The zygote's ``("status", s)`` for the current child; ``None`` if not within timeout."""
    zsock.settimeout(timeout)
    try:
        msg = marshal.loads(zsock.recv(256))
    except TimeoutError:
        return None
    finally:
        zsock.settimeout(None)
    if msg[0] != "status":
        raise RuntimeError(f"zygote protocol: expected status, got {msg!r}")
    return msg[1]


def _describe_status(status):
    if os.WIFSIGNALED(status):
        import signal

        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"killed by {name}"
    return f"exited with code {os.WEXITSTATUS(status)}"


def _spawn(zsock, judge_mod):
    """Ask the zygote for a fresh candidate process; returns its judge-side handle."""
    req_r, req_w = os.pipe2(os.O_CLOEXEC)
    rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    theirs = [req_r, rep_w, out_w, err_w]
    try:
        socket.send_fds(zsock, [b"spawn"], theirs)
        msg = marshal.loads(zsock.recv(256))
    finally:
        for fd in theirs:
            os.close(fd)
    if msg[0] != "pid":
        raise RuntimeError(f"zygote could not fork: {msg!r}")
    return judge_mod.Child(msg[1], req_w, rep_r, out_r, err_r)


def _read_frame(fd):
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, int.from_bytes(head, "big"))
    return None if body is None else marshal.loads(body)


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_frame(fd, obj):
    data = marshal.dumps(obj)
    data = memoryview(len(data).to_bytes(4, "big") + data)
    while data:
        data = data[os.write(fd, data) :]


if __name__ == "__main__":
    main()
