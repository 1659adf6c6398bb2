"""Runs one problem's pytest file or unittest module against one candidate, inside the sandbox.

Run as ``python -I [-S] -B _test_runner.py <verdict_fd>`` in a scratch directory that holds the
candidate as ``<module>.py`` and the (trusted) tests as ``<test_file>``, both written by
``halo_forge.verify.pytest_verifier``. Standard library only (plus pytest for ``pytest``).

Protocol: stdin is a ``marshal``-encoded dict ``{nonce, framework, module, test_file,
expected}``; ``expected`` lists the tests the parent found in the test source (``name`` or
``Class::name``). The verdict channel (the fd in argv) carries JSON Lines, each with the nonce:
``{"stage": "loaded"}``, ``"ready"`` just before the candidate is first imported (a death
before it is ours, not the candidate's), ``"running"`` lines with counts so far, ``"final"``
with ``compiled``, ``passed``, ``total``, ``tampered``, ``error``. Only tests whose id (without
file and parameters) is in ``expected`` count; an expected test that never ran counts as failed.

Before any candidate code runs the runner (1) compiles the candidate (``SyntaxError`` →
``compiled: false``), (2) moves the verdict fd to a random high number, (3) snapshots the
test framework's machinery and the builtins, which it compares again at the end (any change →
``tampered``), and (4) blocks process creation, signals, sockets and writes outside the scratch
dir in-process. See ``pytest_verifier`` for what all this does and does not protect against.
"""

import builtins
import marshal
import os
import sys

# Captured before any candidate code runs: the final verdict is computed with these, so a
# candidate that patches ``builtins.sorted``/``len`` cannot change it (it is also reported as
# tampering, since the builtins are part of the snapshot).
_len, _sorted, _list, _vars, _set, _bool, _join = len, sorted, list, vars, set, bool, ", ".join


