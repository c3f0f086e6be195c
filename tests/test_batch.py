"""Batch classification of change records, with a fake engine: every record answered or named."""

from __future__ import annotations

import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

from fake_engine import FakeEngine
from rich.console import Console

from prtriage.batch import classify_file
from prtriage.config import Settings

DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,3 @@\n def div(a, b):\n+    assert b\n     return a / b\n"
)
SCORES = {"fix": math.log(0.6), "feature": math.log(0.35)}


def _write(path: Path, lines: list[Any]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _run(src: Path, engine: FakeEngine, settings: Settings | None = None) -> tuple[Any, list[dict[str, Any]]]:
    out = src.with_name("out.jsonl")
    summary = classify_file(src, out, engine, settings or Settings(), Console(file=io.StringIO()))
    return summary, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_each_good_record_gives_one_line_and_each_bad_one_a_reason(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "title": "Guard against zero", "body": None, "diff": DIFF},  # 1
            "not json",  # 2
            {"title": "no diff"},  # 3
            {"diff": DIFF, "title": 5},  # 4
            {"title": "No id", "diff": DIFF},  # 5
        ],
    )
    summary, lines = _run(src, FakeEngine(SCORES))
    assert [line["id"] for line in lines] == ["a", 5]  # a record without id is named by its line
    assert [line["source"] for line in lines] == ["in.jsonl:1", "in.jsonl:5"]
    assert lines[0]["category"] == "fix" and lines[0]["reasoning"]
    assert set(lines[0]) >= {"confidence", "probabilities", "files", "prompt_tokens", "timings"}
    assert summary.classified == 2 and summary.categories == {"fix": 2} and summary.failing == {"fix": 2}
    assert [(b.line, b.reason.split(" (")[0]) for b in summary.bad] == [
        (2, "not JSON"),
        (3, "'diff' missing or not a string"),
        (4, "'title' is not a string"),
    ]
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_a_record_the_model_fails_on_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [{"id": 1, "title": "boom", "diff": DIFF}, {"id": 2, "title": "fine", "diff": DIFF}],
    )
    summary, lines = _run(src, FakeEngine(SCORES, fail_on="boom"))
    assert [line["id"] for line in lines] == [2]
    assert [(b.line, b.reason) for b in summary.bad] == [(1, "cannot score a prompt with 'boom'")]


def test_uncertain_results_are_counted_apart_from_failing_ones(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": 1, "title": "t", "diff": DIFF}])
    summary, lines = _run(src, FakeEngine(SCORES), Settings(min_confidence=0.9))
    assert lines[0]["uncertain"] is True
    assert summary.uncertain == 1 and summary.failing == {} and summary.categories == {"fix": 1}


def test_gzip_input_and_exclusions(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl.gz", [{"id": 1, "title": "t", "diff": DIFF}])
    summary, lines = _run(src, FakeEngine(SCORES), Settings(exclude=("src/*",)))
    assert summary.classified == 1
    assert lines[0]["files"][0]["reason"] == "excluded by config"


def test_the_progress_line_counts_bad_lines_too(tmp_path: Path) -> None:
    # Its total is every non-blank line, so a skipped line must advance it as a classified one does.
    src = _write(
        tmp_path / "in.jsonl", [{"id": 1, "diff": DIFF}, "not json", {"id": 3}, {"id": 4, "diff": DIFF}]
    )
    err = io.StringIO()
    classify_file(src, tmp_path / "out.jsonl", FakeEngine(SCORES), Settings(), Console(file=err, width=200))
    assert err.getvalue().splitlines()[-1].startswith("classifying: 4/4 records (100%)")
