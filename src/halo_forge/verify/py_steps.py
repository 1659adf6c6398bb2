"""Turn a problem's (trusted) Python tests into the judge's steps. Pure functions.

The judge (``_py_judge``) runs each *step* separately so a sample gets partial credit for each
test it passes. A step is a dict:

* ``{"kind": "eq", "left": src, "right": src}`` — ``assert L == R``; counted as a test;
* ``{"kind": "test", "src": src}`` — any other statement containing an ``assert``; counted;
* ``{"kind": "setup", "src": src}`` — a statement without an assert (``import``, assignment)
  that later tests may need; run, not counted.

Parsing happens here, in the parent, so test code that does not compile is a ``DataError``
naming the problem — the dataset's fault, reported as such, not a zero for the model.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
import textwrap
import types
from typing import Any

from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = [
    "assert_steps",
    "check_steps",
    "humaneval_program",
    "judge_prelude",
    "referenced_names",
    "setup_code",
    "setup_statements",
]

Step = dict[str, Any]


def _compiles(src: str, mode: str = "exec") -> bool:
    try:
        compile(src, "<test>", mode)
    except (SyntaxError, ValueError):
        return False
    return True


class _Lines:
    """A program's lines as UTF-8 bytes (AST columns are byte offsets), for slicing nodes."""

    def __init__(self, program: str) -> None:
        self.lines = [line.encode("utf-8") for line in program.split("\n")]

    def segment(self, node: ast.AST) -> str | None:
        try:
            first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
            start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        except AttributeError:
            return None
        if first < 0 or last is None or end is None or last >= len(self.lines):
            return None
        if first == last:
            return self.lines[first][start:end].decode("utf-8", "replace")
        parts = [self.lines[first][start:], *self.lines[first + 1 : last]]
        parts.append(self.lines[last][:end])
        return b"\n".join(parts).decode("utf-8", "replace")


def _source(program: _Lines | None, node: ast.AST, mode: str = "exec") -> str:
    """The node's own source text when it compiles on its own, else ``ast.unparse``.

    Slicing the source is much faster than unparsing the large literals HumanEval tests carry.
    A statement's continuation lines keep their original indentation, so the first line gets
    its column back before dedenting.
    """
    if program is not None:
        seg = program.segment(node)
        if seg is not None:
            if "\n" in seg:
                seg = textwrap.dedent(" " * getattr(node, "col_offset", 0) + seg)
            if _compiles(seg, mode):
                return seg
    return ast.unparse(node)


def _step(node: ast.stmt, program: _Lines | None = None) -> Step:
    """The step for one statement (known to compile on its own) of ``program``."""
    if isinstance(node, ast.Assert):
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            return {
                "kind": "eq",
                "left": _source(program, test.left, "eval"),
                "right": _source(program, test.comparators[0], "eval"),
            }
    has_assert = any(isinstance(n, ast.Assert) for n in ast.walk(node))
    return {"kind": "test" if has_assert else "setup", "src": _source(program, node)}


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
    lines = _Lines(program)
    if len(check.args.args) != 1:
        return whole, None
    steps: list[Step] = []
    for stmt in check.body:
        if _is_trivial_assert(stmt):
            continue
        if not _compiles(_source(lines, stmt)):  # return / yield / nonlocal outside a def
            return whole, None
        steps.append(_step(stmt, lines))
    if not any(s["kind"] != "setup" for s in steps):
        return whole, None
    return steps, check.args.args[0].arg


_IMPORT = re.compile(r"^(?:import\s+\S|from\s+\S+\s+import\s)")


def _defines(code: str, entry: str) -> bool:
    """Does a line of ``code`` start with ``def <entry>(`` (any indent, ``async`` allowed)?

    A plain scan, not a regex: compiling one pattern per entry point costs ~1 ms.
    """
    if entry not in code:
        return False
    for line in code.split("\n"):
        text = line.lstrip(" \t")
        if text.startswith("async") and text[5:6].isspace():
            text = text[5:].lstrip()
        if text.startswith("def") and text[3:4].isspace():
            rest = text[3:].lstrip()
            if rest.startswith(entry) and rest[len(entry) :].lstrip().startswith("("):
                return True
    return False


@functools.lru_cache(maxsize=4096)
def _prompt_compiles(prompt: str) -> bool:
    return _compiles(prompt)


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
    if entry and not _defines(code, entry):
        return problem.prompt + code
    if problem.prompt.strip() and _prompt_compiles(problem.prompt):
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


def judge_prelude(problem: Problem) -> str:
    """The trusted part of a HumanEval program the judge runs before the tests.

    The prompt defines the helpers tests call (``poly`` in HumanEval/32, ``encode_cyclic`` in
    /38) and the imports. The judge takes them from the prompt, never from the sample, which
    could redefine them. A prompt that does not compile contributes its import lines only.
    """
    if _compiles(problem.prompt):
        return problem.prompt
    return "\n".join(line for line in problem.prompt.splitlines() if _IMPORT.match(line))


_BUILTINS = frozenset(dir(builtins))


def referenced_names(*sources: str) -> list[str]:
    """Identifiers the (trusted) test code uses, minus built-ins, sorted.

    Taken from the compiled code objects (fast), so attribute names come along too: a superset
    is harmless. These are the only names of the sample's the judge may bind (besides the entry
    point), and only where trusted code does not define them: a sample's ``sorted`` or ``abs``
    must never stand in for the built-in the test uses to compute its expected value.
    """
    names: set[str] = set()
    for src in sources:
        if not src.strip():
            continue
        try:
            todo = [compile(src, "<test>", "exec")]
        except (SyntaxError, ValueError):
            continue
        while todo:  # names read anywhere, nested functions included (a superset is fine)
            code = todo.pop()
            names.update(code.co_names, code.co_freevars)
            todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return sorted(n for n in names - _BUILTINS if n.isidentifier())


def _assigned(node: ast.stmt) -> list[str]:
    """Top-level names a statement binds (targets, imports, defs)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    names: list[str] = []
    for target in ast.walk(node):
        if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
            names.append(target.id)
    return names


def setup_statements(src: str) -> list[tuple[str, list[str]]]:
    """Trusted setup code as ``[(statement source, names it binds)]``, for the judge.

    The judge runs them one by one: a statement that needs the sample's objects (MBPP 367
    builds a tree from the ``Node`` class the sample defines) fails there, and the names it
    binds then refer to the candidate process's own copies, built by the same setup code.
    """
    if not src.strip():
        return []
    try:
        tree = ast.parse(src)
    except SyntaxError:  # setup_code() checked it compiles; this is a fallback, not expected
        return [(src, [])]
    lines = _Lines(src)
    return [(_source(lines, node), _assigned(node)) for node in tree.body]
