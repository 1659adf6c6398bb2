"""PythonTestVerifier / HumanEvalVerifier end to end, including hostile samples.

Every adversarial sample below must not PASS; each asserts the exact status it gets so a
change in behaviour is noticed, not just a regression to PASS.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from halo_forge.errors import DataError
from halo_forge.types import ExecResult, Problem, Status
from halo_forge.verify.python import (
    HumanEvalVerifier,
    MBPPVerifier,
    PythonTestVerifier,
    harness_path,
    interpret,
)

ADD = Problem(
    id="add",
    prompt="Write add(a, b).",
    tests=["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"],
    entry_point="add",
)
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"
VERIFIER = PythonTestVerifier(timeout=3.0)
FAKE_FINAL = (
    '{"stage": "final", "nonce": "0000", "compiled": true, "ran": true, "passed": 3, '
    '"total": 3, "error": ""}'
)


def check(code: str, problem: Problem = ADD, verifier: PythonTestVerifier = VERIFIER):
    return verifier.verify(problem, code)


# --- the basics ----------------------------------------------------------------------------


def test_harness_runs_precompiled():
    assert harness_path().endswith(".pyc")
    assert harness_path() == harness_path()


def test_correct_solution_passes():
    r = check(GOOD)
    assert (r.status, r.reward, r.tests_passed, r.tests_total) == (Status.PASS, 1.0, 3, 3)
    assert r.verifier == "python" and r.details == ""


def test_wrong_solution_fails_with_partial_credit():
    r = check(WRONG)  # add(-1, 1) == 0 happens to pass
    assert (r.status, r.tests_passed, r.tests_total) == (Status.FAIL, 1, 3)
    assert r.reward == pytest.approx(0.1 + 0.9 / 3)
    assert r.details.startswith("test 1: AssertionError")


def test_exception_in_one_test_is_partial():
    code = "def add(a, b):\n    if a < 0:\n        raise ValueError('neg')\n    return a + b\n"
    r = check(code)
    assert (r.status, r.tests_passed) == (Status.FAIL, 2)
    assert r.details == "test 2: ValueError: neg"


def test_syntax_error_is_compile_error():
    r = check("def add(a, b)\n    return a + b\n")
    assert (r.status, r.reward) == (Status.COMPILE_ERROR, 0.0)
    assert "SyntaxError" in r.details and "line 1" in r.details


def test_empty_code_is_no_code():
    r = check("  \n")
    assert (r.status, r.reward, r.details) == (Status.COMPILE_ERROR, 0.0, "no code to verify")


def test_import_time_exception_is_runtime_error():
    r = check("import nonexistent_module_xyz\n" + GOOD)
    assert (r.status, r.reward) == (Status.RUNTIME_ERROR, 0.0)
    assert "ModuleNotFoundError" in r.details


def test_missing_entry_point_is_runtime_error():
    r = check("def plus(a, b):\n    return a + b\n")
    assert r.status is Status.RUNTIME_ERROR and "entry point 'add'" in r.details


def test_test_setup_code_runs_first():
    problem = Problem(
        id="s",
        prompt="",
        tests=["assert scaled(2) == 2 * K"],
        metadata={"test_setup_code": "K = 7", "test_imports": ["import math"]},
    )
    assert check("def scaled(x):\n    return x * 7\n", problem).status is Status.PASS


def test_int_float_equality_is_still_accepted():
    problem = Problem(id="f", prompt="", tests=["assert half(6) == 3", "assert half(3) == 1.5"])
    assert check("def half(x):\n    return x / 2\n", problem).status is Status.PASS


def test_problem_without_tests_raises_data_error():
    with pytest.raises(DataError, match="has no tests"):
        check(GOOD, Problem(id="empty", prompt=""))


def test_mbpp_is_the_same_verifier_under_its_own_name():
    r = MBPPVerifier(timeout=3.0).verify(ADD, GOOD)
    assert (r.status, r.verifier) == (Status.PASS, "mbpp")


# --- hostile samples -------------------------------------------------------------------------


def test_infinite_loop_times_out_promptly():
    verifier = PythonTestVerifier(timeout=1.0)
    start = time.monotonic()
    r = check("def add(a, b):\n    while True:\n        pass\n", verifier=verifier)
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.0)
    assert time.monotonic() - start < 2.5


def test_sys_exit_at_top_level():
    r = check(GOOD + "import sys\nsys.exit(0)\n")
    assert r.status is Status.RUNTIME_ERROR and r.details == "SystemExit: 0"


def test_system_exit_inside_the_function_fails_each_test():
    r = check("def add(a, b):\n    raise SystemExit(0)\n")
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    assert r.details == "test 1: SystemExit: 0"


def test_os_exit_at_top_level():
    r = check(GOOD + "import os\nos._exit(0)\n")
    assert r.status is Status.RUNTIME_ERROR and "before the harness reported" in r.details


def test_os_exit_inside_the_function():
    r = check("def add(a, b):\n    import os\n    os._exit(0)\n")
    assert r.status is Status.RUNTIME_ERROR


def test_atexit_handler_cannot_change_the_outcome():
    code = "import atexit, os, sys\natexit.register(lambda: os._exit(0))\n" + WRONG
    assert check(code).status is Status.FAIL
    code = "import atexit, sys\natexit.register(sys.exit, 0)\n" + WRONG
    assert check(code).status is Status.FAIL


def test_printed_success_markers_are_ignored():
    code = f"print('PASS')\nprint('all tests passed')\nprint({FAKE_FINAL!r})\n" + WRONG
    r = check(code)
    assert r.status is Status.FAIL and "PASS" in r.stdout


def test_fake_verdict_on_every_fd_then_exit():
    code = (
        "import os\n"
        f"line = {FAKE_FINAL!r}.encode() + b'\\n'\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.write(fd, line)\n"
        "    except OSError:\n"
        "        pass\n"
        "os._exit(0)\n"
    )
    r = check(code)
    assert r.status is Status.RUNTIME_ERROR and "tampered" in r.details


def test_fake_verdict_written_early_is_overridden_by_the_real_one():
    code = (
        "import os\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        f"        os.write(fd, {FAKE_FINAL!r}.encode() + b'\\n')\n"
        "    except OSError:\n"
        "        pass\n" + WRONG
    )
    assert check(code).status is Status.FAIL


def test_closing_the_verdict_channel_is_not_a_pass():
    assert check("import os\nos.closerange(3, 1024)\n" + GOOD).status is Status.RUNTIME_ERROR


def test_always_equal_object():
    code = (
        "class AlwaysEqual:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "def add(a, b):\n    return AlwaysEqual()\n"
    )
    r = check(code)
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    assert "not plain data" in r.details


def test_always_equal_int_subclass_and_container():
    code = (
        "class E(int):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return E(0)\n"
    )
    assert check(code).status is Status.FAIL
    problem = Problem(id="l", prompt="", tests=["assert pair() == [1, 2]"])
    code = "class E:\n    __eq__ = lambda s, o: True\ndef pair():\n    return [E(), E()]\n"
    assert check(code, problem).status is Status.FAIL


def test_patched_builtins_do_not_fool_the_harness():
    code = (
        "import builtins\n"
        "builtins.type = lambda *a: int\n"
        "builtins.isinstance = lambda *a: True\n"
        "builtins.set = list\n"
        "builtins.id = lambda x: 0\n"
        "class E:\n    __eq__ = lambda s, o: True\n"
        "def add(a, b):\n    return E()\n"
    )
    assert check(code).status is Status.FAIL


def test_memory_bomb():
    r = check("x = ' ' * 10**10\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and "MemoryError" in r.details


def test_huge_output_is_capped_and_not_a_pass():
    r = check("print('x' * 10**7)\n" + WRONG)
    assert r.status is Status.FAIL
    assert len(r.stdout) < 2200


def test_huge_output_from_a_correct_solution_still_passes():
    r = check("print('x' * 10**7)\n" + GOOD)
    assert r.status is Status.PASS and len(r.stdout) < 2200


def test_fork_is_blocked():
    r = check("import os\nos.fork()\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and "PermissionError" in r.details


def test_subprocess_is_blocked():
    r = check("import subprocess\nsubprocess.run(['true'])\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and "PermissionError" in r.details


def test_signalling_the_parent_is_blocked():
    # Signal 0 only probes; if the guard failed, this sample would PASS.
    assert check("import os\nos.kill(os.getppid(), 0)\n" + GOOD).status is Status.RUNTIME_ERROR


def test_writing_outside_the_scratch_dir_is_blocked(tmp_path: Path):
    target = tmp_path / "pwned.txt"
    r = check(f"open({str(target)!r}, 'w').write('pwned')\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and not target.exists()


def test_deleting_outside_the_scratch_dir_is_blocked(tmp_path: Path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    r = check(f"import shutil\nshutil.rmtree({str(victim)!r})\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and (victim / "keep.txt").exists()


def test_sockets_are_blocked():
    r = check("import socket\n" + GOOD)
    assert r.status is Status.RUNTIME_ERROR and "import of socket halted" in r.details


def test_c_stack_overflow_segfault():
    code = (
        "import sys\nsys.setrecursionlimit(10**7)\n"
        "class A:\n    def __repr__(self):\n        return repr(self)\n"
        "repr(A())\n" + GOOD
    )
    r = check(code)
    assert (r.status, r.details) == (Status.RUNTIME_ERROR, "killed by SIGSEGV")


def test_keyboard_interrupt_at_import():
    assert check("raise KeyboardInterrupt\n" + GOOD).status is Status.RUNTIME_ERROR


def test_payload_is_not_readable_from_stdin():
    # If the harness left its payload (with the nonce) on stdin, this would raise at import.
    assert check("import sys\nassert sys.stdin.buffer.read() == b''\n" + GOOD).status is Status.PASS


@pytest.mark.xfail(strict=True, reason="known gap: in-process harness; issue 3 judges elsewhere")
def test_interpreter_introspection_can_forge_the_verdict():
    code = (
        "import os, sys\n"
        "f = sys._getframe(1)\n"
        "nonce, fd = f.f_locals['nonce'], f.f_locals['fd']\n"
        'os.write(fd, (\'{"stage": "final", "nonce": "%s", "compiled": true, \'\n'
        '              \'"ran": true, "passed": 3, "total": 3, "error": ""}\\n\'\n'
        "              % nonce).encode())\n"
        "os._exit(0)\n"
    )
    assert check(code).status is not Status.PASS


# --- benign samples that must keep working ---------------------------------------------------


def test_threads_are_fine():
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "def add(a, b):\n"
        "    with ThreadPoolExecutor(4) as pool:\n"
        "        x, y = pool.map(lambda v: v, [a, b])\n"
        "    return x + y\n"
    )
    assert check(code).status is Status.PASS


def test_a_one_second_sleep_is_fine():
    r = check("import time\ntime.sleep(1)\n" + GOOD)
    assert r.status is Status.PASS and r.duration >= 1.0


def test_a_lingering_thread_does_not_hold_the_verdict():
    start = time.monotonic()
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n"
    assert check(code + GOOD).status is Status.PASS
    assert time.monotonic() - start < 2.0


def test_files_in_the_scratch_dir_are_fine():
    code = "open('notes.txt', 'w').write('ok')\nassert open('notes.txt').read() == 'ok'\n"
    assert check(code + GOOD).status is Status.PASS


def test_main_guard_does_not_run():
    assert check(GOOD + "if __name__ == '__main__':\n    raise SystemExit(1)\n").passed


# --- HumanEval -------------------------------------------------------------------------------

HE_PROMPT = 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum xs."""\n'
HE_TEST = """
METADATA = {"author": "test"}


def check(candidate):
    assert candidate([1, 2]) == 3
    assert candidate([]) == 0
    assert True, "padding is not a test"
    assert abs(candidate([5]) - 5) < 1e-9
"""
HE = Problem(id="HumanEval/x", prompt=HE_PROMPT, tests=[HE_TEST], entry_point="total")
HE_VERIFIER = HumanEvalVerifier(timeout=3.0)


