"""LoRA fine-tuning on prompt/completion pairs: a small training loop of our own.

Used twice: by ``halo-forge sft train`` (a dataset file) and by each RAFT cycle (the kept
samples, on the model RAFT loaded once for the whole run). Every choice below was measured on
this project's reference box (2 CPU cores, AVX512-BF16, no GPU, other jobs often running) with
the embedded SmolLM2-135M and the 80 real kept samples of a RAFT cycle (~93 prompt + ~39
completion tokens each; 10,469 tokens), batch 8, one epoch, RAFT's defaults (fp32, LoRA r=16
all-linear, dropout 0.05). ``python bench/training.py`` repeats the comparison with the naive
loop (reload, pad to 2,048, loss on prompt tokens too): ratio 20.4, see its docstring.

That cycle, one run after the other on the same box: TRL 1.16 ``SFTTrainer`` (which this module
used before: completion-only loss, dynamic padding, batch 8 at once) took 195 s and peaked at
12.6 GB RSS; this loop takes 100 s and peaks at 3.2 GB (model + training), final training loss
0.232 vs 0.238, completion-token loss after training 0.1919 vs 0.1929.

* **Loss on completion tokens only**, and the LM head (49,152 wide) is applied only where a
  completion token is predicted, not at every prompt/padding position: 0.57 s instead of 1.95 s
  for the head of 1,145 tokens (350 of them completion), forward + backward. TRL's fused head
  scores *every* position on CPU (its compact path is Triton-only), with entropy and accuracy.
* **Micro-batches by token budget.** Each optimizer step takes ``batch_size`` examples in a
  seeded random order, exactly like a random sampler; inside the step they are sorted by length
  and cut into right-padded micro-batches of at most ``micro_batch_tokens`` tokens (rows ×
  longest row), whose gradients accumulate. The loss is the sum over completion tokens divided
  by the step's completion-token count, so the update is that of one batch of ``batch_size``
  (tested to 1e-6) — only padding and memory change. Activations cost ~3 MB per token (fp32,
  LoRA dropout on, 30 layers), so one padded batch of 8 (1,300–1,900 tokens, 28–45% padding)
  peaked at 4.4–6.2 GB RSS; 512-token micro-batches peak at 2.3–2.9 GB, padding ~5–12%. Per
  real token, forward + backward, 2 threads, idle box: one batch of 8 6.8 ms; micro-batches of
  512 tokens 6.5 ms, 1,024 6.7 ms, 256 7.8 ms (small matrices parallelise worse). Packing a
  micro-batch into one row (padding-free, block-diagonal mask) was *slower*: SDPA on CPU still
  computes the masked-out blocks (2,048-token packs 14.3 ms/token vs 8.4 at 256, one thread),
  and it is only correct when transformers detects the packing.
* **bf16** (``bf16=True``, ``raft train --bf16``): autocast to bfloat16 around forward and loss
  (trainable LoRA weights and optimizer state stay fp32). The cycle: 73 s and 2.6 GB with the
  bf16 weights ``--bf16`` loads (66 s, 3.2 GB with fp32 weights), completion-token loss after
  training 0.1952 (fp32: 0.1919). The training loss it reports reads ~0.02 higher (logits
  rounded to bf16). Off by default: the run's flag decides.
* **Gradient checkpointing** (``gradient_checkpointing=True``): the cycle in 128 s instead of
  100, peak 2.1 GB instead of 3.2, same losses. Off by default.
* Not ours to set but measured: LoRA dropout 0 (the seeds use 0.05) saves ~18% of the time and
  ~0.6 GB (no dropout copy of each adapted layer's input is kept for backward).
* The freed memory is handed back to the OS before and after training (``malloc_trim``), so a
  RAFT cycle's phases do not stack on each other's high-water marks.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from halo_forge.config import LoraSettings
from halo_forge.generation.base import chat_messages

# Completion positions scored by the LM head at once; beyond that the logits are recomputed
# in backward (checkpointed) rather than kept: 1,024 × 49,152 fp32 logits are 200 MB.
LOSS_CHUNK_TOKENS = 1024


@dataclass(frozen=True)
class TrainSettings:
    epochs: float = 1
    learning_rate: float = 5e-5
    batch_size: int = 8  # examples per optimizer step (times gradient_accumulation_steps)
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
    # Padded tokens (rows × longest row) per forward/backward; a longer example goes alone.
    # 0: the whole step's batch at once. Memory, not the update, depends on it.
    micro_batch_tokens: int = 512


@dataclass(frozen=True)
class TrainResult:
    loss: float | None  # mean training loss over the run (None if there was nothing to train on)
    steps: int
    examples: int
    seconds: float
    losses: tuple[float, ...] = ()  # per logging step
    eval_loss: float | None = None  # completion-token loss on eval_examples after training
    tokens: int = 0  # real (non-padding) tokens through forward + backward, all epochs
    loss_tokens: int = 0  # of which the loss covers (completion tokens)
    padded_tokens: int = 0  # tokens including padding

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.steps if self.steps else 0.0


def to_example(prompt: str, completion: str, system_prompt: str | None) -> dict[str, Any]:
    """One conversational prompt/completion row (TRL's format, which ``train_lora`` reads)."""
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
        _enable_checkpointing(model)
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


# -- pure helpers (unit-tested) ----------------------------------------------------------------


def step_plan(n: int, per_step: int, epochs: float, seed: int) -> list[list[int]]:
    """Example indices of every optimizer step: each epoch a fresh seeded shuffle, cut into
    batches of ``per_step`` (the last one of an epoch may be smaller). A fractional ``epochs``
    stops after that share of the steps (rounded up); at least one step."""
    if n <= 0:
        return []
    per_step = max(1, per_step)
    rng = random.Random(seed)
    per_epoch = math.ceil(n / per_step)
    total = max(1, math.ceil(epochs * per_epoch))
    steps: list[list[int]] = []
    while len(steps) < total:
        order = list(range(n))
        rng.shuffle(order)
        steps += [order[i : i + per_step] for i in range(0, n, per_step)]
    return steps[:total]


def micro_batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Positions into ``lengths``, longest first, grouped so that rows × longest row (the
    padded size) stays within ``budget``; an example longer than the budget goes alone; a
    budget ≤ 0 keeps everything in one group."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    if budget <= 0:
        return [order] if order else []
    groups: list[list[int]] = []
    for i in order:
        if groups and (len(groups[-1]) + 1) * lengths[groups[-1][0]] <= budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# -- tokenization --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokenized:
    ids: list[int]
    start: int  # the loss covers ids[start:]; before it: the prompt


def tokenize(tokenizer: Any, example: dict[str, Any], max_length: int) -> Tokenized | None:
    """Token ids of one example and where its loss starts, as TRL's SFT preparation does:

    * ``prompt``/``completion`` messages: the chat template of the prompt with the generation
      prompt, then of prompt + completion; the loss covers what the completion adds;
    * ``prompt``/``completion`` strings: the same with plain text and EOS appended;
    * ``messages`` or ``text``: every token (language modelling; text gets EOS).

    Truncated to ``max_length`` (the start kept). None when no loss token is left.
    """
    eos = tokenizer.eos_token or ""

    def ids_of(text: str, special: bool) -> list[int]:
        return list(tokenizer(text, add_special_tokens=special)["input_ids"])

    def chat(messages: list[dict[str, Any]], generation_prompt: bool = False) -> list[int]:
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )
        return ids_of(text, False)

    if "prompt" in example and "completion" in example:
        prompt, completion = example["prompt"], example["completion"]
        if isinstance(prompt, str):
            head = ids_of(prompt, True)
            text = prompt + completion
            ids = ids_of(text if text.endswith(eos) else text + eos, True)
        else:
            head = chat(prompt, generation_prompt=True)
            ids = chat([*prompt, *completion])
        start = common_prefix(head, ids)  # == len(head) unless the template re-renders it
    elif "messages" in example:
        ids, start = chat(example["messages"]), 0
    else:
        text = example["text"]
        ids, start = ids_of(text if text.endswith(eos) else text + eos, True), 0
    ids = ids[:max_length]
    # the first token is never predicted, so a loss needs a token after position max(start, 1)
    if len(ids) <= max(start, 1):
        return None
    return Tokenized(ids, start)


