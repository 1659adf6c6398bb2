"""PythonTestVerifier / HumanEvalVerifier end to end: verdicts, partial credit, status mapping.

Hostile samples live in ``test_adversarial.py``; this file checks ordinary behaviour and the
pure verdict → status mapping (:func:`decide`).
"""

from __future__ import annotations

import pytest

from halo_forge.errors import DataError
from halo_forge.types import Problem, Status
from halo_forge.verify.python import HumanEvalVerifier, MBPPVerifier, PythonTestVerifier, decide

ADD = Problem(
    id="add",
    prompt="Write add(a, b).",
    tests=["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"],
    entry_point="add",
)
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"
VERIFIER = PythonTestVerifier(timeout=3.0)


def check(code: str, problem: Problem = ADD, verifier: PythonTestVerifier = VERIFIER):
    return verifier.verify(problem, code)


# --- the basics ----------------------------------------------------------------------------


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


def test_humaneval_always_equal_fails_every_test():
    # Even the abs(candidate(x) - 5) < 1e-9 test: the object never reaches the judge.
    code = "    class E:\n        __eq__ = lambda s, o: True\n        __sub__ = lambda s, o: 0\n"
    r = HE_VERIFIER.verify(HE, code + "    return E()\n")
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    assert "not plain data (E)" in r.details


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


# --- verdict → status (pure) ------------------------------------------------------------------


def _v(**kw):
    base = {"stage": "tests", "compiled": True, "ran": True, "passed": 2, "total": 2, "error": ""}
    return {**base, "timed_out": False, "gone": "", "died": "", "duration": 1.0, **kw}


def test_decide_pass_and_fail():
    assert decide(_v())[:2] == (Status.PASS, 1.0)
    status, reward, passed, total, details = decide(_v(passed=1, error="test 2: boom"))
    assert (status, passed, total, details) == (Status.FAIL, 1, 2, "test 2: boom")
    assert reward == pytest.approx(0.55)


def test_decide_compile_and_load_failures():
    compile_error = decide(_v(compiled=False, ran=False, passed=0, error="SyntaxError: x"))
    assert compile_error[0] is Status.COMPILE_ERROR and compile_error[4] == "SyntaxError: x"
    assert decide(_v(ran=False, passed=0, error="ValueError: v"))[0] is Status.RUNTIME_ERROR


def test_decide_death_and_timeout():
    died = decide(_v(compiled=False, ran=False, passed=0, gone="exited", died="killed by SIGSEGV"))
    assert died[0] is Status.RUNTIME_ERROR and died[4] == "killed by SIGSEGV"
    exited = decide(_v(ran=False, passed=0, gone="exited", died="exited with code 0"))
    assert exited[0] is Status.RUNTIME_ERROR and "before the harness reported" in exited[4]
    midway = decide(_v(passed=1, gone="exited", died="exited with code 0"))
    assert (midway[0], midway[1], midway[2]) == (Status.RUNTIME_ERROR, 0.0, 1)
    assert decide(_v(passed=1, timed_out=True, gone="timed out"))[:2] == (Status.TIMEOUT, 0.0)
    protocol = decide(_v(passed=0, gone="broke the harness protocol: malformed reply"))
    assert protocol[0] is Status.RUNTIME_ERROR and "protocol" in protocol[4]


def test_decide_infrastructure_errors():
    assert decide({"judge_error": "sandbox worker lost: boom"})[0] is Status.SANDBOX_ERROR
    assert decide(_v(passed=0, total=0))[0] is Status.SANDBOX_ERROR


def test_decide_all_passed_wins_over_a_late_death():
    # The judge only counts a test after the answer arrived; a death afterwards changes nothing.
    assert decide(_v(gone="exited", died="killed by SIGKILL"))[0] is Status.PASS


# --- the judge runs the tests; the candidate only answers calls ------------------------------


def _one(tests: list[str], code: str, **kw) -> object:
    problem = Problem(id=f"oracle-{abs(hash(tuple(tests)))}", prompt="", tests=tests)
    return check(code, problem, **kw)


