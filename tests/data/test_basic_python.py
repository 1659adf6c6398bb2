"""Tests for the procedural ``basic_python`` suite.

Reference solutions and their tests are executed in one child Python process per batch, never with
``exec`` in the pytest process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from halo_forge.data import basic_python as bp
from halo_forge.types import Problem

SPLITS = ("train", "test")

# Runs in a child process: reads [[id, solution, tests], ...] on stdin and prints, as JSON, the
# ids whose solution failed to define the function or failed any test, with the first error.
_CHECKER = """
import json, sys
failed = {}
for pid, solution, tests in json.load(sys.stdin):
    ns = {}
    try:
        exec(solution, ns)
        for line in tests:
            exec(line, ns)
    except BaseException as exc:
        failed[pid] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def _run_checker(items: list[tuple[str, str, list[str]]]) -> dict[str, str]:
    """Map id -> first error for every (id, solution, tests) whose solution does not pass."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHECKER],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _all_default(seed: int = 0) -> list[Problem]:
    return [p for split in SPLITS for p in bp.generate(split, seed=seed)]


def test_generate_is_deterministic() -> None:
    for split in SPLITS:
        assert bp.generate(split, seed=3) == bp.generate(split, seed=3)
        assert bp.generate(split, seed=3) != bp.generate(split, seed=4)


def test_problem_is_random_access() -> None:
    items = bp.generate("train", seed=5, size=50)
    for index in (0, 17, 49):
        assert bp.problem("train", index, seed=5) == items[index]
    assert bp.problem("test", 1000, seed=5).id == "basic_python/test/1000"


def test_split_sizes() -> None:
    assert bp.SPLIT_SIZES == {"train": 64, "test": 40}
    for split in SPLITS:
        assert len(bp.generate(split)) == bp.SPLIT_SIZES[split]
        assert len(bp.generate(split, size=7)) == 7
        assert bp.generate(split, size=0) == []
        # A shorter run is a prefix of a longer one, so growing `size` never reshuffles.
        assert bp.generate(split, size=10) == bp.generate(split)[:10]


def test_unknown_split_is_rejected_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match="train, test"):
        bp.generate("validation")
    with pytest.raises(ValueError, match="train, test"):
        bp.problem("dev", 0)
    with pytest.raises(ValueError, match="size"):
        bp.generate("train", size=-1)
    with pytest.raises(ValueError, match="index"):
        bp.problem("train", -1)


@pytest.mark.parametrize(("train_seed", "test_seed"), [(0, 0), (1, 1), (0, 7)])
def test_no_prompt_or_instance_shared_between_splits(train_seed: int, test_seed: int) -> None:
    # Larger than the defaults so that every template is drawn several times in each split.
    train = bp.generate("train", seed=train_seed, size=300)
    test = bp.generate("test", seed=test_seed, size=300)
    assert not {p.prompt for p in train} & {p.prompt for p in test}

    def instances(problems: list[Problem]) -> set[str]:
        """(template, constants), or (template, names) for templates without constants."""
        keys = set()
        for p in problems:
            params = dict(p.metadata["params"])
            names = {"fn": params.pop("fn"), "args": params.pop("args")}
            keys.add(json.dumps([p.metadata["template"], params or names], sort_keys=True))
        return keys

    assert not instances(train) & instances(test)


def test_default_splits_have_no_duplicate_prompts() -> None:
    for split in SPLITS:
        prompts = [p.prompt for p in bp.generate(split)]
        assert len(set(prompts)) == len(prompts)


def test_every_template_appears_in_both_default_splits() -> None:
    assert 25 <= len(bp.TEMPLATES) <= bp.SPLIT_SIZES["test"]
    for split in SPLITS:
        assert {p.metadata["template"] for p in bp.generate(split)} == set(bp.TEMPLATES)
    assert {t.tier for t in bp.TEMPLATES.values()} == set(bp.TIERS)


def test_ids_are_unique_and_well_formed() -> None:
    problems = _all_default()
    ids = [p.id for p in problems]
    assert len(set(ids)) == len(ids)
    for p in problems:
        assert re.fullmatch(r"basic_python/(train|test)/\d+", p.id)
        assert p.id.split("/")[1] == p.split


def test_problem_fields() -> None:
    for p in _all_default():
        tpl = bp.TEMPLATES[p.metadata["template"]]
        assert p.language == "python"
        assert p.source == "basic_python"
        assert p.metadata["tier"] == tpl.tier in bp.TIERS
        assert p.difficulty == tpl.difficulty
        assert p.difficulty is not None and 0.0 <= p.difficulty <= 1.0
        assert 4 <= len(p.tests) <= 6
        assert len(set(p.tests)) == len(p.tests)
        lines = p.prompt.split("\n")
        assert len(lines) == 3
        assert lines[0].startswith(f"Write a Python function `{p.entry_point}(") and lines[
            0
        ].endswith(".")
        # The one example is the first test, so the prompt never contradicts the tests.
        assert f"assert {lines[1].removeprefix('Example: ')}" == p.tests[0]
        assert lines[2] == "Return only the function in a ```python code block."


def test_tiers_are_ordered_by_difficulty() -> None:
    by_tier = {
        tier: [t.difficulty for t in bp.TEMPLATES.values() if t.tier == tier] for tier in bp.TIERS
    }
    assert max(by_tier["easy"]) < min(by_tier["medium"])
    assert max(by_tier["medium"]) < min(by_tier["hard"])


def test_entry_point_is_named_in_prompt_reference_and_every_test() -> None:
    for p in _all_default():
        ep = p.entry_point
        assert ep and ep.isidentifier()
        assert f"`{ep}(" in p.prompt
        assert p.reference is not None and p.reference.startswith(f"def {ep}(")
        for line in p.tests:
            assert line.startswith(f"assert {ep}(") and " == " in line


def test_every_reference_passes_its_own_tests() -> None:
    problems = _all_default(seed=0) + _all_default(seed=1) + bp.generate("train", seed=2, size=200)
    failed = _run_checker(
        [(f"{p.id}@{i}", p.reference or "", p.tests) for i, p in enumerate(problems)]
    )
    assert failed == {}


def test_tests_reject_trivial_solutions() -> None:
    """Each problem's tests must tell a right answer from an input echo or a constant."""
    problems = _all_default()
    items = []
    for p in problems:
        for name, body in (
            ("echo", "return args[0]"),
            ("none", "return None"),
            ("zero", "return 0"),
        ):
            items.append((f"{p.id}:{name}", f"def {p.entry_point}(*args):\n    {body}\n", p.tests))
    failed = _run_checker(items)
    assert set(failed) == {pid for pid, _, _ in items}


def test_checker_reports_a_wrong_reference() -> None:
    """Guards the conformance test above: a broken solution must be reported, not pass silently."""
    p = bp.problem("train", 0)
    wrong = f"def {p.entry_point}(*args):\n    return 'wrong'\n"
    failed = _run_checker([(p.id, wrong, p.tests), ("ok", p.reference or "", p.tests)])
    assert list(failed) == [p.id]
    assert failed[p.id].startswith("AssertionError")
