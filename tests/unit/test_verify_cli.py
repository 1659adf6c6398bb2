"""``halo-forge verify`` through the real CLI entry point (``halo_forge.cli.main.run``)."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import sys
import time
from pathlib import Path

import pytest

from halo_forge.cli.main import run
from halo_forge.data import humaneval, mbpp
from halo_forge.verify.run import VerifyOptions, run_verify


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def verify(*args: str) -> int:
    return run(["verify", *args])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("halo-forge: error: ") and "Traceback" not in err[0]
    return err[0]


def test_all_164_humaneval_canonical_solutions_pass_and_return_none_fails(tmp_path, capsys):
    problems = humaneval.load()
    assert len(problems) == 164
    rows = []
    for i, p in enumerate(problems):
        assert p.reference is not None
        canonical = p.reference[len(p.prompt) :]
        rows.append({"task_id": p.id, "completion": canonical, "sample_id": 2 * i})
        rows.append({"task_id": p.id, "completion": "    return None\n", "sample_id": 2 * i + 1})
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    out = tmp_path / "results.jsonl"
    start = time.monotonic()
    code = verify("--verifier", "humaneval", "--problems", "humaneval", "--samples", str(samples))
    assert code == 2  # --output missing: a usage error, one line
    assert "--output" in one_error_line(capsys)
    code = verify(
        "--verifier", "humaneval", "--problems", "humaneval", "-s", str(samples), "-o", str(out)
    )
    seconds = time.monotonic() - start
    assert code == 0
    got = read_jsonl(out)
    assert [r["sample_id"] for r in got] == list(range(328))  # one row per input, in order
    canonical = [r for r in got if r["sample_id"] % 2 == 0]
    nones = [r for r in got if r["sample_id"] % 2 == 1]
    failures = [(r["task_id"], r["status"], r["details"]) for r in canonical if not r["passed"]]
    assert not failures, failures
    assert all(r["status"] == "PASS" and r["reward"] == 1.0 for r in canonical)
    assert all(r["tests_passed"] == r["tests_total"] > 0 for r in canonical)
    assert not [r["task_id"] for r in nones if r["passed"] or r["reward"] >= 1.0]
    summary = capsys.readouterr().out
    assert "Verified 328 samples (328 distinct) of humaneval:test with humaneval" in summary
    assert "passed 164/328" in summary and "samples/s" in summary
    print(f"164 canonical + 164 'return None' HumanEval samples verified in {seconds:.1f}s")


def test_completion_styles_and_carried_fields(tmp_path, capsys):
    p = humaneval.load()[2]  # truncate_number(number) -> number % 1.0
    body = "    return number % 1.0\n"
    rows = [
        {"task_id": p.id, "completion": body, "sample_id": "a", "model": "m1"},
        {"task_id": p.id, "completion": p.prompt + body, "sample_id": "b"},  # whole program
        {"task_id": p.id, "completion": f"Sure:\n```python\n{p.prompt}{body}```\n", "n": 3},
        {"task_id": p.id, "completion": body, "sample_id": "d"},  # duplicate of the first
        {"task_id": p.id, "completion": "    return number\n", "sample_id": "e"},
    ]
    out = tmp_path / "out.jsonl"
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    assert verify("-p", "humaneval", "-s", str(samples), "-o", str(out), "--workers", "2") == 0
    got = read_jsonl(out)
    assert [r["status"] for r in got] == ["PASS", "PASS", "PASS", "PASS", "FAIL"]
    assert got[0]["model"] == "m1" and got[2]["n"] == 3 and got[4]["sample_id"] == "e"
    assert got[0]["completion"] == body and got[0]["verifier"] == "humaneval"
    for key in ("task_id", "passed", "reward", "tests_passed", "tests_total", "stdout", "stderr"):
        assert key in got[4]
    assert 0 < got[4]["reward"] < 1 and got[4]["tests_passed"] < got[4]["tests_total"]
    assert "Verified 5 samples (3 distinct)" in capsys.readouterr().out  # b == c


# Reference solutions the python/mbpp verifier once failed although they are right (a Counter
# compared with a dict literal: 40, 88; setup code building class instances: 367); they must
# pass now (test_mbpp_references_with_counters_and_class_setup_pass).
MBPP_VERIFIER_GAPS = {"40", "88", "367"}
# Depends on the CPython version (set ordering), per the dataset's source notes; passes on 3.11.
MBPP_VERSION_DEPENDENT = {"341"}


@pytest.fixture(scope="module")
def mbpp_test_results(tmp_path_factory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("mbpp")
    problems = mbpp.load("test")
    assert len(problems) == 500 and problems[0].id == "11"
    rows = [{"task_id": int(p.id), "completion": p.reference} for p in problems]
    out = tmp / "out.jsonl"
    opts = VerifyOptions("mbpp:test", write_jsonl(tmp / "s.jsonl", rows), out)
    summary = run_verify(opts, show_progress=False)
    assert summary.verifier == "mbpp" and summary.samples == 500
    return read_jsonl(out)


# 123's reference sums amicable numbers below 9999 by trial division: ~1.5 s on an idle core
# here, over the 5 s default timeout when the machine is loaded. Only a TIMEOUT is excused.
MBPP_SLOW_REFERENCE = {"123"}


def test_mbpp_test_split_references_pass(mbpp_test_results):
    failed = {
        str(r["task_id"])
        for r in mbpp_test_results
        if not r["passed"]
        and not (str(r["task_id"]) in MBPP_SLOW_REFERENCE and r["status"] == "TIMEOUT")
    }
    assert failed <= MBPP_VERIFIER_GAPS | MBPP_VERSION_DEPENDENT, failed


def test_mbpp_references_with_counters_and_class_setup_pass(mbpp_test_results):
    # 40/88 compare a Counter with a dict literal, 367 builds class instances in its setup code:
    # the plain-data guard must accept both
    failed = {str(r["task_id"]) for r in mbpp_test_results if not r["passed"]}
    assert not failed & MBPP_VERIFIER_GAPS, failed


def test_problem_files_in_dataset_formats(tmp_path):
    text = gzip.decompress(humaneval.data_file().read_bytes()).decode()
    he_rows = [json.loads(x) for x in text.splitlines()]
    he_file = write_jsonl(tmp_path / "he.jsonl", he_rows[:3])
    gz = tmp_path / "he.jsonl.gz"
    gz.write_bytes(gzip.compress(he_file.read_bytes()))
    rows = [{"task_id": r["task_id"], "completion": r["canonical_solution"]} for r in he_rows[:3]]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    for problems in (he_file, gz):
        out = tmp_path / "out.jsonl"
        assert verify("-p", str(problems), "-s", str(samples), "-o", str(out)) == 0
        assert [r["status"] for r in read_jsonl(out)] == ["PASS"] * 3
        assert read_jsonl(out)[0]["verifier"] == "humaneval"
    mbpp_rows = [json.loads(x) for x in mbpp.data_file().read_text().splitlines()[10:12]]
    mbpp_file = write_jsonl(tmp_path / "mbpp.jsonl", mbpp_rows)
    samples = write_jsonl(
        tmp_path / "s2.jsonl",
        [{"task_id": f"Mbpp/{r['task_id']}", "completion": r["code"]} for r in mbpp_rows],
    )
    out = tmp_path / "out2.jsonl"
    assert verify("-p", str(mbpp_file), "-s", str(samples), "-o", str(out)) == 0
    assert [(r["status"], r["verifier"]) for r in read_jsonl(out)] == [("PASS", "mbpp")] * 2


def test_basic_python_with_pytest_style_problems_file(tmp_path, prompts_file):
    rows = [
        {"task_id": "p1", "completion": "```python\ndef add(a, b):\n    return a + b\n```"},
        {"task_id": "p2", "completion": "def double(x):\n    return x + x\n"},
    ]
    out = tmp_path / "o.jsonl"
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    assert verify("-p", str(prompts_file), "-s", str(samples), "-o", str(out)) == 0
    assert [(r["status"], r["verifier"]) for r in read_jsonl(out)] == [("PASS", "python")] * 2


@pytest.mark.parametrize(
    "lines,needle",
    [
        (['{"task_id": "HumanEval/0", "completion": "x"}', "{oops"], ":2: invalid JSON"),
        (['{"completion": "x"}'], ":1: missing field 'task_id'"),
        (['{"task_id": "HumanEval/0"}'], ":1: missing field 'completion'"),
        (['{"task_id": "HumanEval/0", "completion": 3}'], ":1: non-string 'completion'"),
        (['["a list"]'], ":1: expected a JSON object, got list"),
        (
            ['{"task_id": "HumanEval/999", "completion": "x"}', '{"task_id": 7, "completion": ""}'],
            ":1: unknown task_id 'HumanEval/999' (not in humaneval:test) (and 1 more bad rows)",
        ),
        ([], "holds no samples"),
    ],
)
def test_bad_samples_are_one_line_errors(tmp_path, capsys, lines, needle):
    samples = tmp_path / "s.jsonl"
    samples.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    assert verify("-p", "humaneval", "-s", str(samples), "-o", str(out)) == 2
    line = one_error_line(capsys)
    assert needle in line and (str(samples) in line or needle == "holds no samples")
    assert not out.exists()


def test_unknown_task_id_names_the_split_it_is_in(tmp_path, capsys):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": 700, "completion": "x"}])
    assert verify("-p", "mbpp", "-s", str(samples), "-o", str(tmp_path / "o.jsonl")) == 2
    assert "unknown task_id 700 (not in mbpp:test; it is in mbpp:train)" in one_error_line(capsys)


@pytest.mark.parametrize(
    "args,needle,code",
    [
        (["-p", "nonesuch"], "prompts file nonesuch does not exist", 2),
        (["-p", "mbpp:dev"], "dataset 'mbpp' has no split 'dev'", 2),
        (["-p", "humaneval", "--verifier", "nope"], "unknown verifier 'nope'", 2),
        (["-p", "humaneval", "--backend", "spark"], "--backend must be one of local, ray", 2),
        (["-p", "humaneval", "--workers", "0"], "--workers must be >= 1", 2),
        (["-p", "humaneval", "--verifier", "no_mod_xyz:C"], "cannot import module 'no_mod_xyz'", 2),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, args, needle, code):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    assert verify(*args, "-s", str(samples), "-o", str(tmp_path / "o.jsonl")) == code
    assert needle in one_error_line(capsys)


def test_missing_samples_file_and_output_clobbering(tmp_path, capsys):
    assert verify("-p", "humaneval", "-s", str(tmp_path / "no.jsonl"), "-o", "x.jsonl") == 2
    assert "samples file" in one_error_line(capsys)
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    assert verify("-p", "humaneval", "-s", str(samples), "-o", str(samples)) == 2
    assert "must not be the --samples file" in one_error_line(capsys)
    assert verify("-p", "humaneval", "-s", str(samples), "-o", str(tmp_path)) == 2
    assert "is a folder" in one_error_line(capsys)


SEEDS_VERIFIER = """
from halo_forge.verify import Verifier
from halo_forge.types import VerifyResult


