"""Tests for the procedural ``basic_cpp`` / ``basic_rust`` / ``basic_go`` suites.

The fast tests need no compiler. The ``toolchain`` tests run every reference of both default
splits through the real verifier (in its sandbox) and check it passes with reward 1.0, that it
compiles without warnings, and that a wrong program fails every problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from halo_forge.data import basic_native as bn
from halo_forge.errors import DataError
from halo_forge.types import Problem, Status
from halo_forge.verify import get_verifier
from halo_forge.verify.native import io_tests, normalize_output

SPLITS = ("train", "test")
FENCE = {"cpp": "```cpp", "rust": "```rust", "go": "```go"}


def _all(language: str, seed: int = 0) -> list[Problem]:
    return [p for split in SPLITS for p in bn.generate(language, split, seed=seed)]


def _key(p: Problem) -> str:
    return json.dumps([p.metadata["template"], p.metadata["key"]], sort_keys=True)


# --- fast: no compiler -------------------------------------------------------------------------


def test_public_tables() -> None:
    assert bn.NAME_BY_LANGUAGE == {"cpp": "basic_cpp", "rust": "basic_rust", "go": "basic_go"}
    assert bn.VERIFIER_BY_LANGUAGE == {"cpp": "gcc", "rust": "rust", "go": "go"}
    assert bn.SPLIT_SIZES == {"train": 48, "test": 24}


@pytest.mark.parametrize("language", bn.LANGUAGES)
def test_sizes_ids_and_fields(language: str) -> None:
    name = bn.NAME_BY_LANGUAGE[language]
    for split in SPLITS:
        problems = bn.generate(language, split)
        assert len(problems) == bn.SPLIT_SIZES[split]
        assert [p.id for p in problems] == [f"{name}/{split}/{i}" for i in range(len(problems))]
        assert bn.generate(language, split, size=5) == problems[:5]
        for p in problems:
            tpl = bn.TEMPLATES[p.metadata["template"]]
            assert (p.language, p.source, p.split, p.tests) == (language, name, split, [])
            assert p.metadata["tier"] == tpl.tier in bn.TIERS
            assert p.difficulty == tpl.difficulty and 0.0 <= tpl.difficulty <= 1.0
            assert p.reference and p.reference.endswith("\n")
    ids = [p.id for lang in bn.LANGUAGES for p in _all(lang)]
    assert len(set(ids)) == len(ids)


def test_deterministic_and_seeded() -> None:
    for language in bn.LANGUAGES:
        assert bn.generate(language, "train", seed=3) == bn.generate(language, "train", seed=3)
        assert bn.generate(language, "train", seed=3) != bn.generate(language, "train", seed=4)
    assert bn.problem("go", "test", 5, seed=2) == bn.generate("go", "test", seed=2)[5]
    # The same item is the same task in every language: only prompt wording and reference differ.
    cpp, rust = bn.problem("cpp", "train", 9), bn.problem("rust", "train", 9)
    assert cpp.metadata == rust.metadata and cpp.reference != rust.reference


@pytest.mark.parametrize(("train_seed", "test_seed"), [(0, 0), (1, 1), (0, 7)])
def test_train_and_test_are_disjoint_by_key(train_seed: int, test_seed: int) -> None:
    train = bn.generate("cpp", "train", seed=train_seed, size=240)
    test = bn.generate("cpp", "test", seed=test_seed, size=240)
    assert not {_key(p) for p in train} & {_key(p) for p in test}
    assert not {p.prompt for p in train} & {p.prompt for p in test}
    for p in train + test:
        assert bn.split_of(p.metadata["template"], p.metadata["key"]) == p.split


def test_every_template_in_every_split_and_tiers_ordered() -> None:
    assert 20 <= len(bn.TEMPLATES) <= bn.SPLIT_SIZES["test"]
    for language in bn.LANGUAGES:
        for split in SPLITS:
            templates = {p.metadata["template"] for p in bn.generate(language, split)}
            assert templates == set(bn.TEMPLATES)
    by_tier = {t: [x.difficulty for x in bn.TEMPLATES.values() if x.tier == t] for t in bn.TIERS}
    assert max(by_tier["easy"]) < min(by_tier["medium"])
    assert max(by_tier["medium"]) < min(by_tier["hard"])


@pytest.mark.parametrize("language", bn.LANGUAGES)
def test_prompt_shape(language: str) -> None:
    for p in _all(language):
        lines = p.prompt.split("\n")
        assert lines[0].startswith("Write a complete ") and lines[0].endswith(".")
        assert lines[1].startswith("Input: ") and lines[2].startswith("Output: ")
        assert lines[3] == "Read from standard input and write to standard output."
        assert lines[-1] == f"Return only the code in a {FENCE[language]} code block."
        # The worked example is the first io test, verbatim.
        first = p.metadata["io_tests"][0]
        example = f"Example input:\n{first['input']}Example output:\n{first['output']}"
        assert example in p.prompt
    assert "C++" in bn.problem("cpp", "train", 0).prompt
    assert "Rust" in bn.problem("rust", "train", 0).prompt
    assert "package main" in bn.problem("go", "train", 0).prompt


def test_io_tests_are_well_formed_and_discriminating() -> None:
    """4-6 distinct cases the verifier accepts; a constant answer or an echo fails somewhere."""
    for p in _all("cpp") + bn.generate("cpp", "train", seed=1, size=200):
        cases = p.metadata["io_tests"]
        assert 4 <= len(cases) <= 6
        assert len(io_tests(p)) == len(cases)  # the verifier's own validation
        assert len({c["input"] for c in cases}) == len(cases)
        for c in cases:
            assert c["input"].endswith("\n") and c["output"].endswith("\n")
        outputs = [normalize_output(c["output"]) for c in cases]
        inputs = [normalize_output(c["input"]) for c in cases]
        assert len(set(outputs)) > 1, p.id
        assert inputs != outputs, p.id


def test_references_are_filled_in() -> None:
    for language in bn.LANGUAGES:
        for p in _all(language) + bn.generate(language, "test", seed=1, size=100):
            assert p.reference is not None and "$" not in p.reference
    go = [p.reference or "" for p in _all("go")]
    assert all(r.startswith("package main\n") and not re.search(r"^ +", r, re.M) for r in go)


def test_bad_language_split_size_index() -> None:
    with pytest.raises(DataError, match="cpp, rust, go"):
        bn.generate("java", "train")
    with pytest.raises(DataError, match="train, test"):
        bn.generate("rust", "validation")
    with pytest.raises(DataError, match="train, test"):
        bn.problem("go", "dev", 0)
    with pytest.raises(DataError, match="size"):
        bn.generate("cpp", "train", size=-1)
    with pytest.raises(DataError, match="index"):
        bn.problem("cpp", "train", -1)


# --- toolchain: every reference through the real verifier --------------------------------------

WRONG = {
    "cpp": '#include <iostream>\n\nint main() {\n    std::cout << "0\\n";\n    return 0;\n}\n',
    "rust": 'fn main() {\n    println!("0");\n}\n',
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("0")\n}\n',
}


def _conformance(language: str, cache: Path) -> None:
    problems = _all(language)
    name = bn.VERIFIER_BY_LANGUAGE[language]
    verifier = get_verifier(name, cache=str(cache))
    try:
        results = verifier.verify_batch(
            [(p, p.reference or "") for p in problems] + [(p, WRONG[language]) for p in problems]
        )
    finally:
        verifier.cleanup()
    refs, wrong = results[: len(problems)], results[len(problems) :]
    failed = {
        p.id: f"{r.status} {r.reward} {r.details} {r.stderr[:300]}"
        for p, r in zip(problems, refs, strict=True)
        if r.status != Status.PASS or r.reward != 1.0
    }
    assert failed == {}
    assert all(r.status == Status.FAIL and r.reward < 1.0 for r in wrong)
    # Passing every io test scores 1.0 even with warnings: check the compile rung separately
    # (compile-only, served from the same cache, so nothing is compiled twice).
    compile_only = get_verifier(name, cache=str(cache), run_after_compile=False)
    clean = compile_only.ladder.compile_reward(True, warnings=False)
    rungs = compile_only.verify_batch([(p, p.reference or "") for p in problems])
    noisy = {p.id: r.details for p, r in zip(problems, rungs, strict=True) if r.reward != clean}
    assert noisy == {}


@pytest.mark.toolchain("g++")
def test_cpp_references_pass_gcc(tmp_path: Path) -> None:
    _conformance("cpp", tmp_path / "cache")


@pytest.mark.toolchain("rustc")
def test_rust_references_pass_rustc(tmp_path: Path) -> None:
    _conformance("rust", tmp_path / "cache")


@pytest.mark.toolchain("go")
def test_go_references_pass_go(tmp_path: Path) -> None:
    _conformance("go", tmp_path / "cache")
