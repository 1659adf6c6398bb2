"""``sft train``: a JSONL file → LoRA adapter in ``OUTPUT/final_model``.

Rows are one of: ``{"prompt", "completion"}`` (loss on the completion only, chat template
applied), ``{"messages": [...]}`` (conversational), or ``{"text"}`` (plain language modelling,
the seeds' format). All rows of a file must share one shape.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge.config import SftConfig
from halo_forge.data.prompts import read_jsonl
from halo_forge.errors import DataError
from halo_forge.models.loader import ModelSpec, resolve_model
from halo_forge.sft.train import TrainSettings, add_lora, to_example, train_lora
from halo_forge.ui import console


@dataclass
class SftPlan:
    config: SftConfig
    examples: list[dict[str, Any]]
    model: ModelSpec


def _row_to_example(row: dict[str, Any], path: Path, system_prompt: str) -> dict[str, Any]:
    n = row.pop("__line__")
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        if not row["prompt"].strip() or not row["completion"].strip():
            raise DataError(f"{path}:{n}: empty 'prompt' or 'completion'")
        return to_example(row["prompt"], row["completion"], system_prompt)
    if isinstance(row.get("messages"), list) and row["messages"]:
        for m in row["messages"]:
            if not (isinstance(m, dict) and {"role", "content"} <= m.keys()):
                raise DataError(f"{path}:{n}: each message needs 'role' and 'content'")
        return {"messages": row["messages"]}
    if isinstance(row.get("text"), str) and row["text"].strip():
        return {"text": row["text"]}
    raise DataError(
        f"{path}:{n}: expected 'prompt'+'completion', 'messages', or 'text' fields; "
        f"got {sorted(row)}"
    )


def plan_sft(cfg: SftConfig) -> SftPlan:
    cfg.validate()
    path = Path(cfg.data or "").expanduser()
    if not path.is_file():
        raise DataError(f"data file {cfg.data} does not exist")
    examples = [_row_to_example(r, path, cfg.system_prompt) for r in read_jsonl(path)]
    if not examples:
        raise DataError(f"{path} holds no examples")
    shapes = {tuple(sorted(e)) for e in examples}
    if len(shapes) > 1:
        raise DataError(f"{path}: rows mix formats {sorted(shapes)}; use one format per file")
    return SftPlan(cfg, examples, resolve_model(cfg.model))


def run_sft(plan: SftPlan) -> dict[str, Any]:
    from halo_forge.models.loader import load_model, load_tokenizer

    cfg = plan.config
    out = Path(cfg.output)
    final = out / "final_model"
    console.print(
        f"SFT: {plan.model.label} on {cfg.data} ({len(plan.examples)} examples, "
        f"{cfg.epochs} epochs, lr {cfg.learning_rate:g}) → {final}"
    )
    t0 = time.perf_counter()
    tokenizer = load_tokenizer(plan.model, cfg.cache_dir)
    model = load_model(
        plan.model,
        cache_dir=cfg.cache_dir,
        trainable_adapter=True,
        dtype="bfloat16" if cfg.bf16 else "float32",
    )
    model = add_lora(model, cfg.lora, cfg.gradient_checkpointing, seed=cfg.seed)
    examples, evals = list(plan.examples), None
    if cfg.validation_split > 0 and len(examples) > 1:
        random.Random(cfg.seed).shuffle(examples)
        n_eval = max(1, int(len(examples) * cfg.validation_split))
        evals, examples = examples[:n_eval], examples[n_eval:]
    settings = TrainSettings(
        epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_ratio=cfg.warmup_ratio,
        lr_scheduler_type=cfg.lr_scheduler_type,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        max_seq_length=cfg.max_seq_length,
        bf16=cfg.bf16,
        gradient_checkpointing=cfg.gradient_checkpointing,
        logging_steps=cfg.logging_steps,
        seed=cfg.seed,
    )
    result = train_lora(model, tokenizer, examples, settings, eval_examples=evals)
    tmp = final.with_name(final.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if final.exists():
        import shutil

        shutil.rmtree(final)
    tmp.rename(final)
    summary = {
        "examples": result.examples,
        "steps": result.steps,
        "loss": result.loss,
        "seconds": round(result.seconds, 2),
        "seconds_per_step": round(result.seconds_per_step, 3),
        "total_seconds": round(time.perf_counter() - t0, 2),
        "output": str(final),
    }
    loss = f"{result.loss:.4f}" if result.loss is not None else "n/a"
    console.print(
        f"Trained {result.steps} steps, loss {loss} "
        f"({result.seconds_per_step:.2f} s/step); saved {final}"
    )
    return summary
