from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_docs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_usage_lines_name_each_command_once() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    assert "Usage: prtriage data from-git [OPTIONS] [REPO]" in text
    assert "Usage: prtriage data split [OPTIONS] INPUT" in text
    assert "Usage: prtriage train fit [OPTIONS]" in text
