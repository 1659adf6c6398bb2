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


def test_file_verifier_is_named_or_inferred(prompts_file, tmp_path):
    # prompts_file has assert tests and no language: Python, not the seeds' gcc
    assert parse_prompt_source(str(prompts_file)).default_verifier == "python"

    def verifier_of(*rows):
        path = tmp_path / "v.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return parse_prompt_source(str(path)).default_verifier

    assert verifier_of({"prompt": "Write a C program that prints hi."}) == "gcc"  # the seeds'
    assert verifier_of({"prompt": "x", "language": "rust"}) == "rust"
    assert (
        verifier_of({"prompt": "x", "language": "cpp"}, {"prompt": "y", "language": "go"}) == "gcc"
    )
    io = {"io_tests": [{"input": "1", "output": "1"}]}
    assert verifier_of({"prompt": "x", "language": "python", "metadata": io}) == "python_io"
    assert verifier_of({"prompt": "x", "language": "cpp", "verifier": "clang"}) == "clang"
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
