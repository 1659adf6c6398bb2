"""``halo-forge test``: the smoke level for real, and the orchestration with injected checks."""

from __future__ import annotations

import json
import re
import time

import pytest

from halo_forge import selftest
from halo_forge.cli.main import run
from halo_forge.errors import ConfigError
from halo_forge.selftest import Check, CheckFailed, Context, Skip, run_checks, summary_line

SUMMARY = re.compile(r"^Test Results: (\d+)/(\d+) passed( \((\d+) skipped\))?$")


def ok(ctx: Context) -> str:
    return "fine"


def boom(ctx: Context) -> str:
    raise RuntimeError("the widget\nis broken")


def absent(ctx: Context) -> str:
    raise Skip("skipped (not installed)")


def lines_of(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.toolchain("g++")
def test_smoke_level_runs_for_real_in_seconds_and_ends_with_the_exact_line(capsys):
    start = time.monotonic()
    code = run(["test"])
    seconds = time.monotonic() - start
    lines = lines_of(capsys.readouterr().out)
    assert code == 0, lines
    m = SUMMARY.match(lines[-1])
    assert m and m.group(1) == m.group(2), lines[-1]
    checks = lines[:-1]
    assert len(checks) == len(selftest.select_checks("smoke"))
    assert all(line[0] in "✓–" for line in checks), checks
    by_name = {line[2:].split("  ")[0].strip(): line for line in checks}
    for name in ("toolchain gcc/g++", "sandbox isolation", "python verifier", "c++ verifier (gcc)"):
        assert by_name[name].startswith("✓"), by_name[name]
    assert "sys.exit(0) at import -> RUNTIME_ERROR" in by_name["python verifier"]
    assert not any("load embedded model" in line for line in checks)  # no model at smoke level
    # ~5 s of it is importing torch/transformers/peft/trl; generous for a shared machine
    assert seconds < 60, f"smoke level took {seconds:.1f}s"


def test_a_failing_check_is_one_line_exit_1_and_counted(monkeypatch, capsys):
    monkeypatch.setattr(selftest, "CHECKS", [Check("a", "smoke", ok), Check("b", "smoke", boom)])
    assert run(["test"]) == 1
    lines = lines_of(capsys.readouterr().out)
    assert lines[-1] == "Test Results: 1/2 passed"
    assert lines[0].startswith("✓ a ") and lines[0].endswith("fine")
    assert lines[1].startswith("✗ b ") and "RuntimeError: the widget is broken" in lines[1]
    assert len(lines) == 3  # no traceback


def test_skipped_checks_are_not_counted_but_listed(monkeypatch, capsys):
    monkeypatch.setattr(
        selftest, "CHECKS", [Check("a", "smoke", ok), Check("opt", "smoke", absent)]
    )
    assert run(["test", "--level", "smoke"]) == 0
    lines = lines_of(capsys.readouterr().out)
    assert lines[-1] == "Test Results: 1/1 passed (1 skipped)"
    assert lines[1].startswith("– opt ") and lines[1].endswith("skipped (not installed)")


def test_unknown_level_is_a_one_line_usage_error_before_anything_runs(monkeypatch, capsys):
    monkeypatch.setattr(selftest, "CHECKS", [Check("never", "smoke", boom)])
    assert run(["test", "--level", "huge"]) == ConfigError.exit_code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        "halo-forge: error: unknown --level 'huge'; choose one of: smoke, standard, full"
    ]


def test_json_prints_only_a_list_of_checks(monkeypatch, capsys):
    monkeypatch.setattr(
        selftest,
        "CHECKS",
        [Check("a", "smoke", ok), Check("b", "smoke", boom), Check("c", "smoke", absent)],
    )
    assert run(["test", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["status"]) for r in rows] == [("a", "pass"), ("b", "fail"), ("c", "skip")]
    assert set(rows[0]) == {"name", "level", "status", "seconds", "detail"}
    assert rows[1]["detail"] == "RuntimeError: the widget is broken"


def test_levels_are_cumulative_and_needs_skip_dependents_of_a_failure():
    seen = []

    def record(name: str, result: str = "ok"):
        def fn(ctx: Context) -> str:
            seen.append(name)
            if result == "fail":
                raise CheckFailed("model missing")
            return result

        return fn

    checks = [
        Check("s", "smoke", record("s")),
        Check("load", "standard", record("load", "fail")),
        Check("gen", "standard", record("gen"), needs=("load",)),
        Check("train", "full", record("train"), needs=("load",)),
    ]
    assert [r.name for r in run_checks("smoke", checks)] == ["s"]
    seen.clear()
    results = run_checks("full", checks)
    assert seen == ["s", "load"]  # dependents never ran
    assert [r.status for r in results] == ["pass", "fail", "skip", "skip"]
    assert results[1].detail == "model missing"  # CheckFailed: the message alone
    assert results[2].detail == "needs 'load', which failed"
    assert summary_line(results) == "Test Results: 1/2 passed (2 skipped)"


def test_missing_gcc_fails_missing_optional_toolchains_skip(monkeypatch):
    monkeypatch.setattr(selftest.shutil, "which", lambda tool: None)
    by_name = {c.name: c for c in selftest.CHECKS}
    wanted = ["toolchain gcc/g++", "toolchain clang", "toolchain wine", "c++ verifier (gcc)"]
    results = run_checks("smoke", [by_name[n] for n in wanted])
    assert [r.status for r in results] == ["fail", "skip", "skip", "skip"]
    assert "gcc, g++ not found" in results[0].detail
    assert results[1].detail == "skipped (not installed)"


def test_cache_dir_option_reaches_the_checks(monkeypatch, capsys, tmp_path):
    cache_check = next(c for c in selftest.CHECKS if c.name == "cache folder")
    monkeypatch.setattr(selftest, "CHECKS", [cache_check])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert run(["test", "--cache-dir", str(blocker / "cache")]) == 1
    assert "is not a folder; pass --cache-dir" in capsys.readouterr().out
    assert run(["test", "--cache-dir", str(tmp_path / "new" / "cache")]) == 0
    assert "(will be created)" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_registry_is_well_formed():
    names = [c.name for c in selftest.CHECKS]
    assert len(names) == len(set(names))
    for i, c in enumerate(selftest.CHECKS):
        assert c.level in selftest.LEVELS
        for need in c.needs:  # prerequisites come earlier, at the same or a lower level
            j = names.index(need)
            assert j < i
            assert selftest.LEVELS.index(selftest.CHECKS[j].level) <= selftest.LEVELS.index(c.level)
    assert {c.level for c in selftest.CHECKS} == set(selftest.LEVELS)


@pytest.mark.slow
def test_standard_level_loads_the_embedded_model_generates_and_verifies(capsys):
    assert run(["test", "--level", "standard"]) == 0
    lines = lines_of(capsys.readouterr().out)
    assert SUMMARY.match(lines[-1]) and lines[-1].startswith("Test Results: ")
    for name in ("load embedded model", "generate 2x2 samples", "verify samples"):
        assert any(line.startswith(f"✓ {name}") for line in lines), lines
    assert not any("lora training step" in line for line in lines)
