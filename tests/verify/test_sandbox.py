"""The sandbox itself, driven with small shell/Python programs (no verifier involved)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from halo_forge.verify.sandbox import Limits, isolation_level, parse_verdict, run_sandboxed

PY = [sys.executable, "-I", "-S", "-c"]


def test_runs_and_captures(tmp_path: Path):
    res = run_sandboxed(
        ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path, timeout=5
    )
    assert (res.stdout, res.stderr, res.returncode) == ("out\n", "err\n", 3)
    assert not res.timed_out and res.signal is None and res.verdict is None


def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_TEST_SECRET", "hunter2")
    res = run_sandboxed(["/usr/bin/env"], cwd=tmp_path, timeout=5)
    env = dict(line.split("=", 1) for line in res.stdout.splitlines())
    assert env == {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)}


def test_cwd_is_the_scratch_dir(tmp_path: Path):
    assert run_sandboxed(["/bin/pwd"], cwd=tmp_path, timeout=5).stdout.strip() == str(tmp_path)


def test_stdin_is_delivered(tmp_path: Path):
    data = b"x" * 300_000  # larger than a pipe buffer: must be written concurrently
    res = run_sandboxed(["/usr/bin/wc", "-c"], cwd=tmp_path, timeout=5, stdin=data)
    assert res.stdout.strip() == "300000"


def test_no_stdin_means_devnull(tmp_path: Path):
    assert run_sandboxed(["/bin/cat"], cwd=tmp_path, timeout=5).stdout == ""


def test_timeout_kills_process_group(tmp_path: Path):
    start = time.monotonic()
    res = run_sandboxed(
        ["/bin/sh", "-c", "sleep 30 & sleep 30; echo never"], cwd=tmp_path, timeout=0.5
    )
    assert res.timed_out and res.signal == signal.SIGKILL
    assert "never" not in res.stdout
    assert time.monotonic() - start < 2.0


def test_background_child_holding_pipe_does_not_block(tmp_path: Path):
    # The leader exits at once; its child keeps stdout open. We must not wait for EOF.
    start = time.monotonic()
    res = run_sandboxed(["/bin/sh", "-c", "sleep 30 & echo started"], cwd=tmp_path, timeout=10)
    assert time.monotonic() - start < 2.0
    assert res.stdout == "started\n" and res.returncode == 0 and not res.timed_out


def test_escaped_grandchild_does_not_block(tmp_path: Path):
    # setsid() leaves our process group (a known gap: it survives); we still return promptly.
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); open('pid', 'w').write(str(os.getpid())); time.sleep(30)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2); print('parent', flush=True)\n"
    )
    start = time.monotonic()
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=10)
    assert time.monotonic() - start < 2.0
    assert res.stdout == "parent\n"
    pid = int((tmp_path / "pid").read_text())
    os.kill(pid, signal.SIGKILL)  # clean up the escapee ourselves


def test_output_is_capped_while_drained(tmp_path: Path):
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


def test_memory_limit(tmp_path: Path):
    res = run_sandboxed(
        [*PY, "x = ' ' * 10**10"], cwd=tmp_path, timeout=10, limits=Limits(address_space=512 << 20)
    )
    assert res.returncode != 0
    assert "MemoryError" in res.stderr


def test_file_size_limit(tmp_path: Path):
    code = "open('big', 'wb').write(b'x' * (4 << 20))"
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=10, limits=Limits(file_size=1 << 20))
    assert res.returncode != 0
    assert (tmp_path / "big").stat().st_size <= 1 << 20


def test_cpu_limit_backs_up_wall_clock(tmp_path: Path):
    res = run_sandboxed(
        [*PY, "while True: pass"], cwd=tmp_path, timeout=10, limits=Limits(cpu_seconds=1)
    )
    assert res.signal in (signal.SIGXCPU, signal.SIGKILL) and not res.timed_out


def test_core_dumps_disabled(tmp_path: Path):
    res = run_sandboxed(
        [*PY, "import resource; print(resource.getrlimit(resource.RLIMIT_CORE))"],
        cwd=tmp_path,
        timeout=5,
    )
    assert res.stdout.strip() == "(0, 0)"


def test_verdict_channel(tmp_path: Path):
    code = (
        "import os, sys\n"
        "fd = int(sys.argv[-1])\n"
        "print('{\"fake\": true}')\n"
        'os.write(fd, b\'{"stage": "loaded"}\\n{"ok": 1}\\n\')\n'
    )
    res = run_sandboxed([*PY, code], cwd=tmp_path, timeout=5, verdict_fd=True)
    assert res.verdict == {"ok": 1}


def test_verdict_fd_is_not_inherited_without_flag(tmp_path: Path):
    res = run_sandboxed(["/bin/ls", "/proc/self/fd"], cwd=tmp_path, timeout=5)
    assert sorted(int(x) for x in res.stdout.split()) == [0, 1, 2, 3]  # 3 = ls's own dir fd


def test_parse_verdict_takes_last_wellformed_object():
    assert parse_verdict(b'{"a": 1}\n{"b": 2}\ngarbage\n{"c": \n') == {"b": 2}
    assert parse_verdict(b"") is None
    assert parse_verdict(b"[1, 2]\n") is None


def test_missing_program_raises(tmp_path: Path):
    with pytest.raises(OSError):
        run_sandboxed(["/nonexistent/prog"], cwd=tmp_path, timeout=5)


def test_isolation_level_is_reported():
    assert isolation_level() == "rlimits-only"
