"""The RAFT cycle loop: generate → verify → filter → LoRA fine-tune → save. Orchestration only:
the per-cycle schedule is :mod:`halo_forge.rlvr.schedule` (curriculum, reward shaping, learning
rate), selection :mod:`~halo_forge.rlvr.filtering`, the chunked run files
:mod:`~halo_forge.rlvr.chunks`, the training :mod:`halo_forge.sft.train`.

Each cycle continues training the same adapter (the base model is loaded once per run). Work is
saved in chunks of ``generation_chunk_size`` prompts (samples, then verdicts), so a run killed
at any point — ``kill -9`` included — and started again with the same command redoes nothing
finished, duplicates nothing, and (chunks being seeded by (seed, cycle, chunk) alone) ends in
the state the uninterrupted run would have reached. A rerun over a finished run returns before
loading any model. ``HALO_FORGE_KILL_AT`` (tests only) SIGKILLs the process at a named point.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import shutil
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from halo_forge.config import RaftConfig, to_dict
from halo_forge.data.prompts import PromptSource, load_problems, parse_prompt_source
from halo_forge.generation.base import SamplingParams
from halo_forge.models.loader import ModelSpec, resolve_model
from halo_forge.rlvr import schedule as sched_mod
from halo_forge.rlvr.chunks import append_chunk, chunk_seed, read_chunks
from halo_forge.rlvr.filtering import Scored, select_top
from halo_forge.rlvr.state import RunDir, append_jsonl, atomic_write_text
from halo_forge.types import Problem, Sample, Status, VerifyResult
from halo_forge.ui import console
from halo_forge.verify.base import Verifier
from halo_forge.verify.registry import get_verifier

RULE = "=" * 70
EARLY_STOP = "early_stop.json"


@dataclass
class RaftPlan:
    """Everything checked before a model is loaded."""

    config: RaftConfig
    source: PromptSource
    problems: list[Problem]
    scores: list[float]  # complexity per problem (curriculum)
    verifier_name: str  # the run's default verifier (a cycles: entry may override it)
    model: ModelSpec
    run: RunDir
    verifiers: dict[str, Verifier] = field(default_factory=dict)

    def verifier_for(self, s: sched_mod.CycleSchedule) -> Verifier:
        key = json.dumps([s.verifier, s.verifier_options], sort_keys=True, default=str)
        if key not in self.verifiers:
            self.verifiers[key] = get_verifier(s.verifier, **s.verifier_options)
        return self.verifiers[key]


def plan_raft(cfg: RaftConfig, *, restart: bool = False) -> RaftPlan:
    """Validate everything (config, prompts, verifiers, model path, run dir) without a model."""
    from halo_forge.rlvr.curriculum import problem_scores

    cfg.validate()
    source = parse_prompt_source(cfg.prompts or "")
    verifier_name = cfg.verifier or source.default_verifier
    model = resolve_model(cfg.model, cfg.checkpoint)
    problems = load_problems(source, cfg.max_prompts)
    run = RunDir(cfg.output)
    cfg = dataclasses.replace(cfg, verifier=verifier_name)
    plan = RaftPlan(cfg, source, problems, problem_scores(problems), verifier_name, model, run)
    for c in range(1, cfg.cycles + 1):  # every cycle's verifier builds (a missing compiler: now)
        plan.verifier_for(_schedule(plan, c, []))
    if restart:
        _clear_run(run)
    run.check_config(_fingerprint(cfg), _fingerprint(RaftConfig()))
    return plan


def _fingerprint(cfg: RaftConfig) -> dict[str, Any]:
    return to_dict(cfg)


def _clear_run(run: RunDir) -> None:
    """``--restart``: remove what a previous run left in OUT (only our own files)."""
    if not run.root.is_dir():
        return
    for child in run.root.iterdir():
        ours = child.name.startswith("cycle_") or child.name in (
            "config.yaml",
            "metrics.jsonl",
            "report",
            "tensorboard",
            "wandb",
            EARLY_STOP,
        )
        if ours:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    console.print(f"Restart: cleared the previous run in {run.root}")


def _schedule(plan: RaftPlan, cycle: int, pass_rates: list[float]) -> sched_mod.CycleSchedule:
    return sched_mod.plan_cycle(plan.config, plan.scores, cycle, pass_rates, plan.verifier_name)


def _pass_rates(run: RunDir, done: int) -> list[float]:
    return [float(run.cycle_summary(c).get("pass_rate", 0.0)) for c in range(1, done + 1)]


def print_plan(plan: RaftPlan) -> list[dict[str, Any]]:
    """``--dry-run``: the per-cycle plan, without loading a model. Returns the rows printed."""
    from rich.table import Table

    cfg, run = plan.config, plan.run
    done = min(run.completed_cycles(), cfg.cycles)
    rates = _pass_rates(run, done)
    table = Table(
        title=f"RAFT plan: {cfg.cycles} cycles on {plan.source.spec}", title_justify="left"
    )
    for col in (
        "cycle",
        "prompts",
        "avg complexity",
        "threshold",
        "keep",
        "verifier",
        "lr",
        "note",
    ):
        table.add_column(col)
    rows = []
    for c in range(1, cfg.cycles + 1):
        pending = c > done + 1 and sched_mod.depends_on_history(cfg)
        s = _schedule(plan, c, rates[: c - 1] if c <= done + 1 else rates)
        row = {
            "cycle": c,
            "prompts": len(s.indices),
            "total_prompts": len(plan.problems),
            "avg_complexity": round(s.step.avg_complexity, 4),
            "reward_threshold": s.reward_threshold,
            "keep_percent": s.keep_percent,
            "verifier": s.verifier,
            "learning_rate": s.learning_rate,
            "status": "done" if c <= done else "",
        }
        rows.append(row)
        cells = [
            f"{row['prompts']}/{len(plan.problems)}",
            f"{s.step.avg_complexity:.2f}",
            f"{s.reward_threshold:.2f}",
            f"{s.keep_percent:.0%}",
        ]
        if pending:
            cells = ["?"] * 4
            row["status"] = f"set by cycle {c - 1}'s pass rate"
        table.add_row(
            str(c),
            *cells,
            s.verifier + (" (run)" if s.verifier_options.get("run_after_compile") else ""),
            f"{s.learning_rate:.3g}",
            row["status"],
        )
    console.print(table)
    for c in range(1, cfg.cycles + 1):
        if c > done + 1 and sched_mod.depends_on_history(cfg):
            console.print(f"Cycle {c}: {sched_mod.ADAPTIVE_PENDING}", soft_wrap=True)
            continue
        console.print(f"Cycle {c}:")
        s = _schedule(plan, c, rates[: c - 1])
        for line in s.lines():
            console.print(f"  {line}", soft_wrap=True)
        run_flag = s.verifier_options.get("run_after_compile")
        how = "" if run_flag is None else (" (run)" if run_flag else " (compile only)")
        console.print(f"  Verifier: {s.verifier}{how}; learning rate: {s.learning_rate:.3g}")
    console.print(
        f"Dry run: nothing was loaded or written. Model: {plan.model.label}; output: {run.root}"
    )
    return rows


def run_raft(plan: RaftPlan, until: int | None = None) -> list[dict[str, Any]]:
    """Run the remaining cycles — up to ``until`` if given (``benchmark full`` trains one cycle
    at a time; the schedule still spans ``cycles``); returns the finished cycles' summaries."""
    cfg, run = plan.config, plan.run
    last_cycle = min(until or cfg.cycles, cfg.cycles)
    run.write_config(_fingerprint(cfg))
    run.repair_metrics()
    done = run.completed_cycles()
    stopped = _early_stopped(run)
    if done >= last_cycle or (stopped and cfg.early_stop and stopped["after_cycle"] == done):
        why = (
            f"stopped early after cycle {done} ({stopped['reason']})"
            if done < last_cycle and stopped
            else f"all {last_cycle} cycles are already complete"
        )
        last = run.final_dir(done)
        console.print(
            f"[green]{why[0].upper()}{why[1:]} in {run.root}[/] (last: {last}); nothing to do."
        )
        return [run.cycle_summary(c) for c in range(1, done + 1)]
    _banner(plan, done)

    from halo_forge.models.loader import load_model, load_tokenizer
    from halo_forge.rlvr.generators import cycle_generators
    from halo_forge.rlvr.stopping import advise
    from halo_forge.sft.train import add_lora
    from halo_forge.tracking import create_tracker

    generators = cycle_generators(plan)  # hf: the training model; openai: a server; vllm
    generators.start()  # a server that cannot be reached fails here, before the model loads
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
    model = add_lora(model, cfg.lora, cfg.gradient_checkpointing, seed=cfg.seed)
    console.print(f"[dim]Model loaded in {time.perf_counter() - t0:.1f}s[/]")

    tracker = create_tracker(cfg.report_to, run.root, _fingerprint(cfg))
    try:
        for cycle in range(done + 1, last_cycle + 1):
            summary = run_cycle(plan, cycle, model, tokenizer, generators.factory(cycle))
            tracker.log_cycle(summary)
            _write_report(run)
            advice = advise(_pass_rates(run, cycle))
            console.print(f"Stop advice: {advice.message}")
            if advice.stop and cfg.early_stop and cycle < last_cycle:
                atomic_write_text(
                    run.root / EARLY_STOP,
                    json.dumps({"after_cycle": cycle, "reason": advice.message}),
                )
                console.print(f"[yellow]--early-stop: stopping after cycle {cycle}[/]")
                break
    finally:
        tracker.close()
        generators.close()
    last = run.completed_cycles()
    return [run.cycle_summary(c) for c in range(1, last + 1)]


