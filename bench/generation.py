"""Benchmark: RAFT rollout generation, the naive loop against ours, same prompts, same model.

Workload: the first ``--problems`` prompts of ``basic_python:test`` × ``--samples`` samples,
temperature 0.7, top-p 0.95, at most ``--max-new-tokens`` tokens, the embedded SmolLM2-135M
(or ``--model``), the chat template and system prompt RAFT uses.

* **naive** — the loop the issue describes (and the seeds run): ``model.generate`` with eager
  attention, 8 prompts × 8 samples per call (``num_return_sequences``), no stop sequence but
  EOS, so a small model rambles on to the token limit after its code block;
* **ours** — :class:`halo_forge.generation.hf.HFGenerator` (what ``raft train`` runs): SDPA and
  the continuous-batching sampler of :mod:`halo_forge.generation.continuous` — each prompt
  prefilled once for all its samples, a row leaving the batch as soon as it ends (EOS or a
  closed code fence) and its slot refilled with the next prompt's rows, a growable KV cache,
  and an exact nucleus sampler that sorts only each row's top 64 tokens when they hold the
  nucleus.
  Like ``raft train`` (``--generation-dtype auto``), it samples from a bfloat16 copy of the
  weights where the CPU has native bf16 (the copy is made inside the timing).
* **ours_fp32** (where ours is bf16; ``--no-fp32`` skips it) — the same in float32: what bf16
  buys on this CPU, and that it does not cost quality.
* **vllm** — when vLLM imports: :class:`~halo_forge.generation.vllm_backend.VLLMGenerator` on
  the same model folder (engine start-up inside the timing).

Both sample the same distribution (temperature + nucleus over the same logits). Quality is
checked by verifying both sample sets with the ``python`` verifier: the pass rates must be
comparable. Peak RSS is measured per phase (``/proc/self/clear_refs`` resets the high-water
mark between phases). The last line is one JSON object; ``ratio`` = naive seconds / ours.

    python bench/generation.py [--problems 8] [--samples 8] [--max-new-tokens 256]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def naive(model: Any, tok: Any, problems: list, n: int, max_new: int, seed: int) -> list:
    """``model.generate``, 8 prompts × n samples per call, eager attention, EOS only."""
    import torch

    from halo_forge.generation.base import DEFAULT_SYSTEM_PROMPT, chat_messages
    from halo_forge.types import Sample
    from halo_forge.verify.extract import extract_code

    model.config._attn_implementation = "eager"
    tok.padding_side = "left"
    torch.manual_seed(seed)
    out = []
    for b in range(0, len(problems), 8):
        batch = problems[b : b + 8]
        texts = [
            tok.apply_chat_template(
                chat_messages(p.prompt, DEFAULT_SYSTEM_PROMPT),
                tokenize=False,
                add_generation_prompt=True,
            )
            for p in batch
        ]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                do_sample=True,
                temperature=0.7,
                top_p=0.95,
                max_new_tokens=max_new,
                num_return_sequences=n,
                pad_token_id=tok.pad_token_id,
            )
        new = gen[:, enc.input_ids.shape[1] :]
        for row, ids in enumerate(new):
            p = batch[row // n]
            ids = [t for t in ids.tolist() if t != tok.pad_token_id]
            text = tok.decode(ids, skip_special_tokens=True)
            code = extract_code(text, p.language)
            out.append(Sample(p.id, row % n, text, code, num_tokens=len(ids)))
    model.config._attn_implementation = "sdpa"
    return out


def ours_fp32(model: Any, tok: Any, problems: list, n: int, max_new: int, seed: int) -> list:
    from halo_forge.generation.base import SamplingParams
    from halo_forge.generation.hf import HFGenerator

    params = SamplingParams(n=n, temperature=0.7, top_p=0.95, max_new_tokens=max_new, seed=seed)
    grouped, _ = HFGenerator(model, tok, batch_size=64).generate(problems, params)
    return [s for g in grouped for s in g]


def ours(model: Any, tok: Any, problems: list, n: int, max_new: int, seed: int) -> list:
    """What ``raft train`` runs: ``generation_dtype=auto`` (a bf16 copy where the CPU has native
    bf16 — made inside the timing — else float32)."""
    from halo_forge.generation.inference_copy import InferenceCopy, resolve_dtype

    dtype = resolve_dtype("auto")
    if dtype != "float32":
        model = InferenceCopy(model, dtype).refresh()
    return ours_fp32(model, tok, problems, n, max_new, seed)


def vllm_run(path: str) -> Any:
    def run(model: Any, tok: Any, problems: list, n: int, max_new: int, seed: int) -> list:
        from halo_forge.generation.base import SamplingParams
        from halo_forge.generation.vllm_backend import VLLMGenerator

        llm = VLLMGenerator.load_llm(path)
        params = SamplingParams(n=n, temperature=0.7, top_p=0.95, max_new_tokens=max_new, seed=seed)
        grouped, _ = VLLMGenerator(llm).generate(problems, params)
        return [s for g in grouped for s in g]

    return run


def pass_rate(problems: list, samples: list) -> float:
    from halo_forge.types import Status
    from halo_forge.verify import get_verifier

    by_id = {p.id: p for p in problems}
    v = get_verifier("python")
    try:
        results = v.verify_batch([(by_id[s.problem_id], s.code) for s in samples])
    finally:
        v.cleanup()
    return sum(r.status is Status.PASS for r in results) / len(results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--model", default=None, help="model folder (default: embedded SmolLM2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--no-fp32",
        dest="fp32",
        action="store_false",
        help="where ours samples in bf16, skip measuring it in float32 too",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()

    from halo_forge.data.prompts import load_problems
    from halo_forge.generation.inference_copy import resolve_dtype
    from halo_forge.models.loader import load_model, load_tokenizer, resolve_model

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    spec = resolve_model(args.model, None)
    tok = load_tokenizer(spec)
    model = load_model(spec)
    model.eval()
    problems = load_problems("basic_python:test")[: args.problems]
    # warm-up (allocator, kernels) outside the timings
    ours(model, tok, problems[:1], 2, 8, args.seed)

    runs: list[tuple[str, Any]] = [("ours", ours), ("naive", naive)]
    if args.fp32 and resolve_dtype("auto") != "float32":
        runs.insert(1, ("ours_fp32", ours_fp32))
    try:
        import vllm  # noqa: F401

        runs.append(("vllm", vllm_run(str(model.name_or_path))))
    except ImportError:
        print("vllm: not installed, not measured (see the README: Faster generation)")
    rows: dict[str, dict[str, Any]] = {}
    for name, fn in runs:
        _reset_peak()
        start = time.perf_counter()
        samples = fn(model, tok, problems, args.samples, args.max_new_tokens, args.seed)
        seconds = time.perf_counter() - start
        tokens = sum(s.num_tokens for s in samples)
        rows[name] = {
            "seconds": round(seconds, 2),
            "samples": len(samples),
            "tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 1),
            "samples_per_s": round(len(samples) / seconds, 3),
            "peak_rss_mb": round(_peak_mb()),
            "pass_rate": round(pass_rate(problems, samples), 3),
        }
        print(f"{name:>9}: {json.dumps(rows[name])}", flush=True)
    result = {
        "bench": "generation",
        "model": spec.label,
        "problems": len(problems),
        "samples_per_problem": args.samples,
        "max_new_tokens": args.max_new_tokens,
        "naive": rows["naive"],
        "ours": rows["ours"],
        "ratio": round(rows["naive"]["seconds"] / rows["ours"]["seconds"], 2),
    }
    result["ours_dtype"] = resolve_dtype("auto")
    for extra in ("ours_fp32", "vllm"):
        if extra in rows:
            result[extra] = rows[extra]
            result[f"ratio_{extra}"] = round(rows["naive"]["seconds"] / rows[extra]["seconds"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
