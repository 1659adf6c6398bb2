"""The Ray backend on a real local cluster bound to 127.0.0.1 (skipped when ray is absent)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'halo-forge[ray]')")

from halo_forge.cli.main import run  # noqa: E402
from halo_forge.types import Problem, Status, VerifyResult  # noqa: E402
from halo_forge.verify import get_verifier  # noqa: E402
from halo_forge.verify.base import Verifier  # noqa: E402
from halo_forge.verify.ray_backend import connect, verify_batch_ray  # noqa: E402

ADD = Problem(id="add", prompt="", tests=["assert add(1, 2) == 3", "assert add(2, 2) == 4"])
GOOD, WRONG = "def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a * b\n"


@pytest.fixture(scope="module")
def cluster():
    start = time.monotonic()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    assert time.monotonic() - start < 60
    yield ray
    ray.shutdown()


def test_connect_reuses_a_running_cluster(cluster):
    assert connect() is False  # already initialised: not ours to shut down


def test_same_verdicts_as_local_with_dedup_and_progress(cluster):
    verifier = get_verifier("python", timeout=5.0)
    items = [(ADD, GOOD), (ADD, WRONG), (ADD, "def add(a, b)"), (ADD, GOOD)] * 3
    seen: list[int] = []
    remote = verify_batch_ray(verifier, items, on_done=seen.append, chunk_size=1)
    local = verifier.verify_batch(items)
    assert [r.status for r in remote] == [r.status for r in local]
    assert [r.status for r in remote[:4]] == [
        Status.PASS,
        Status.FAIL,
        Status.COMPILE_ERROR,
        Status.PASS,
    ]
    assert [r.reward for r in remote] == [r.reward for r in local]
    assert sum(seen) == len(items) and len(seen) == 3  # three distinct samples, one task each


def test_unpicklable_verifier_is_rebuilt_from_its_registry_spec(cluster):
    verifier = get_verifier("python", timeout=5.0)
    verifier.lock = threading.Lock()  # cloudpickle cannot send a lock
    results = verify_batch_ray(verifier, [(ADD, GOOD), (ADD, WRONG)])
    assert [r.status for r in results] == [Status.PASS, Status.FAIL]


def _crashing_verifiers() -> tuple[type[Verifier], type[Verifier]]:
    # Defined in a function so cloudpickle sends the classes by value to the workers.
    class Raises(Verifier):
        def verify(self, problem: Problem, code: str) -> VerifyResult:
            raise RuntimeError("verifier bug")

    class KillsWorker(Verifier):
        def verify(self, problem: Problem, code: str) -> VerifyResult:
            os._exit(3)

    return Raises, KillsWorker


def test_failures_on_workers_are_counted_sandbox_errors(cluster, caplog):
    raises, kills = _crashing_verifiers()
    r = verify_batch_ray(raises(), [(ADD, GOOD)])
    assert (r[0].status, r[0].details) == (Status.SANDBOX_ERROR, "RuntimeError: verifier bug")
    r = verify_batch_ray(kills(), [(ADD, GOOD), (ADD, WRONG)], chunk_size=2)
    assert [x.status for x in r] == [Status.SANDBOX_ERROR] * 2
    assert r[0].details.startswith("ray task failed: ")
    assert "2 of 2 distinct samples hit SANDBOX_ERROR" in caplog.text


def test_cli_backend_ray(cluster, tmp_path: Path):
    samples = tmp_path / "samples.jsonl"
    rows = [
        {"task_id": "HumanEval/0", "completion": "    return False\n", "sample_id": 0},
        {"task_id": "HumanEval/2", "completion": "    return number % 1.0\n", "sample_id": 1},
    ]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    code = run(
        ["verify", "--problems", "humaneval", "--samples", str(samples), "--output", str(out)]
        + ["--backend", "ray", "--workers", "2"]
    )
    assert code == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["sample_id"], r["status"]) for r in got] == [(0, "FAIL"), (1, "PASS")]
    assert ray.is_initialized()  # the CLI did not shut down a cluster it did not start
