"""The RAFT cycle loop: generate → verify → filter → LoRA fine-tune → save. Orchestration only;
the math lives in ``filtering`` and the training in ``halo_forge.sft.train``.

Each cycle continues training the same adapter (the base model is loaded once per run). A rerun
over the same output directory skips finished cycles; when every cycle is finished it returns
before loading any model.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from halo_forge.config import RaftConfig, to_dict
from halo_forge.data.prompts import PromptSource, load_problems, parse_prompt_source
from halo_forge.generation.base import SamplingParams
from halo_forge.models.loader import ModelSpec, resolve_model
from halo_forge.rlvr.filtering import Scored, select_top
from halo_forge.rlvr.state import RunDir, append_jsonl, read_jsonl_tolerant
from halo_forge.types import Problem, Sample, Status
from halo_forge.ui import console
from halo_forge.verify.base import Verifier
from halo_forge.verify.registry import get_verifier

RULE = "=" * 70


@dataclass
class RaftPlan:
    """Everything checked before a model is loaded."""

    config: RaftConfig
    source: PromptSource
    problems: list[Problem]
    verifier_name: str
    verifier: Verifier
    model: ModelSpec
    run: RunDir


def plan_raft(cfg: RaftConfig) -> RaftPlan:
    cfg.validate()
    source = parse_prompt_source(cfg.prompts or "")
    verifier_name = cfg.verifier or source.default_verifier
    verifier = get_verifier(verifier_name, **cfg.verifier_options)
    model = resolve_model(cfg.model, cfg.checkpoint)
    problems = load_problems(source, cfg.max_prompts)
    run = RunDir(cfg.output)
    cfg = dataclasses.replace(cfg, verifier=verifier_name)
    run.check_config(_fingerprint(cfg))
    return RaftPlan(cfg, source, problems, verifier_name, verifier, model, run)


def _fingerprint(cfg: RaftConfig) -> dict[str, Any]:
    return to_dict(cfg)


def run_raft(plan: RaftPlan) -> list[dict[str, Any]]:
    """Run the remaining cycles; returns the summaries of all cycles of the run."""
    cfg, run = plan.config, plan.run
    run.write_config(_fingerprint(cfg))
    run.repair_metrics()
    done = run.completed_cycles()
    if done >= cfg.cycles:
        console.print(
            f"[green]All {cfg.cycles} cycles are already complete in {run.root}[/] "
            f"(last: {run.final_dir(cfg.cycles)}); nothing to do."
        )
        return [run.cycle_summary(c) for c in range(1, cfg.cycles + 1)]
    _banner(plan, done)

    from halo_forge.generation.hf import HFGenerator
    from halo_forge.models.loader import load_model, load_tokenizer
    from halo_forge.sft.train import add_lora

    t0 = time.perf_counter()
    spec = plan.model
    if done:  # continue from the adapter the last finished cycle saved
        spec = ModelSpec(base=spec.base, adapter=str(run.final_dir(done)))
        console.print(f"Resuming after cycle {done}: loading {run.final_dir(done)}")
    tokenizer = load_tokenizer(spec, cfg.cache_dir)
    model = load_model(
        spec,
        cache_dir=cfg.cache_dir,
        dtype="bfloat16" if cfg.bf16 else "float32",
        trainable_adapter=True,
    )
    model = add_lora(model, cfg.lora, cfg.gradient_checkpointing)
    console.print(f"[dim]Model loaded in {time.perf_counter() - t0:.1f}s[/]")

    for cycle in range(done + 1, cfg.cycles + 1):
        run_cycle(plan, cycle, model, tokenizer, HFGenerator)
    return [run.cycle_summary(c) for c in range(1, cfg.cycles + 1)]


def run_cycle(plan: RaftPlan, cycle: int, model: Any, tokenizer: Any, generator_cls: Any) -> None:
    from halo_forge.sft.train import TrainSettings, to_example, train_lora
    from halo_forge.ui import progress

    cfg, run = plan.config, plan.run
    console.print(f"\n=== Cycle {cycle}/{cfg.cycles} ===")
    cdir = run.cycle_dir(cycle)
    cdir.mkdir(parents=True, exist_ok=True)
    samples_path = cdir / "samples.jsonl"

    # 1. generate (samples already on disk from an interrupted attempt are kept)
    previous = [Sample.from_dict(r) for r in read_jsonl_tolerant(samples_path)]
    have = {(s.problem_id, s.index) for s in previous}
    params = SamplingParams(
        n=cfg.samples_per_prompt,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed + cycle,
    )
    if previous:
        console.print(f"Resumed: {len(previous)} samples of this cycle were already generated")
    with progress() as bar:
        gen = generator_cls(
            model,
            tokenizer,
            batch_size=cfg.generation_batch_size,
            system_prompt=cfg.system_prompt,
            progress=bar,
        )
        _, gstats = gen.generate(
            plan.problems,
            params,
            on_samples=lambda batch: append_jsonl(samples_path, [s.to_dict() for s in batch]),
            skip=have,
        )
    by_key = {(s.problem_id, s.index): s for s in previous}
    for r in read_jsonl_tolerant(samples_path):
        s = Sample.from_dict(r)
        by_key.setdefault((s.problem_id, s.index), s)
    order = {p.id: i for i, p in enumerate(plan.problems)}
    samples = sorted(
        (s for s in by_key.values() if s.problem_id in order),
        key=lambda s: (order[s.problem_id], s.index),
    )
    console.print(
        f"Generated: {len(samples)} samples ({len(plan.problems)} prompts x "
        f"{cfg.samples_per_prompt}) in {gstats.seconds:.1f}s, {gstats.tokens} tokens, "
        f"{gstats.tokens_per_s:.1f} tok/s"
    )

    # 2. verify
    problems = {p.id: p for p in plan.problems}
    t = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("Verifying", total=len(samples))
        results = plan.verifier.verify_batch(
            [(problems[s.problem_id], s.code) for s in samples],
            workers=cfg.workers,
            on_done=lambda n: bar.advance(task, n),
        )
    verify_s = time.perf_counter() - t
    (cdir / "verified.jsonl").unlink(missing_ok=True)  # recomputed in full on a rerun
    append_jsonl(
        cdir / "verified.jsonl",
        [{**s.to_dict(), **r.to_dict()} for s, r in zip(samples, results, strict=True)],
    )
    statuses = Counter(r.status.value for r in results)
    passed = statuses.get(Status.PASS.value, 0)
    pass_rate = passed / len(results) if results else 0.0
    detail = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()) if k != "PASS")
    console.print(
        f"Verified: {passed} passed, {len(results) - passed} failed "
        f"(pass rate {pass_rate:.1%}) in {verify_s:.1f}s" + (f"  [{detail}]" if detail else "")
    )
    if statuses.get(Status.SANDBOX_ERROR.value):
        console.print(
            f"[yellow]Warning: {statuses[Status.SANDBOX_ERROR.value]} samples hit a "
            "SANDBOX_ERROR (verifier failure, not a model failure); see verified.jsonl[/]"
        )

    # 3. filter
    scored = [Scored(s, r) for s, r in zip(samples, results, strict=True)]
    kept = select_top(scored, cfg.reward_threshold, cfg.keep_percent)
    kept_prompts = len({k.sample.problem_id for k in kept})
    (cdir / "kept.jsonl").unlink(missing_ok=True)
    append_jsonl(
        cdir / "kept.jsonl",
        [{**k.sample.to_dict(), "reward": k.reward} for k in kept],
    )
    console.print(
        f"Kept: {len(kept)} samples from {kept_prompts}/{len(plan.problems)} prompts "
        f"(reward >= {cfg.reward_threshold:g}, top {cfg.keep_percent:.0%} per prompt)"
    )

    # 4. train
    examples = [
        to_example(problems[k.sample.problem_id].prompt, k.sample.completion, cfg.system_prompt)
        for k in kept
    ]
    settings = TrainSettings(
        epochs=cfg.train_epochs,
        learning_rate=cfg.learning_rate,
        batch_size=cfg.train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_steps=cfg.warmup_steps,
        max_seq_length=cfg.max_seq_length,
        bf16=cfg.bf16,
        gradient_checkpointing=cfg.gradient_checkpointing,
        seed=cfg.seed + cycle,
    )
    if examples:
        console.print(f"Training on {len(examples)} samples...")
    tr = train_lora(model, tokenizer, examples, settings)
    if tr.loss is None:
        console.print("[yellow]Training: skipped (no sample passed the filter)[/]")
    else:
        console.print(
            f"Training: {tr.steps} steps, loss {tr.loss:.4f} "
            f"({tr.seconds_per_step:.2f} s/step, {tr.seconds:.1f}s)"
        )

    # 5. save
    summary = {
        "event": "cycle",
        "cycle": cycle,
        "cycles": cfg.cycles,
        "prompts": len(plan.problems),
        "samples": len(samples),
        "passed": passed,
        "failed": len(results) - passed,
        "pass_rate": pass_rate,
        "statuses": dict(statuses),
        "mean_reward": sum(r.reward for r in results) / len(results) if results else 0.0,
        "kept": len(kept),
        "kept_prompts": kept_prompts,
        "reward_threshold": cfg.reward_threshold,
        "keep_percent": cfg.keep_percent,
        "learning_rate": cfg.learning_rate,
        "train_loss": tr.loss,
        "train_steps": tr.steps,
        "train_seconds": round(tr.seconds, 3),
        "seconds_per_step": round(tr.seconds_per_step, 4),
        "gen_seconds": round(gstats.seconds, 3),
        "gen_tokens": gstats.tokens,
        "gen_tokens_per_s": round(gstats.tokens_per_s, 2),
        "verify_seconds": round(verify_s, 3),
        "finish_reasons": gstats.finish_reasons,
        "time": time.time(),
    }

    def save(tmp: Any) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    final = run.finish_cycle(cycle, save, summary)
    console.print(f"Saved {final}")


def _banner(plan: RaftPlan, done: int) -> None:
    cfg = plan.config
    console.print(RULE)
    console.print(f"RAFT Training: {cfg.cycles} cycles")
    console.print(RULE)
    model = plan.model.label + (" (embedded default)" if plan.model.base is None else "")
    rows = [
        ("Model", model),
        ("Prompts", f"{plan.source.spec} ({len(plan.problems)} prompts)"),
        ("Verifier", plan.verifier_name),
        ("Reward threshold", f"{cfg.reward_threshold:g}"),
        ("Keep top", f"{cfg.keep_percent:.0%} of passing samples (per prompt)"),
        ("Samples per prompt", str(cfg.samples_per_prompt)),
        ("Temperature", f"{cfg.temperature:.2f} (fixed)"),
        ("Learning rate", f"{cfg.learning_rate:g}"),
        ("Max new tokens", str(cfg.max_new_tokens)),
        ("Output", str(plan.run.root)),
    ]
    for k, v in rows:
        console.print(f"  {k}: {v}")
    if done:
        console.print(f"  Cycles already complete: {done} (skipped)")
