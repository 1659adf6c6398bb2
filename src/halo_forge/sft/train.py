"""Supervised fine-tuning through TRL's ``SFTTrainer`` with a peft LoRA adapter.

Used twice: by ``halo-forge sft train`` (a dataset file) and by each RAFT cycle (the kept
samples). Examples are conversational prompt/completion pairs, so TRL applies the chat template
and computes the loss on completion tokens only; batches are padded dynamically per batch
(TRL's collator), never to a fixed maximum length.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from halo_forge.config import LoraSettings
from halo_forge.generation.base import chat_messages


@dataclass(frozen=True)
class TrainSettings:
    epochs: float = 1
    learning_rate: float = 5e-5
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_steps: int = 0
    warmup_ratio: float = 0.0
    lr_scheduler_type: str = "constant"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_seq_length: int = 1024
    bf16: bool = False
    gradient_checkpointing: bool = False
    logging_steps: int = 1
    seed: int = 0


@dataclass(frozen=True)
class TrainResult:
    loss: float | None  # mean training loss over the run (None if there was nothing to train on)
    steps: int
    examples: int
    seconds: float
    losses: tuple[float, ...] = ()  # per logging step

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.steps if self.steps else 0.0


def _progress_callback() -> Any:
    """A rich progress bar (steps, ETA, last loss) for the Trainer (transformers imported late)."""
    from transformers import TrainerCallback

    from halo_forge.ui import progress

    class _Cb(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.bar = progress()
            self.bar.start()
            self.task = self.bar.add_task("Training", total=state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.bar.update(self.task, completed=state.global_step)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any):
            if logs and "loss" in logs:
                self.bar.update(self.task, description=f"Training (loss {float(logs['loss']):.4f})")

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.bar.stop()

    return _Cb()


def to_example(prompt: str, completion: str, system_prompt: str | None) -> dict[str, Any]:
    """One conversational prompt/completion row in TRL's format."""
    return {
        "prompt": chat_messages(prompt, system_prompt),
        "completion": [{"role": "assistant", "content": completion}],
    }


def add_lora(
    model: Any, lora: LoraSettings, gradient_checkpointing: bool = False, seed: int = 0
) -> Any:
    """Wrap a plain model in a fresh trainable LoRA adapter (a PeftModel is returned as is).

    The adapter's A matrices are initialised randomly (B is zero): from ``seed``, so two runs
    with the same settings train the same weights (and a resumed run the weights it would have).
    """
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        return model
    if gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(seed)
    return get_peft_model(model, config)


def train_lora(
    model: Any,
    tokenizer: Any,
    examples: list[dict[str, Any]],
    settings: TrainSettings,
    *,
    eval_examples: list[dict[str, Any]] | None = None,
    callbacks: list[Any] | None = None,
) -> TrainResult:
    """Train ``model`` (a PeftModel) in place on ``examples``; returns the loss summary."""
    if not examples:
        return TrainResult(loss=None, steps=0, examples=0, seconds=0.0)
    import datasets
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()  # TRL's per-step "Tokenizing…" bars; ours shows training

    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "right"  # training pads on the right; generation on the left
    with tempfile.TemporaryDirectory(prefix="halo-forge-sft-") as tmp:
        args = SFTConfig(
            output_dir=tmp,
            num_train_epochs=settings.epochs,
            per_device_train_batch_size=settings.batch_size,
            gradient_accumulation_steps=settings.gradient_accumulation_steps,
            learning_rate=settings.learning_rate,
            lr_scheduler_type=settings.lr_scheduler_type,
            # transformers 5 folds warmup_ratio into warmup_steps (a float < 1 is a ratio)
            warmup_steps=settings.warmup_steps or settings.warmup_ratio,
            weight_decay=settings.weight_decay,
            max_grad_norm=settings.max_grad_norm,
            max_length=settings.max_seq_length,
            completion_only_loss=True,
            packing=False,
            bf16=settings.bf16,
            gradient_checkpointing=settings.gradient_checkpointing,
            logging_steps=settings.logging_steps,
            save_strategy="no",
            eval_strategy="epoch" if eval_examples else "no",
            report_to=[],
            use_cpu=True,
            dataloader_num_workers=0,
            dataloader_pin_memory=False,
            seed=settings.seed,
            disable_tqdm=True,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(examples),
            eval_dataset=Dataset.from_list(eval_examples) if eval_examples else None,
            processing_class=tokenizer,
            callbacks=callbacks,
        )
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # raw log dicts; we show a bar and a summary
        trainer.add_callback(_progress_callback())
        start = time.perf_counter()
        out = trainer.train()
        seconds = time.perf_counter() - start
        losses = tuple(
            float(h["loss"]) for h in trainer.state.log_history if "loss" in h and "step" in h
        )
    tokenizer.padding_side = padding_side
    loss = float(out.training_loss) if out.training_loss is not None else None
    if loss is not None and math.isnan(loss):
        loss = None
    return TrainResult(
        loss=loss,
        steps=int(out.global_step),
        examples=len(examples),
        seconds=seconds,
        losses=losses,
    )
