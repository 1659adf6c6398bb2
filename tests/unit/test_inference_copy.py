"""The bf16 sampling copy of a LoRA training model (tiny random Llama)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from halo_forge.config import LoraSettings  # noqa: E402
from halo_forge.generation.inference_copy import InferenceCopy, resolve_dtype  # noqa: E402
from halo_forge.sft.train import add_lora  # noqa: E402


@pytest.fixture()
def peft_model(tiny_model: Path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    model = add_lora(model, LoraSettings(), seed=0)
    with torch.no_grad():  # a trained-looking adapter: B is no longer zero
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return model.eval()  # no LoRA dropout in the reference forward


def test_copy_matches_the_adapter_merged_model_and_leaves_it_untouched(peft_model) -> None:
    before = {k: v.clone() for k, v in peft_model.state_dict().items()}
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    copy32 = InferenceCopy(peft_model, "float32")
    with torch.no_grad():
        want = peft_model(input_ids=ids).logits
        got = copy32.refresh()(input_ids=ids).logits
    assert torch.allclose(got, want, atol=1e-5)
    after = peft_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.dtype == torch.float32 for p in peft_model.parameters())
    bf16 = InferenceCopy(peft_model, "bfloat16").refresh()
    assert all(p.dtype == torch.bfloat16 for p in bf16.parameters())
    with torch.no_grad():
        approx = bf16(input_ids=ids).logits.float()
    assert (approx - want).abs().max() < 0.1 * want.abs().max()


def test_refresh_follows_training(peft_model) -> None:
    ids = torch.tensor([[5, 6, 7]])
    copy32 = InferenceCopy(peft_model, "float32")
    with torch.no_grad():
        first = copy32.refresh()(input_ids=ids).logits.clone()
        for name, p in peft_model.named_parameters():
            if "lora_A" in name:
                p.mul_(-1.0)  # training changed the adapter
        second = copy32.refresh()(input_ids=ids).logits
        want = peft_model(input_ids=ids).logits
    assert not torch.allclose(first, second)
    assert torch.allclose(second, want, atol=1e-5)


def test_resolve_dtype() -> None:
    assert resolve_dtype("float32") == "float32"
    assert resolve_dtype("auto") in ("float32", "bfloat16")
