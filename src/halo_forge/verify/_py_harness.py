"""Test harness for one Python sample. Run as ``python -I -S _py_harness.py <verdict_fd>``.

It is a standalone script (standard library only, no halo_forge import) executed inside
:func:`halo_forge.verify.sandbox.run_sandboxed`. Protocol:

* stdin: a ``marshal``-encoded dict ``{nonce, code, setup, entry_point, bind, steps}`` where each
  step is ``{"kind": "setup"|"test"|"eq", "src"/"left"/"right": str}`` (prepared by the parent,
  see ``halo_forge.verify.python``). marshal, not json: it is built in, so the harness starts
  without importing ``json``/``re`` (a few ms per sample).
* verdict channel (the fd number in argv): JSON Lines. First ``{"stage": "loaded", ...}`` once
  the payload is read (so the parent can tell "harness broken" from "candidate killed the
  process"), then ``{"stage": "final", "compiled", "ran", "passed", "total", "error"}``.
  Every line carries the parent's nonce. stdout/stderr and the exit code are never read.

Order: read payload; detach stdin; move the verdict fd to a random high number and close the
original; compile the candidate (``SyntaxError`` -> ``compiled: false``); block process creation,
signals, sockets and destructive filesystem calls; exec the candidate as module
``__candidate__``; exec the test setup; run each step separately, catching ``BaseException``
(``SystemExit``/``KeyboardInterrupt`` in candidate code fail that test, nothing more); flush;
write the verdict; ``os._exit(0)`` so ``atexit`` handlers and stray threads never run after it.

``eq`` steps are asserts of the form ``assert L == R``: both sides are evaluated here and the
test passes only if, whenever either side is plain data (exact built-in scalar/container types
all the way down), both are, and then ``L == R``. That defeats "always equal" objects (a class
whose ``__eq__`` returns ``True``, including subclasses of ``int``/``str``/``list``), since the
built-in types' ``__eq__`` cannot be patched. Not covered: asserts of other shapes
(``abs(f(x) - y) < eps``, ``f(x)``, ``isclose``) and tests whose expected value is not plain data.

What remains forgeable (the candidate runs in this process): code that introspects the
interpreter — ``gc.get_objects()``, frame objects (``sys._getframe().f_back.f_locals`` holds the
nonce), ``sys.settrace``, ``ctypes``, ``/proc/self/mem`` — can find the nonce and the verdict fd
(``/proc/self/fd`` lists it) and write a well-formed fake verdict, or patch this harness's
closures. The nonce and random fd stop naive forgery (writing JSON to fd 3, printing "PASS",
exit codes); the in-process guards are defence in depth, undoable by determined code.
The planned fix (issue 3) decides pass/fail in a separate process that never runs candidate code.
"""

import builtins
import io
import marshal
import os
import sys


