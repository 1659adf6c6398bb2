"""The fork-server pool and the bubblewrap command lines, without going through a verifier."""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import signal
import time

import pytest

from halo_forge.types import Problem, Status
from halo_forge.verify import isolation as iso
from halo_forge.verify import zygote
from halo_forge.verify.python import PythonTestVerifier, decide
from halo_forge.verify.zygote import WorkerPool

ISO = iso.probe()
needs_bwrap = pytest.mark.skipif(
    not ISO.full, reason=f"needs bubblewrap isolation; here: {ISO.level} ({ISO.reason})"
)
ADD = Problem(id="z-add", prompt="", tests=["assert add(1, 2) == 3"], entry_point="add")
GOOD = "def add(a, b):\n    return a + b\n"
V = PythonTestVerifier(timeout=2.0)


def _descendants(root: int) -> list[int]:
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parents[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parents.items() if p == pid]
        found += kids
        todo += kids
    return found


def _run(pool: WorkerPool, code: str = GOOD, timeout: float = 2.0) -> Status:
    return decide(pool.run(V.job(ADD, code), timeout))[0]


# --- command lines (pure) ---------------------------------------------------------------------


def test_bwrap_argv_is_built_for_root_not_left_to_defaults():
    argv = iso.bwrap_argv("/usr/bin/bwrap", caps=iso.ZYGOTE_CAPS, binds=(("/a/b", "/a/b"),))
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--clearenv"):
        assert flag in argv
    # No user namespace (it would map a single uid: nothing non-root to switch to), and every
    # capability dropped before the few the trusted side needs are added back.
    assert "--unshare-all" not in argv and "--unshare-user" not in argv
    drop = argv.index("--cap-drop")
    assert argv[drop + 1] == "ALL" and all(argv.index(c) > drop for c in iso.ZYGOTE_CAPS)
    assert argv[-1] == "--" and argv[argv.index("--bind") :][:3] == ["--bind", "/a/b", "/a/b"]
    # parents of binds are created 0755 (bubblewrap would copy /root's 0700)
    assert argv[argv.index("/a") - 3 : argv.index("/a") + 1] == ["--perms", "0755", "--dir", "/a"]


def test_mount_plan_is_a_whitelist():
    args = iso.mount_args()
    bound = {args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"}
    assert {"/usr", "/etc"} <= bound
    assert not bound & {"/", "/root", "/home", "/work", "/run", "/var"}
    assert os.path.realpath(os.sys.base_prefix) in bound or any(
        os.path.realpath(os.sys.base_prefix).startswith(b + "/") for b in bound
    )


def test_slot_uids_are_unprivileged_and_distinct():
    uids = [iso.slot_uid(s) for s in range(iso.SLOTS_PER_PROCESS)]
    assert len(set(uids)) == len(uids) and min(uids) >= iso.UID_BASE and max(uids) < 2**31
    with pytest.raises(ValueError):
        iso.slot_uid(iso.SLOTS_PER_PROCESS)


def test_resolve_program(tmp_path):
    path, extra = iso.resolve_program("sh", tmp_path)
    assert path.endswith("/sh") and extra == ()
    with pytest.raises(FileNotFoundError):
        iso.resolve_program("definitely-not-a-program", tmp_path)
    tool = tmp_path / "kit" / "bin" / "tool"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert iso.resolve_program(str(tool), tmp_path / "elsewhere") == (
        str(tool),
        (str(tmp_path / "kit"),),  # the installation prefix comes along, read-only
    )


# --- the pool ---------------------------------------------------------------------------------


@pytest.fixture
def pool():
    p = WorkerPool(1)
    yield p
    p.close()


@needs_bwrap
def test_worker_set_up_everything_it_wanted(pool: WorkerPool):
    assert _run(pool) is Status.PASS
    assert pool._workers[0].notes == []  # scratch tmpfs, hidepid, oom_score_adj all applied


def test_a_killed_worker_is_replaced(pool: WorkerPool):
    assert _run(pool) is Status.PASS
    worker = pool._workers[0]
    os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    assert _run(pool) is Status.PASS  # noticed before sending: restarted, job not lost


def test_a_hung_worker_is_a_sandbox_error_then_replaced(pool, monkeypatch):
    monkeypatch.setattr(zygote, "GRACE", 0.3)
    assert _run(pool) is Status.PASS
    first = pool._workers[0].proc.pid
    for pid in [first, *_descendants(first)]:  # bubblewrap, the judge, the zygote, the child
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    start = time.monotonic()
    verdict = pool.run(V.job(ADD, GOOD), 0.5)
    assert decide(verdict)[0] is Status.SANDBOX_ERROR and "worker lost" in verdict["judge_error"]
    assert time.monotonic() - start < 3.0
    assert _run(pool) is Status.PASS and pool._workers[0].proc.pid != first


def test_pools_never_share_a_slot():
    a, b = WorkerPool(2), WorkerPool(2)
    try:
        assert not {w.slot for w in a._workers} & {w.slot for w in b._workers}
    finally:
        a.close()
        b.close()


def test_a_forked_process_gets_its_own_pool():
    assert V.verify(ADD, GOOD).passed  # the parent's shared pool is up
    parent_workers = {w.proc.pid for w in V.pool()._workers if w.alive()}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            ok = V.verify(ADD, GOOD).passed
            mine = {w.proc.pid for w in V.pool()._workers if w.alive()}
            os.write(write, marshal.dumps((ok, sorted(mine & parent_workers))))
        finally:
            os._exit(0)
    os.close(write)
    ok, shared = marshal.loads(os.read(read, 4096))
    os.waitpid(pid, 0)
    os.close(read)
    assert ok and shared == []
    assert V.verify(ADD, GOOD).passed  # and the parent's pool still works


def test_reduced_isolation_warns_loudly_once(caplog, monkeypatch):
    monkeypatch.setattr(iso, "_warned", iso.threading.Event())
    reduced = iso.Isolation("rlimits-only", "bubblewrap is not installed (test)")
    with caplog.at_level(logging.WARNING, logger="halo_forge.verify.isolation"):
        iso.warn_if_reduced(reduced)
        iso.warn_if_reduced(reduced)
        iso.warn_if_reduced(iso.Isolation("bubblewrap"))
    records = [r for r in caplog.records if "REDUCED" in r.getMessage()]
    assert len(records) == 1 and "not installed" in records[0].getMessage()


def test_rlimits_only_level_still_verifies():
    v = PythonTestVerifier(timeout=2.0, isolation="rlimits-only")
    assert v.verify(ADD, GOOD).passed
    assert v.verify(ADD, "def add(a, b):\n    return 0\n").status is Status.FAIL
    assert v.pool().isolation.level == "rlimits-only"
