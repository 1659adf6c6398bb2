import json

import pytest

from halo_forge.data.prompts import load_problems, parse_prompt_source
from halo_forge.errors import DataError


def test_builtin_with_and_without_split():
    assert parse_prompt_source("basic_python").split == "train"
    assert parse_prompt_source("basic_python:test").split == "test"
    assert parse_prompt_source("basic_python").default_verifier == "python"
    test = load_problems("basic_python:test")
    train = load_problems("basic_python")
    assert test and train and {p.split for p in test} == {"test"}
    assert len(load_problems("basic_python", max_prompts=3)) == 3


def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(DataError, match="choose one of: train, test"):
        parse_prompt_source("basic_python:dev")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        parse_prompt_source(str(tmp_path / "nope.jsonl"))


def test_plain_file_falls_back_to_seeds_default_verifier(prompts_file):
    assert parse_prompt_source(str(prompts_file)).default_verifier == "gcc"
    problems = load_problems(str(prompts_file))
    assert [p.id for p in problems] == ["p1", "p2"]
    assert problems[0].tests == ["assert add(1, 2) == 3"]


def test_malformed_line_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"prompt": "ok"}) + "\n{not json\n")
    with pytest.raises(DataError) as e:
        load_problems(str(p))
    assert f"{p}:2:" in str(e.value) and "invalid JSON" in str(e.value)


def test_missing_prompt_field(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"text": "x"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: missing or empty 'prompt'"):
        load_problems(str(p))


def test_duplicate_ids(tmp_path):
    p = tmp_path / "dup.jsonl"
    p.write_text(
        json.dumps({"id": "a", "prompt": "x"})
        + "\n"
        + json.dumps({"id": "a", "prompt": "y"})
        + "\n"
    )
    with pytest.raises(DataError, match="dup.jsonl:2: duplicate id 'a'"):
        load_problems(str(p))
