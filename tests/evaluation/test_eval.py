from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prtriage.core.errors import PrtriageError
from prtriage.evaluation.metrics import calibration, coverage, metrics, paired_bootstrap
from prtriage.evaluation.prediction_record import Prediction, load_predictions


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
    # stderr is a pipe here: plain progress lines, not a bar
    assert "evaluating rules: 0/5 records (0%), starting" in proc.stderr
    assert "evaluating rules: 5/5 records (100%)" in proc.stderr
    assert data["reasoning"] is None and "Reasoning: none" in proc.stdout  # the rules write none
    assert data["calibration"]["ece"] is not None and "expected calibration error" in proc.stdout


def test_eval_plot_draws_confusion_and_reliability(tmp_path: Path) -> None:
    plot = tmp_path / "eval.png"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "eval", "--input", str(_write(tmp_path)), "--model", "rules",
         "--plot", str(plot)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width = matplotlib.image.imread(plot).shape[:2]
    assert width > 1.8 * height  # two panels side by side: confusion and reliability


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
    # The model writes reasonings: every one is checked, and --show-reasoning prints them.
    assert data["reasoning"]["checked"] == 3 and 0 <= data["reasoning"]["pass_rate"] <= 1
    assert set(data["reasoning"]["flag_rates"]) == {
        "length",
        "bare-category",
        "other-category",
        "copies-title",
        "cites-nothing",
        "invented-path",
    }
    assert len(data["calibration"]["table"]) >= 1


def _pred(i: int, truth: str, predicted: str, confidence: float) -> Prediction:
    return Prediction(str(i), truth, predicted, {predicted: confidence, "other": 1 - confidence}, True, 0.0)


def test_calibration_by_hand() -> None:
    preds = [
        _pred(0, "a", "a", 0.95), _pred(1, "a", "b", 0.91),  # bucket 0.9-1.0: accuracy 0.5, mean 0.93
        _pred(2, "a", "a", 0.35), _pred(3, "b", "b", 0.31),  # bucket 0.3-0.4: accuracy 1.0, mean 0.33
        _pred(4, "b", "b", 1.0),  # confidence 1.0 belongs to the last bucket
    ]  # fmt: skip
    cal = calibration(preds)
    table = {round(r["from"], 1): r for r in cal["table"]}
    assert sorted(table) == [0.3, 0.9]
    assert table[0.9]["count"] == 3 and table[0.9]["accuracy"] == pytest.approx(2 / 3)
    assert table[0.9]["mean_confidence"] == pytest.approx((0.95 + 0.91 + 1.0) / 3)
    assert table[0.3]["accuracy"] == 1.0
    expected = 3 / 5 * abs(2 / 3 - (0.95 + 0.91 + 1.0) / 3) + 2 / 5 * abs(1.0 - 0.33)
    assert cal["ece"] == pytest.approx(expected)
    cover = {c["min_confidence"]: c for c in coverage(preds)}
    assert cover[0.5]["coverage"] == 0.6 and cover[0.5]["accuracy"] == pytest.approx(2 / 3)
    assert cover[0.9]["coverage"] == 0.6
    assert coverage(preds[2:4])[0] == {"min_confidence": 0.5, "coverage": 0.0, "accuracy": None}


def test_eval_attack_with_the_rules(tmp_path: Path) -> None:
    """Rules read the title: a title suffix can move them, a planted Markdown file can too."""
    src = _write(tmp_path)
    report, preds = tmp_path / "report.json", tmp_path / "preds.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "eval", "--input", str(src), "--model", "rules", "--attack",
         "--placements", "title,markdown-file", "--report", str(report), "--predictions", str(preds)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    attack = json.loads(report.read_text())["attack"]
    assert set(attack) == {"title", "markdown-file", "all"}
    assert attack["title"]["cases"] == 5 and attack["all"]["cases"] == 10
    assert 0 <= attack["all"]["hit_rate"] <= attack["all"]["flip_rate"] <= 1
    assert "Planted instructions" in proc.stdout and "markdown-file" in proc.stdout
    assert len(load_predictions(preds)) == 5  # the records as is; the attacked ones apart
    attacked = load_predictions(preds, attacked=True)
    assert len(attacked) == 10 and {p.placement for p in attacked} == {"title", "markdown-file"}
    assert all(p.target and p.target != p.truth for p in attacked)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--attack", "--placements", "footer"], "unknown placement 'footer'"),
        (["--placements", "title"], "--placements and --phrasings go with --attack"),
    ],
)
def test_eval_attack_flags_are_checked(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "eval", "--input", str(_write(tmp_path)), "--model", "rules", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