def collate(rows: Sequence[Tokenized], pad_id: int) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 off the loss)."""
    import torch

    width = max(len(r.ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        row = torch.tensor(r.ids, dtype=torch.long)
        ids[i, : len(r.ids)] = row
        mask[i, : len(r.ids)] = 1
        labels[i, r.start : len(r.ids)] = row[r.start :]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# -- the loss --------------------------------------------------------------------------------------


def _backbone_and_head(model: Any) -> tuple[Any, Any] | None:
    """The decoder (hidden states) and the LM head, when the logits are just head(hidden).

    None for models whose forward rescales or soft-caps the logits (Gemma 2, Cohere,
    Granite, ...): those take the model's own forward and full logits."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = base.config
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    scaled = ("final_logit_softcapping", "logit_scale", "output_multiplier")
    scaled += ("lm_head_multiplier", "logits_scaling")
    if any(getattr(text, a, None) is not None for a in scaled):
        return None
    backbone = getattr(base, "base_model", None)
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if backbone is None or backbone is base or head is None:
        return None
    return backbone, head


def loss_sum(model: Any, parts: tuple[Any, Any] | None, batch: dict[str, Any]) -> Any:
    """Summed next-token cross-entropy over the positions whose label is not -100."""
    import torch
    import torch.nn.functional as F

    labels = batch["labels"][:, 1:]
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if parts is None:
        logits = model(**inputs, use_cache=False).logits[:, :-1]
        return F.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)),
            labels.reshape(-1),
            ignore_index=-100,
            reduction="sum",
        )
    backbone, head = parts
    hidden = backbone(**inputs, use_cache=False).last_hidden_state[:, :-1]
    keep = labels != -100
    hidden, targets = hidden[keep], labels[keep]

    def chunk(h: Any, y: Any) -> Any:
        return F.cross_entropy(head(h).float(), y, reduction="sum")

    if len(targets) <= LOSS_CHUNK_TOKENS:
        return chunk(hidden, targets)
    from torch.utils.checkpoint import checkpoint

    step = LOSS_CHUNK_TOKENS
    parts_ = [
        checkpoint(chunk, hidden[i : i + step], targets[i : i + step], use_reentrant=False)
        for i in range(0, len(targets), step)
    ]
    return torch.stack(parts_).sum()


