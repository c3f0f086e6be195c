"""The README and docs tell the truth: generated examples, config examples that load, install lines."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from prtriage.config import resolve_settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_examples_are_the_generated_files() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_examples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "classify" in _script().readme_blocks((ROOT / "README.md").read_text())


def _numbers(text: str) -> tuple[str, list[float]]:
    """The text with percentages and timings masked, and the percentages."""
    percents = [float(p) for p in re.findall(r"(\d+(?:\.\d+)?)%", text)]
    masked = re.sub(r"\d+(?:\.\d+)?%", "N%", text)
    masked = re.sub(r"[█·]+", "BAR", masked)
    masked = re.sub(r"\d+\.\d\ds", "Ns", masked)
    return masked, percents


@pytest.mark.slow
def test_readme_examples_are_what_this_version_prints() -> None:
    # Category, reasoning, files and layout must be identical; probabilities may move in the last
    # digit on another CPU (llama.cpp's kernels differ), timings always do.
    script = _script()
    fresh, committed = script.render(), script.committed()
    assert fresh.keys() == committed.keys()
    for name, text in fresh.items():
        new, new_p = _numbers(text)
        old, old_p = _numbers(committed[name])
        assert new == old, f"{name}: regenerate with python scripts/readme_examples.py"
        assert all(abs(a - b) <= 0.5 for a, b in zip(new_p, old_p)), (name, new_p, old_p)


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("path", [p for p in DOCS if _toml_blocks(p)], ids=lambda p: p.name)
def test_config_examples_load(tmp_path: Path, path: Path) -> None:
    for block in _toml_blocks(path):
        config = tmp_path / ".prtriage.toml"
        config.write_text(block)
        settings = resolve_settings({}, env={}, cwd=tmp_path, config_file=config)
        assert len(settings.categories) >= 2


def test_torch_install_lines_name_their_index() -> None:
    # On Linux a bare `pip install torch` brings the CUDA build: every line says which it wants.
    lines = [
        (path.name, line)
        for path in [*DOCS, ROOT / "pyproject.toml", ROOT / "examples" / "smollm2-cpu.yaml"]
        for line in path.read_text().splitlines()
        if re.search(r"pip install[^`\n]* torch\b", line)
    ]
    assert lines
    for name, line in lines:
        assert "--index-url https://download.pytorch.org/whl/" in line, (name, line)
