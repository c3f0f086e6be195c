"""`classify --input` (prtriage/commands/batch.py) with a fake engine: records in, JSON lines out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine

from prtriage.commands.batch import BatchOptions, run
from prtriage.config import Settings
from prtriage.errors import EXIT_FAIL_ON, EXIT_OK, UsageError

FIX_DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,3 @@\n def div(a, b):\n+    assert b\n     return a / b\n"
)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a1", "title": "Zero", "diff": FIX_DIFF}), "{not json",
             json.dumps({"id": "b2", "diff": FIX_DIFF})]  # fmt: skip
    src.write_text("\n".join(lines) + "\n")
    return src


def batch(tmp_path: Path, src: Path, *args: str) -> int:
    return run_main(
        "classify", "-C", str(tmp_path), "--input", str(src), "--output", str(tmp_path / "out.jsonl"), *args
    )


def test_each_good_record_is_one_line_and_bad_ones_are_named(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))
    assert batch(tmp_path, records) == EXIT_OK
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["id"], r["category"], r["confidence"]) for r in lines] == [
        ("a1", "docs", 0.7),
        ("b2", "docs", 0.7),
    ]
    err = capsys.readouterr().err
    assert "in.jsonl:2: not JSON" in err and "classified 2 records, skipped 1; docs 2" in err
    assert engine.scored == 2


def test_fail_on_exits_1_without_naming_the_category(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.9))
    assert batch(tmp_path, records, "--fail-on", "fix") == EXIT_FAIL_ON
    assert "is in fail-on" not in capsys.readouterr().err  # as before: the summary line says enough
    assert batch(tmp_path, records, "--fail-on", "docs") == EXIT_OK


def test_uncertain_results_do_not_fail(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.6))
    assert batch(tmp_path, records, "--fail-on", "fix", "--min-confidence", "0.9") == EXIT_OK
    assert "2 results were uncertain (below min-confidence)" in capsys.readouterr().err


def test_nothing_classifiable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering())
    src = tmp_path / "bad.jsonl"
    src.write_text("{not json\n")
    assert batch(tmp_path, src) == 2
    assert "no record in" in capsys.readouterr().err


def test_a_missing_input_fails_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering())
    with pytest.raises(UsageError, match="input file not found"):
        run(BatchOptions(tmp_path / "missing.jsonl", tmp_path / "out.jsonl", Settings()))
    assert engine.opened == 0 and not (tmp_path / "out.jsonl").exists()