# -- training ------------------------------------------------------------------------------


def _enable_checkpointing(model: Any) -> None:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    # non-reentrant: no need for inputs that require grad (frozen embeddings under LoRA)
    kwargs = {"use_reentrant": False}
    if hasattr(base, "activation_checkpointing_enable"):  # transformers >= 5.x's name
        base.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def release_memory() -> None:
    """Return freed heap to the OS (glibc keeps it otherwise): RSS falls back after training."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _autocast(device: Any, bf16: bool) -> Any:
    import torch

    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@dataclass
class _Counts:
    tokens: int = 0
    loss_tokens: int = 0
    padded: int = 0


def _run_batch(
    model: Any,
    parts: tuple[Any, Any] | None,
    rows: Sequence[Tokenized],
    settings: TrainSettings,
    pad_id: int,
    device: Any,
    counts: _Counts,
    *,
    train: bool,
) -> float:
    """Forward (+ backward when ``train``) of one step's examples in token-budget micro-batches;
    returns the mean completion-token loss of the step."""
    import torch

    total = sum(len(r.ids) - max(r.start, 1) for r in rows)
    value = 0.0
    for group in micro_batches([len(r.ids) for r in rows], settings.micro_batch_tokens):
        batch = collate([rows[i] for i in group], pad_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.set_grad_enabled(train), _autocast(device, settings.bf16):
            loss = loss_sum(model, parts, batch) / total
        if train:
            loss.backward()
            counts.tokens += int(batch["attention_mask"].sum())
            counts.loss_tokens += int((batch["labels"][:, 1:] != -100).sum())
            counts.padded += batch["input_ids"].numel()
        value += float(loss.detach())
    return value


def evaluate(
    model: Any,
    tokenizer: Any,
    examples: list[dict[str, Any]],
    settings: TrainSettings | None = None,
) -> float | None:
    """Mean completion-token loss of ``model`` on ``examples`` (no grad, eval mode)."""
    import torch

    settings = settings or TrainSettings()
    rows = [t for e in examples if (t := tokenize(tokenizer, e, settings.max_seq_length))]
    if not rows:
        return None
    was_training = model.training
    model.eval()
    parts = _backbone_and_head(model)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for i in range(0, len(rows), settings.batch_size):
                chunk = rows[i : i + settings.batch_size]
                n = sum(len(r.ids) - max(r.start, 1) for r in chunk)
                loss = _run_batch(
                    model,
                    parts,
                    chunk,
                    settings,
                    tokenizer.pad_token_id,
                    device,
                    _Counts(),
                    train=False,
                )
                total += loss * n
                count += n
    finally:
        model.train(was_training)
    return total / count if count else None


def train_lora(
    model: Any,
    tokenizer: Any,
    examples: list[dict[str, Any]],
    settings: TrainSettings,
    *,
    eval_examples: list[dict[str, Any]] | None = None,
) -> TrainResult:
    """Train ``model`` (a PeftModel) in place on ``examples``; returns the loss summary."""
    if not examples:
        return TrainResult(loss=None, steps=0, examples=0, seconds=0.0)
    import torch
    from transformers import get_scheduler

    from halo_forge.ui import progress

    start = time.perf_counter()
    release_memory()  # what generation freed, before training allocates its own
    rows = [t for e in examples if (t := tokenize(tokenizer, e, settings.max_seq_length))]
    if not rows:  # every example truncated down to its prompt
        return TrainResult(loss=None, steps=0, examples=len(examples), seconds=0.0)
    per_step = settings.batch_size * max(1, settings.gradient_accumulation_steps)
    plan = step_plan(len(rows), per_step, settings.epochs, settings.seed)

    if settings.gradient_checkpointing:
        _enable_checkpointing(model)
    parts = _backbone_and_head(model)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    warmup = settings.warmup_steps or math.ceil(settings.warmup_ratio * len(plan))
    scheduler = get_scheduler(
        settings.lr_scheduler_type,
        optimizer,
        num_warmup_steps=warmup,
        num_training_steps=len(plan),
    )
    torch.manual_seed(settings.seed)  # dropout masks
    was_training = model.training
    model.train()
    counts = _Counts()
    step_losses: list[float] = []
    logged: list[float] = []
    window: list[float] = []
    bar = progress()
    task = bar.add_task("Training", total=len(plan))
    try:
        with bar:
            for step, indices in enumerate(plan, 1):
                loss = _run_batch(
                    model,
                    parts,
                    [rows[i] for i in indices],
                    settings,
                    pad_id,
                    device,
                    counts,
                    train=True,
                )
                if settings.max_grad_norm and settings.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step_losses.append(loss)
                window.append(loss)
                if step % max(1, settings.logging_steps) == 0 or step == len(plan):
                    logged.append(sum(window) / len(window))
                    window = []
                bar.update(task, completed=step, description=f"Training (loss {loss:.4f})")
    finally:
        model.train(was_training)
        del optimizer, scheduler
        release_memory()
    seconds = time.perf_counter() - start
    eval_loss = evaluate(model, tokenizer, eval_examples, settings) if eval_examples else None
    mean = sum(step_losses) / len(step_losses)
    return TrainResult(
        loss=None if math.isnan(mean) else mean,
        steps=len(plan),
        examples=len(examples),
        seconds=seconds,
        losses=tuple(logged),
        eval_loss=eval_loss,
        tokens=counts.tokens,
        loss_tokens=counts.loss_tokens,
        padded_tokens=counts.padded,
    )
