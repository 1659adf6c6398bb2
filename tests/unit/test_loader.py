import json

import pytest

from halo_forge.errors import ModelLoadError
from halo_forge.models import loader
from halo_forge.models.loader import resolve_model


def test_default_is_embedded():
    spec = resolve_model(None)
    assert spec.base is None and spec.adapter is None
    assert "SmolLM2" in spec.label


def test_missing_local_path(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))


def test_folder_without_model_files(tmp_path):
    with pytest.raises(ModelLoadError, match="neither a model folder"):
        resolve_model(str(tmp_path))


def test_adapter_checkpoint_uses_recorded_base_when_present(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    ad = tmp_path / "ad"
    ad.mkdir()
    (ad / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base)}))
    assert resolve_model(None, str(ad)) == loader.ModelSpec(base=str(base), adapter=str(ad))
    # recorded base gone → embedded default
    (ad / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/gone"}))
    assert resolve_model(None, str(ad)).base is None


def test_unreachable_hub_id_fails_in_one_line(monkeypatch):
    from transformers import AutoConfig

    monkeypatch.setattr(loader, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelLoadError, match="pass its local path with --model"):
        loader._from_pretrained(AutoConfig, "someorg/not-cached-model-xyz")
