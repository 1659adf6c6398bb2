"""Building blocks for the ``basic_cpp`` / ``basic_rust`` / ``basic_go`` templates.

A template's ``build(rng)`` returns an :class:`Instance`: the task in words, the stdin of each
test case, a pure-Python ground truth (stdin → stdout, written independently of the references)
and one reference program per language. :mod:`halo_forge.data.basic_native` turns instances into
``Problem``s; the tier modules (``basic_native_easy`` / ``_medium`` / ``_hard``) hold templates.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("cpp", "rust", "go")
_INDENT = re.compile(r"^(?:    )+", re.MULTILINE)


@dataclass(frozen=True)
class Instance:
    """One template filled in.

    ``task`` completes "Write a complete C++ program that ..." (no final period);
    ``input_format`` / ``output_format`` follow "Input:" / "Output:". ``inputs`` are the stdin of
    each case, the first being the prompt's example. ``key`` decides the split: the instance's
    constants, plus (for templates with few or no constants) the names the statement uses.
    """

    task: str
    input_format: str
    output_format: str
    inputs: list[str]
    truth: Callable[[str], str]
    sources: dict[str, str]
    key: dict[str, Any]


@dataclass(frozen=True)
class Template:
    name: str
    tier: str
    difficulty: float
    build: Callable[[random.Random], Instance]


def registrar(
    registry: list[Template], tier: str
) -> Callable[[float], Callable[[Callable], Callable]]:
    """``@template(0.10)`` appends the decorated builder to ``registry`` as a ``tier`` template."""

    def template(difficulty: float) -> Callable[[Callable], Callable]:
        def register(build: Callable[[random.Random], Instance]) -> Callable:
            registry.append(Template(build.__name__.removeprefix("_t_"), tier, difficulty, build))
            return build

        return register

    return template


@dataclass(frozen=True)
class Refs:
    """Reference programs with ``$name`` placeholders (:class:`string.Template`) for constants.

    Written with 4-space indents; Go's are turned into tabs (gofmt style) when filled in.
    """

    cpp: str
    rust: str
    go: str

    def fill(self, **subs: Any) -> dict[str, str]:
        out = {}
        for lang in LANGUAGES:
            src = string.Template(getattr(self, lang).strip("\n") + "\n").substitute(subs)
            if lang == "go":
                src = _INDENT.sub(lambda m: "\t" * (len(m.group(0)) // 4), src)
            out[lang] = src
        return out


# --- vocabulary and small random helpers -------------------------------------------------------

# fmt: off
WORDS = (
    "apple", "banana", "robot", "python", "river", "stone", "cloud", "tiger", "music", "garden",
    "window", "orange", "rocket", "pencil", "summer", "planet", "yellow", "coffee", "dragon",
    "silver", "forest", "candle", "bridge", "lemon", "pirate", "castle",
)
PEOPLE = (
    "Ada", "Bob", "Carla", "Dmitri", "Eve", "Farah", "Grace", "Hugo", "Ivan", "Jun", "Kemal",
    "Lena", "Maximilian", "Noor", "Oscar", "Li",
)
# fmt: on
INT_NAMES = ("n", "x", "k", "m", "num", "z", "v", "t")
PAIR_NAMES = (("a", "b"), ("x", "y"), ("m", "n"), ("p", "q"), ("u", "v"), ("i", "j"))
COUNT_NAMES = ("n", "m", "k", "t", "q")
WORD_NAMES = ("s", "w", "word", "text", "str")


def phrase(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.sample(WORDS, n_words))


def ints(rng: random.Random, n: int, lo: int = -50, hi: int = 50) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


def numbers(s: str) -> list[int]:
    """Every whitespace-separated integer of ``s`` (what a ground truth parses stdin with)."""
    return [int(t) for t in s.split()]


def list_of(s: str) -> list[int]:
    """The ``n`` integers after the count ``n`` (how ground truths parse a list input)."""
    vals = numbers(s)
    return vals[1 : 1 + vals[0]]


@dataclass(frozen=True)
class PairLayout:
    """How two integers named ``a`` and ``b`` are laid out on stdin."""

    a: str
    b: str
    same_line: bool

    @property
    def text(self) -> str:
        where = (
            "separated by a space on one line"
            if self.same_line
            else f"on two lines ({self.a} on the first, {self.b} on the second)"
        )
        return f"two integers {self.a} and {self.b}, {where}"

    def render(self, a: int, b: int) -> str:
        return f"{a} {b}\n" if self.same_line else f"{a}\n{b}\n"

    @property
    def key(self) -> dict[str, Any]:
        return {"names": [self.a, self.b], "same_line": self.same_line}


def pair_layout(rng: random.Random) -> PairLayout:
    a, b = rng.choice(PAIR_NAMES)
    return PairLayout(a, b, rng.random() < 0.5)


@dataclass(frozen=True)
class ListLayout:
    """A count ``n`` on the first line, then ``n`` integers on one line or one per line."""

    n: str
    one_line: bool

    def text(self, lo: int, *, values: str = "integers") -> str:
        where = (
            "on the second line, separated by spaces"
            if self.one_line
            else "on the following lines, one per line"
        )
        n = self.n
        return f"the first line holds {n} ({lo} <= {n} <= 100), then {n} {values} {where}"

    def render(self, xs: list[int]) -> str:
        if self.one_line:
            return f"{len(xs)}\n{' '.join(map(str, xs))}\n"
        return "".join(f"{v}\n" for v in [len(xs), *xs])

    @property
    def key(self) -> dict[str, Any]:
        return {"names": [self.n], "one_line": self.one_line}


def list_layout(rng: random.Random) -> ListLayout:
    return ListLayout(rng.choice(COUNT_NAMES), rng.random() < 0.5)
