"""Turn a problem's (trusted) Python tests into the harness's steps. Pure functions.

The harness runs each *step* separately so a sample gets partial credit for each test it
passes, and so ``assert f(x) == y`` can be checked with the always-equal guard (see
``_py_harness``). A step is a dict:

* ``{"kind": "eq", "left": src, "right": src}`` — ``assert L == R``; counted as a test;
* ``{"kind": "test", "src": src}`` — any other statement containing an ``assert``; counted;
* ``{"kind": "setup", "src": src}`` — a statement without an assert (``import``, assignment)
  that later tests may need; run, not counted.

Parsing happens here, in the parent, so test code that does not compile is a ``DataError``
naming the problem — the dataset's fault, reported as such, not a zero for the model.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = ["assert_steps", "check_steps", "humaneval_program", "setup_code"]

Step = dict[str, Any]


def _compiles(src: str, mode: str = "exec") -> bool:
    try:
        compile(src, "<test>", mode)
    except (SyntaxError, ValueError):
        return False
    return True


def _step(node: ast.stmt) -> Step:
    """The step for one statement (already known to compile on its own)."""
    if isinstance(node, ast.Assert):
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            return {
                "kind": "eq",
                "left": ast.unparse(test.left),
                "right": ast.unparse(test.comparators[0]),
            }
    has_assert = any(isinstance(n, ast.Assert) for n in ast.walk(node))
    return {"kind": "test" if has_assert else "setup", "src": ast.unparse(node)}


def assert_steps(tests: list[str], problem_id: str = "?") -> list[Step]:
    """Steps for MBPP-style tests: one entry per test string, usually one ``assert`` each.

    A string with several statements becomes one ``test`` step (it passes if none raises).
    """
    steps: list[Step] = []
    for i, src in enumerate(tests, 1):
        if not src.strip():
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            raise DataError(
                f"problem {problem_id}: test {i} is not valid Python ({exc.msg}, line {exc.lineno})"
            ) from None
        if len(tree.body) == 1 and isinstance(tree.body[0], ast.Assert):
            steps.append(_step(tree.body[0]))
        else:
            steps.append({"kind": "test", "src": src})
    if not steps:
        raise DataError(
            f"problem {problem_id} has no tests; the python verifier needs assert statements "
            "in problem.tests"
        )
    return steps


def _is_trivial_assert(node: ast.stmt) -> bool:
    """``assert True`` / ``assert True, "msg"``: HumanEval pads checks with these."""
    return isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant)


def check_steps(
    program: str, entry_point: str, problem_id: str = "?"
) -> tuple[list[Step], str | None]:
    """Split HumanEval's ``def check(candidate): ...`` body into steps.

    Returns ``(steps, bind)``: the harness binds the entry point to ``bind`` (the check
    function's parameter name) and runs the body's statements at module level, one step each.
    When the body cannot run that way (``return``/``yield`` in it, no countable assert), falls
    back to a single step calling ``check(entry_point)`` with ``bind=None``: all-or-nothing.
    """
    try:
        tree = ast.parse(program)
    except SyntaxError as exc:
        raise DataError(
            f"problem {problem_id}: test program is not valid Python ({exc.msg}, line {exc.lineno})"
        ) from None
    check = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    if check is None:
        raise DataError(f"problem {problem_id}: test program defines no check(candidate) function")
    whole: list[Step] = [{"kind": "test", "src": f"check({entry_point})"}]
    if len(check.args.args) != 1:
        return whole, None
    steps: list[Step] = []
    for stmt in check.body:
        if _is_trivial_assert(stmt):
            continue
        if not _compiles(ast.unparse(stmt)):  # return / yield / nonlocal outside a function
            return whole, None
        steps.append(_step(stmt))
    if not any(s["kind"] != "setup" for s in steps):
        return whole, None
    return steps, check.args.args[0].arg


_IMPORT = re.compile(r"^(?:import\s+\S|from\s+\S+\s+import\s)")


def humaneval_program(problem: Problem, code: str) -> str:
    """The program to run for a HumanEval-style sample.

    A completion that continues the prompt (no ``def <entry_point>`` of its own) gets
    ``problem.prompt`` prepended, as in the original benchmark. A completion that redefines the
    function still needs what the prompt defines around it: its imports (``from typing import
    List``) and helper functions (HumanEval/10's ``is_palindrome``). HumanEval prompts end in a
    docstring, which makes them complete programs, so the whole prompt goes first and the
    sample's ``def`` replaces the stub; a prompt that does not compile on its own contributes
    only its top-level import lines.
    """
    entry = problem.entry_point or ""
    defines = re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(entry)}\s*\(", code, re.MULTILINE)
    if entry and not defines:
        return problem.prompt + code
    if problem.prompt.strip() and _compiles(problem.prompt):
        return problem.prompt.rstrip() + "\n\n\n" + code
    imports = [line for line in problem.prompt.splitlines() if _IMPORT.match(line)]
    return "\n".join([*imports, code]) if imports else code


def setup_code(problem: Problem) -> str:
    """MBPP's ``test_imports`` and ``test_setup_code`` metadata, as one program."""
    parts = list(problem.metadata.get("test_imports") or [])
    if problem.metadata.get("test_setup_code"):
        parts.append(str(problem.metadata["test_setup_code"]))
    src = "\n".join(parts)
    if not _compiles(src):
        raise DataError(f"problem {problem.id}: test setup code is not valid Python")
    return src