def test_generator_results_behave_like_generators():
    code = "def evens(n):\n    return (i for i in range(n) if i % 2 == 0)\n"
    assert _one(["assert list(evens(5)) == [0, 2, 4]"], code).status is Status.PASS
    assert _one(["assert evens(5) == [0, 2, 4]"], code).status is Status.FAIL  # as in Python
    assert _one(["assert list(r(3)) == [0, 1, 2]"], "def r(n):\n    return range(n)\n").passed


def test_in_place_mutation_of_arguments_is_seen_by_the_test():
    test = "xs = [3, 1, 2]\nsort_it(xs)\nassert xs == [1, 2, 3]"
    assert _one([test], "def sort_it(xs):\n    xs.sort()\n").status is Status.PASS
    assert _one([test], "def sort_it(xs):\n    return sorted(xs)\n").status is Status.FAIL


def test_exceptions_the_test_expects_are_rebuilt():
    test = "try:\n    f(-1)\n    raise AssertionError('no error')\nexcept ValueError:\n    pass"
    assert _one([test], "def f(x):\n    raise ValueError('neg')\n").passed
    subclass = "class Neg(ValueError):\n    pass\ndef f(x):\n    raise Neg('neg')\n"
    assert _one([test], subclass).passed  # its nearest built-in base is what the test sees
    assert not _one([test], "def f(x):\n    raise KeyError('neg')\n").passed


def test_keyword_arguments_and_several_candidate_functions():
    code = (
        "def enc(s, shift=1):\n    return ''.join(chr(ord(c) + shift) for c in s)\n"
        "def dec(s, shift=1):\n    return enc(s, -shift)\n"
    )
    tests = ["assert dec(enc('abc', shift=2), shift=2) == 'abc'", "assert enc(s='a') == 'b'"]
    assert _one(tests, code).status is Status.PASS


def test_plain_module_values_the_tests_read():
    assert _one(["assert LIMIT == 10"], "LIMIT = 10\n").passed
    assert not _one(["assert LIMIT == 10"], "LIMIT = 11\n").passed


def test_non_plain_arguments_cannot_be_judged():
    r = _one(["assert apply(lambda x: x * 2, 3) == 6"], "def apply(f, x):\n    return f(x)\n")
    assert r.status is Status.FAIL and "argument to apply() is not plain data" in r.details


def test_mbpp_setup_imports_are_visible_to_the_sample():
    problem = Problem(
        id="imp",
        prompt="",
        tests=["assert root(16) == 4"],
        metadata={"test_imports": ["import math"]},
    )
    assert check("def root(x):\n    return int(math.sqrt(x))\n", problem).passed


def test_site_packages_only_when_asked():
    code = "import yaml\ndef f():\n    return yaml.safe_load('a: 1')\n"
    tests = ["assert f() == {'a': 1}"]
    assert _one(tests, code).status is Status.RUNTIME_ERROR
    with_site = PythonTestVerifier(timeout=5.0, site_packages=True)
    assert _one(tests, code, verifier=with_site).status is Status.PASS


def test_random_inputs_are_the_same_for_every_sample():
    test = "import random\nxs = [random.randint(0, 10**6) for _ in range(3)]\nassert echo(xs) == xs"
    code = "def echo(xs):\n    print(xs)\n    return xs\n"
    first, second = _one([test], code), _one([test], code + "# again\n")
    assert first.passed and second.passed and first.stdout == second.stdout


def test_stdlib_container_results_keep_python_semantics():
    counter = "from collections import Counter\ndef freq(xs):\n    return Counter(xs)\n"
    assert _one(["assert freq([1, 1, 2]) == {1: 2, 2: 1}"], counter).passed  # MBPP 40, 88
    assert not _one(["assert freq([1, 1, 2]) == {1: 1, 2: 1}"], counter).passed
    assert _one(["assert freq('aab').most_common(1) == [('a', 2)]"], counter).passed
    deque = "from collections import deque\ndef d(xs):\n    return deque(xs, maxlen=2)\n"
    assert _one(["assert list(d([1, 2, 3])) == [2, 3]"], deque).passed
    assert not _one(["assert d([1, 2, 3]) == [2, 3]"], deque).passed  # a deque is no list