def _main():  # noqa: C901 - one linear script, like _py_harness
    _write, _exit, _type, _str, _int = os.write, os._exit, type, str, int
    fd = _int(sys.argv[1])
    payload = marshal.loads(sys.stdin.buffer.read())
    nonce, framework, module = payload["nonce"], payload["framework"], payload["module"]
    expected = frozenset(payload["expected"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    rand = os.urandom(8)
    for i in range(8):  # a random fd below the sandbox's RLIMIT_NOFILE of 64
        target = 16 + rand[i] % 40
        try:
            os.fstat(target)
            continue
        except OSError:
            pass
        try:
            os.dup2(fd, target, inheritable=False)
        except OSError:
            break
        os.close(fd)
        fd = target
        break

    def clean(text, limit=300):
        text = _str(text) if _type(text) is _str else "?"
        text = text.encode("ascii", "replace").decode("ascii")[:limit]
        return (
            "".join(c if " " <= c <= "~" else " " for c in text)
            .replace('"', "'")
            .replace("\\", "/")
        )

    def emit(stage, **fields):
        parts = [f'"stage": "{stage}"', f'"nonce": "{nonce}"']
        for key, value in fields.items():
            if _type(value) is _bool:
                parts.append(f'"{key}": {"true" if value else "false"}')
            elif _type(value) is _int:
                parts.append(f'"{key}": {value:d}')
            else:
                parts.append(f'"{key}": "{clean(value)}"')
        data = ("{" + ", ".join(parts) + "}\n").encode("ascii")
        while data:
            data = data[_write(fd, data) :]

    emit("loaded")
    try:
        with open(module + ".py", "rb") as f:
            compile(f.read(), module + ".py", "exec")
    except SyntaxError as exc:
        emit(
            "final",
            compiled=False,
            passed=0,
            total=len(expected),
            tampered="",
            error=(f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"),
        )
        _exit(0)
    except (ValueError, MemoryError, RecursionError) as exc:
        emit("final", compiled=False, passed=0, total=len(expected), tampered="", error=repr(exc))
        _exit(0)

    # ran: False once importing the test file (and so the candidate) failed.
    state = {"passed": set(), "failed": set(), "collected": set(), "error": "", "ran": True}

    def collected(test_id):
        if test_id.split("[", 1)[0] in expected:  # else not one of the problem's tests
            state["collected"].add(test_id)

    def record(test_id, ok, error=""):
        if test_id.split("[", 1)[0] not in expected:
            return  # not one of the problem's tests (e.g. a test_* the candidate defined)
        state["collected"].add(test_id)
        if ok and test_id not in state["failed"]:
            state["passed"].add(test_id)
        else:
            state["passed"].discard(test_id)
            state["failed"].add(test_id)
            if error and not state["error"]:
                state["error"] = f"{test_id}: {error}"
        if _len(state["passed"] | state["failed"]) % 16 == 0:
            progress("running")

    def totals():
        seen = _set(t.split("[", 1)[0] for t in state["collected"])
        return _len(state["collected"]) + _len(expected - seen)

    def progress(stage, **extra):
        emit(stage, compiled=True, passed=_len(state["passed"]), total=totals(), **extra)

    cwd = os.path.realpath(os.getcwd())
    if framework == "pytest":
        targets, run = _pytest_runner(record, collected, state, cwd, payload["test_file"])
    else:
        targets, run = _unittest_runner(record, collected, state, cwd, payload["test_file"])
    builtins.__hf_eq__ = _make_eq_guard()
    before = {}

    def ready():
        """Called by the framework runner right before the test file (and so the candidate)
        is imported: from here on, nothing in ``targets`` may change."""
        _install_guards(cwd)
        before.update(_snapshot(targets))
        progress("ready")  # from here on a death is the candidate's doing

    error = run(ready)
    after = _snapshot(targets)
    tampered = _sorted(k for k in before if after.get(k) is not before[k])
    if sys.modules.get("builtins") is not builtins:
        tampered.append("sys.modules['builtins']")
    if not state["collected"] and state["ran"]:
        state["ran"] = False
        error = error or "no test was collected (did the module exit or skip at import?)"
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - contextlib is Python code the candidate could have patched
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    progress("final", ran=state["ran"], tampered=_join(tampered[:5]), error=error or state["error"])
    _exit(0)


def _snapshot(targets):
    """``{"owner.attribute": object}`` for every attribute of every target namespace."""
    out = {}
    for owner, namespace in targets:
        names = _vars(namespace)
        for key in _list(names):
            if not key.startswith("__") or owner == "builtins":
                out[owner + "." + key] = names[key]
    return out


def _pytest_runner(record, collected, state, cwd, test_file):
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only pytest itself and our plugin
    sys.path.insert(0, os.path.join(cwd, "_hf_lib"))  # pytest, put there by the parent
    import _pytest.main
    import _pytest.python
    import _pytest.reports
    import _pytest.runner
    import pytest

    class Plugin:
        def __init__(self, guard):
            self.guard = guard

        @pytest.hookimpl(tryfirst=True)
        def pytest_collection(self, session):
            self.guard()  # after pytest's setup, before the test file (and candidate) import

        def pytest_collectreport(self, report):
            if report.failed or report.skipped:  # a skip here is a pytest.skip at import
                state["ran"] = False
                if not state["error"]:
                    state["error"] = "import failed: " + _last_line(str(report.longrepr))

        def pytest_collection_finish(self, session):
            for item in session.items:
                collected(item.nodeid.split("::", 1)[-1])

        def pytest_runtest_logreport(self, report):
            # A test passes iff its call passed (or xfailed as declared); a failed setup or
            # teardown, or a skip, fails it. Passing setup/teardown reports are not needed.
            if report.when == "call" or report.failed or report.skipped:
                ok = report.passed or (report.skipped and hasattr(report, "wasxfail"))
                why = "" if ok else _last_line(str(report.longrepr)) or report.outcome
                record(report.nodeid.split("::", 1)[-1], ok, why)

    targets = [
        ("builtins", builtins),
        ("Function", _pytest.python.Function),
        ("Metafunc", _pytest.python.Metafunc),
        ("_pytest.python", _pytest.python),
        ("_pytest.runner", _pytest.runner),
        ("CallInfo", _pytest.runner.CallInfo),
        ("TestReport", _pytest.reports.TestReport),
        ("_pytest.main", _pytest.main),
    ]

    def run(guard):
        args = [
            test_file,
            "-q",
            "--tb=line",
            "--capture=sys",
            "--noconftest",
            "--rootdir",
            cwd,
            "--basetemp",
            os.path.join(cwd, ".pytest-tmp"),
            "-c",
            os.devnull,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:faulthandler",
            "-p",
            "no:stepwise",
        ]
        try:
            pytest.main(args, plugins=[Plugin(guard)])
        except BaseException as exc:  # noqa: BLE001 - reported, never the verdict itself
            return "pytest crashed: " + repr(exc)[:200]
        return ""

    return targets, run


def _unittest_runner(record, collected, state, cwd, test_file):
    import unittest
    import unittest.case
    import unittest.result
    import unittest.suite

    sys.path.insert(0, cwd)

    def test_id(test):
        return "::".join(test.id().split(".")[-2:])  # module.Class.method -> Class::method

    def walk(suite):
        for test in suite:
            if isinstance(test, unittest.TestCase):
                collected(test_id(test))
            else:
                walk(test)

    class Result(unittest.TestResult):
        def _id(self, test):
            return test_id(test)

        def addSuccess(self, test):
            record(self._id(test), True)

        def addFailure(self, test, err):
            record(self._id(test), False, _last_line(repr(err[1])))

        def addError(self, test, err):
            if isinstance(test, unittest.TestCase):
                record(self._id(test), False, _last_line(repr(err[1])))
            elif not state["error"]:  # setUpClass / module fixtures
                state["error"] = _last_line(repr(err[1]))

        def addSubTest(self, test, subtest, err):
            if err is not None:
                record(self._id(test), False, _last_line(repr(err[1])))

        def addSkip(self, test, reason):
            record(self._id(test), False, "skipped: " + str(reason))

        def addExpectedFailure(self, test, err):
            record(self._id(test), True)

        def addUnexpectedSuccess(self, test):
            record(self._id(test), False, "unexpected success")

    targets = [
        ("builtins", builtins),
        ("TestCase", unittest.TestCase),
        ("TestSuite", unittest.suite.TestSuite),
        ("BaseTestSuite", unittest.suite.BaseTestSuite),
        ("_Outcome", unittest.case._Outcome),
        ("unittest.case", unittest.case),
        ("Result", Result),
        ("TestResult", unittest.result.TestResult),
    ]

    def run(ready):
        _guard_assert_equal(unittest.TestCase)
        ready()
        name = test_file[:-3] if test_file.endswith(".py") else test_file
        loader = unittest.TestLoader()
        try:
            suite = loader.loadTestsFromName(name)
        except BaseException as exc:  # noqa: BLE001 - the candidate's import failed
            state["ran"] = False
            return "import failed: " + _last_line(repr(exc))
        if loader.errors:
            state["ran"] = False
            return "import failed: " + _last_line(loader.errors[0])
        walk(suite)
        try:
            suite.run(Result())
        except BaseException as exc:  # noqa: BLE001
            return "unittest crashed: " + repr(exc)[:200]
        return ""

    return targets, run


def _last_line(text):
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _make_eq_guard():
    """``__hf_eq__(left, right)``: ``left == right``, refusing "always equal" objects.

    The parent rewrites each ``assert L == R`` of the tests to ``assert __hf_eq__(L, R)``.
    A value is *trusted* when the ``__eq__`` its type would use (found along the MRO without
    attribute hooks) is a C slot named ``__eq__`` — true of ``int``, ``str``, ``list``,
    ``dict``, ``namedtuple``, ``OrderedDict``, numpy scalars — and, for ``list``/``tuple``/
    ``set``/``frozenset``/``dict`` (and subclasses), every element is trusted too (walked with
    the C iterators, so an overridden ``__iter__`` cannot hide one). If either side is trusted,
    both must be: an object with a Python-level ``__eq__`` (``return True``) never equals a
    literal. Two untrusted sides (``Fraction`` vs ``Fraction``) are compared as usual.
    Cost: ``Counter`` (whose ``__eq__`` is Python) never equals a ``dict`` literal.
    """
    _type, _id, _issubclass, _set = type, id, issubclass, set
    mro_of = type.__dict__["__mro__"].__get__
    dict_of = type.__dict__["__dict__"].__get__
    slot = _type(int.__eq__)  # wrapper_descriptor: only C code can make one
    containers = (
        (list, list.__iter__),
        (tuple, tuple.__iter__),
        (set, set.__iter__),
        (frozenset, frozenset.__iter__),
    )
    dict_keys, dict_values = dict.keys, dict.values

    def c_eq(t):
        for klass in mro_of(t):
            found = dict_of(klass).get("__eq__")
            if found is not None:
                return _type(found) is slot and found.__name__ == "__eq__"
        return False

    def trusted(value, budget=1_000_000):
        stack, seen = [value], _set()
        while stack:
            budget -= 1
            if budget < 0:
                return False
            item = stack.pop()
            kind = _type(item)
            if not c_eq(kind):
                return False
            if _id(item) in seen:
                continue
            if _issubclass(kind, dict):
                seen.add(_id(item))
                stack.extend(dict_keys(item))
                stack.extend(dict_values(item))
                continue
            for klass, iterate in containers:
                if _issubclass(kind, klass):
                    seen.add(_id(item))
                    stack.extend(iterate(item))
                    break
        return True

    def hf_eq(left, right):
        if trusted(left) != trusted(right):
            return False
        return bool(left == right)

    return hf_eq


def _guard_assert_equal(test_case):
    """``TestCase.assertEqual`` with the same "always equal" guard as ``__hf_eq__``."""
    original, guard = test_case.assertEqual, builtins.__hf_eq__

    def assertEqual(self, first, second, msg=None):  # noqa: N802 - unittest's name
        if not guard(first, second):
            original(self, first, second, msg)  # the usual failure message, when they differ
            raise self.failureException(msg or "not plain data on both sides (always-equal?)")

    test_case.assertEqual = assertEqual
    test_case.assertEquals = assertEqual


def _install_guards(cwd):
    """Block process creation, signals, sockets and writes outside ``cwd`` (in-process only).

    Without filesystem isolation this is what stops ``shutil.rmtree('/')`` or
    ``os.kill(os.getppid(), 9)`` from a sample running as root; code that knows how can undo it.
    """
    import posix

    def deny(*args, **kwargs):
        raise PermissionError("blocked by the halo-forge sandbox runner")

    blocked = (  # noqa: SIM905 - a word list reads better than 31 quoted strings
        "fork forkpty system popen execv execve execl execle execlp execlpe execvp execvpe "
        "spawnv spawnve spawnl spawnle spawnlp spawnlpe spawnvp spawnvpe posix_spawn "
        "posix_spawnp kill killpg pidfd_open chroot mknod mkfifo chown lchown fchown"
    ).split()
    for mod in (os, posix):
        for name in blocked:
            if hasattr(mod, name):
                setattr(mod, name, deny)
    try:
        import _posixsubprocess

        _posixsubprocess.fork_exec = deny
    except ImportError:
        pass
    for name in ("_socket", "socket", "_ctypes", "ctypes"):
        if name not in sys.modules:
            sys.modules[name] = None
    realpath = os.path.realpath

    def inside(path):
        try:
            full = realpath(os.fspath(path))
        except (TypeError, ValueError):
            return False
        return full == cwd or full.startswith(cwd + os.sep)

    def path_guard(real):
        def guarded(path, *args, **kwargs):
            if isinstance(path, int) or kwargs.get("dir_fd") is not None or not inside(path):
                raise PermissionError("changing files outside the sandbox directory is blocked")
            return real(path, *args, **kwargs)

        return guarded

    for mod in (os, posix):
        for name in ("remove", "unlink", "rmdir", "truncate", "chmod", "lchmod", "rename"):
            if hasattr(mod, name):
                setattr(mod, name, path_guard(getattr(mod, name)))
        for name in ("replace", "renames", "removedirs"):
            if hasattr(mod, name):
                setattr(mod, name, path_guard(getattr(mod, name)))
    import io

    real_open, real_os_open = io.open, os.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def guarded_open(file, mode="r", *args, **kwargs):
        if not isinstance(file, int) and any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, mode=0o777, *, dir_fd=None):
        if flags & write_flags and (dir_fd is not None or not inside(path)):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_os_open(path, flags, mode)

    builtins.open = io.open = guarded_open
    os.open = posix.open = guarded_os_open


if __name__ == "__main__":
    _main()
