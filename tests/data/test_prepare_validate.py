"""``data prepare`` / ``data validate`` / ``data stats``: through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_forge.cli.main import run
from halo_forge.data.prompts import load_problems, parse_prompt_source
from halo_forge.data.registry import BUILTINS
from halo_forge.data.validate import find_overlaps, validate_file


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("spec", "size"),
    [("mbpp:train", 374), ("mbpp:test", 500), ("mbpp:validation", 90), ("humaneval", 164)],
)
def test_prepare_sizes(tmp_path, spec, size, capsys):
    out = tmp_path / "d.jsonl"
    assert run(["data", "prepare", "--dataset", spec, "--output", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == size and len({r["task_id"] for r in rows}) == size
    assert {"task_id", "prompt", "entry_point", "tests", "reference"} <= rows[0].keys()
    assert f"Wrote {size} rows" in capsys.readouterr().out


def test_every_mbpp_prompt_names_its_function(tmp_path):
    for split in ("train", "test", "validation", "prompt"):
        out = tmp_path / f"{split}.jsonl"
        assert run(["data", "prepare", "-d", "mbpp", "--split", split, "-o", str(out)]) == 0
        for r in _rows(out):
            assert f"`{r['entry_point']}(" in r["prompt"], r["task_id"]
            assert any(r["entry_point"] in t for t in r["tests"])


def test_prompts_format_hides_references_and_reads_back(tmp_path):
    out = tmp_path / "p.jsonl"
    assert run(["data", "prepare", "-d", "mbpp:train", "-f", "prompts", "-o", str(out)]) == 0
    rows = _rows(out)
    assert all("reference" not in r for r in rows)
    assert rows[0]["verifier"] == "mbpp" and rows[0]["split"] == "train"
    src = parse_prompt_source(str(out))
    assert src.default_verifier == "mbpp"
    problems = load_problems(src)
    builtin = load_problems("mbpp:train")
    assert [(p.id, p.prompt, p.tests, p.metadata) for p in problems] == [
        (p.id, p.prompt, p.tests, p.metadata) for p in builtin
    ]


def test_sft_format_is_prompt_completion_pairs(tmp_path):
    out = tmp_path / "s.jsonl"
    assert run(["data", "prepare", "-d", "basic_python", "-f", "sft", "-o", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == 64
    assert rows[0]["completion"].startswith("```python\n") and rows[0]["completion"].endswith("```")
    assert validate_file(out).kind == "sft" and validate_file(out).ok


def test_prepare_list(capsys):
    assert run(["data", "prepare", "--list", "--json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert set(listed) == set(BUILTINS)
    assert listed["mbpp"]["splits"] == {"test": 500, "train": 374, "validation": 90, "prompt": 10}
    assert listed["mbpp"]["license"] == "CC BY 4.0"
    assert listed["codeforces_cpp"]["splits"]["train"] == "hub"  # listing never downloads


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "prepare", "-d", "nope", "-o", "x.jsonl"], "unknown dataset 'nope'"),
        (["data", "prepare", "-d", "mbpp", "--split", "dev", "-o", "x.jsonl"], "no split 'dev'"),
        (["data", "prepare", "-d", "mbpp:train", "--split", "test", "-o", "x"], "contradicts"),
        (["data", "prepare", "-d", "mbpp", "-f", "csv", "-o", "x.jsonl"], "unknown format"),
        (["data", "prepare", "-d", "mbpp"], "give --dataset NAME and --output FILE"),
        (["data", "validate", "missing.jsonl"], "does not exist"),
        (["data", "validate", "x.jsonl", "--kind", "csv"], "unknown kind"),
        (["data", "stats", "nope.jsonl"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text('{"prompt": "p"}\n')
    assert run(argv) != 0
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_validate_names_the_broken_second_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"id": "a", "prompt": "Write add.", "tests": ["assert add(1, 2) == 3"]})
        + '\n{"prompt": "unterminated\n'
        + json.dumps({"id": "a", "prompt": " ", "tests": ["assert f(1) == 2"], "entry_point": "g"})
        + "\n[1, 2]\n"
        + json.dumps({"prompt": "no tests", "language": "cobol"})
        + "\n"
    )
    assert run(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:2: error: invalid JSON" in out
    assert f"{path}:3: error: empty 'prompt'" in out
    assert f"{path}:3: error: tests never mention the entry point 'g'" in out
    assert f"{path}:3: error: duplicate id 'a' (first on line 1)" in out
    assert f"{path}:4: error: expected a JSON object, got list" in out
    assert f"{path}:5: warning: no tests or io_tests" in out
    assert f"{path}:5: warning: unknown language 'cobol'" in out
    assert "FAILED" in out and "5 rows" in out


def test_validate_accepts_the_builtin_files(tmp_path):
    for spec in ("humaneval", "mbpp:test", "basic_python:train"):
        out = tmp_path / "d.jsonl"
        assert run(["data", "prepare", "-d", spec, "-o", str(out)]) == 0
        report = validate_file(out)
        assert report.ok and not report.warnings, (spec, report.issues[:3])
    from halo_forge.data import humaneval, mbpp

    assert validate_file(mbpp.data_file()).kind == "mbpp" and validate_file(mbpp.data_file()).ok
    he = validate_file(humaneval.data_file())
    assert he.kind == "humaneval" and he.ok and he.rows == 164


def test_validate_against_finds_contamination(tmp_path, capsys):
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train.write_text(
        "".join(
            json.dumps({"prompt": p, "tests": ["assert f() == 1"], "entry_point": "f"}) + "\n"
            for p in [
                "Write a function to find the pair with the highest product in a given array of "
                "integers and return the pair as a tuple, smallest first.",
                "Reverse the words of a sentence, keeping punctuation in place.",
                "Count the vowels in a string.",
            ]
        )
    )
    test.write_text(
        "".join(
            json.dumps({"prompt": p, "tests": ["assert f() == 1"], "entry_point": "f"}) + "\n"
            for p in [
                "COUNT the vowels   in a string!",  # exact after normalisation
                "Write a python function to find the pair with the highest product in a given "
                "array of integers and return the pair as a tuple, smallest first.",
                "Compute the n-th Fibonacci number iteratively.",  # unrelated
            ]
        )
    )
    assert run(["data", "validate", str(test), "--against", str(train)]) == 1
    out = capsys.readouterr().out
    assert f"{test}:1: overlap: prompt also in {train}:3 (exact)" in out
    assert f"{test}:2: overlap: prompt also in {train}:1 (near" in out
    assert f"{test}:3:" not in out
    assert run(["data", "validate", str(test), "--against", str(train), "--threshold", "1"]) == 1
    assert "(near" not in capsys.readouterr().out


def test_template_boilerplate_is_not_an_overlap():
    tail = " Write it as a Python function. Your code should pass this test. Return only the code."
    theirs = [(i, f"Task number {i} is about {w}.{tail}") for i, w in enumerate("abcdefghijkl")]
    mine = [(1, f"Sort a list of tuples by their second item.{tail}")]
    assert find_overlaps(mine, theirs, 0.5) == []


def test_mbpp_builtin_splits_have_known_near_duplicates(tmp_path):
    """Documented, not hidden: MBPP's own test split rephrases two train tasks (415↔922,
    427↔928) and validation one (595↔699). ``validate --against`` finds exactly those."""
    files = {}
    for split in ("train", "test", "validation"):
        files[split] = tmp_path / f"{split}.jsonl"
        assert run(["data", "prepare", "-d", f"mbpp:{split}", "-o", str(files[split])]) == 0

    def pairs(split):
        report = validate_file(files[split], against=files["train"])
        mine, train = _rows(files[split]), _rows(files["train"])
        return {
            (mine[o.line - 1]["task_id"], train[o.other_line - 1]["task_id"])
            for o in report.overlaps
        }

    assert pairs("test") == {("415", "922"), ("427", "928")}
    assert pairs("validation") == {("595", "699")}


def test_stats_of_a_builtin_and_of_an_sft_file(tmp_path, capsys):
    assert run(["data", "stats", "mbpp:train", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["rows"] == 374 and stats["languages"] == {"python": 374}
    assert stats["tests_per_problem"]["mean"] == 3.0 and stats["with_reference"] == 374
    hist = stats["complexity_histogram"]
    assert len(hist) == 10 and sum(b["count"] for b in hist) == 374
    assert hist[0]["lo"] == 0.0 and hist[-1]["hi"] == 1.0
    assert 0 <= stats["complexity"]["min"] <= stats["complexity"]["mean"] <= 1

    sft = tmp_path / "s.jsonl"
    assert run(["data", "prepare", "-d", "basic_python:test", "-f", "sft", "-o", str(sft)]) == 0
    capsys.readouterr()
    assert run(["data", "stats", str(sft), "--bins", "4"]) == 0
    out = capsys.readouterr().out
    assert "40 rows (sft)" in out and out.count("│") == 4
    assert run(["data", "stats", str(sft), "--bins", "0"]) == 2