NODE = "class Node:\n    def __init__(self, data):\n        self.data, self.left = data, None\n"
TREE = Problem(
    id="tree",
    prompt="",
    tests=["assert depth(root) == 2", "assert depth(leaf) == 1"],
    entry_point="depth",
    metadata={"test_setup_code": "root = Node(1)\nroot.left = Node(2)\nleaf = Node(3)"},
)


def test_setup_objects_built_from_the_samples_class_are_passed_by_name():
    # MBPP 367: the setup builds trees from the Node class the *sample* defines; the judge
    # cannot hold them, so calls receive the candidate process's own copies.
    good = NODE + "def depth(n):\n    return 0 if n is None else 1 + depth(n.left)\n"
    assert check(good, TREE).status is Status.PASS
    r = check(NODE + "def depth(n):\n    return 1\n", TREE)
    assert (r.status, r.tests_passed) == (Status.FAIL, 1)


def test_setup_objects_cannot_be_compared_in_the_judge():
    problem = Problem(
        id="tree2",
        prompt="",
        tests=["assert same() == root"],
        metadata={"test_setup_code": "root = Node(1)"},
    )
    r = check(NODE + "def same():\n    return 1\n", problem)
    assert r.status is Status.FAIL


PAIR = "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
CHAIN = Problem(
    id="chain",
    prompt="",
    tests=[
        "assert longest([Pair(5, 24), Pair(15, 25), Pair(27, 40), Pair(50, 60)], 4) == 3",
        "assert longest((Pair(1, 2),), n=1) == 1",
        "assert longest({'x': [Pair(1, 2), Pair(3, 4)]}['x'], 2) == 2",
    ],
    entry_point="longest",
)


def test_objects_built_by_the_samples_classes_are_passed_back_as_handles():
    # MBPP 601: the test builds Pair objects with the sample's own class and passes them to the
    # entry point inside a list; the judge holds opaque handles, the candidate its objects.
    good = PAIR + (
        "def longest(pairs, n):\n    best, end = 0, None\n"
        "    for p in sorted(pairs, key=lambda p: p.b):\n"
        "        if end is None or p.a > end:\n            best, end = best + 1, p.b\n"
        "    return best\n"
    )
    r = check(good, CHAIN)
    assert (r.status, r.tests_passed) == (Status.PASS, 3), r
    assert check(PAIR + "def longest(pairs, n):\n    return n\n", CHAIN).status is Status.FAIL


def test_handles_cannot_be_compared_or_inspected_by_the_judge():
    # An entry point that is a class: its result is a handle, and a handle refuses ==, so a
    # sample cannot pass by returning an always-equal object from a constructor.
    forged = (
        "class add:\n    def __init__(self, a, b):\n        pass\n"
        "    def __eq__(self, other):\n        return True\n"
    )
    problem = Problem(id="add", prompt="", tests=["assert add(1, 2) == 3"], entry_point="add")
    r = check(forged, problem)
    assert r.status is Status.FAIL and "object" in r.details, r
    truthy = Problem(id="t", prompt="", tests=["assert add(1, 2)"], entry_point="add")
    assert check(forged, truthy).status is Status.FAIL
    # a plain function returning an object is still refused, as before
    fn = PAIR + "def add(a, b):\n    return Pair(a, b)\n"
    assert "not plain data" in check(fn, problem).details


def test_setup_failures_are_ours_unless_the_candidate_was_involved():
    from types import SimpleNamespace

    from halo_forge.verify import _py_judge as judge

    child = SimpleNamespace(calls=0, taint="")

    def statements(*srcs):
        return [(compile(src, "<t>", "exec"), names) for src, names in srcs]

    ns: dict = {}
    assert judge._run_setup(statements(("x = 1 / 0", ["x"])), ns, child) == (
        "ZeroDivisionError: division by zero"
    )

    def node(*args):  # a candidate function that returned an object
        child.calls += 1
        raise judge.NotJudgeable("result of Node() is not plain data (Node)")

    ns = {"Node": node}
    assert judge._run_setup(statements(("t = Node(1)", ["t"]), ("y = 2", ["y"])), ns, child) == ""
    assert type(ns["t"]) is judge.Ref and ns["y"] == 2
    with pytest.raises(judge.NotJudgeable):
        ns["t"] == 1  # noqa: B015 - the comparison itself must refuse
