"""CompileCache: content keys, atomic publication, single-flight, bounded size; and the
verifiers' use of it (a hit skips the compiler; timeouts are not cached)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from halo_forge.types import Problem, Status
from halo_forge.verify import native
from halo_forge.verify.cache import CompileCache, cache_key

FREE = Problem(id="free", prompt="", language="cpp")
SUM = Problem(
    id="sum", prompt="", language="cpp", metadata={"io_tests": [{"input": "2 3", "output": "5"}]}
)
GOOD = "#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a + b; }\n"


def test_key_is_length_prefixed_and_content_sensitive():
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("x", b"y") == cache_key("x", "y")
    assert len(cache_key("")) == 64


def test_put_get_copies_the_artifact(tmp_path: Path):
    cache = CompileCache(tmp_path / "c")
    art = tmp_path / "prog"
    art.write_bytes(b"\x7fELF binary")
    key = cache_key("k")
    assert cache.get(key, tmp_path / "out") is None
    cache.put(key, {"ok": True, "stderr": "warning: x"}, art)
    out = tmp_path / "out"
    rec = cache.get(key, out)
    assert rec is not None and rec["ok"] and rec["stderr"] == "warning: x"
    assert out.read_bytes() == b"\x7fELF binary" and os.access(out, os.X_OK)
    out.write_bytes(b"tampered by the sample")  # a copy: the cached binary is unharmed
    assert (
        cache.get(key, tmp_path / "again") and (tmp_path / "again").read_bytes() == art.read_bytes()
    )
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (2, 1, 1)
    assert list((tmp_path / "c" / "tmp").iterdir()) == []  # no scratch left behind


def test_racing_writers_publish_one_whole_entry(tmp_path: Path):
    caches = [CompileCache(tmp_path) for _ in range(8)]  # as if 8 processes
    key = cache_key("same source")
    barrier = threading.Barrier(8)

    def write(i: int) -> None:
        art = tmp_path / f"art{i}"
        art.write_bytes(bytes([i]) * 1000)
        barrier.wait()
        caches[i].put(key, {"writer": i}, art)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec = caches[0].get(key, tmp_path / "out")
    assert rec is not None
    assert (tmp_path / "out").read_bytes() == bytes([rec["writer"]]) * 1000  # one writer's whole
    assert sum(c.stats.stores for c in caches) == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_size_is_bounded_lru(tmp_path: Path):
    cache = CompileCache(tmp_path, max_bytes=10_000)
    art = tmp_path / "art"
    art.write_bytes(b"x" * 3000)
    keys = [cache_key(str(i)) for i in range(6)]
    for i, key in enumerate(keys):
        cache.put(key, {"i": i}, art)
        time.sleep(0.01)  # distinct mtimes: the LRU clock
        assert cache.get(keys[0], tmp_path / "o") is not None  # keep the first one hot
    assert cache.stats.evictions >= 2
    assert cache.get(keys[0], tmp_path / "o") is not None  # recently used: kept
    assert cache.get(keys[1], tmp_path / "o") is None  # least recently used: evicted
    total = sum(p.stat().st_size for p in (tmp_path / "bin").rglob("*") if p.is_file())
    assert total <= 10_000


def test_single_flight_lock(tmp_path: Path):
    cache = CompileCache(tmp_path)
    key = cache_key("k")
    seen: list[bool] = []

    def try_lock() -> None:
        with cache.lock(key, blocking=False) as got:
            seen.append(got)

    with cache.lock(key) as got:
        assert got
        t = threading.Thread(target=try_lock)
        t.start()
        t.join()
    try_lock()
    assert seen == [False, True]
    assert cache._locks == {}  # no lock objects pile up


@pytest.mark.toolchain("gcc", "g++")
def test_verifier_hit_skips_the_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[str] = []
    real = native.run_sandboxed

    def counting(argv, **kw):
        calls.append(Path(argv[0]).name)
        return real(argv, **kw)

    monkeypatch.setattr(native, "run_sandboxed", counting)
    v = native.GCCVerifier(flags=["-O0"], cache=tmp_path, run_after_compile=True, pch=False)
    first = v.verify(SUM, GOOD)
    compiles = calls.count("g++")
    assert first.status is Status.PASS and compiles == 1
    other = Problem(id="other", prompt="", language="cpp", metadata=SUM.metadata)
    second = v.verify(other, GOOD)  # same code, another problem: a hit
    assert second.status is Status.PASS and calls.count("g++") == 1
    assert calls.count("prog") == 2  # ran both times (the run is never cached)
    # other flags, other language or another compiler → another key
    native.GCCVerifier(flags=["-O1"], cache=tmp_path, pch=False).verify(FREE, GOOD)
    assert calls.count("g++") == 2
    # a cached compile error stays a compile error, with its message
    bad = "int main() { return }\n"
    a = v.verify(FREE, bad)
    b = v.verify(FREE, bad)
    assert a.status is b.status is Status.COMPILE_ERROR and a.details == b.details
    assert calls.count("g++") == 3
    # a cached warning still costs the warning rung
    w = native.GCCVerifier(flags=["-O0"], cache=tmp_path, pch=False)
    r1, r2 = (
        w.verify(FREE, "int main() { int unused; }\n"),
        w.verify(FREE, "int main() { int unused; }\n"),
    )
    assert r1.reward == r2.reward == 0.3 and r1.details == r2.details


@pytest.mark.toolchain("gcc", "g++")
def test_duplicates_across_problems_in_a_batch_compile_once(tmp_path: Path, monkeypatch):
    calls: list[str] = []
    real = native.run_sandboxed
    monkeypatch.setattr(
        native, "run_sandboxed", lambda argv, **kw: calls.append(argv[0]) or real(argv, **kw)
    )
    v = native.GCCVerifier(flags=["-O0"], cache=tmp_path, run_after_compile=True, pch=False)
    problems = [
        Problem(id=f"p{i}", prompt="", language="cpp", metadata=SUM.metadata) for i in range(6)
    ]
    results = v.verify_batch([(p, GOOD) for p in problems], workers=3)
    assert [r.status for r in results] == [Status.PASS] * 6
    assert sum(Path(a).name == "g++" for a in calls) == 1


@pytest.mark.toolchain("gcc", "g++")
def test_timeouts_are_not_cached(tmp_path: Path):
    slow = (
        "constexpr long f() { long x = 0; for (long i = 0; i < 200000; i++)\n"
        "  for (long j = 0; j < 200000; j++) x += i ^ j; return x; }\n"
        "constexpr long r = f();\nint main() { return r > 0; }\n"
    )
    v = native.GCCVerifier(flags=["-O0"], cache=tmp_path, compile_timeout=0.5)
    assert v.verify(FREE, slow).status is Status.TIMEOUT
    assert v.cache is not None and v.cache.stats.stores == 0
    assert not list(tmp_path.glob("bin/*/*"))


@pytest.mark.toolchain("gcc", "g++")
def test_toolchain_version_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    v = native.GCCVerifier(flags=["-O0"], cache=tmp_path, pch=False)
    k1 = v._cache_key("cpp", GOOD)
    monkeypatch.setattr(native, "toolchain_version", lambda path, args=(): "g++ 99.0")
    assert v._cache_key("cpp", GOOD) != k1


@pytest.fixture
def rlimits_sandbox(monkeypatch: pytest.MonkeyPatch):
    """Reduced isolation for a fake compiler under /tmp (bubblewrap hides /tmp); restored after."""
    from halo_forge.verify import isolation

    monkeypatch.setenv("HALO_FORGE_SANDBOX", "rlimits")
    isolation.probe(refresh=True)
    yield
    monkeypatch.undo()
    isolation.probe(refresh=True)


def test_failures_without_a_diagnostic_are_not_cached(tmp_path: Path, rlimits_sandbox: None):
    cc = tmp_path / "bin" / "fakecc"  # a "compiler" that fails like a broken sandbox would
    cc.parent.mkdir()
    cc.write_text("#!/bin/sh\nexit 1\n")
    cc.chmod(0o755)
    v = native.GCCVerifier(
        cache=tmp_path / "cache", c_compiler=str(cc), cxx_compiler=str(cc), pch=False
    )
    r = v.verify(FREE, "int main() {}\n")
    assert (r.status, r.details) == (Status.COMPILE_ERROR, "exit code 1")
    assert v.cache is not None and v.cache.stats.stores == 0
    cc.write_text('#!/bin/sh\necho "main.cpp:1:1: error: nope" >&2\nexit 1\n')
    r = v.verify(FREE, "int main() {}\n")
    assert (r.status, r.details) == (Status.COMPILE_ERROR, "main.cpp:1:1: error: nope")
    assert v.cache.stats.stores == 1
