"""The README and docs tell the truth: generated examples, config examples that load, install lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from script_loader import load_script

from prtriage.core.settings import resolve_settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _script() -> ModuleType:
    return load_script("readme_examples")


def test_readme_examples_are_the_generated_files() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_examples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "classify" in _script().readme_blocks((ROOT / "README.md").read_text())


ROW = re.compile(r"^(\S+)\s+(\d+\.\d)%\s+[█·]+$")  # a table row: name, percent to 0.1, bar
TOLERANCE = 1.5  # percentage points: llama.cpp's AVX2 and AVX-512 kernels differ by up to 0.9 here


def _numbers(text: str) -> tuple[str, dict[str, float]]:
    """The text with percentages and timings masked and the category rows in name order (close
    probabilities may swap places on another CPU), and each category row's percentage."""
    rows = {m.group(1): float(m.group(2)) for m in map(ROW.match, text.splitlines()) if m}
    lines = [line for line in text.splitlines() if not ROW.match(line)]
    masked = "\n".join([*lines, *sorted(f"{name} N% BAR" for name in rows)])
    masked = re.sub(r"\d+(?:\.\d+)?%", "N%", masked)
    masked = re.sub(r"[█·]+", "BAR", masked)
    masked = re.sub(r"\d+\.\d\ds", "Ns", masked)
    return masked, rows


@pytest.mark.slow
def test_readme_examples_are_what_this_version_prints() -> None:
    # Category, reasoning, files and layout must be identical; probabilities may move by about a
    # point on another CPU (llama.cpp's kernels differ), timings always do.
    script = _script()
    fresh, committed = script.render(), script.committed()
    assert fresh.keys() == committed.keys()
    for name, text in fresh.items():
        new, new_rows = _numbers(text)
        old, old_rows = _numbers(committed[name])
        assert new == old, f"{name}: regenerate with python scripts/readme_examples.py"
        assert new_rows.keys() == old_rows.keys()
        assert all(abs(new_rows[c] - old_rows[c]) <= TOLERANCE for c in new_rows), (name, new_rows, old_rows)


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
