"""`prtriage cache info|clean` (prtriage/commands/cache.py): what the cache folder holds, and removing it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import run_main

from prtriage.core.errors import EXIT_OK


def test_info_lists_and_clean_removes_only_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "cache"
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(root))
    (root / "models").mkdir(parents=True)
    (root / "models" / "SmolLM2.0123456789abcdef.Q8_0.gguf").write_bytes(b"x" * 2_500_000)
    (root / "sha256").mkdir()
    (root / "sha256" / "abc").write_text("0" * 64 + "\n")
    assert run_main("cache", "info") == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"cache folder: {root}\n")
    assert "      2.5 MB  models/SmolLM2.0123456789abcdef.Q8_0.gguf\n" in out
    assert "2 files, 2.5 MB\n" in out
    assert "default model weights (not cache clean's to remove): " in out
    assert run_main("cache", "clean") == EXIT_OK
    assert capsys.readouterr().out == f"removed 2 files (2.5 MB) from {root}\n"
    assert list(root.iterdir()) == []
    assert run_main("cache", "info") == EXIT_OK
    assert "0 files, 0.0 MB" in capsys.readouterr().out


def test_info_on_a_cache_not_made_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "none"))
    assert run_main("cache", "clean") == EXIT_OK
    assert run_main("cache", "info") == EXIT_OK
    assert f"cache folder: {tmp_path / 'none'} (not made yet)" in capsys.readouterr().out
