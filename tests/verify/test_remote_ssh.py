"""msvc_ssh against a REAL sshd on 127.0.0.1 (generated host + user keys, a stand-in compiler).

The stand-in for ``cl`` is a shell script that logs its arguments and runs g++ with warnings
on, so the test proves the verifier uploaded the source, ran the compile command remotely,
read warnings from its output and ran the program with stdin piped through ssh — and that a
wrong or unknown host key stops everything before any file leaves this machine.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from halo_forge.errors import ConfigError, VerifierError
from halo_forge.types import Problem, Status
from halo_forge.verify.remote import MSVCSSHVerifier

pytestmark = pytest.mark.toolchain("sshd", "ssh", "scp", "ssh-keygen", "g++")

SUM = Problem(
    id="sum",
    prompt="",
    language="cpp",
    metadata={"io_tests": [{"input": "2 3\n", "output": "5\n"}, {"input": "7 -2", "output": "5"}]},
)
GOOD = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b; }\n"
WRONG = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a * b; }\n"
BROKEN = "int main() { return }\n"
WARNS = "int main() { int unused; return 0; }\n"
NO_TESTS = Problem(id="free", prompt="", language="cpp")


@dataclass
class Server:
    port: int
    dir: Path
    known_hosts: Path
    wrong_known_hosts: Path
    key: Path
    log: Path
    remote: Path

    def options(self, **extra: object) -> dict[str, object]:
        opts: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": getpass.getuser(),
            "key_file": self.key,
            "known_hosts": self.known_hosts,
            "remote_dir": str(self.remote),
            "flags": ["-O0"],
            "compile_command": f"cd {{dir}} && {self.dir}/fakecl.sh {{flags}} -o {{exe}} {{src}}",
            "run_command": "cd {dir} && exec timeout -s KILL {timeout} ./{exe}",
            "cleanup_command": "cd {dir} && rm -f {stem}.*",
            "cache": False,
            "connect_timeout": 5,
        }
        opts.update(extra)
        return opts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True
    )
    return path.with_suffix(".pub").read_text().split()[0:2]  # type: ignore[return-value]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if os.geteuid() != 0:
        pytest.skip("the sshd fixture runs sshd as root (privilege separation needs it)")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # Debian's sshd refuses to start without
    d = tmp_path_factory.mktemp("sshd")
    d.chmod(0o700)
    host = " ".join(_keygen(d / "host_key"))
    other = " ".join(_keygen(d / "other_host_key"))
    _keygen(d / "user_key")
    (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
    port = _free_port()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host}\n")
    (d / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {other}\n")
    (d / "remote").mkdir()
    log = d / "compile.log"
    fakecl = d / "fakecl.sh"
    fakecl.write_text(
        f'#!/bin/sh\n# stand-in for cl.exe\necho "$@" >> {log}\nexec g++ -Wall -Wextra "$@"\n'
    )
    fakecl.chmod(0o755)
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n"
        f"AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n"
        f"AllowUsers {getpass.getuser()}\nLogLevel ERROR\n"
    )
    sshd_bin = shutil.which("sshd")
    assert sshd_bin is not None
    subprocess.run([sshd_bin, "-t", "-f", str(config)], check=True)
    proc = subprocess.Popen(
        [sshd_bin, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(d / "sshd.log", "wb"),  # noqa: SIM115 - lives as long as sshd
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {(d / 'sshd.log').read_text()[-500:]}")
                time.sleep(0.05)
        yield Server(
            port, d, d / "known_hosts", d / "wrong_known_hosts", d / "user_key", log, d / "remote"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def runner(sshd: Server) -> Iterator[MSVCSSHVerifier]:
    v = MSVCSSHVerifier(**sshd.options(run_after_compile=True, run_timeout=2.0))  # type: ignore[arg-type]
    yield v
    v.cleanup()


def _compiles(server: Server) -> int:
    return len(server.log.read_text().splitlines()) if server.log.exists() else 0


def test_reference_passes_and_bad_ones_fail(runner: MSVCSSHVerifier, sshd: Server):
    before = _compiles(sshd)
    r = runner.verify(SUM, GOOD)
    assert (r.status, r.reward, r.tests_passed) == (Status.PASS, 1.0, 2), r
    r = runner.verify(SUM, WRONG)
    assert (r.status, r.tests_passed, r.details) == (Status.FAIL, 0, "case 1: wrong output")
    r = runner.verify(SUM, BROKEN)
    assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0)
    assert "error" in r.details
    assert _compiles(sshd) == before + 3  # really compiled remotely, with our flags
    assert "-O0" in sshd.log.read_text().splitlines()[-1]
    assert list(sshd.remote.iterdir()) == []  # cleanup_command removed every sample's files


def test_warnings_are_collected_compile_only(sshd: Server):
    v = MSVCSSHVerifier(**sshd.options())  # type: ignore[arg-type]
    try:
        r = v.verify(NO_TESTS, WARNS)
        assert (r.status, r.reward) == (Status.FAIL, 0.3)
        assert "unused" in r.details
        r = v.verify(NO_TESTS, "int main() { return 0; }\n")
        assert (r.status, r.reward) == (Status.PASS, 0.5)
    finally:
        v.cleanup()


def _remote_samples() -> list[str]:
    out = subprocess.run(["pgrep", "-f", r"^\./hf-[0-9a-f]{16}\.exe"], capture_output=True)
    return out.stdout.split()


def test_per_test_timeout_and_crash(runner: MSVCSSHVerifier):
    start = time.monotonic()
    r = runner.verify(SUM, "int main() { volatile int x = 0; for (;;) x++; }\n")
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.5)
    assert time.monotonic() - start < 6
    # the run command's {timeout} (3 s for a 2 s case) ends the remote loop too
    while _remote_samples() and time.monotonic() - start < 8:
        time.sleep(0.1)
    assert _remote_samples() == []
    r = runner.verify(NO_TESTS, "int main() { volatile int *p = 0; return *p; }\n")
    assert r.status is Status.RUNTIME_ERROR and r.reward == 0.5


def test_wrong_host_key_is_refused(sshd: Server):
    before = _compiles(sshd)
    v = MSVCSSHVerifier(**sshd.options(known_hosts=sshd.wrong_known_hosts))  # type: ignore[arg-type]
    try:
        with pytest.raises(VerifierError, match="Host key verification failed"):
            v.verify(NO_TESTS, "int main() { return 0; }\n")
        [r] = v.verify_batch([(NO_TESTS, "int main() { return 1; }\n")])
        assert r.status is Status.SANDBOX_ERROR and "Host key verification failed" in r.details
    finally:
        v.cleanup()
    assert _compiles(sshd) == before  # nothing was compiled
    assert list(sshd.remote.iterdir()) == []  # nothing was uploaded


def test_unknown_host_is_refused_without_multiplexing(sshd: Server, tmp_path: Path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    v = MSVCSSHVerifier(**sshd.options(known_hosts=empty, multiplex=False))  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match="Host key verification failed"):
        v.verify(NO_TESTS, "int main() { return 0; }\n")


def test_compile_only_verdicts_are_cached(sshd: Server, tmp_path: Path):
    v = MSVCSSHVerifier(**sshd.options(cache=tmp_path / "cache"))  # type: ignore[arg-type]
    try:
        before = _compiles(sshd)
        first = v.verify(NO_TESTS, WARNS)
        second = v.verify(NO_TESTS, WARNS)
        assert (first.status, first.reward) == (second.status, second.reward) == (Status.FAIL, 0.3)
        assert _compiles(sshd) == before + 1
    finally:
        v.cleanup()


def test_configuration_errors(sshd: Server, tmp_path: Path):
    with pytest.raises(ConfigError, match="known_hosts is required"):
        MSVCSSHVerifier(host="127.0.0.1")
    with pytest.raises(ConfigError, match="host is required"):
        MSVCSSHVerifier(known_hosts=sshd.known_hosts)
    with pytest.raises(ConfigError, match="not a valid template"):
        MSVCSSHVerifier(**sshd.options(compile_command="cl {source}"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="/W0"):
        MSVCSSHVerifier(**sshd.options(flags=["/W0"]))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not a plain name"):
        MSVCSSHVerifier(**sshd.options(host="-oProxyCommand=touch /tmp/x"))  # type: ignore[arg-type]


def _masters() -> list[bytes]:
    out = subprocess.run(["pgrep", "-f", "ssh .*ControlPath=/tmp/hf-ssh-"], capture_output=True)
    return out.stdout.split()


def test_one_master_connection_closed_by_cleanup_and_reopened(sshd: Server):
    v = MSVCSSHVerifier(**sshd.options())  # type: ignore[arg-type]
    before = set(_masters())
    assert v.verify(NO_TESTS, "int main() { return 0; }\n").passed
    assert v._sockdir is not None and os.path.exists(f"{v._sockdir}/cm")
    mine = set(_masters()) - before
    assert len(mine) == 1  # one master for the samples to share
    v.cleanup()
    deadline = time.monotonic() + 5
    while mine & set(_masters()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mine & set(_masters())  # the master is gone
    assert v.verify(NO_TESTS, "int main() { return 0; }\n").passed  # and reopens on demand
    v.cleanup()
