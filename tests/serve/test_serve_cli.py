"""``halo-forge serve`` through the real CLI: bad input fails in one line; Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

NO_TORCH = (
    "import sys; from halo_forge.cli.main import run; rc = run(sys.argv[1:]); "
    "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", NO_TORCH, "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode != 0, p
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("halo-forge: error: ")
    assert "Traceback" not in p.stderr + p.stdout
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_model_path(tmp_path):
    p = cli("--model", str(tmp_path / "missing"))
    assert_one_line_error(p, "--model", "does not exist")
    assert p.returncode == 3


def test_folder_that_is_not_a_model(tmp_path):
    assert_one_line_error(cli("--model", str(tmp_path)), "neither a model folder")


def test_bad_checkpoint(tmp_path):
    assert_one_line_error(cli("--checkpoint", str(tmp_path / "nope")), "--checkpoint")


def test_port_out_of_range():
    assert_one_line_error(cli("--port", "70000"), "--port")


def test_busy_port_fails_before_loading(tiny_model):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = cli("--model", str(tiny_model), "--port", str(port))
    assert_one_line_error(p, f"cannot listen on 127.0.0.1:{port}", "--port")


def test_serve_forever_stops_on_sigterm(fake_engine, capsys):
    """In-process (fast): SIGTERM stops serve_forever like Ctrl-C and the old handler is back."""
    import threading

    from halo_forge.serve.server import serve_forever

    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    serve_forever(fake_engine, "127.0.0.1", 0)
    timer.join()
    assert "Stopped." in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.integration
def test_serve_answers_then_stops_on_ctrl_c(tiny_model):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "halo_forge.cli.main",
            "serve",
            "-m",
            str(tiny_model),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("Serving "):
                url = line.split(" at ")[1].split()[0]
        assert url and url.startswith("http://127.0.0.1:")
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        req = urllib.request.Request(
            f"{url}/chat/completions", body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.load(resp)["object"] == "chat.completion"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err
    assert '"POST /v1/chat/completions HTTP/1.1" 200' in err  # the request log
