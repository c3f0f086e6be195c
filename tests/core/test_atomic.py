"""Files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prtriage.core.atomic import atomic_output, atomic_path


def test_atomic_path_renames_when_done(tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    with atomic_path(target) as partial:
        assert partial == tmp_path / "model.gguf.partial"
        partial.write_text("whole")
        assert not target.exists()
    assert target.read_text() == "whole" and not partial.exists()


def test_atomic_path_removes_the_partial_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_text("before")
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("half")
        raise RuntimeError
    assert target.read_text() == "before" and list(tmp_path.iterdir()) == [target]


def test_atomic_path_per_process_name_for_shared_caches(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "m.gguf", per_process=True) as partial:
        assert partial.name == f".m.gguf.{os.getpid()}.tmp"
        partial.write_bytes(b"x")
    assert (tmp_path / "m.gguf").read_bytes() == b"x"


def test_atomic_output_text_and_binary(tmp_path: Path) -> None:
    with atomic_output(tmp_path / "a.txt") as f:
        f.write("é\n")
    with atomic_output(tmp_path / "b.bin", binary=True) as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "é\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
