import pytest

from halo_forge.errors import DataError
from halo_forge.types import Problem
from halo_forge.verify.py_steps import (
    assert_steps,
    check_steps,
    humaneval_program,
    judge_prelude,
    referenced_names,
    setup_code,
)


def test_eq_asserts_are_split_into_sides():
    steps = assert_steps(["assert f(1, 2) == [3]", "assert f(0, 0) == [] , 'msg'"])
    assert steps == [
        {"kind": "eq", "left": "f(1, 2)", "right": "[3]"},
        {"kind": "eq", "left": "f(0, 0)", "right": "[]"},
    ]


def test_other_asserts_run_whole():
    steps = assert_steps(["assert f(1) != 2", "assert abs(f(1) - 2.0) < 1e-9", "x = 1\nassert x"])
    assert [s["kind"] for s in steps] == ["test", "test", "test"]
    assert steps[2]["src"] == "x = 1\nassert x"


def test_blank_tests_are_skipped_but_none_at_all_is_a_data_error():
    assert len(assert_steps(["", "assert f()", "  "])) == 1
    with pytest.raises(DataError, match="has no tests"):
        assert_steps(["", " "], "p1")


def test_invalid_test_is_a_data_error():
    with pytest.raises(DataError, match="problem p9: test 2 is not valid Python"):
        assert_steps(["assert f()", "assert f(("], "p9")


CHECK = """
METADATA = {"author": "x"}


def check(candidate):
    import math
    assert candidate([1, 2]) == 3
    assert True, "padding"
    for x in range(3):
        assert candidate([x]) == x
    assert math.isclose(candidate([0.5]), 0.5)
"""


def test_check_body_split():
    steps, bind = check_steps(CHECK, "add")
    assert bind == "candidate"
    assert [s["kind"] for s in steps] == ["setup", "eq", "test", "test"]
    assert steps[1] == {"kind": "eq", "left": "candidate([1, 2])", "right": "3"}


def test_check_with_return_falls_back_to_whole_call():
    program = "def check(candidate):\n    if candidate(1) == 1:\n        return\n    assert False\n"
    assert check_steps(program, "f") == ([{"kind": "test", "src": "check(f)"}], None)


def test_check_with_only_trivial_asserts_falls_back():
    program = "def check(candidate):\n    assert True\n    x = candidate(1)\n"
    assert check_steps(program, "f") == ([{"kind": "test", "src": "check(f)"}], None)


def test_missing_check_is_a_data_error():
    with pytest.raises(DataError, match="defines no check"):
        check_steps("def test(c):\n    assert c(1)\n", "f", "HumanEval/0")


PROMPT = (
    'from typing import List\nimport math\n\n\ndef add(xs: List[int]) -> int:\n    """Sum."""\n'
)


def test_continuation_gets_prompt_prepended():
    problem = Problem(id="h", prompt=PROMPT, entry_point="add")
    assert humaneval_program(problem, "    return sum(xs)\n") == PROMPT + "    return sum(xs)\n"


def test_full_function_gets_the_prompt_first():
    problem = Problem(id="h", prompt=PROMPT, entry_point="add")
    code = "def add(xs: List[int]) -> int:\n    return sum(xs)"
    assert humaneval_program(problem, code) == PROMPT.rstrip() + "\n\n\n" + code


def test_uncompilable_prompt_contributes_only_imports():
    problem = Problem(
        id="h", prompt="import math\nfrom typing import List\ndef add(xs):\n", entry_point="add"
    )
    code = "def add(xs):\n    return sum(xs)"
    assert humaneval_program(problem, code) == "import math\nfrom typing import List\n" + code
    assert humaneval_program(Problem(id="h", prompt="", entry_point="add"), code) == code


def test_setup_code_from_metadata():
    problem = Problem(
        id="m", prompt="", metadata={"test_imports": ["import math"], "test_setup_code": "K = 3"}
    )
    assert setup_code(problem) == "import math\nK = 3"
    assert setup_code(Problem(id="m", prompt="")) == ""
    with pytest.raises(DataError, match="setup code is not valid"):
        setup_code(Problem(id="m", prompt="", metadata={"test_setup_code": "def ("}))


def test_check_body_keeps_compound_statements_and_multiline_literals():
    program = (
        "def check(candidate):\n"
        "    if candidate(1) > 0:\n"
        "        assert candidate(2) == 2\n"
        "    else:\n"
        "        assert False\n"
        "    assert candidate([1,\n"
        "                      2]) == [1,\n"
        "                              2]\n"
    )
    steps, bind = check_steps(program, "f")
    assert bind == "candidate" and [s["kind"] for s in steps] == ["test", "eq"]
    compile(steps[0]["src"], "<t>", "exec")  # the if/else survived slicing and dedenting
    assert eval(steps[1]["left"], {"candidate": lambda x: x}) == [1, 2]
    assert eval(steps[1]["right"]) == [1, 2]


def test_referenced_names_are_what_the_tests_read_minus_builtins():
    names = referenced_names("assert f(sorted(x)) == helper(len(y))", "def g():\n    return h")
    assert {"f", "x", "helper", "y", "h"} <= set(names)
    assert not {"sorted", "len"} & set(names)


def test_judge_prelude_is_the_prompt_or_its_imports():
    good = Problem(id="p", prompt=PROMPT, entry_point="add")
    assert judge_prelude(good) == PROMPT
    broken = Problem(id="p", prompt="import math\ndef add(xs):\n", entry_point="add")
    assert judge_prelude(broken) == "import math"


def test_full_function_detection():
    problem = Problem(id="h", prompt=PROMPT, entry_point="add")
    for code in ("async def add(xs):\n    return 1", "  def add (xs):\n    return 1"):
        assert humaneval_program(problem, code).startswith(PROMPT.rstrip() + "\n\n\n")
    assert humaneval_program(problem, "    # def add(xs): no\n    return 1").startswith(PROMPT)
    assert humaneval_program(problem, "def adder(xs):\n    return 1") == PROMPT + (
        "def adder(xs):\n    return 1"
    )
