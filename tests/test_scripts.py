"""scripts/test.sh, what CI runs on a clean machine: the torch install's opt-in index."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _torch_install(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """The arguments scripts/test.sh's torch line gives pip, run with a stand-in python."""
    script = (ROOT / "scripts" / "test.sh").read_text()
    (line,) = [x for x in script.splitlines() if re.search(r"pip install .*torch==", x)]
    stub = tmp_path / "python"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if k != "PRTRIAGE_TORCH_INDEX"}
    proc = subprocess.run(["bash", "-c", f"set -u; {line}"], env={**clean, "PYTHON": str(stub), **env},
                          capture_output=True, text=True, check=True)  # fmt: skip
    return proc.stdout.splitlines()


def test_the_torch_index_is_opt_in(tmp_path: Path) -> None:
    assert _torch_install(tmp_path, {}) == [
        "-m",
        "pip",
        "install",
        "-q",
        "torch==2.13.0",
    ]  # the default index
    cpu = "https://download.pytorch.org/whl/cpu"
    assert _torch_install(tmp_path, {"PRTRIAGE_TORCH_INDEX": cpu}) == [
        "-m", "pip", "install", "-q", "torch==2.13.0", "--index-url", cpu,
    ]  # fmt: skip
    assert "PRTRIAGE_TORCH_INDEX=https://download.pytorch.org/whl/cpu" in (ROOT / "README.md").read_text()
