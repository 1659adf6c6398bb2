"""``basic_python``: a procedural suite of small Python function-synthesis problems.

Each item is one *template* (e.g. "add a constant to a number") instantiated with parameters: the
constants it uses (``k = 7``) and the names it is spelled with (``add_seven(x)``). Templates come in
three tiers so a weak model (SmolLM2-135M) solves some but far from all of them:

* ``easy``   — one expression a 135M model should write (``x + 7``, ``s.upper()``, ``lst[-1]``);
* ``medium`` — one loop or comprehension (count vowels, filter evens, factorial);
* ``hard``   — a small algorithm with edge cases (run-length encoding, second largest, Caesar).

Expected test values are computed by each template's own pure-Python ground truth at generation
time and written as ``repr()`` literals; the ``reference`` string is a separate, independently
written solution, so a conformance test that runs reference + tests (in a subprocess) checks the
two against each other.

Departures from reasoning-gym's ``Random(seed + index)``:

* An item's ``Random`` is seeded from a SHA-256 of ``(seed, split, index)``, so ``train`` item 3
  and ``test`` item 3 are unrelated and nearby seeds do not share items shifted by one.
* Train and test are disjoint *by construction*: every instance has a split key — its constants
  (``k = 7``) when the template has any, otherwise its names — and a fixed hash of
  ``(template, key)`` assigns it to exactly one split (about 40% of keys go to ``test``). An item
  re-draws its parameters until the key belongs to its split. The assignment ignores ``seed``, so
  "add 7" is test-only under every seed and no train prompt, however spelled, repeats a test task.
* Templates are dealt round-robin (a fresh permutation per block of ``len(TEMPLATES)`` items)
  rather than drawn independently, so every split of at least ``len(TEMPLATES)`` items contains
  every template and the tier mix is stable.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from halo_forge.types import Problem

NAME = "basic_python"
SPLIT_SIZES: dict[str, int] = {"train": 64, "test": 40}
TIERS = ("easy", "medium", "hard")

_TEST_BUCKETS = 2  # keys hashing to 0 or 1 (mod 5) are test-only, the rest train-only
_MODULUS = 5
_MAX_DRAWS = 500


@dataclass(frozen=True)
class Instance:
    """One template filled in: everything needed to write the prompt, reference and tests.

    ``behaviour`` completes the sentence "Write a Python function `f(x)` that ..." (no final
    period). ``truth`` is the ground truth called on each of ``cases`` (argument tuples; the first
    one is also the prompt's example). ``constants`` decide the split when non-empty.
    """

    fn: str
    args: tuple[str, ...]
    behaviour: str
    body: str  # the reference's body, one level of indentation, lines joined with "\n"
    truth: Callable[..., Any]
    cases: list[tuple[Any, ...]]
    constants: dict[str, Any]


@dataclass(frozen=True)
class Template:
    name: str
    tier: str
    difficulty: float
    build: Callable[[random.Random], Instance]


TEMPLATES: dict[str, Template] = {}


def _template(tier: str, difficulty: float) -> Callable[[Callable], Callable]:
    def register(build: Callable[[random.Random], Instance]) -> Callable:
        name = build.__name__.removeprefix("_t_")
        TEMPLATES[name] = Template(name, tier, difficulty, build)
        return build

    return register


# --- vocabulary and small random helpers -------------------------------------------------------

# fmt: off
_NUM_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
_WORDS = (
    "apple", "banana", "robot", "python", "river", "stone", "cloud", "tiger", "music", "garden",
    "window", "orange", "rocket", "pencil", "summer", "planet", "yellow", "coffee", "dragon",
    "silver", "forest", "candle", "bridge",
)
_PALINDROMES = (
    "level", "racecar", "noon", "radar", "kayak", "madam", "refer", "civic", "rotor", "stats",
)
# fmt: on
_NUMBER_ARGS = ("x", "n", "num", "value")
_STRING_ARGS = ("s", "text", "word")
_LIST_ARGS = ("nums", "values", "numbers", "lst")
_PAIR_ARGS = (("a", "b"), ("x", "y"), ("m", "n"))


def _ints(rng: random.Random, n: int, lo: int = -9, hi: int = 20) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


def _phrase(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.sample(_WORDS, n_words))


def _mixed_case(rng: random.Random, s: str) -> str:
    return "".join(c.upper() if rng.random() < 0.4 else c for c in s)


def _simple(
    fn: str,
    args: Sequence[str],
    behaviour: str,
    body: str,
    truth: Callable[..., Any],
    cases: list[tuple[Any, ...]],
    **constants: Any,
) -> Instance:
    return Instance(fn, tuple(args), behaviour, body, truth, cases, dict(constants))


# --- easy tier: one expression -----------------------------------------------------------------


@_template("easy", 0.10)
def _t_add_constant(rng: random.Random) -> Instance:
    k = rng.randint(2, 20)
    fn = rng.choice(
        [f"add_{_NUM_WORDS[k]}", f"plus_{_NUM_WORDS[k]}", f"increase_by_{_NUM_WORDS[k]}"]
    )
    x = rng.choice(_NUMBER_ARGS)
    cases = [(rng.randint(1, 30),), (0,), (-rng.randint(1, 30),), (rng.randint(50, 500),)]
    return _simple(
        fn, [x], f"returns {x} plus {k}", f"return {x} + {k}", lambda v: v + k, cases, k=k
    )


@_template("easy", 0.12)
def _t_subtract_constant(rng: random.Random) -> Instance:
    k = rng.randint(2, 20)
    fn = rng.choice(
        [f"subtract_{_NUM_WORDS[k]}", f"minus_{_NUM_WORDS[k]}", f"decrease_by_{_NUM_WORDS[k]}"]
    )
    x = rng.choice(_NUMBER_ARGS)
    cases = [(rng.randint(k + 1, 60),), (0,), (k,), (-rng.randint(1, 30),)]
    return _simple(
        fn, [x], f"returns {x} minus {k}", f"return {x} - {k}", lambda v: v - k, cases, k=k
    )


@_template("easy", 0.12)
def _t_multiply_constant(rng: random.Random) -> Instance:
    k = rng.randint(3, 12)
    fn = rng.choice([f"times_{_NUM_WORDS[k]}", f"multiply_by_{_NUM_WORDS[k]}"])
    x = rng.choice(_NUMBER_ARGS)
    cases = [(rng.randint(2, 12),), (0,), (1,), (-rng.randint(1, 12),), (rng.randint(20, 99),)]
    return _simple(
        fn, [x], f"returns {x} multiplied by {k}", f"return {x} * {k}", lambda v: v * k, cases, k=k
    )


@_template("easy", 0.10)
def _t_multiply_two(rng: random.Random) -> Instance:
    fn = rng.choice(["multiply", "product", "mul", "times"])
    a, b = rng.choice(_PAIR_ARGS)
    cases = [
        (rng.randint(2, 9), rng.randint(2, 9)),
        (0, rng.randint(1, 9)),
        (-rng.randint(1, 9), rng.randint(2, 9)),
        (rng.randint(-9, -1), rng.randint(-9, -1)),
        (rng.randint(10, 99), 1),
    ]
    return _simple(
        fn,
        [a, b],
        f"returns the product of {a} and {b}",
        f"return {a} * {b}",
        lambda p, q: p * q,
        cases,
    )


@_template("easy", 0.10)
def _t_square(rng: random.Random) -> Instance:
    fn = rng.choice(["square", "squared", "sq", "square_number"])
    x = rng.choice(_NUMBER_ARGS)
    cases = [(rng.randint(2, 12),), (0,), (1,), (-rng.randint(2, 12),), (rng.randint(13, 50),)]
    return _simple(
        fn, [x], f"returns {x} squared ({x} times {x})", f"return {x} * {x}", lambda v: v * v, cases
    )


@_template("easy", 0.15)
def _t_first_element(rng: random.Random) -> Instance:
    fn = rng.choice(["first", "first_element", "get_first", "head"])
    a = rng.choice(_LIST_ARGS)
    cases = [
        (_ints(rng, rng.randint(3, 6)),),
        ([rng.randint(-9, 9)],),
        (_ints(rng, 2),),
        (_ints(rng, 5),),
    ]
    return _simple(
        fn,
        [a],
        f"returns the first element of the list {a}. The list is never empty",
        f"return {a}[0]",
        lambda v: v[0],
        cases,
    )


@_template("easy", 0.15)
def _t_last_element(rng: random.Random) -> Instance:
    fn = rng.choice(["last", "last_element", "get_last", "last_item"])
    a = rng.choice(_LIST_ARGS)
    cases = [
        (_ints(rng, rng.randint(3, 6)),),
        ([rng.randint(-9, 9)],),
        (_ints(rng, 2),),
        (_ints(rng, 5),),
    ]
    return _simple(
        fn,
        [a],
        f"returns the last element of the list {a}. The list is never empty",
        f"return {a}[-1]",
        lambda v: v[-1],
        cases,
    )


@_template("easy", 0.15)
def _t_is_even(rng: random.Random) -> Instance:
    fn = rng.choice(["is_even", "even", "check_even"])
    x = rng.choice(_NUMBER_ARGS)
    cases = [
        (2 * rng.randint(1, 20),),
        (2 * rng.randint(1, 20) + 1,),
        (0,),
        (-2 * rng.randint(1, 9) - 1,),
        (-2 * rng.randint(1, 9),),
    ]
    return _simple(
        fn,
        [x],
        f"returns True if {x} is even and False otherwise. {x} may be zero or negative",
        f"return {x} % 2 == 0",
        lambda v: v % 2 == 0,
        cases,
    )


@_template("easy", 0.20)
def _t_divisible_by(rng: random.Random) -> Instance:
    k = rng.randint(3, 12)
    w = _NUM_WORDS[k]
    fn = rng.choice([f"is_divisible_by_{w}", f"divisible_by_{w}", f"is_multiple_of_{w}"])
    x = rng.choice(_NUMBER_ARGS)
    cases = [
        (k * rng.randint(2, 9),),
        (k * rng.randint(2, 9) + rng.randint(1, k - 1),),
        (0,),
        (-k * rng.randint(1, 5),),
        (k + 1,),
    ]
    return _simple(
        fn,
        [x],
        f"returns True if {x} is divisible by {k} (no remainder) and False otherwise. "
        f"{x} may be zero or negative",
        f"return {x} % {k} == 0",
        lambda v: v % k == 0,
        cases,
        k=k,
    )


@_template("easy", 0.10)
def _t_to_upper(rng: random.Random) -> Instance:
    fn = rng.choice(["to_upper", "shout", "make_upper", "upper_case"])
    s = rng.choice(_STRING_ARGS)
    cases = [
        (rng.choice(_WORDS),),
        (_mixed_case(rng, _phrase(rng, 2)),),
        ("",),
        (rng.choice(_WORDS) + "42!",),
    ]
    return _simple(
        fn,
        [s],
        f"returns the string {s} converted to upper case",
        f"return {s}.upper()",
        lambda v: v.upper(),
        cases,
    )


@_template("easy", 0.10)
def _t_string_length(rng: random.Random) -> Instance:
    fn = rng.choice(["string_length", "length", "str_len", "count_chars"])
    s = rng.choice(_STRING_ARGS)
    cases = [(rng.choice(_WORDS),), ("",), (_phrase(rng, 2),), (" " * rng.randint(1, 4),)]
    return _simple(
        fn,
        [s],
        f"returns the number of characters in the string {s} (spaces count)",
        f"return len({s})",
        len,
        cases,
    )


@_template("easy", 0.12)
def _t_max_of_two(rng: random.Random) -> Instance:
    fn = rng.choice(["max_of_two", "bigger", "larger", "maximum_of"])
    a, b = rng.choice(_PAIR_ARGS)
    v = rng.randint(-5, 20)
    cases = [
        (rng.randint(0, 9), rng.randint(10, 30)),
        (rng.randint(10, 30), rng.randint(0, 9)),
        (v, v),
        (-rng.randint(1, 9), -rng.randint(10, 20)),
    ]
    return _simple(
        fn,
        [a, b],
        f"returns the larger of the two numbers {a} and {b} (either one if they are equal)",
        f"return {a} if {a} >= {b} else {b}",
        max,
        cases,
    )


@_template("easy", 0.12)
def _t_min_of_two(rng: random.Random) -> Instance:
    fn = rng.choice(["min_of_two", "smaller", "lesser", "minimum_of"])
    a, b = rng.choice(_PAIR_ARGS)
    v = rng.randint(-5, 20)
    cases = [
        (rng.randint(0, 9), rng.randint(10, 30)),
        (rng.randint(10, 30), rng.randint(0, 9)),
        (v, v),
        (-rng.randint(1, 9), -rng.randint(10, 20)),
    ]
    return _simple(
        fn,
        [a, b],
        f"returns the smaller of the two numbers {a} and {b} (either one if they are equal)",
        f"return {a} if {a} <= {b} else {b}",
        min,
        cases,
    )


@_template("easy", 0.10)
def _t_absolute_value(rng: random.Random) -> Instance:
    fn = rng.choice(["absolute", "absolute_value", "abs_value", "magnitude"])
    x = rng.choice(_NUMBER_ARGS)
    cases = [(-rng.randint(1, 50),), (rng.randint(1, 50),), (0,), (-rng.randint(100, 999),)]
    return _simple(
        fn,
        [x],
        f"returns the absolute value of the number {x}",
        f"return -{x} if {x} < 0 else {x}",
        abs,
        cases,
    )


@_template("easy", 0.15)
def _t_greet(rng: random.Random) -> Instance:
    greeting = rng.choice(["Hello", "Hi", "Hey", "Welcome", "Good morning", "Greetings"])
    mark = rng.choice(["!", "."])
    fn = rng.choice(["greet", "greeting", "make_greeting"])
    name = rng.choice(["name", "person", "who"])
    people = ["Ada", "Bob", "Carla", "Dmitri", "Eve", "Farah", "Grace", "Hugo"]
    cases = [(rng.choice(people),), (rng.choice(people) + " " + rng.choice(people) + "son",), ("",)]
    cases.append((rng.choice([p for p in people if (p,) != cases[0]]),))
    return _simple(
        fn,
        [name],
        f"returns the string '{greeting}, ' followed by {name} and then '{mark}'",
        f"return '{greeting}, ' + {name} + '{mark}'",
        lambda v: f"{greeting}, {v}{mark}",
        cases,
        greeting=greeting,
        mark=mark,
    )


@_template("easy", 0.20)
def _t_sum_list(rng: random.Random) -> Instance:
    fn = rng.choice(["sum_list", "total", "list_sum", "add_all"])
    a = rng.choice(_LIST_ARGS)
    cases = [
        (_ints(rng, rng.randint(3, 6), 0, 20),),
        ([],),
        ([rng.randint(1, 9)],),
        (_ints(rng, 5),),
    ]
    return _simple(
        fn,
        [a],
        f"returns the sum of the numbers in the list {a}. An empty list gives 0",
        f"return sum({a})",
        sum,
        cases,
    )


# --- medium tier: one loop or comprehension ----------------------------------------------------


@_template("medium", 0.40)
def _t_sum_greater_than(rng: random.Random) -> Instance:
    k = rng.randint(0, 10)
    w = _NUM_WORDS[k]
    fn = rng.choice([f"sum_above_{w}", f"sum_greater_than_{w}", f"sum_over_{w}"])
    a = rng.choice(_LIST_ARGS)
    cases = [(_ints(rng, 6, -5, 20) + [k],), ([],), ([k, k - 1, -3],), (_ints(rng, 5, k + 1, 30),)]
    body = f"return sum(v for v in {a} if v > {k})"
    return _simple(
        fn,
        [a],
        f"returns the sum of the numbers in the list {a} that are strictly greater than {k}. "
        "If there are none (or the list is empty) it returns 0",
        body,
        lambda v: sum(x for x in v if x > k),
        cases,
        k=k,
    )


@_template("medium", 0.45)
def _t_count_vowels(rng: random.Random) -> Instance:
    fn = rng.choice(["count_vowels", "vowel_count", "num_vowels", "number_of_vowels"])
    s = rng.choice(_STRING_ARGS)
    cases = [
        (rng.choice(_WORDS),),
        (_mixed_case(rng, _phrase(rng, 2)),),
        ("",),
        ("rhythm",),
        ("AEIOUaeiou",),
    ]
    body = f"return sum(1 for c in {s} if c in 'aeiouAEIOU')"
    return _simple(
        fn,
        [s],
        f"returns the number of vowels in the string {s}. The vowels are a, e, i, o and u, "
        "in lower or upper case; y is not a vowel",
        body,
        lambda v: sum(c in "aeiouAEIOU" for c in v),
        cases,
    )


@_template("medium", 0.35)
def _t_reverse_string(rng: random.Random) -> Instance:
    fn = rng.choice(["reverse_string", "reverse", "reversed_text", "backwards"])
    s = rng.choice(_STRING_ARGS)
    cases = [(rng.choice(_WORDS),), (_phrase(rng, 2),), ("",), (rng.choice("abcxyz"),), ("Ab1!",)]
    return _simple(
        fn, [s], f"returns the string {s} reversed", f"return {s}[::-1]", lambda v: v[::-1], cases
    )


@_template("medium", 0.45)
def _t_count_char(rng: random.Random) -> Instance:
    c = rng.choice("abcdeilmnorst")
    fn = rng.choice([f"count_{c}", f"count_letter_{c}", f"number_of_{c}s"])
    s = rng.choice(_STRING_ARGS)
    with_c = [w for w in _WORDS if c in w] or ["x" + c]
    without = [w for w in _WORDS if c not in w]
    cases = [
        (" ".join(rng.sample(with_c, min(2, len(with_c)))) + " " + c,),
        (rng.choice(without),),
        ("",),
        (c.upper() + c + c.upper() + c * 2,),
    ]
    return _simple(
        fn,
        [s],
        f"returns how many times the lowercase letter '{c}' appears in the string {s}. "
        f"Uppercase '{c.upper()}' does not count",
        f"return {s}.count('{c}')",
        lambda v: v.count(c),
        cases,
        char=c,
    )


@_template("medium", 0.40)
def _t_filter_even(rng: random.Random) -> Instance:
    fn = rng.choice(["filter_even", "only_even", "even_numbers", "keep_even"])
    a = rng.choice(_LIST_ARGS)
    cases = [(_ints(rng, 7),), ([],), ([1, 3, 5, 7][: rng.randint(1, 4)],), ([0, -2, -3, 4, 4],)]
    return _simple(
        fn,
        [a],
        f"returns a new list containing only the even numbers of the list {a}, in their "
        "original order (0 and negative even numbers count as even)",
        f"return [v for v in {a} if v % 2 == 0]",
        lambda v: [x for x in v if x % 2 == 0],
        cases,
    )


@_template("medium", 0.45)
def _t_factorial(rng: random.Random) -> Instance:
    fn = rng.choice(["factorial", "fact", "factorial_of", "compute_factorial"])
    n = rng.choice(["n", "k", "num"])
    cases = [(rng.randint(4, 6),), (0,), (1,), (rng.randint(7, 12),)]
    body = f"result = 1\n    for i in range(2, {n} + 1):\n        result *= i\n    return result"
    return _simple(
        fn,
        [n],
        f"returns the factorial of {n} (1 * 2 * ... * {n}). {n} is never negative, and "
        f"the factorial of 0 is 1",
        body,
        math.factorial,
        cases,
    )


@_template("medium", 0.35)
def _t_repeat_string(rng: random.Random) -> Instance:
    fn = rng.choice(["repeat_string", "repeat", "repeat_text", "echo"])
    s, n = rng.choice([("s", "n"), ("text", "times"), ("word", "count")])
    cases = [
        (rng.choice(_WORDS)[:3], rng.randint(2, 4)),
        (rng.choice(_WORDS), 0),
        (rng.choice(_WORDS), 1),
        ("ab", rng.randint(3, 5)),
        ("", 3),
    ]
    return _simple(
        fn,
        [s, n],
        f"returns the string {s} repeated {n} times with nothing in between. "
        f"If {n} is 0 it returns the empty string",
        f"return {s} * {n}",
        lambda v, m: v * m,
        cases,
    )


@_template("medium", 0.45)
def _t_first_n_squares(rng: random.Random) -> Instance:
    fn = rng.choice(["first_n_squares", "squares", "square_list", "list_of_squares"])
    n = rng.choice(["n", "count", "k"])
    cases = [(rng.randint(3, 5),), (0,), (1,), (rng.randint(6, 10),)]
    return _simple(
        fn,
        [n],
        f"returns the list of the squares of 1, 2, ..., {n}, that is [1, 4, 9, ..., {n} * {n}]. "
        f"If {n} is 0 it returns []",
        f"return [i * i for i in range(1, {n} + 1)]",
        lambda m: [i * i for i in range(1, m + 1)],
        cases,
    )


@_template("medium", 0.50)
def _t_count_multiples(rng: random.Random) -> Instance:
    k = rng.randint(2, 9)
    w = _NUM_WORDS[k]
    fn = rng.choice([f"count_multiples_of_{w}", f"how_many_divisible_by_{w}"])
    a = rng.choice(_LIST_ARGS)
    cases = [
        (_ints(rng, 6, 1, 30) + [k * 2],),
        ([],),
        ([0, -k, k + 1],),
        ([k + 1] * rng.randint(1, 3),),
    ]
    return _simple(
        fn,
        [a],
        f"returns how many numbers in the list {a} are divisible by {k}. 0 and negative "
        f"multiples of {k} count; an empty list gives 0",
        f"return sum(1 for v in {a} if v % {k} == 0)",
        lambda v: sum(x % k == 0 for x in v),
        cases,
        k=k,
    )


@_template("medium", 0.35)
def _t_scale_list(rng: random.Random) -> Instance:
    k = rng.randint(2, 10)
    w = _NUM_WORDS[k]
    fn = rng.choice([f"multiply_all_by_{w}", f"scale_by_{w}", f"times_{w}_each"])
    a = rng.choice(_LIST_ARGS)
    cases = [(_ints(rng, 4, 1, 9),), ([],), ([0, -1, rng.randint(2, 9)],), ([rng.randint(10, 50)],)]
    return _simple(
        fn,
        [a],
        f"returns a new list in which every number of the list {a} is multiplied by {k}, "
        "in the same order",
        f"return [v * {k} for v in {a}]",
        lambda v: [x * k for x in v],
        cases,
        k=k,
    )


@_template("medium", 0.55)
def _t_remove_duplicates(rng: random.Random) -> Instance:
    fn = rng.choice(["remove_duplicates", "dedupe", "unique_in_order", "distinct"])
    a = rng.choice(_LIST_ARGS)
    base = _ints(rng, 4, 0, 9)
    cases = [(base + base[:2],), ([],), ([7, 7, 7],), ([3, 1, 3, 2, 1],)]
    body = (
        f"result = []\n    for v in {a}:\n        if v not in result:\n"
        "            result.append(v)\n    return result"
    )
    return _simple(
        fn,
        [a],
        f"returns a new list with the duplicates of the list {a} removed, keeping the first "
        "occurrence of each value in the original order",
        body,
        lambda v: list(dict.fromkeys(v)),
        cases,
    )


# --- hard tier: a small algorithm with edge cases ----------------------------------------------


def _truth_rle(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(f"{s[i]}{j - i}")
        i = j
    return "".join(out)


def _truth_second_largest(v: list[int]) -> int | None:
    distinct = sorted(set(v))
    return distinct[-2] if len(distinct) >= 2 else None


def _truth_fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _truth_is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


def _truth_caesar(s: str, k: int) -> str:
    out = []
    for c in s:
        if c.islower() and c.isascii():
            c = chr((ord(c) - ord("a") + k) % 26 + ord("a"))
        elif c.isupper() and c.isascii():
            c = chr((ord(c) - ord("A") + k) % 26 + ord("A"))
        out.append(c)
    return "".join(out)


def _truth_merge(a: list[int], b: list[int]) -> list[int]:
    return sorted(a + b)


@_template("hard", 0.70)
def _t_is_palindrome(rng: random.Random) -> Instance:
    fn = rng.choice(["is_palindrome", "palindrome", "check_palindrome", "reads_same_backwards"])
    s = rng.choice(_STRING_ARGS)
    cases = [
        (rng.choice(_PALINDROMES).capitalize(),),
        (rng.choice(_WORDS),),
        ("",),
        (_mixed_case(rng, rng.choice(_PALINDROMES)),),
        ("Ab",),
        ("ab ba",),
    ]
    body = f"t = {s}.lower()\n    return t == t[::-1]"
    return _simple(
        fn,
        [s],
        f"returns True if the string {s} reads the same forwards and backwards when upper "
        "and lower case letters are treated as equal, and False otherwise. Every character counts, "
        "including spaces; the empty string is a palindrome",
        body,
        lambda v: v.lower() == v.lower()[::-1],
        cases,
    )


@_template("hard", 0.70)
def _t_fibonacci(rng: random.Random) -> Instance:
    fn = rng.choice(["fibonacci", "fib", "nth_fibonacci", "fibo"])
    n = rng.choice(["n", "k", "i"])
    cases = [(rng.randint(5, 9),), (0,), (1,), (2,), (rng.randint(15, 25),)]
    body = f"a, b = 0, 1\n    for _ in range({n}):\n        a, b = b, a + b\n    return a"
    return _simple(
        fn,
        [n],
        f"returns the {n}-th Fibonacci number, where {fn}(0) == 0, {fn}(1) == 1 and each "
        f"later number is the sum of the two before it. {n} is never negative",
        body,
        _truth_fib,
        cases,
    )


@_template("hard", 0.80)
def _t_second_largest(rng: random.Random) -> Instance:
    fn = rng.choice(["second_largest", "runner_up", "second_biggest", "second_max"])
    a = rng.choice(_LIST_ARGS)
    top = rng.randint(10, 30)
    cases = [
        (rng.sample(range(-5, top), 5),),
        ([top, top, top - 3, 1],),
        ([rng.randint(1, 9)] * 2,),
        ([],),
        ([rng.randint(-9, 9)],),
    ]
    body = (
        f"distinct = sorted(set({a}))\n    if len(distinct) < 2:\n        return None\n"
        "    return distinct[-2]"
    )
    return _simple(
        fn,
        [a],
        f"returns the second largest distinct value in the list {a} (duplicates of the "
        f"largest do not count). If {a} has fewer than two distinct values it returns None",
        body,
        _truth_second_largest,
        cases,
    )


@_template("hard", 0.85)
def _t_run_length_encode(rng: random.Random) -> Instance:
    fn = rng.choice(["run_length_encode", "rle", "compress", "encode_runs"])
    s = rng.choice(["s", "text", "data"])
    letters = rng.sample("abcdxyz", 3)
    runs = "".join(c * rng.randint(1, 4) for c in letters)
    cases = [(runs,), ("",), ("".join(letters),), ("z" * rng.randint(10, 14),), ("aabbaa",)]
    body = (
        f"out = ''\n    i = 0\n    while i < len({s}):\n        j = i\n"
        f"        while j < len({s}) and {s}[j] == {s}[i]:\n            j += 1\n"
        f"        out += {s}[i] + str(j - i)\n        i = j\n    return out"
    )
    return _simple(
        fn,
        [s],
        f"returns the run-length encoding of the string {s}: each run of identical "
        "consecutive characters is written as the character followed by the length of the run "
        "(so 'aaab' becomes 'a3b1', and a run of 12 'z' becomes 'z12'). The empty string gives ''",
        body,
        _truth_rle,
        cases,
    )


@_template("hard", 0.65)
def _t_gcd(rng: random.Random) -> Instance:
    fn = rng.choice(["gcd", "greatest_common_divisor", "hcf", "common_divisor"])
    a, b = rng.choice(_PAIR_ARGS)
    g = rng.randint(2, 9)
    cases = [
        (g * rng.randint(2, 5), g * rng.randint(6, 9)),
        (rng.randint(1, 40), 0),
        (0, 0),
        (17, rng.choice([5, 6, 8])),
        (g, g * rng.randint(2, 9)),
    ]
    body = f"while {b}:\n        {a}, {b} = {b}, {a} % {b}\n    return {a}"
    return _simple(
        fn,
        [a, b],
        f"returns the greatest common divisor of the non-negative integers {a} and {b}. "
        f"{fn}(n, 0) == n, and {fn}(0, 0) == 0",
        body,
        math.gcd,
        cases,
    )


@_template("hard", 0.65)
def _t_count_words(rng: random.Random) -> Instance:
    fn = rng.choice(["count_words", "word_count", "number_of_words", "num_words"])
    s = rng.choice(["s", "text", "sentence"])
    cases = [
        (_phrase(rng, rng.randint(2, 4)),),
        ("",),
        ("   ",),
        ("  " + _phrase(rng, 2).replace(" ", "   ") + " ",),
        (rng.choice(_WORDS),),
    ]
    return _simple(
        fn,
        [s],
        f"returns the number of words in the string {s}. Words are separated by one or more "
        "spaces; leading and trailing spaces do not make extra words, and an empty or all-space "
        "string has 0 words",
        f"return len({s}.split())",
        lambda v: len(v.split()),
        cases,
    )


@_template("hard", 0.90)
def _t_caesar_shift(rng: random.Random) -> Instance:
    k = rng.randint(1, 25)
    fn = rng.choice(["caesar_shift", "shift_letters", "rotate_letters", "caesar"])
    s = rng.choice(["s", "text", "message"])
    cases = [
        (rng.choice(_WORDS),),
        ("xyz",),
        ("",),
        (_mixed_case(rng, _phrase(rng, 2)) + "!",),
        ("Zoo 42",),
    ]
    body = (
        f"out = ''\n    for c in {s}:\n        if 'a' <= c <= 'z':\n"
        f"            c = chr((ord(c) - ord('a') + {k}) % 26 + ord('a'))\n"
        "        elif 'A' <= c <= 'Z':\n"
        f"            c = chr((ord(c) - ord('A') + {k}) % 26 + ord('A'))\n"
        "        out += c\n    return out"
    )
    return _simple(
        fn,
        [s],
        f"returns the string {s} with every letter shifted {k} places forward in the alphabet, "
        "wrapping around from z to a. Upper-case letters stay upper case, lower-case letters stay "
        "lower case, and every other character (spaces, digits, punctuation) is unchanged",
        body,
        lambda v: _truth_caesar(v, k),
        cases,
        k=k,
    )


@_template("hard", 0.65)
def _t_digit_sum(rng: random.Random) -> Instance:
    fn = rng.choice(["digit_sum", "sum_of_digits", "add_digits", "digits_total"])
    n = rng.choice(["n", "num", "number"])
    cases = [(rng.randint(100, 99999),), (0,), (rng.randint(1, 9),), (-rng.randint(10, 999),)]
    return _simple(
        fn,
        [n],
        f"returns the sum of the decimal digits of the integer {n}. For a negative {n} the "
        f"minus sign is ignored, and {fn}(0) == 0",
        f"return sum(int(d) for d in str(abs({n})))",
        lambda v: sum(int(d) for d in str(abs(v))),
        cases,
    )


@_template("hard", 0.75)
def _t_title_case(rng: random.Random) -> Instance:
    fn = rng.choice(["title_case", "capitalize_words", "to_title", "titlecase"])
    s = rng.choice(["s", "text", "sentence"])
    cases = [
        (_phrase(rng, rng.randint(2, 3)),),
        (_mixed_case(rng, _phrase(rng, 3)).swapcase(),),
        ("",),
        ("a",),
        (rng.choice(_WORDS).upper(),),
    ]
    body = f"return ' '.join(w[:1].upper() + w[1:].lower() for w in {s}.split(' '))"
    return _simple(
        fn,
        [s],
        f"returns the string {s} with the first letter of every word in upper case and all "
        "other letters in lower case. Words are separated by single spaces and contain only "
        "letters; the empty string gives ''",
        body,
        lambda v: " ".join(w.capitalize() for w in v.split(" ")),
        cases,
    )


@_template("hard", 0.75)
def _t_flatten(rng: random.Random) -> Instance:
    fn = rng.choice(["flatten", "flatten_once", "concat_lists", "join_lists"])
    a = rng.choice(["lists", "nested", "groups"])
    cases = [
        ([_ints(rng, 2), _ints(rng, 1), [], _ints(rng, 3)],),
        ([],),
        ([[]],),
        ([[rng.randint(0, 9), [1, 2]], [rng.randint(0, 9)]],),
    ]
    body = f"result = []\n    for inner in {a}:\n        result.extend(inner)\n    return result"
    return _simple(
        fn,
        [a],
        f"takes {a}, a list of lists, and returns one list with all of their elements in "
        "order. Flatten only one level: an element that is itself a list inside an inner list "
        "stays a list",
        body,
        lambda v: [x for inner in v for x in inner],
        cases,
    )


@_template("hard", 0.80)
def _t_merge_sorted(rng: random.Random) -> Instance:
    fn = rng.choice(["merge_sorted", "merge", "merge_lists", "combine_sorted"])
    a, b = rng.choice([("a", "b"), ("xs", "ys"), ("left", "right")])
    cases = [
        (sorted(_ints(rng, 3)), sorted(_ints(rng, 4))),
        ([], sorted(_ints(rng, 2))),
        ([], []),
        ([1, 3, 3], [2, 3]),
    ]
    body = (
        f"i = j = 0\n    out = []\n    while i < len({a}) and j < len({b}):\n"
        f"        if {a}[i] <= {b}[j]:\n            out.append({a}[i])\n            i += 1\n"
        f"        else:\n            out.append({b}[j])\n            j += 1\n"
        f"    return out + {a}[i:] + {b}[j:]"
    )
    return _simple(
        fn,
        [a, b],
        f"takes two lists {a} and {b}, each sorted in ascending order, and returns one "
        "list sorted in ascending order that contains every element of both (duplicates are kept)",
        body,
        _truth_merge,
        cases,
    )


@_template("hard", 0.70)
def _t_is_prime(rng: random.Random) -> Instance:
    fn = rng.choice(["is_prime", "prime", "check_prime", "is_prime_number"])
    n = rng.choice(["n", "num", "number"])
    cases = [
        (rng.choice([13, 17, 19, 23, 29, 31, 37]),),
        (1,),
        (0,),
        (rng.choice([21, 49, 91, 77, 15]),),
        (2,),
        (-rng.choice([3, 7, 11]),),
    ]
    body = (
        f"if {n} < 2:\n        return False\n    d = 2\n    while d * d <= {n}:\n"
        f"        if {n} % d == 0:\n            return False\n        d += 1\n    return True"
    )
    return _simple(
        fn,
        [n],
        f"returns True if the integer {n} is a prime number and False otherwise. Numbers "
        "below 2 (0, 1 and all negative numbers) are not prime",
        body,
        _truth_is_prime,
        cases,
    )


# --- assembling problems -----------------------------------------------------------------------


def _hash_int(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, (NAME, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def split_of(template: str, inst: Instance) -> str:
    """The one split an instance belongs to: set by its constants, or by its names if none."""
    key = sorted(inst.constants.items()) if inst.constants else (inst.fn, inst.args)
    return "test" if _hash_int("split", template, repr(key)) % _MODULUS < _TEST_BUCKETS else "train"


def _check_split(split: str) -> None:
    if split not in SPLIT_SIZES:
        raise ValueError(
            f"unknown basic_python split {split!r}; valid splits: {', '.join(SPLIT_SIZES)}"
        )


def _template_for(split: str, index: int, seed: int) -> Template:
    names = list(TEMPLATES)
    block, slot = divmod(index, len(names))
    random.Random(_hash_int("deal", seed, split, block)).shuffle(names)
    return TEMPLATES[names[slot]]


def _call(fn: str, args: tuple[Any, ...]) -> str:
    return f"{fn}({', '.join(repr(a) for a in args)})"


def _dedupe(cases: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    seen: dict[str, tuple[Any, ...]] = {}
    for c in cases:
        seen.setdefault(repr(c), c)
    return list(seen.values())


def _to_problem(tpl: Template, inst: Instance, split: str, index: int) -> Problem:
    cases = _dedupe(inst.cases)
    if not 4 <= len(cases) <= 6:
        raise RuntimeError(
            f"basic_python template {tpl.name} produced {len(cases)} distinct test cases"
        )
    # Ground truth runs on a copy so a mutating truth function cannot change the literals we print.
    expected = [inst.truth(*copy.deepcopy(c)) for c in cases]
    tests = [f"assert {_call(inst.fn, c)} == {e!r}" for c, e in zip(cases, expected, strict=True)]
    signature = f"{inst.fn}({', '.join(inst.args)})"
    prompt = (
        f"Write a Python function `{signature}` that {inst.behaviour}.\n"
        f"Example: {_call(inst.fn, cases[0])} == {expected[0]!r}\n"
        "Return only the function in a ```python code block."
    )
    return Problem(
        id=f"{NAME}/{split}/{index}",
        prompt=prompt,
        language="python",
        tests=tests,
        entry_point=inst.fn,
        reference=f"def {signature}:\n    {inst.body}\n",
        source=NAME,
        split=split,
        difficulty=tpl.difficulty,
        metadata={
            "template": tpl.name,
            "tier": tpl.tier,
            "params": {"fn": inst.fn, "args": list(inst.args), **inst.constants},
        },
    )


def problem(split: str, index: int, seed: int = 0) -> Problem:
    """Item ``index`` of ``split`` under ``seed``; the same arguments always give the same problem.

    Any ``index >= 0`` is valid (the suite is procedural); ``SPLIT_SIZES`` only sets the default
    length of :func:`generate`.
    """
    _check_split(split)
    if index < 0:
        raise ValueError(f"index must be >= 0; got {index}")
    tpl = _template_for(split, index, seed)
    rng = random.Random(_hash_int("item", seed, split, index))
    for _ in range(_MAX_DRAWS):
        inst = tpl.build(rng)
        if split_of(tpl.name, inst) == split:
            return _to_problem(tpl, inst, split, index)
    raise RuntimeError(
        f"basic_python template {tpl.name} found no {split} instance in {_MAX_DRAWS} draws"
    )


def generate(split: str, seed: int = 0, size: int | None = None) -> list[Problem]:
    """The first ``size`` problems of ``split`` (default ``SPLIT_SIZES[split]``).

    ``train`` and ``test`` never share a (template, constants) instance — or, for templates without
    constants, a (template, names) instance — under any seeds, so they never share a prompt.
    """
    _check_split(split)
    n = SPLIT_SIZES[split] if size is None else size
    if n < 0:
        raise ValueError(f"size must be >= 0; got {n}")
    return [problem(split, i, seed) for i in range(n)]
