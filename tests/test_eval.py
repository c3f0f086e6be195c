from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prtriage.errors import PrtriageError
from prtriage.evaluate import Prediction, metrics, paired_bootstrap


def _diff(path: str) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-a\n+b\n"


RECORDS = [
    {"id": "1", "title": "Fix crash on empty input", "diff": _diff("src/a.py"), "category": "fix"},
    {"id": "2", "title": "Document the CLI", "diff": _diff("docs/cli.md"), "category": "docs"},
    {"id": "3", "title": "Run tests on 3.12", "diff": _diff(".github/workflows/ci.yml"), "category": "ci"},
    {"id": "4", "title": "Bump vite from 5.0 to 5.1", "diff": _diff("pnpm-lock.yaml"), "category": "deps"},
    {"id": "5", "title": "Cover the parser", "diff": _diff("tests/test_parser.py"), "category": "test"},
]


def _write(tmp_path: Path, extra: list[str] = ()) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([*(json.dumps(r) for r in RECORDS), *extra]) + "\n")
    return path


def test_metrics_by_hand() -> None:
    cats = ["a", "b", "c"]
    preds = [
        Prediction(str(i), t, p, {}, True, 0.1 * (i + 1))
        for i, (t, p) in enumerate([("a", "a"), ("a", "b"), ("b", "b"), ("c", "a")])
    ]
    m = metrics(preds, cats)
    assert m["accuracy"] == 0.5
    assert m["per_category"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_category"]["b"]["precision"] == 0.5 and m["per_category"]["b"]["recall"] == 1.0
    assert m["per_category"]["c"]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert m["confusion"]["matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
    assert m["latency_s"]["p50"] == pytest.approx(0.3) and m["latency_s"]["p95"] == pytest.approx(0.4)


def test_paired_bootstrap_brackets_the_difference() -> None:
    cats = ["a", "b"]
    truth = ["a", "b"] * 20
    right = [Prediction(str(i), t, t, {}, True, 0.0) for i, t in enumerate(truth)]
    always_a = [Prediction(str(i), t, "a", {}, True, 0.0) for i, t in enumerate(truth)]
    low, high = paired_bootstrap(always_a, right, cats, rounds=200)
    observed = metrics(right, cats)["macro_f1"] - metrics(always_a, cats)["macro_f1"]
    assert 0 < low <= observed <= high
    assert paired_bootstrap(right, right, cats, rounds=50) == (0.0, 0.0)
    with pytest.raises(PrtriageError, match="different records"):
        paired_bootstrap(right, right[1:], cats)


def test_eval_rules_report(tmp_path: Path) -> None:
    src = _write(tmp_path, ["{oops", json.dumps({"id": "x", "title": "t", "diff": "", "category": "shiny"})])
    report = tmp_path / "report.json"
    preds = tmp_path / "preds.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "eval", "--input", str(src), "--model", "rules", "--report", str(report), "--predictions", str(preds)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["model"] == "rules" and data["records"] == 5 and data["skipped_lines"] == 2
    assert data["accuracy"] == 1.0 and data["parsed_share"] == 1.0
    assert "records.jsonl:6: not JSON" in proc.stderr and "unknown category 'shiny'" in proc.stderr
    assert "macro-F1" in proc.stdout and "Confusion" in proc.stdout
    assert len(preds.read_text().splitlines()) == 5


@pytest.mark.slow
def test_eval_model_limit_sample(tmp_path: Path) -> None:
    src = _write(tmp_path)
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "eval", "--input", str(src), "--limit", "3", "--report", str(report)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["records"] == 3 and data["parsed_share"] == 1.0
    assert data["prompt_tokens_per_s"] > 0 and data["latency_s"]["p95"] >= data["latency_s"]["p50"] > 0
    assert sum(sum(row) for row in data["confusion"]["matrix"]) == 3