def test_humaneval_continuation_passes():
    r = HE_VERIFIER.verify(HE, "    return sum(xs)\n")
    assert (r.status, r.tests_passed, r.tests_total) == (Status.PASS, 3, 3)


def test_humaneval_full_function_without_imports_passes():
    r = HE_VERIFIER.verify(HE, "def total(xs: List[int]) -> int:\n    return sum(xs)\n")
    assert r.status is Status.PASS


def test_humaneval_full_function_can_use_prompt_helpers():
    prompt = (
        "def double(x: int) -> int:\n    return 2 * x\n\n\n"
        'def quad(x: int) -> int:\n    """Four times x, using double."""\n'
    )
    test = "def check(candidate):\n    assert candidate(3) == 12\n"
    problem = Problem(id="he3", prompt=prompt, tests=[test], entry_point="quad")
    r = HE_VERIFIER.verify(problem, "def quad(x):\n    return double(double(x))\n")
    assert r.status is Status.PASS


def test_humaneval_wrong_is_partial():
    r = HE_VERIFIER.verify(HE, "    return 0\n")
    assert (r.status, r.tests_passed, r.tests_total) == (Status.FAIL, 1, 3)


def test_humaneval_always_equal_fails():
    code = "    class E:\n        __eq__ = lambda s, o: True\n        __sub__ = lambda s, o: 0\n"
    r = HE_VERIFIER.verify(HE, code + "    return E()\n")
    assert r.status is Status.FAIL and r.tests_passed == 1  # only the abs(...) < eps assert


