"""``msvc_ssh``: compile C/C++ on a remote (Windows) host over SSH, optionally run it there.

The real OpenSSH client does the work — ``scp`` uploads the source, ``ssh`` runs a configurable
compile command (default ``cl /nologo /W4 /EHsc {flags} {src} /Fe:{exe}``), and with
``run_after_compile`` the io tests run remotely, stdin/stdout piped through ``ssh``. Same
ladder and options as the local C/C++ verifiers (:mod:`halo_forge.verify.native`); warnings
are the lines matching ``warning_pattern`` in the compiler's stdout *or* stderr (``cl`` prints
its diagnostics on stdout). ``/w``, ``/W0`` and ``-w`` are refused in ``flags``.

Security posture (the host key is the point):

* ``StrictHostKeyChecking=yes`` against ``known_hosts`` (required: a file with the host's key,
  e.g. from ``ssh-keyscan`` *checked against the host's fingerprint*); ``GlobalKnownHostsFile``
  is ``/dev/null``, so only that file counts. An unknown or changed host key is refused: the
  sample ends as ``SANDBOX_ERROR`` (infrastructure), nothing is uploaded.
* ``-F none``: no ``~/.ssh/config`` or system config changes what we run; ``BatchMode=yes``,
  no password or keyboard-interactive prompts, no agent (``IdentityAgent=none``), only
  ``key_file`` (``IdentitiesOnly=yes``).
* ``multiplex=True`` (default) opens one master connection (``ControlMaster``, a socket in a
  private 0700 temp dir, ``ControlPersist`` 120 s idle) so each sample costs no handshake;
  :meth:`MSVCSSHVerifier.cleanup` (or ``with verifier:``) ends it.

What it does not do: sandbox the remote side. The compile (and, in run mode, the sample's
program) runs as the remote user, so use a throw-away build VM; per-test timeouts kill our
``ssh`` client, and the remote process outlives that (sshd does not kill a command without a
terminal when the client goes) unless the run command enforces its own limit with the
``{timeout}`` placeholder (``timeout {timeout} ./{exe}`` on POSIX; on Windows e.g. a job
object wrapper). Remote files are named ``hf-<random>.*`` in ``remote_dir`` and removed afterwards
by ``cleanup_command``. An exit status of 255 from ``ssh`` is read as an SSH failure during the
compile; in run mode only when ``ssh`` also said so on stderr (a program may exit with 255).

With ``cache`` and compile-only mode the verdict (not a binary, which stays remote) is cached
under the host, port, user, commands, flags and the output of ``version_command`` (e.g. ``cl``,
whose banner names the compiler version; without it, a remote compiler upgrade is not seen).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from halo_forge.errors import ConfigError, VerifierError
from halo_forge.types import ExecResult
from halo_forge.verify.base import one_line
from halo_forge.verify.cache import cache_key
from halo_forge.verify.native import Compiled, CompiledVerifier, _first_line, resolve_tool

__all__ = ["MSVCSSHVerifier", "RemoteArtifact"]

DEFAULT_COMPILE = "cd /d {dir} && cl /nologo /W4 /EHsc {flags} {src} /Fe:{exe}"
DEFAULT_RUN = "cd /d {dir} && {exe}"
DEFAULT_CLEANUP = "cd /d {dir} && del /q {stem}.*"
_SSH_FAILURE = re.compile(
    r"^(ssh: |Host key verification failed|Permission denied \(|Connection (closed|reset|timed)"
    r"|kex_exchange_identification|Control socket)",
    re.MULTILINE,
)


class RemoteArtifact(NamedTuple):
    """The files of one sample on the remote host."""

    stem: str
    src: str
    exe: str


class _Capture(threading.Thread):
    """Drain a pipe, keep the first ``cap`` bytes (a remote flood must not fill our memory)."""

    def __init__(self, pipe: Any, cap: int) -> None:
        super().__init__(daemon=True)
        self.pipe, self.cap, self.data, self.dropped = pipe, cap, bytearray(), 0

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(1 << 16):
                room = self.cap - len(self.data)
                self.data += chunk[: max(room, 0)]
                self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.data.decode("utf-8", "replace")
        return out + (
            f"\n[halo-forge: {self.dropped} more bytes discarded]" if self.dropped else ""
        )


def run_local(argv: list[str], stdin: bytes | None, timeout: float, cap: int) -> ExecResult:
    """Run a trusted local tool (ssh/scp) with a wall-clock kill and capped output.

    Not :func:`~halo_forge.verify.sandbox.run_sandboxed`: that one will cut the network off.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    out, err = _Capture(proc.stdout, cap), _Capture(proc.stderr, cap)
    out.start()
    err.start()
    if proc.stdin is not None:
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.write(stdin or b"")
        with contextlib.suppress(OSError):
            proc.stdin.close()
    timed_out = False
    try:
        proc.wait(timeout=max(0.0, timeout - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, 9)
        proc.wait()
    out.join(1.0)
    err.join(1.0)
    rc = proc.returncode
    return ExecResult(
        returncode=rc,
        signal=-rc if rc is not None and rc < 0 else None,
        timed_out=timed_out,
        stdout=out.text(),
        stderr=err.text(),
        wall_time=time.monotonic() - start,
    )


def _close_master(ssh: str, options: list[str], dest: str, sockdir: str) -> None:
    if os.path.exists(f"{sockdir}/cm"):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                [ssh, *options, "-o", f"ControlPath={sockdir}/cm", "-O", "exit", dest],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=10,
                check=False,
            )
    shutil.rmtree(sockdir, ignore_errors=True)


