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


def test_clean_keeps_the_llama_cpp_wheelhouse_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """scripts/llama_wheel.sh keeps its wheelhouse in the default cache folder (ten minutes to
    rebuild); `cache clean` removed it with the model copies."""
    root = tmp_path / "cache"
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(root))
    wheel = root / "wheels" / "llama-cpp-python-0.3.9-abc" / "llama_cpp_python-0.3.9-cp311-linux_x86_64.whl"
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"w" * 1_000_000)
    (root / "logs").mkdir()
    (root / "logs" / "crash.txt").write_text("traceback\n")
    (root / "models").mkdir()
    (root / "models" / "m.Q8_0.gguf").write_bytes(b"x" * 2_000_000)
    (root / "base-files" / "d").mkdir(parents=True)
    (root / "base-files" / "d" / "a.gguf").write_bytes(b"y")
    assert run_main("cache", "clean") == EXIT_OK
    out = capsys.readouterr().out
    assert out == f"removed 2 files (2.0 MB) from {root}\nkept logs/, wheels/ (--all removes them too)\n"
    assert wheel.is_file() and (root / "logs" / "crash.txt").is_file()
    assert sorted(p.name for p in root.iterdir()) == ["logs", "wheels"]
    assert run_main("cache", "clean", "--all") == EXIT_OK
    assert capsys.readouterr().out == f"removed 2 files (1.0 MB) from {root}\n"
    assert list(root.iterdir()) == []


def test_info_on_a_cache_not_made_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "none"))
    assert run_main("cache", "clean") == EXIT_OK
    assert run_main("cache", "info") == EXIT_OK
    assert f"cache folder: {tmp_path / 'none'} (not made yet)" in capsys.readouterr().out
