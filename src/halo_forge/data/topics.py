"""Topics for ``halo-forge data generate``: what to ask an LLM for, and how to verify it.

A topic fixes the language, the verifier, the shape of the tests (``asserts``: one-line Python
``assert`` statements calling an entry point, judged by the ``python`` verifier; ``io``:
stdin → stdout cases in ``metadata["io_tests"]``, judged by ``gcc``) and a list of subjects.
Each request names one subject and one difficulty, drawn from a seeded ``Random``, because a
model asked the same question N times writes the same exercise N times.

The generated ``prompt`` is what the model being trained will see, so the generator appends
:attr:`Topic.answer_format` (the same wording as the built-in datasets: "Return only the function
in a ```python code block.").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DIFFICULTIES", "TOPICS", "Topic", "get_topic"]

DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Topic:
    name: str
    language: str  # Problem.language of the rows written
    verifier: str  # registry name (halo_forge.verify.get_verifier)
    kind: Literal["asserts", "io"]
    description: str  # one line, for --list and the request
    subjects: tuple[str, ...]
    answer_format: str  # appended to every generated prompt

    def __post_init__(self) -> None:
        if self.kind not in ("asserts", "io"):
            raise ValueError(f"topic {self.name}: kind must be 'asserts' or 'io'")


_PY_ANSWER = "Return only the function in a ```python code block."

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(
            name="python_basics",
            language="python",
            verifier="python",
            kind="asserts",
            description="small Python functions: arithmetic, conditionals, loops over lists",
            subjects=(
                "integer arithmetic",
                "conditionals and comparisons",
                "summing or counting list elements",
                "filtering a list",
                "finding a minimum or maximum",
                "digits of a number",
                "divisibility and remainders",
                "boolean logic",
                "list indexing and slicing",
                "building a new list with a loop",
                "simple dictionaries",
                "ranges and sequences of numbers",
            ),
            answer_format=_PY_ANSWER,
        ),
        Topic(
            name="python_strings",
            language="python",
            verifier="python",
            kind="asserts",
            description="Python string manipulation: parsing, formatting, counting, transforming",
            subjects=(
                "counting characters or words",
                "reversing and palindromes",
                "case conversion",
                "splitting and joining",
                "character classification (digits, letters, vowels)",
                "simple ciphers",
                "run-length encoding or decoding",
                "parsing a formatted string",
                "finding substrings",
                "removing or replacing characters",
                "anagrams",
                "string compression or abbreviation",
            ),
            answer_format=_PY_ANSWER,
        ),
        Topic(
            name="python_algorithms",
            language="python",
            verifier="python",
            kind="asserts",
            description="classic algorithms in Python: searching, sorting, DP, graphs, math",
            subjects=(
                "binary search",
                "sorting with a custom key",
                "two pointers",
                "sliding window",
                "prefix sums",
                "dynamic programming on sequences",
                "greedy choice",
                "recursion and backtracking",
                "breadth-first search on a grid",
                "graphs given as adjacency lists",
                "stacks (brackets, monotonic stack)",
                "number theory (gcd, primes, modular arithmetic)",
                "intervals (merging, overlapping)",
                "matrix traversal",
            ),
            answer_format=_PY_ANSWER,
        ),
        Topic(
            name="cpp_stdin",
            language="cpp",
            verifier="gcc",
            kind="io",
            description="C++17 programs that read standard input and write standard output",
            subjects=(
                "arithmetic on a few integers",
                "processing an array of integers",
                "counting and frequencies",
                "string processing",
                "sorting",
                "simulation of a simple process",
                "prefix sums",
                "grids given as lines of characters",
                "number theory (gcd, primes, divisors)",
                "greedy choice",
                "dynamic programming",
                "several test cases in one input",
            ),
            answer_format=(
                "Write a complete C++17 program that reads standard input and writes standard "
                "output. Return only the program in a ```cpp code block."
            ),
        ),
        Topic(
            name="c_stdin",
            language="c",
            verifier="gcc",
            kind="io",
            description="C11 programs that read standard input and write standard output",
            subjects=(
                "arithmetic on a few integers",
                "processing an array of integers",
                "counting and frequencies",
                "characters and strings",
                "sorting",
                "loops and simple simulation",
                "number theory (gcd, primes, divisors)",
                "two-dimensional arrays",
            ),
            answer_format=(
                "Write a complete C11 program that reads standard input and writes standard "
                "output. Return only the program in a ```c code block."
            ),
        ),
    )
}


def get_topic(name: str) -> Topic:
    """The topic called ``name``; a ``ConfigError`` listing the known ones otherwise."""
    from halo_forge.errors import ConfigError

    topic = TOPICS.get(name.strip().lower())
    if topic is None:
        raise ConfigError(
            f"unknown topic {name!r}; choose one of: {', '.join(TOPICS)} "
            "(halo-forge data generate --list describes them)"
        )
    return topic
