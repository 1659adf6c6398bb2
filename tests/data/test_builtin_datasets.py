"""The built-in ``humaneval`` and ``mbpp`` datasets: sizes, splits, fields, prompts, shipping."""

from __future__ import annotations

import hashlib

import pytest

from halo_forge.data import humaneval, mbpp
from halo_forge.data.prompts import load_problems, parse_prompt_source
from halo_forge.errors import DataError


def test_humaneval_problems():
    problems = load_problems("humaneval")
    assert len(problems) == 164 and len({p.id for p in problems}) == 164
    p = problems[0]
    assert (p.id, p.entry_point, p.split, p.source) == (
        "HumanEval/0",
        "has_close_elements",
        "test",
        "humaneval",
    )
    assert p.prompt.startswith("from typing import List") and "def has_close_elements(" in p.prompt
    assert len(p.tests) == 1 and "def check(candidate):" in p.tests[0]
    assert p.reference is not None and p.reference.startswith(p.prompt)
    assert parse_prompt_source("humaneval").default_verifier == "humaneval"
    with pytest.raises(DataError, match="choose one of: test"):
        parse_prompt_source("humaneval:train")


def test_mbpp_splits_by_task_id():
    sizes = {split: len(mbpp.load(split)) for split in mbpp.SPLITS}
    assert sizes == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    assert [p.id for p in mbpp.load("prompt")] == [str(i) for i in range(1, 11)]
    assert mbpp.load("validation")[0].id == "511" and mbpp.load("train")[-1].id == "974"
    src = parse_prompt_source("mbpp")
    assert (src.split, src.default_verifier) == ("test", "mbpp")
    assert {p.split for p in load_problems("mbpp:train")} == {"train"}


def test_mbpp_problem_fields_and_prompt():
    p = next(p for p in mbpp.load("test") if p.id == "11")
    assert p.entry_point == "remove_Occ"
    assert p.tests[0] == 'assert remove_Occ("hello","l") == "heo"' and len(p.tests) == 3
    assert "\r" not in (p.reference or "") and "def remove_Occ(s,ch)" in (p.reference or "")
    assert p.prompt.splitlines() == [
        "Write a python function to remove first and last occurrence of a given character "
        "from the string.",
        "Write it as a Python function `remove_Occ(s, ch)`.",
        "Your code should pass this test:",
        'assert remove_Occ("hello","l") == "heo"',
        "Return only the code in a ```python code block.",
    ]
    with_setup = next(p for p in mbpp.load("test") if p.id == "367")
    assert "root = Node(1)" in with_setup.metadata["test_setup_code"]


def test_every_mbpp_prompt_names_a_real_signature():
    for p in mbpp.load("test") + mbpp.load("train"):
        assert f"`{p.entry_point}(" in p.prompt and "(...)" not in p.prompt, p.id
        assert p.tests[0] in p.prompt


def test_mbpp_ships_verbatim_with_its_license():
    data = mbpp.data_file().read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "0b7004a79cd62d9ec7ecdd5a6e5f0ef1210ff00b286df3c5d5b57bf38c58e19a"
    )
    license_text = mbpp.data_file().with_name("MBPP_LICENSE.md").read_text()
    assert "CC BY 4.0" in license_text and "Austin" in license_text


def test_malformed_rows_name_their_line():
    with pytest.raises(DataError, match=r"f.jsonl:3: not an MBPP row"):
        mbpp.problem_from_row({"task_id": 1, "text": "x", "test_list": []}, "f.jsonl:3")
    with pytest.raises(DataError, match=r"h.jsonl:2: not a HumanEval row"):
        humaneval.problem_from_row({"task_id": "x", "prompt": "p"}, "h.jsonl:2")