class MSVCSSHVerifier(CompiledVerifier):
    """Compile (and optionally run) C/C++ on a remote host over SSH. See the module docstring.

    Command templates take ``{dir}`` (``remote_dir``), ``{src}``, ``{exe}``, ``{stem}`` (the
    sample's remote file names), ``{flags}`` (``flags`` joined by spaces) and, for the run
    command, ``{timeout}`` (the case's timeout in whole seconds + 1, for a remote-side limit).
    """

    name = "msvc_ssh"
    forbidden_flags = ("/w", "/W0", "-w", "-W0")

    def __init__(
        self,
        flags: Sequence[str] = ("/O2",),
        *,
        host: str | None = None,
        known_hosts: str | Path | None = None,
        user: str | None = None,
        port: int = 22,
        key_file: str | Path | None = None,
        remote_dir: str = ".",
        compile_command: str = DEFAULT_COMPILE,
        run_command: str = DEFAULT_RUN,
        cleanup_command: str | None = DEFAULT_CLEANUP,
        exe_suffix: str = ".exe",
        warning_pattern: str = r"warning( C\d+)?:",
        error_pattern: str = r"error( C\d+)?:",
        version_command: str | None = None,
        connect_timeout: float = 10.0,
        multiplex: bool = True,
        ssh: str = "ssh",
        scp: str = "scp",
        **options: Any,
    ) -> None:
        super().__init__(flags, **options)
        if not host:
            raise ConfigError("msvc_ssh: host is required (the Windows build machine)")
        if known_hosts is None:
            raise ConfigError(
                "msvc_ssh: known_hosts is required: a file holding the host's public key (from "
                "ssh-keyscan, checked against the host's fingerprint); host keys are verified"
            )
        if not Path(known_hosts).is_file():
            raise ConfigError(f"msvc_ssh: known_hosts file {known_hosts} does not exist")
        if key_file is not None and not Path(key_file).is_file():
            raise ConfigError(f"msvc_ssh: key_file {key_file} does not exist")
        for what, value in (("host", host), ("user", user or "x")):
            if value.startswith("-") or any(c.isspace() or c in "@'\"" for c in value):
                raise ConfigError(f"msvc_ssh: {what} {value!r} is not a plain name")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"msvc_ssh: port must be in 1..65535; got {port!r}")
        self.host, self.port, self.remote_dir = host, port, remote_dir
        self.dest = f"{user}@{host}" if user else host
        self.commands = {"compile": compile_command, "run": run_command}
        if cleanup_command:
            self.commands["cleanup"] = cleanup_command
        for what, template in self.commands.items():
            try:
                template.format(dir="d", src="s", exe="e", stem="t", flags="f", timeout=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(
                    f"msvc_ssh: {what}_command {template!r} is not a valid template "
                    f"({one_line(exc)}); placeholders: {{dir}} {{src}} {{exe}} {{stem}} {{flags}} "
                    "{timeout}"
                ) from exc
        self.exe_suffix = exe_suffix
        self.warning_re = re.compile(warning_pattern, re.IGNORECASE)
        self.error_re = re.compile(error_pattern, re.IGNORECASE)
        self.version_command = version_command
        self.connect_timeout = connect_timeout
        self.ssh, self.scp = resolve_tool(ssh), resolve_tool(scp)
        self.options = [
            "-F", "none",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={Path(known_hosts).resolve()}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "CheckHostIP=no",
            "-o", "UpdateHostKeys=no",
            "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", f"ConnectTimeout={max(1, round(connect_timeout))}",
            "-o", "ServerAliveInterval=15",
            "-o", "LogLevel=ERROR",
        ]  # fmt: skip
        if key_file is not None:
            self.options += ["-i", str(Path(key_file).resolve())]
        self.options += ["-p", str(port)]
        self.multiplex = multiplex
        self._lock = threading.Lock()
        self._version: str | None = None
        self._sockdir: str | None = None  # private 0700 dir holding the master's socket
        self._finalizer: weakref.finalize | None = None

    # -- ssh plumbing --------------------------------------------------------------------------
    def _mux(self) -> list[str]:
        """Use the master's socket if there is one (ssh connects directly if it is gone)."""
        if self._sockdir is None:
            return []
        return ["-o", f"ControlPath={self._sockdir}/cm", "-o", "ControlMaster=no"]

    def _ssh_argv(self, command: str) -> list[str]:
        return [self.ssh, *self.options, *self._mux(), self.dest, "--", command]

    def _ssh_failed(self, res: ExecResult, what: str) -> VerifierError:
        reason = _first_line(res.stderr, _SSH_FAILURE) or res.stderr.strip()[:200]
        return VerifierError(
            f"msvc_ssh: {what} on {self.dest}:{self.port} failed: {reason or _why(res)}"
        )

    def _ensure_master(self) -> None:
        """Open the shared connection if it is not up (this is where a bad host key is refused)."""
        if not self.multiplex:
            return
        with self._lock:
            if self._sockdir is not None and os.path.exists(f"{self._sockdir}/cm"):
                return
            if self._sockdir is None:
                self._sockdir = tempfile.mkdtemp(prefix="hf-ssh-")
                self._finalizer = weakref.finalize(
                    self, _close_master, self.ssh, list(self.options), self.dest, self._sockdir
                )
            argv = [self.ssh, *self.options, "-o", f"ControlPath={self._sockdir}/cm"]
            argv += ["-o", "ControlMaster=yes", "-o", "ControlPersist=120", "-f", "-N", self.dest]
            with tempfile.TemporaryFile() as errfile:
                try:
                    rc = subprocess.run(
                        argv,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=errfile,  # a file: the backgrounded master must not hold a pipe
                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
                        timeout=self.connect_timeout + 20,
                        check=False,
                    ).returncode
                except subprocess.TimeoutExpired:
                    rc = 255
                    errfile.write(b"ssh: connection timed out\n")
                errfile.seek(0)
                err = errfile.read().decode("utf-8", "replace")
            if rc != 0:
                raise self._ssh_failed(ExecResult(rc, None, False, "", err, 0.0), "connecting")

    def cleanup(self) -> None:
        """End the shared SSH connection (also done when the verifier is garbage-collected).

        The verifier stays usable: the next sample opens a new connection.
        """
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._sockdir, self._finalizer = None, None

    def _format(self, what: str, art: RemoteArtifact, timeout: float = 0.0) -> str:
        return self.commands[what].format(
            dir=self.remote_dir,
            src=art.src,
            exe=art.exe,
            stem=art.stem,
            flags=" ".join(self.flags),
            timeout=math.ceil(timeout) + 1,
        )

    def _remote_version(self) -> str:
        if self.version_command is None:
            return ""
        if self._version is None:
            res = run_local(self._ssh_argv(self.version_command), None, self.compile_timeout, 8192)
            if res.returncode == 255 or res.timed_out:
                raise self._ssh_failed(res, "version_command")
            self._version = (res.stdout + res.stderr).strip()
        return self._version

    # -- CompiledVerifier hooks ----------------------------------------------------------------
    def _error_line(self, res: ExecResult) -> str:
        return _first_line(f"{res.stdout}\n{res.stderr}", self.error_re)

    def _toolchain_key(self, lang: str) -> str:
        parts = [self.dest, str(self.port), self.remote_dir, self.commands["compile"]]
        return "|".join([*parts, self._remote_version()])

    def _compile(self, lang: str, code: str, scratch: Path) -> Compiled:
        use_cache = self.cache is not None and not self.run_after_compile
        key = ""
        if use_cache:
            assert self.cache is not None
            key = cache_key(self.name, lang, self._toolchain_key(lang), "\0".join(self.flags), code)
            rec = self.cache.get(key)
            if rec is not None:
                return Compiled.from_record(rec, None)
        compiled = self._compile_remote(lang, code, scratch)
        if use_cache and self._cacheable(compiled):
            assert self.cache is not None
            self.cache.put(key, compiled.record())
        return compiled

    def _compile_remote(self, lang: str, code: str, scratch: Path) -> Compiled:
        self._ensure_master()
        stem = f"hf-{uuid.uuid4().hex[:16]}"
        art = RemoteArtifact(
            stem, f"{stem}.{'c' if lang == 'c' else 'cpp'}", stem + self.exe_suffix
        )
        local = scratch / art.src
        local.write_text(code, encoding="utf-8", errors="replace")
        remote = art.src if self.remote_dir in ("", ".") else f"{self.remote_dir}/{art.src}"
        options = [o if o != "-p" else "-P" for o in self.options]  # scp spells the port -P
        upload = [self.scp, *options, *self._mux(), str(local)]
        res = run_local([*upload, f"{self.dest}:{remote}"], None, self.compile_timeout, 8192)
        if res.returncode != 0:
            raise self._ssh_failed(res, "uploading the source")
        try:
            res = run_local(
                self._ssh_argv(self._format("compile", art)), None, self.compile_timeout, 64 << 10
            )
            if res.returncode == 255 and not res.timed_out:
                raise self._ssh_failed(res, "the compile command")
        except BaseException:
            self._cleanup(art)
            raise
        if res.timed_out or res.returncode != 0:
            self._cleanup(art)
            return Compiled(False, res, error=self._error_line(res) or _why(res))
        warning = _first_line(f"{res.stdout}\n{res.stderr}", self.warning_re)
        if not self.run_after_compile:
            self._cleanup(art)
            return Compiled(True, res, warning=warning, artifact=None)
        return Compiled(True, res, warning=warning, artifact=art)

    def _execute(
        self, artifact: Any, stdin: bytes, timeout: float, output_bytes: int, cwd: Path
    ) -> ExecResult:
        cap = max(self.run_limits.output_bytes, output_bytes)
        command = self._format("run", artifact, timeout)
        res = run_local(self._ssh_argv(command), stdin, timeout, cap)
        if res.returncode == 255 and not res.timed_out and _SSH_FAILURE.search(res.stderr):
            raise self._ssh_failed(res, "running the program")
        return res

    def _cleanup(self, artifact: Any) -> None:
        if "cleanup" in self.commands and isinstance(artifact, RemoteArtifact):
            run_local(self._ssh_argv(self._format("cleanup", artifact)), None, 30.0, 4096)

    def _compile_argv(self, lang: str, source: str, build: Path) -> list[str]:  # pragma: no cover
        raise NotImplementedError("msvc_ssh compiles remotely")


def _why(res: ExecResult) -> str:
    if res.timed_out:
        return f"timed out after {res.wall_time:.1f}s"
    return f"exit code {res.returncode}"