def _main() -> None:  # noqa: C901 - one linear script; splitting it would expose more globals
    # Everything the harness needs after candidate code has run is captured here, as locals, so
    # that patching builtins or modules (``builtins.len = ...``, ``os.write = ...``) has no effect.
    _type, _len, _str, _int, _tuple, _callable = type, len, str, int, tuple, callable
    _exec, _eval, _compile = exec, eval, compile
    _BaseException, _AssertionError = BaseException, AssertionError
    _exc_args = BaseException.__dict__["args"].__get__
    _write, _exit, _close, _dup2, _fstat = os.write, os._exit, os.close, os.dup2, os.fstat
    _flush = io.TextIOWrapper.flush
    _streams = (sys.stdout, sys.stderr)
    _stream_type = io.TextIOWrapper

    fd = _int(sys.argv[1])
    payload = marshal.loads(sys.stdin.buffer.read())
    nonce = payload["nonce"]

    # The candidate must not read our payload from stdin: give it an empty stdin instead.
    devnull = os.open(os.devnull, os.O_RDONLY)
    _dup2(devnull, 0)
    _close(devnull)

    # Move the verdict fd somewhere unpredictable (defeats "write to fd 3"; see module doc).
    rand = os.urandom(8)
    for i in range(8):
        target = 16 + rand[i] % 48  # below the sandbox's default RLIMIT_NOFILE of 64
        try:
            _fstat(target)
            continue  # in use
        except OSError:
            pass
        try:
            _dup2(fd, target, inheritable=False)
        except OSError:
            break  # a lower RLIMIT_NOFILE: keep the original fd
        _close(fd)
        fd = target
        break

    safe = _str.maketrans({'"': "'", "\\": "/"})

    def clean(text, limit=300):
        if _type(text) is not _str:
            return "?"
        text = text.encode("ascii", "replace").decode("ascii")
        return "".join(c if " " <= c <= "~" else " " for c in text[:limit]).translate(safe)

    def emit(line):
        data = line.encode("ascii")
        while data:
            data = data[_write(fd, data) :]

    def finish(compiled, ran, passed, total, error):
        for stream in _streams:
            if _type(stream) is _stream_type:
                try:  # noqa: SIM105 - contextlib is Python code the candidate could patch
                    _flush(stream)
                except _BaseException:
                    pass
        # Built with f-strings on exact str/int/bool values only: no json module to patch.
        flags = (
            f'"compiled": {"true" if compiled else "false"}, "ran": {"true" if ran else "false"}'
        )
        emit(
            f'{{"stage": "final", "nonce": "{nonce}", {flags}, "passed": {passed:d}, '
            f'"total": {total:d}, "error": "{clean(error)}"}}\n'
        )
        _exit(0)

    def describe(exc):
        """One line for an exception, without running candidate-defined methods on it."""
        try:
            t = _type(exc)
            name = t.__name__ if _type(t) is _type else "?"
            args = _exc_args(exc)
            if _type(args) is _tuple and _len(args) == 1:
                arg = args[0]
                if _type(arg) is _str or _type(arg) is _int and -(10**100) < arg < 10**100:
                    return clean(name + ": " + _str(arg))
            return clean(name)
        except _BaseException:
            return "?"

    emit(f'{{"stage": "loaded", "nonce": "{nonce}"}}\n')

    # Trusted test code is compiled before any candidate code runs.
    steps = []
    for step in payload["steps"]:
        if step["kind"] == "eq":
            steps.append(
                (
                    "eq",
                    _compile(step["left"], "<test>", "eval"),
                    _compile(step["right"], "<test>", "eval"),
                )
            )
        else:
            steps.append((step["kind"], _compile(step["src"], "<test>", "exec"), None))
    setup = _compile(payload["setup"], "<test-setup>", "exec")
    total = sum(1 for kind, _, _ in steps if kind != "setup")

    try:
        code = _compile(payload["code"], "<candidate>", "exec")
    except SyntaxError as exc:  # raised by compile() itself, before any candidate code ran
        finish(False, False, 0, total, f"{_type(exc).__name__}: {exc.msg} (line {exc.lineno})")
    except _BaseException as exc:  # null bytes, too deeply nested, out of memory
        finish(False, False, 0, total, describe(exc))

    is_plain = _make_plain_check()
    _install_guards()
    module = _type(sys)("__candidate__")
    ns = module.__dict__
    ns["__builtins__"] = builtins
    sys.modules["__main__"] = module  # ``import __main__`` must not reach this harness
    try:
        _exec(code, ns)
    except _BaseException as exc:
        finish(True, False, 0, total, describe(exc))

    entry = payload["entry_point"]
    if entry and not _callable(ns.get(entry)):
        finish(True, False, 0, total, f"NameError: entry point {entry!r} is not defined")
    try:
        _exec(setup, ns)
    except _BaseException as exc:
        finish(True, True, 0, total, "test setup failed: " + describe(exc))
    if payload["bind"]:
        ns[payload["bind"]] = ns[entry]

    passed, first_error, number = 0, "", 0
    for kind, first, second in steps:
        if kind != "setup":
            number += 1
        try:
            if kind == "eq":
                left = _eval(first, ns)
                right = _eval(second, ns)
                plain_left, plain_right = is_plain(left), is_plain(right)
                if plain_left != plain_right:
                    raise _AssertionError(
                        "result is not plain data"
                        if plain_right
                        else "expected value is not plain data"
                    )
                if not left == right:
                    raise _AssertionError("values differ")
            else:
                _exec(first, ns)
        except _BaseException as exc:
            if kind != "setup" and not first_error:
                first_error = f"test {number:d}: {describe(exc)}"
            continue
        if kind != "setup":
            passed += 1
    finish(True, True, passed, total, first_error)