class ContainsReturn(Verifier):
    def verify(self, code):
        if "boom" in code:
            raise RuntimeError("verifier crashed on purpose")
        ok = "return" in code
        return VerifyResult(success=ok, reward=1.0 if ok else 0.0, details="checked")
"""


def test_custom_seeds_verifier_and_its_crash_is_a_shown_sandbox_error(
    tmp_path, capsys, monkeypatch
):
    (tmp_path / "hf_cli_seeds.py").write_text(SEEDS_VERIFIER)
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = [
        {"task_id": "HumanEval/0", "completion": "    return True\n"},
        {"task_id": "HumanEval/0", "completion": "    pass\n"},
        {"task_id": "HumanEval/0", "completion": "    boom\n"},
    ]
    out = tmp_path / "o.jsonl"
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    code = verify(
        "-p", "humaneval", "--verifier", "hf_cli_seeds:ContainsReturn", "-s", str(samples)
    )
    assert code == 2 and "--output" in one_error_line(capsys)
    args = ["-p", "humaneval", "--verifier", "hf_cli_seeds:ContainsReturn", "-s", str(samples)]
    assert verify(*args, "-o", str(out)) == 0
    got = read_jsonl(out)
    assert [r["status"] for r in got] == ["PASS", "FAIL", "SANDBOX_ERROR"]
    assert got[2]["details"] == "RuntimeError: verifier crashed on purpose"
    assert got[0]["verifier"] == "ContainsReturn"
    summary = capsys.readouterr().out
    assert "SANDBOX_ERROR 1" in summary
    assert "warning: 1 SANDBOX_ERROR (the verifier failed, not the model)" in summary


class _EntryPoint:
    name, value, group = "always_pass", "somepkg:AlwaysPass", "halo_forge.verifiers"

    def load(self):
        from halo_forge.types import Status, VerifyResult
        from halo_forge.verify import Verifier

        class AlwaysPass(Verifier):
            def verify(self, problem, code):
                return VerifyResult(Status.PASS, 1.0, details=problem.id)

        return AlwaysPass


def test_entry_point_verifier_by_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: [_EntryPoint()])
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/1", "completion": ""}])
    out = tmp_path / "o.jsonl"
    assert (
        verify("-p", "humaneval", "--verifier", "always_pass", "-s", str(samples), "-o", str(out))
        == 0
    )
    assert read_jsonl(out)[0]["details"] == "HumanEval/1"
    assert "with always_pass" in capsys.readouterr().out


def test_ray_backend_without_ray_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    args = ["-p", "humaneval", "-s", str(samples), "-o", str(tmp_path / "o.jsonl")]
    assert verify(*args, "--backend", "ray") == 2
    assert "--backend ray needs Ray: pip install 'halo-forge[ray]'" in one_error_line(capsys)
