"""docs/model.md and the README say what the last model report holds, and what ships is what it chose.

The report (docs/model-report.json) is written by `python scripts/model_tables.py --write` from
the runs of examples/v3/evaluate.sh; every generated block of the docs is rendered from it again
here, so a number edited by hand, or a report rerun without the docs, fails.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import ModuleType

from script_loader import load_script

from prtriage.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _tables() -> ModuleType:
    return load_script("model_tables")


def test_the_generated_blocks_are_the_reports() -> None:
    tables = _tables()
    report = json.loads(tables.REPORT.read_text(encoding="utf-8"))
    blocks = tables.render(report)
    found = {}
    for path in tables.DOCS.values():
        for m in tables.BLOCK.finditer(path.read_text(encoding="utf-8")):
            found[m.group("name")] = m.group("body")
    assert found.keys() == blocks.keys()
    for name, body in blocks.items():
        assert found[name] == body, f"{name}: regenerate with python scripts/model_tables.py --write"


def test_what_ships_is_what_the_report_chose() -> None:
    tables = _tables()
    report = json.loads(tables.REPORT.read_text(encoding="utf-8"))
    assert tables.decide(report) == report["decision"]  # the ship rule, applied to its own numbers
    assert Settings().scorer == report["decision"]["scorer"]
    assert Settings().reasoning == report["decision"]["reasoning"]
    for name, digest in tables.shipped_files(report).items():
        assert hashlib.sha256((ROOT / "prtriage" / "bundled" / name).read_bytes()).hexdigest() == digest, name
