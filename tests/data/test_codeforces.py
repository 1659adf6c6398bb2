"""Tests for the ``codeforces_cpp``/``codeforces_python`` loaders, on a local fixture only.

``fixtures/codeforces_sample.jsonl`` has six rows in the exact ``deepmind/code_contests`` schema
(hand-written problems and solutions): four usable Codeforces problems, one from another source
and one file-I/O problem (both skipped). No test touches the network: the hub paths are tested
with the hub made unreachable.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from halo_forge.data import codeforces as cf
from halo_forge.errors import DataError
from halo_forge.types import Status

FIXTURE = Path(__file__).parent / "fixtures" / "codeforces_sample.jsonl"
IDS = ["codeforces/9001A", "codeforces/9001B", "codeforces/9001C", "codeforces/9002B"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No path from the environment; the datasets cache goes to a temporary folder."""
    import datasets

    monkeypatch.delenv(cf.ENV_PATH, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def _rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def test_fixture_to_problems_cpp() -> None:
    problems = cf.load("cpp", "train", path=str(FIXTURE))
    assert [p.id for p in problems] == IDS
    p = problems[0]
    assert (p.language, p.source, p.split, p.tests, p.entry_point) == (
        "cpp",
        "codeforces_cpp",
        "train",
        [],
        None,
    )
    assert p.prompt.startswith("Sum of Two\n\nYou are given two integers a and b.")
    assert "Read from standard input and write to standard output." in p.prompt
    assert p.prompt.endswith("Return only the code in a ```cpp code block.")
    assert "Example input:" not in p.prompt  # the statement already shows its examples
    assert p.metadata["rating"] == 800 and p.metadata["tags"] == ["implementation", "math"]
    assert p.metadata["time_limit"] == 1.0 and p.metadata["memory_limit_bytes"] == 256000000
    assert p.reference is not None and "#include <iostream>" in p.reference


def test_io_tests_public_first_deduplicated_filtered_and_capped() -> None:
    by_id = {p.id: p for p in cf.load("cpp", "test", path=str(FIXTURE))}
    cases = by_id["codeforces/9001A"].metadata["io_tests"]
    assert len(cases) == cf.MAX_CASES
    assert cases[:3] == [
        {"input": "3 5\n", "output": "8\n"},
        {"input": "-4 4\n", "output": "0\n"},  # the repeated example and the empty output: gone
        {"input": "1 -2\n", "output": "-1\n"},
    ]
    assert all(set(c) == {"input", "output"} and c["output"].strip() for c in cases)
    # the truncated private case ("6...") is dropped, the others kept in order
    range_cases = by_id["codeforces/9002B"].metadata["io_tests"]
    assert [c["output"] for c in range_cases] == ["15\n5\n4\n", "-7\n", "3000000000\n2000000000\n"]


def test_example_appended_when_statement_has_none() -> None:
    p = next(p for p in cf.load("python", "test", path=str(FIXTURE)) if p.id.endswith("9001B"))
    assert "Example input:\n5\n1 7 3 7 2\n\nExample output:\n7\n" in p.prompt
    assert p.prompt.index("Read from standard input") < p.prompt.index("Example input:")
    assert p.prompt.endswith("Return only the code in a ```python code block.")


def test_difficulty_from_rating() -> None:
    diff = {p.id: p.difficulty for p in cf.load("cpp", "test", path=str(FIXTURE))}
    assert diff == {
        "codeforces/9001A": 0.0,  # 800, the lowest rating
        "codeforces/9001B": round(200 / 2700, 4),
        "codeforces/9001C": None,  # unrated
        "codeforces/9002B": round(700 / 2700, 4),
    }
    assert cf._difficulty(4000) == 1.0 and cf._difficulty(None) is None


def test_references_are_filtered_by_language() -> None:
    cpp = {p.id: p.reference for p in cf.load("cpp", "test", path=str(FIXTURE))}
    py = {p.id: p.reference for p in cf.load("python", "test", path=str(FIXTURE))}
    assert all(r and "#include" in r for r in cpp.values())
    # 9001A lists Python 2, Java, C++, Python 3: the Python 3 one is taken
    assert py["codeforces/9001A"] == "a, b = map(int, input().split())\nprint(a + b)\n"
    assert py["codeforces/9001C"] is None  # C++ only
    assert "import sys" in (py["codeforces/9002B"] or "")


def test_limit_and_env_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cf.ENV_PATH, str(FIXTURE))
    assert [p.id for p in cf.load("python", "validation", limit=2)] == IDS[:2]


