"""benchmark compare: the pure comparison and the CLI (table, --json, one-line refusals)."""

from __future__ import annotations

import json

import pytest

from halo_forge.bench.compare import comparison, load_result, markdown_table
from halo_forge.cli.main import run
from halo_forge.errors import DataError


def result(pak, compile_rate=0.9, n=10, problems=20, prompts="basic_python:test"):
    return {
        "model": "m",
        "prompts": prompts,
        "pass_at_k": pak,
        "compile_rate": compile_rate,
        "samples_per_problem": n,
        "num_problems": problems,
    }


def test_union_of_k_missing_values_and_deltas_against_the_first():
    cmp = comparison(
        [
            ("a", result({"1": 0.25, "5": 0.5})),
            ("b", result({"1": 0.375, "10": 0.75})),
            ("c", result({"5": 0.625}, compile_rate=None)),
        ]
    )
    assert cmp["ks"] == [1, 5, 10] and cmp["delta_k"] == 1
    a, b, c = cmp["rows"]
    assert b["pass_at_k"] == {"1": 0.375, "5": None, "10": 0.75}
    assert b["delta"] == {"1": 0.125, "5": None, "10": None}
    assert c["delta"]["5"] == pytest.approx(0.125) and c["delta"]["1"] is None
    assert a["delta"]["1"] == 0 and cmp["warnings"] == []
    md = markdown_table(cmp)
    assert md.splitlines()[0] == (
        "| results | pass@1 | pass@5 | pass@10 | compile rate | n | problems | Δ pass@1 |"
    )
    assert "| b | 0.375 | — | 0.750 | 0.900 | 10 | 20 | +0.125 |" in md
    assert "| c | — | 0.625 | — | — | 10 | 20 | — |" in md


def test_different_prompt_sets_warn_and_delta_falls_back_to_the_smallest_common_k():
    cmp = comparison(
        [("a", result({"5": 0.5})), ("b", result({"5": 0.25}, prompts="humaneval", problems=164))]
    )
    assert cmp["delta_k"] == 5 and cmp["rows"][1]["delta"]["5"] == -0.25
    assert "different prompt sets" in cmp["warnings"][0]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "not a benchmark result (a JSON list"),
        ('{"model": "x"}', "not a benchmark result (no pass_at_k)"),
        ('{"pass_at_k": {"1": 7}}', "pass@1 is 7, not a number in [0, 1]"),
        ('{"pass_at_k": {"one": 0.5}}', "key 'one' is not a positive integer"),
    ],
)
def test_load_result_refuses_non_results_naming_the_file(tmp_path, content, why):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(DataError, match="x.json") as e:
        load_result(path)
    assert why in str(e.value)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_cli_table_and_json(tmp_path, capsys):
    a = write(tmp_path, "base.json", result({"1": 0.25, "5": 0.5}))
    b = write(tmp_path, "tuned.json", result({"1": 0.5, "5": 0.75}, compile_rate=0.95))
    assert run(["benchmark", "compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "base.json" in out and "tuned.json" in out and "+0.250" in out and "0.950" in out

    assert run(["benchmark", "compare", a, b, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ks"] == [1, 5] and [r["file"] for r in data["rows"]] == [a, b]
    assert data["rows"][1]["delta"] == {"1": 0.25, "5": 0.25}


def test_cli_errors_are_one_line(tmp_path, capsys):
    a = write(tmp_path, "a.json", result({"1": 0.25}))
    bad = write(tmp_path, "samples.json", {"problem_id": "p1"})
    assert run(["benchmark", "compare", a, bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "samples.json is not a benchmark result" in err
    assert run(["benchmark", "compare", a, str(tmp_path / "missing.json")]) == 2
    assert "missing.json does not exist" in capsys.readouterr().err
    assert run(["benchmark", "compare", a]) == 2
    assert "at least two" in capsys.readouterr().err