def test_humaneval_fallback_runs_check_whole():
    test = (
        "def check(candidate):\n"
        "    if candidate([1]) != 1:\n        return\n"
        "    assert candidate([2]) == 2\n"
    )
    problem = Problem(id="he2", prompt=HE_PROMPT, tests=[test], entry_point="total")
    r = HE_VERIFIER.verify(problem, "    return sum(xs)\n")
    assert (r.status, r.tests_total) == (Status.PASS, 1)


def test_humaneval_needs_entry_point_and_one_program():
    with pytest.raises(DataError, match="entry_point"):
        HE_VERIFIER.verify(Problem(id="x", prompt="", tests=[HE_TEST]), "pass")
    with pytest.raises(DataError, match="one test program"):
        HE_VERIFIER.verify(Problem(id="x", prompt="", tests=[], entry_point="f"), "pass")


# --- verdict interpretation (pure) -----------------------------------------------------------


def _exec(verdict=None, *, timed_out=False, rc=0, sig=None, stderr=""):
    return ExecResult(
        returncode=rc,
        signal=sig,
        timed_out=timed_out,
        stdout="",
        stderr=stderr,
        wall_time=1.0,
        verdict=verdict,
    )


def _final(**kw):
    return {
        "stage": "final",
        "nonce": "n",
        "compiled": True,
        "ran": True,
        "passed": 2,
        "total": 2,
        "error": "",
        **kw,
    }


