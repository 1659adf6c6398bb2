"""The embedded default model, for real (slow: dequantizes once, then generates on CPU)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_embedded_model_loads_generates_and_answers_in_a_code_block(tmp_path):
    from halo_forge.data.prompts import load_problems
    from halo_forge.generation.base import SamplingParams
    from halo_forge.generation.hf import HFGenerator
    from halo_forge.models.embedded import embedded_model_dir
    from halo_forge.models.loader import load_model, load_tokenizer, resolve_model

    folder = embedded_model_dir()
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    spec = resolve_model(None)
    tok, model = load_tokenizer(spec), load_model(spec)
    assert tok.chat_template, "the embedded tokenizer must carry its chat template"
    problems = load_problems("basic_python:test", max_prompts=4)
    groups, stats = HFGenerator(model, tok, batch_size=8).generate(
        problems, SamplingParams(n=2, temperature=0.2, max_new_tokens=128)
    )
    assert [len(g) for g in groups] == [2, 2, 2, 2]
    assert stats.tokens > 0
    with_code = [s for g in groups for s in g if "def " in s.code]
    assert len(with_code) >= 4, [s.completion for g in groups for s in g]