def test_hub_layout_folder_and_save_to_disk(tmp_path: Path) -> None:
    import datasets

    ds = datasets.Dataset.from_list(_rows())
    data = tmp_path / "hub" / "data"
    data.mkdir(parents=True)
    ds.select(range(2)).to_parquet(str(data / "valid-00000-of-00001.parquet"))
    ds.select(range(2, 6)).to_parquet(str(data / "train-00000-of-00001.parquet"))
    assert [p.id for p in cf.load("cpp", "validation", path=str(tmp_path / "hub"))] == IDS[:2]
    assert [p.id for p in cf.load("cpp", "train", path=str(tmp_path / "hub"))] == IDS[2:]
    with pytest.raises(DataError, match=r"no test-\*\.parquet or \.jsonl files under"):
        cf.load("cpp", "test", path=str(tmp_path / "hub"))

    datasets.DatasetDict({"valid": ds.select(range(2)), "test": ds}).save_to_disk(
        str(tmp_path / "saved")
    )
    assert len(cf.load("python", "test", path=str(tmp_path / "saved"))) == 4
    with pytest.raises(DataError, match="has no split 'train'; it has: valid, test"):
        cf.load("python", "train", path=str(tmp_path / "saved"))


def test_bad_paths_and_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="nope.jsonl does not exist$"):
        cf.load("cpp", "test", path=str(tmp_path / "nope.jsonl"))
    monkeypatch.setenv(cf.ENV_PATH, str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"does not exist \(from HALO_FORGE_CODEFORCES_PATH\)"):
        cf.load("cpp", "test")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match="is not a .parquet, .jsonl"):
        cf.load("cpp", "test", path=str(text))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"name": "x"\n')
    with pytest.raises(DataError, match="cannot read .*broken.jsonl") as err:
        cf.load("cpp", "test", path=str(broken))
    assert "\n" not in str(err.value)
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        '{"name": "1_A. X", "source": 2, "public_tests": {"input": [], "output": []}}\n'
    )
    with pytest.raises(DataError, match=r"wrong.jsonl: row 1: not a code_contests row"):
        cf.load("cpp", "test", path=str(wrong))
    with pytest.raises(DataError, match="no split 'valid'; choose one of: train, validation"):
        cf.load("cpp", "valid", path=str(FIXTURE))
    with pytest.raises(DataError, match="unknown language 'java'"):
        cf.load("java", "test", path=str(FIXTURE))


def _assert_fast_one_line(err: pytest.ExceptionInfo[DataError], start: float) -> None:
    assert time.monotonic() - start < 5
    message = str(err.value)
    assert "\n" not in message and cf.HUB_ID in message and cf.ENV_PATH in message


def test_offline_env_fails_fast_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(DataError, match="HF_HUB_OFFLINE is set") as err:
        cf.load("cpp", "test")
    _assert_fast_one_line(err, start)


def test_unreachable_hub_fails_fast_through_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    with socket.socket() as s:  # a local port nobody listens on: the connect is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    calls: list[tuple[str, int]] = []
    real = socket.create_connection

    def spy(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        calls.append(address)
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cf.socket, "create_connection", spy)
    start = time.monotonic()
    with pytest.raises(DataError, match="hub is not reachable") as err:
        cf.load("python", "train", limit=3)
    _assert_fast_one_line(err, start)
    assert calls == [("127.0.0.1", port)]


def test_offline_in_a_fresh_process_reads_only_the_cache(tmp_path: Path) -> None:
    """``HF_HUB_OFFLINE=1`` set before ``datasets`` is imported: a cache miss, in one line."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop(cf.ENV_PATH, None)
    code = (
        "from halo_forge.data import codeforces as cf\n"
        "from halo_forge.errors import DataError\n"
        "try:\n    cf.load('cpp', 'test')\nexcept DataError as e:\n    print(e)\n"
    )
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - start < 15  # the interpreter and datasets import take most of it
    assert out.stdout.count("\n") == 1 and "no cached copy exists" in out.stdout


def test_python_references_pass_python_io() -> None:
    """Through the sandboxed ``python_io`` verifier the registry names for this dataset."""
    from halo_forge.verify.registry import get_verifier

    problems = [p for p in cf.load("python", "test", path=str(FIXTURE)) if p.reference]
    assert problems and cf.VERIFIERS["python"] == "python_io"
    verifier = get_verifier("python_io", cache=False)
    results = verifier.verify_batch([(p, p.reference or "") for p in problems], workers=2)
    assert [(r.status, r.tests_passed) for r in results] == [
        (Status.PASS, len(p.metadata["io_tests"])) for p in problems
    ]
    assert verifier.verify(problems[0], "print(0)\n").status is not Status.PASS


@pytest.mark.toolchain("g++")
def test_cpp_references_pass_gcc() -> None:
    from halo_forge.verify.registry import get_verifier

    problems = cf.load("cpp", "test", path=str(FIXTURE))
    verifier = get_verifier("gcc", cache=False)
    results = verifier.verify_batch([(p, p.reference or "") for p in problems], workers=2)
    assert [(r.status, r.tests_passed) for r in results] == [
        (Status.PASS, len(p.metadata["io_tests"])) for p in problems
    ]
    wrong = verifier.verify(problems[0], "int main() { return 0; }\n")
    assert wrong.status is not Status.PASS