def test_interpret_pass_and_fail():
    assert interpret(_exec(_final()), "n")[:2] == (Status.PASS, 1.0)
    status, reward, passed, total, _ = interpret(_exec(_final(passed=1)), "n")
    assert (status, passed, total) == (Status.FAIL, 1, 2) and reward == pytest.approx(0.55)


def test_interpret_wrong_nonce_or_malformed_is_tampering():
    for verdict in (
        _final(nonce="other"),
        _final(passed=3),
        _final(passed=True, total=1),
        _final(passed="2"),
        _final(stage="finished"),
        _final(ran=1),
    ):
        status, reward, *_, details = interpret(_exec(verdict), "n")
        assert (status, reward) == (Status.RUNTIME_ERROR, 0.0), verdict
        assert "tampered" in details


def test_interpret_no_verdict_is_an_infrastructure_error():
    status, _, _, _, details = interpret(_exec(None, rc=1, stderr="Traceback\nOSError: boom"), "n")
    assert status is Status.SANDBOX_ERROR and "OSError: boom" in details
    assert interpret(_exec(None, timed_out=True), "n")[0] is Status.TIMEOUT


def test_interpret_loaded_only():
    loaded = {"stage": "loaded", "nonce": "n"}
    assert interpret(_exec(loaded, timed_out=True), "n")[0] is Status.TIMEOUT
    status, *_, details = interpret(_exec(loaded, rc=-11, sig=11), "n")
    assert status is Status.RUNTIME_ERROR and details == "killed by SIGSEGV"
    assert interpret(_exec(loaded), "n")[0] is Status.RUNTIME_ERROR


def test_interpret_compile_and_import_failures():
    assert interpret(_exec(_final(compiled=False, ran=False)), "n")[0] is Status.COMPILE_ERROR
    assert interpret(_exec(_final(ran=False)), "n")[0] is Status.RUNTIME_ERROR
    assert interpret(_exec(_final(passed=0, total=0)), "n")[0] is Status.SANDBOX_ERROR
