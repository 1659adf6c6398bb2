"""Benchmark: one RAFT cycle's LoRA training, the naive loop against ours, same kept samples.

Workload: ``--examples`` prompt/completion pairs — ``basic_python:train`` prompts with their
reference solution in a code block, the shape RAFT keeps — one epoch, LoRA r=16 on all linear
layers, learning rate 5e-5, batch ``--batch-size``, the embedded SmolLM2-135M (or ``--model``).

* **naive** — the loop the issue describes (the seeds' trainer): the base model is *reloaded*
  for the cycle (timed), every sample is padded to ``--naive-max-length`` (2,048) tokens, and the
  loss covers the prompt tokens too (only padding is masked); ``transformers.Trainer``.
* **ours** — :func:`halo_forge.sft.train.train_lora`: the model stays loaded across cycles (not
  timed, as in ``raft train``), TRL ``SFTTrainer`` with the loss on completion tokens only and
  each batch padded to its own longest sample.

Quality: after each run, the mean completion-token loss of the trained model on the same
examples (no grad) — the quantity both are meant to lower. Peak RSS is measured per phase
(``/proc/self/clear_refs`` resets the high-water mark). Last line: one JSON object; ``ratio`` =
naive seconds / ours.

    python bench/training.py [--examples 16] [--batch-size 4] [--model DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
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


def _examples(n: int) -> list[tuple[str, str]]:
    from halo_forge.data.prompts import load_problems

    problems = load_problems("basic_python:train")[:n]
    return [(p.prompt, f"```python\n{(p.reference or '').strip()}\n```") for p in problems]


def _chat(tok: Any, prompt: str, completion: str | None) -> str:
    from halo_forge.generation.base import DEFAULT_SYSTEM_PROMPT, chat_messages

    msgs = chat_messages(prompt, DEFAULT_SYSTEM_PROMPT)
    if completion is None:
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    msgs = [*msgs, {"role": "assistant", "content": completion}]
    return tok.apply_chat_template(msgs, tokenize=False)


def completion_loss(model: Any, tok: Any, pairs: list[tuple[str, str]]) -> float:
    """Mean cross-entropy over completion tokens only (the trained objective), no grad."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for prompt, completion in pairs:
            head = tok(_chat(tok, prompt, None), add_special_tokens=False).input_ids
            ids = tok(_chat(tok, prompt, completion), add_special_tokens=False).input_ids
            x = torch.tensor([ids])
            labels = x.clone()
            labels[0, : len(head)] = -100
            out = model(input_ids=x, labels=labels)
            n = int((labels[0, 1:] != -100).sum())
            total += float(out.loss) * n
            count += n
    return total / max(count, 1)


def naive(spec: Any, pairs: list, batch: int, max_length: int, seed: int) -> tuple[float, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments

    from halo_forge.models.loader import load_model, load_tokenizer

    start = time.perf_counter()
    tok = load_tokenizer(spec)  # the seeds reload the base model every cycle
    model = load_model(spec)
    torch.manual_seed(seed)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear"),
    )
    tok.padding_side = "right"
    rows = []
    for prompt, completion in pairs:
        enc = tok(
            _chat(tok, prompt, completion),
            padding="max_length",
            truncation=True,
            max_length=max_length,
            add_special_tokens=False,
        )
        labels = [t if m else -100 for t, m in zip(enc.input_ids, enc.attention_mask, strict=True)]
        rows.append({**enc, "labels": labels})  # loss on the prompt too; only padding masked

    class Rows(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(rows)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {k: torch.tensor(v) for k, v in rows[i].items()}

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=batch,
            num_train_epochs=1,
            learning_rate=5e-5,
            lr_scheduler_type="constant",
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            seed=seed,
            disable_tqdm=True,
            logging_steps=1,
        )
        Trainer(model=model, args=args, train_dataset=Rows()).train()
    return time.perf_counter() - start, (model, tok)


def ours(model: Any, tok: Any, pairs: list, batch: int, seed: int) -> tuple[float, Any]:
    from halo_forge.config import LoraSettings
    from halo_forge.generation.base import DEFAULT_SYSTEM_PROMPT
    from halo_forge.sft.train import TrainSettings, add_lora, to_example, train_lora

    model = add_lora(model, LoraSettings(), seed=seed)
    examples = [to_example(p, c, DEFAULT_SYSTEM_PROMPT) for p, c in pairs]
    start = time.perf_counter()
    train_lora(model, tok, examples, TrainSettings(batch_size=batch, seed=seed, epochs=1))
    return time.perf_counter() - start, (model, tok)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--naive-max-length", type=int, default=2048)
    ap.add_argument("--model", default=None, help="model folder (default: embedded SmolLM2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from halo_forge.models.loader import load_model, load_tokenizer, resolve_model

    spec = resolve_model(args.model, None)
    pairs = _examples(args.examples)
    rows: dict[str, dict[str, Any]] = {}

    tok = load_tokenizer(spec)
    base = load_model(spec)  # ours: loaded once per run, before the cycle (not timed)
    before = completion_loss(base, tok, pairs)
    _reset_peak()
    seconds, (model, tok) = ours(base, tok, pairs, args.batch_size, args.seed)
    rows["ours"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(_peak_mb())}
    rows["ours"]["completion_loss"] = round(completion_loss(model, tok, pairs), 4)
    print(f" ours: {json.dumps(rows['ours'])}", flush=True)
    del model, base

    _reset_peak()
    seconds, (model, tok) = naive(spec, pairs, args.batch_size, args.naive_max_length, args.seed)
    rows["naive"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(_peak_mb())}
    rows["naive"]["completion_loss"] = round(completion_loss(model, tok, pairs), 4)
    print(f"naive: {json.dumps(rows['naive'])}", flush=True)

    print(
        json.dumps(
            {
                "bench": "training",
                "model": spec.label,
                "examples": len(pairs),
                "batch_size": args.batch_size,
                "naive_max_length": args.naive_max_length,
                "completion_loss_before": round(before, 4),
                "naive": rows["naive"],
                "ours": rows["ours"],
                "ratio": round(rows["naive"]["seconds"] / rows["ours"]["seconds"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
