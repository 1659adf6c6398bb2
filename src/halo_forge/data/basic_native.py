"""``basic_cpp`` / ``basic_rust`` / ``basic_go``: procedural stdin → stdout problems.

Small whole programs for the compiled-language verifiers (``gcc``/``clang``, ``rust``, ``go``),
pitched at a weak model (SmolLM2-135M) in three tiers of templates shared by all three languages:

* ``easy``   — read one or two values, print one expression (``a + b``, ``n % 7``, a greeting);
* ``medium`` — one loop (sum of a list, a multiplication table, count a letter, FizzBuzz-like);
* ``hard``   — a small algorithm with edge cases (primality, base conversion, Caesar, RLE).

Each template has a problem statement (task, input format, output format; the prompt adds one
worked example), a pure-Python ground truth (stdin → stdout) that computes every expected
output, and a reference program per language, each written independently of the ground truth,
so a conformance test that runs every reference through its verifier checks them against each
other. Test cases are ``problem.metadata["io_tests"]`` (see :mod:`halo_forge.verify.native`):
4–6 per problem, edge cases included (zero, negatives, empty lists, the bounds).

The design follows :mod:`halo_forge.data.basic_python`:

* An item's ``Random`` is seeded from a SHA-256 of ``(seed, split, index)``. The language is not
  part of it: ``basic_cpp/train/7`` and ``basic_go/train/7`` are the same task (same constants,
  same cases), which makes per-language comparisons exact and lets a run mixing languages see
  each task once per language rather than unrelated ones.
* Train and test are disjoint by construction: every instance has a split key — its constants
  (``k = 7``), plus the names and input layout the statement uses for templates with few or no
  constants — and a fixed hash of ``(template, key)`` puts it in exactly one split (about 40%
  of keys go to ``test``) under every seed and in every language. An item re-draws until its
  key belongs to its split. As in ``basic_python``, templates without constants (``sum_two``)
  only differ between splits by names and layout: the same operation appears in both.
* Templates are dealt round-robin (a fresh permutation per block of ``len(TEMPLATES)`` items),
  so a split of at least ``len(TEMPLATES)`` items holds every template. With 24 templates the
  default ``test`` split (24) has each template once and ``train`` (48) twice.
"""

from __future__ import annotations

import hashlib
import random

from halo_forge.data import basic_native_easy, basic_native_hard, basic_native_medium
from halo_forge.data.basic_native_base import LANGUAGES, Instance, Template
from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = [
    "LANGUAGES",
    "NAME_BY_LANGUAGE",
    "SPLIT_SIZES",
    "TEMPLATES",
    "TIERS",
    "VERIFIER_BY_LANGUAGE",
    "generate",
    "problem",
    "split_of",
]

NAME_BY_LANGUAGE: dict[str, str] = {"cpp": "basic_cpp", "rust": "basic_rust", "go": "basic_go"}
VERIFIER_BY_LANGUAGE: dict[str, str] = {"cpp": "gcc", "rust": "rust", "go": "go"}
SPLIT_SIZES: dict[str, int] = {"train": 48, "test": 24}
TIERS = ("easy", "medium", "hard")
TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        *basic_native_easy.TEMPLATES,
        *basic_native_medium.TEMPLATES,
        *basic_native_hard.TEMPLATES,
    )
}

_DISPLAY = {"cpp": "C++ program", "rust": "Rust program", "go": "Go program (package main)"}
_HASH_NAME = "basic_native"  # shared by the three languages: one split assignment for all
_TEST_BUCKETS = 2  # keys hashing to 0 or 1 (mod 5) are test-only, the rest train-only
_MODULUS = 5
_MAX_DRAWS = 500


def _hash_int(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, (_HASH_NAME, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def split_of(template: str, key: dict[str, object]) -> str:
    """The one split a ``(template, key)`` instance belongs to, whatever the seed or language."""
    h = _hash_int("split", template, repr(sorted(key.items())))
    return "test" if h % _MODULUS < _TEST_BUCKETS else "train"


def _check(language: str, split: str) -> None:
    if language not in NAME_BY_LANGUAGE:
        raise DataError(
            f"unknown basic_native language {language!r}; choose one of: "
            f"{', '.join(NAME_BY_LANGUAGE)}"
        )
    if split not in SPLIT_SIZES:
        raise DataError(
            f"unknown {NAME_BY_LANGUAGE[language]} split {split!r}; choose one of: "
            f"{', '.join(SPLIT_SIZES)}"
        )


def _template_for(split: str, index: int, seed: int) -> Template:
    names = list(TEMPLATES)
    block, slot = divmod(index, len(names))
    random.Random(_hash_int("deal", seed, split, block)).shuffle(names)
    return TEMPLATES[names[slot]]


def _prompt(language: str, inst: Instance, example_in: str, example_out: str) -> str:
    return (
        f"Write a complete {_DISPLAY[language]} that {inst.task}.\n"
        f"Input: {inst.input_format}\n"
        f"Output: {inst.output_format}\n"
        "Read from standard input and write to standard output.\n"
        f"Example input:\n{example_in.rstrip(chr(10))}\n"
        f"Example output:\n{example_out.rstrip(chr(10))}\n"
        f"Return only the code in a ```{language} code block."
    )


def _to_problem(language: str, tpl: Template, inst: Instance, split: str, index: int) -> Problem:
    inputs = list(dict.fromkeys(inst.inputs))  # drop repeated cases, keep order
    if not 4 <= len(inputs) <= 6:
        raise RuntimeError(f"basic_native template {tpl.name} produced {len(inputs)} cases")
    cases = [{"input": s, "output": inst.truth(s)} for s in inputs]
    name = NAME_BY_LANGUAGE[language]
    return Problem(
        id=f"{name}/{split}/{index}",
        prompt=_prompt(language, inst, cases[0]["input"], cases[0]["output"]),
        language=language,
        tests=[],
        reference=inst.sources[language],
        source=name,
        split=split,
        difficulty=tpl.difficulty,
        metadata={
            "io_tests": cases,
            "template": tpl.name,
            "tier": tpl.tier,
            "key": inst.key,
        },
    )


def problem(language: str, split: str, index: int, seed: int = 0) -> Problem:
    """Item ``index`` of ``split`` in ``language``; the same arguments give the same problem.

    Any ``index >= 0`` is valid (the suite is procedural); ``SPLIT_SIZES`` only sets the default
    length of :func:`generate`.
    """
    _check(language, split)
    if index < 0:
        raise DataError(f"index must be >= 0; got {index}")
    tpl = _template_for(split, index, seed)
    rng = random.Random(_hash_int("item", seed, split, index))
    for _ in range(_MAX_DRAWS):
        inst = tpl.build(rng)
        if split_of(tpl.name, inst.key) == split:
            return _to_problem(language, tpl, inst, split, index)
    raise RuntimeError(
        f"basic_native template {tpl.name} found no {split} instance in {_MAX_DRAWS} draws"
    )


def generate(language: str, split: str, seed: int = 0, size: int | None = None) -> list[Problem]:
    """The first ``size`` problems of ``split`` (default ``SPLIT_SIZES[split]``) in ``language``.

    ``language`` is ``cpp``, ``rust`` or ``go`` (datasets ``basic_cpp``, ``basic_rust``,
    ``basic_go``; verify with ``VERIFIER_BY_LANGUAGE[language]``).
    """
    _check(language, split)
    n = SPLIT_SIZES[split] if size is None else size
    if n < 0:
        raise DataError(f"size must be >= 0; got {n}")
    return [problem(language, split, i, seed) for i in range(n)]