def _make_plain_check():
    """A closure telling whether a value is plain data: exact built-in types all the way down.

    Types are compared by identity (``id``), never with ``==``/hashing on the type, which a
    metaclass could override.
    """
    _type, _id, _set = type, id, set
    scalars = {_id(t) for t in (int, float, complex, bool, str, bytes, type(None))}
    sequences = {_id(t) for t in (list, tuple, set, frozenset)}
    dict_id = _id(dict)
    keys, values = dict.keys, dict.values

    def is_plain(value, budget=1_000_000):
        stack, seen = [value], _set()
        while stack:
            budget -= 1
            if budget < 0:
                return False
            item = stack.pop()
            tid = _id(_type(item))
            if tid in scalars:
                continue
            if tid in sequences or tid == dict_id:
                if _id(item) in seen:
                    continue
                seen.add(_id(item))
                if tid == dict_id:
                    stack.extend(keys(item))
                    stack.extend(values(item))
                else:
                    stack.extend(item)
                continue
            return False
        return True

    return is_plain


def _install_guards():
    """Block the calls a benign-but-careless or naive hostile sample could hurt the host with.

    Without filesystem/process isolation (no bubblewrap yet) this is all that stops
    ``shutil.rmtree('/')`` or ``os.kill(os.getppid(), 9)`` from a sample running as root. It is
    an in-process patch, so code that knows how can undo it; the sandbox's limits still hold.
    """
    import posix

    cwd = os.path.realpath(os.getcwd())
    real_open, real_os_open, realpath = io.open, os.open, os.path.realpath

    def deny(*args, **kwargs):
        raise PermissionError("blocked by the halo-forge sandbox harness")

    blocked = (  # noqa: SIM905 - a word list reads better than 42 quoted strings
        "fork forkpty system popen execv execve execl execle execlp execlpe execvp execvpe "
        "spawnv spawnve spawnl spawnle spawnlp spawnlpe spawnvp spawnvpe posix_spawn "
        "posix_spawnp kill killpg pidfd_open remove unlink rmdir removedirs rename renames "
        "replace truncate chmod lchmod fchmod chown lchown fchown chroot mknod mkfifo"
    ).split()
    for mod in (os, posix):
        for name in blocked:
            if hasattr(mod, name):
                setattr(mod, name, deny)
    try:
        import _posixsubprocess

        _posixsubprocess.fork_exec = deny  # subprocess / multiprocessing
    except ImportError:
        pass
    for name in ("_socket", "socket", "_ctypes", "ctypes"):
        sys.modules[name] = None  # ``import socket`` -> ImportError

    def inside(path):
        try:
            full = realpath(os.fspath(path))
        except (TypeError, ValueError):
            return False
        return full == cwd or full.startswith(cwd + os.sep)

    def guarded_open(file, mode="r", *args, **kwargs):
        if not isinstance(file, int) and any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_open(file, mode, *args, **kwargs)

    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def guarded_os_open(path, flags, mode=0o777, *, dir_fd=None):
        if flags & write_flags and (dir_fd is not None or not inside(path)):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_os_open(path, flags, mode)

    builtins.open = io.open = guarded_open
    os.open = posix.open = guarded_os_open


if __name__ == "__main__":
    _main()