def _early_stopped(run: RunDir) -> dict[str, Any] | None:
    path = run.root / EARLY_STOP
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def _write_report(run: RunDir) -> None:
    from halo_forge.rlvr.report import write_report

    try:
        paths = write_report(run.root)
    except Exception as e:  # noqa: BLE001 - a plot must never cost the run; say so
        console.print(f"[yellow]Report not written: {type(e).__name__}: {e}[/]")
        return
    if paths:
        console.print(f"[dim]Report: {paths[0].parent}[/]")


def _kill_point(point: str) -> None:
    """Tests: SIGKILL ourselves at ``point`` (``HALO_FORGE_KILL_AT``), like ``kill -9`` would."""
    if os.environ.get("HALO_FORGE_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _chunks(problems: list[Problem], size: int) -> list[list[Problem]]:
    return [problems[i : i + size] for i in range(0, len(problems), size)]


def _verdict_row(s: Sample, r: VerifyResult) -> dict[str, Any]:
    return {**s.to_dict(), **r.to_dict()}


def run_cycle(
    plan: RaftPlan, cycle: int, model: Any, tokenizer: Any, generator_cls: Any
) -> dict[str, Any]:
    from halo_forge.sft.train import TrainSettings, to_example, train_lora
    from halo_forge.ui import progress

    cfg, run = plan.config, plan.run
    s = _schedule(plan, cycle, _pass_rates(run, cycle - 1))
    problems = [plan.problems[i] for i in s.indices]
    by_id = {p.id: p for p in problems}
    verifier = plan.verifier_for(s)
    console.print(f"\n=== Cycle {cycle}/{cfg.cycles} ===")
    for line in s.lines():
        console.print(line)
    if s.learning_rate != cfg.learning_rate or s.verifier != plan.verifier_name:
        console.print(f"Learning rate: {s.learning_rate:.3g}; verifier: {s.verifier}")
    cdir = run.cycle_dir(cycle)
    cdir.mkdir(parents=True, exist_ok=True)
    samples_path, verified_path = cdir / "samples.jsonl", cdir / "verified.jsonl"

    # 1+2. generate and verify, chunk by chunk; finished chunks on disk are not redone
    chunks = _chunks(problems, cfg.generation_chunk_size)
    have_samples = read_chunks(samples_path)
    have_verdicts = read_chunks(verified_path)
    if have_samples or have_verdicts:
        console.print(
            f"Resumed cycle {cycle}: {len(have_samples)}/{len(chunks)} chunks already generated, "
            f"{len(have_verdicts)}/{len(chunks)} verified (finished work is not redone)"
        )
    gen_seconds, gen_tokens, verify_s = 0.0, 0, 0.0
    batches = [0]
    params = SamplingParams(
        n=cfg.samples_per_prompt,
        temperature=s.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
    )

    def after_batch(_: list[Sample]) -> None:
        batches[0] += 1
        every = cfg.clear_cache_every_n_batches
        if every and batches[0] % every == 0:
            gc.collect()
            _empty_cuda_cache()

    todo_gen = sum(len(c) for k, c in enumerate(chunks) if k not in have_samples)
    todo_ver = sum(len(c) for k, c in enumerate(chunks) if k not in have_verdicts)
    with progress() as bar:
        gtask = bar.add_task("Generating", total=todo_gen * cfg.samples_per_prompt)
        vtask = bar.add_task("Verifying", total=todo_ver * cfg.samples_per_prompt)
        gen = generator_cls(
            model,
            tokenizer,
            batch_size=cfg.generation_batch_size,
            system_prompt=cfg.system_prompt,
            progress=bar,
            progress_task=gtask,
        )
        for k, chunk in enumerate(chunks):
            if k in have_verdicts:
                continue
            if k in have_samples:
                samples = [Sample.from_dict(r) for r in have_samples[k]]
            else:
                p = dataclasses.replace(params, seed=chunk_seed(cfg.seed, cycle, k))
                grouped, gstats = gen.generate(chunk, p, on_samples=after_batch)
                samples = [x for group in grouped for x in group]
                gen_seconds += gstats.seconds
                gen_tokens += gstats.tokens
                rows = [x.to_dict() for x in samples]
                if os.environ.get("HALO_FORGE_KILL_AT") == f"torn:{cycle}:{k}":
                    append_jsonl(samples_path, [{**r, "chunk": k} for r in rows[: len(rows) // 2]])
                    _kill_point(f"torn:{cycle}:{k}")
                append_chunk(samples_path, k, rows)
                _kill_point(f"gen:{cycle}:{k}")
            t = time.perf_counter()
            results: list[VerifyResult] = []
            step = cfg.verification_chunk_size
            for i in range(0, len(samples), step):
                part = samples[i : i + step]
                results += verifier.verify_batch(
                    [(by_id[x.problem_id], x.code) for x in part],
                    workers=cfg.workers,
                    on_done=lambda n: bar.advance(vtask, n),
                )
            verify_s += time.perf_counter() - t
            append_chunk(
                verified_path,
                k,
                [_verdict_row(x, r) for x, r in zip(samples, results, strict=True)],
            )
            _kill_point(f"verify:{cycle}:{k}")
    verdicts = read_chunks(verified_path, repair=False)
    rows = [r for k in sorted(verdicts) for r in verdicts[k]]
    samples = [Sample.from_dict(r) for r in rows]
    results = [VerifyResult.from_dict(r) for r in rows]
    if gen_tokens:
        console.print(
            f"Generated: {todo_gen * cfg.samples_per_prompt} samples in {gen_seconds:.1f}s, "
            f"{gen_tokens} tokens, {gen_tokens / max(gen_seconds, 1e-9):.1f} tok/s"
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

    # 3. filter: per prompt, only prompts with a passing sample, deduplicated, capped
    scored = [Scored(x, r) for x, r in zip(samples, results, strict=True)]
    kept = select_top(
        scored,
        s.reward_threshold,
        s.keep_percent,
        require_pass=cfg.require_pass,
        max_per_prompt=cfg.max_per_prompt,
    )
    kept_prompts = len({k.sample.problem_id for k in kept})
    atomic_write_text(
        cdir / "kept.jsonl",
        "".join(json.dumps({**k.sample.to_dict(), "reward": k.reward}) + "\n" for k in kept),
    )
    cap = f", at most {cfg.max_per_prompt} per prompt" if cfg.max_per_prompt else ""
    solved = " with a passing sample" if cfg.require_pass else ""
    console.print(
        f"Kept: {len(kept)} samples from {kept_prompts}/{len(problems)} prompts "
        f"(reward >= {s.reward_threshold:.2f}, top {s.keep_percent:.0%} per prompt{solved}{cap})"
    )

    # 4. train
    examples = [
        to_example(by_id[k.sample.problem_id].prompt, k.sample.completion, cfg.system_prompt)
        for k in kept
    ]
    settings = TrainSettings(
        epochs=cfg.train_epochs,
        learning_rate=s.learning_rate,
        batch_size=cfg.train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_steps=cfg.warmup_steps,
        max_seq_length=cfg.max_seq_length,
        bf16=cfg.bf16,
        gradient_checkpointing=cfg.gradient_checkpointing,
        seed=cfg.seed + cycle,
    )
    if examples:
        console.print(f"Training on {len(examples)} samples (lr {s.learning_rate:.3g})...")
    tr = train_lora(model, tokenizer, examples, settings)
    if tr.loss is None:
        console.print("[yellow]Training: skipped (no sample passed the filter)[/]")
    else:
        console.print(
            f"Training: {tr.steps} steps, loss {tr.loss:.4f} "
            f"({tr.seconds_per_step:.2f} s/step, {tr.seconds:.1f}s)"
        )
    _kill_point(f"train:{cycle}")

    # 5. save
    summary = {
        "event": "cycle",
        "cycle": cycle,
        "cycles": cfg.cycles,
        "prompts": len(problems),
        "total_prompts": len(plan.problems),
        "curriculum": cfg.curriculum,
        "avg_complexity": round(s.step.avg_complexity, 4),
        "reward_shaping": cfg.reward_shaping,
        "verifier": s.verifier,
        "samples": len(samples),
        "passed": passed,
        "failed": len(results) - passed,
        "pass_rate": pass_rate,
        "statuses": dict(statuses),
        "mean_reward": sum(r.reward for r in results) / len(results) if results else 0.0,
        "kept": len(kept),
        "kept_prompts": kept_prompts,
        "reward_threshold": s.reward_threshold,
        "keep_percent": s.keep_percent,
        "learning_rate": s.learning_rate,
        "train_loss": tr.loss,
        "train_loss_history": [[i + 1, loss] for i, loss in enumerate(tr.losses)],
        "train_steps": tr.steps,
        "train_seconds": round(tr.seconds, 3),
        "seconds_per_step": round(tr.seconds_per_step, 4),
        "gen_seconds": round(gen_seconds, 3),  # this process's share (a resumed cycle: less)
        "gen_tokens": sum(x.num_tokens for x in samples),
        "gen_tokens_per_s": round(gen_tokens / gen_seconds, 2) if gen_seconds else 0.0,
        "verify_seconds": round(verify_s, 3),
        "finish_reasons": dict(Counter(x.finish_reason for x in samples)),
        "time": time.time(),
    }

    def save(tmp: Any) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        _kill_point(f"save:{cycle}")

    final = run.finish_cycle(
        cycle, save, summary, before_metrics=lambda: _kill_point(f"metrics:{cycle}")
    )
    console.print(f"Saved {final}")
    return summary


def _empty_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def _banner(plan: RaftPlan, done: int) -> None:
    cfg = plan.config
    console.print(RULE)
    console.print(f"RAFT Training: {cfg.cycles} cycles")
    console.print(RULE)
    model = plan.model.label + (" (embedded default)" if plan.model.base is None else "")
    lr = f"{cfg.learning_rate:g}" + (f", x{cfg.lr_decay:g} per cycle" if cfg.lr_decay != 1 else "")
    rows = [
        ("Model", model),
        ("Prompts", f"{plan.source.spec} ({len(plan.problems)} prompts)"),
        ("Verifier", plan.verifier_name + (" (per-cycle settings)" if cfg.cycle_settings else "")),
        ("Curriculum", cfg.curriculum),
        (
            "Reward shaping",
            f"{cfg.reward_shaping} (target threshold {cfg.reward_threshold:g}, "
            f"keep {cfg.keep_percent:.0%} per prompt)",
        ),
        ("Samples per prompt", str(cfg.samples_per_prompt)),
        ("Temperature", f"{cfg.temperature:.2f}"),
        ("Learning rate", lr),
        ("Max new tokens", str(cfg.max_new_tokens)),
        ("Chunks", f"{cfg.generation_chunk_size} prompts (saved as they finish)"),
        ("Output", str(plan.run.root)),
    ]
    for k, v in rows:
        console.print(f"  {k}: {v}")
    if done:
        console.print(f"  Cycles already complete: {done} (skipped)")
