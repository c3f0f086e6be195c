"""The README's path through the real CLI: train fit → train export → classify --model, on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from train_helpers import CATEGORIES, tiny_config_dict

from prtriage.cli import main
from prtriage.train import gguf_out

pytestmark = pytest.mark.train


def prtriage(*args: str) -> int:
    """`prtriage ARGS` in this process; the exit code main() ends with."""
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    return int(done.value.code or 0)


def test_fit_export_verify_classify(
    tmp_path: Path, tiny_gguf: Path, records_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(tiny_config_dict(tiny_gguf, tmp_path / "elsewhere.jsonl", run, max_steps=50))
    )
    assert prtriage("train", "fit", "--config", config, "--data", records_file, "--max-steps", "3") == 0
    assert json.loads((run / "run.json").read_text())["steps"] == 3
    out = tmp_path / "out.gguf"
    assert prtriage("train", "export", "--config", config, "--output", out, "--threads", "1") == 0
    err = capsys.readouterr().err
    assert "parity q8_0: ok" in err and f"classify with: prtriage classify --model {out}" in err
    assert prtriage("train", "verify", "--run", run, "--model", out, "--threads", "1") == 0
    assert "parity q8_0: ok" in capsys.readouterr().err
    settings = tmp_path / ".prtriage.toml"
    settings.write_text(f"categories = {json.dumps(CATEGORIES)}\n")
    results = tmp_path / "results.jsonl"
    code = prtriage("classify", "--model", out, "--config", settings, "--input", records_file,
                    "--output", results, "--context-size", "512", "--threads", "1")  # fmt: skip
    assert code == 0
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == 8 and all(r["category"] in CATEGORIES for r in lines)
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in lines)


def test_a_failed_parity_check_exits_non_zero(
    tmp_path: Path, tiny_hf: Path, records_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    run = tmp_path / "run"
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config_dict(tiny_hf, records_file, run, max_steps=1)))
    assert prtriage("train", "fit", "--config", config) == 0
    monkeypatch.setattr(gguf_out, "PERMUTED", set())  # a broken export
    assert prtriage("train", "export", "--run", run, "--type", "f16", "--threads", "1") == 3
    err = capsys.readouterr().err
    assert "parity f16: FAILED" in err and "does not match the trained one" in err
    assert "Traceback" not in err


def test_build_data_writes_input_output_rows(
    tmp_path: Path, records_file: Path, tiny_hf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with records_file.open("a") as f:
        f.write('{"diff": "x", "category": "fix"}\n')
    out = tmp_path / "rows.jsonl"
    code = prtriage("train", "build-data", "--data", records_file, "--base-model", tiny_hf, "--output", out,
                    "--set", f"categories={json.dumps(CATEGORIES)}", "--set", "sequence_len=512")  # fmt: skip
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 8 and [r["category"] for r in rows[:2]] == ["fix", "docs"]
    assert [s["label"] for s in rows[0]["segments"]][-3:] == [True, True, True]
    assert rows[0]["segments"][0]["special"] is True
    err = capsys.readouterr().err
    assert f"skipped {records_file}:9: the diff has no files" in err
    assert "wrote 8 rows" in err


def test_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert prtriage("train", "export", "--run", tmp_path) == 2
    assert "is not a finished training run" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("base_model: embedded\nlora_rnk: 8\n")
    assert prtriage("train", "fit", "--config", bad) == 2
    err = capsys.readouterr().err
    assert "unknown key 'lora_rnk'" in err and "Traceback" not in err
