"""Real peft training steps on the tiny model: loss falls, resume is exact, two gloo processes agree."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from rich.console import Console
from safetensors.torch import load_file
from train_helpers import tiny_config_dict

from prtriage.core.errors import ConfigError, UsageError
from prtriage.core.jsonl import BadLine
from prtriage.train.config import build_config, read_config
from prtriage.train.fit import _report_data, fit
from prtriage.train.prepare import Prepared

pytestmark = pytest.mark.train


def adapter_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / "adapter" / "adapter_model.safetensors")


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float) -> None:
    assert a.keys() == b.keys() and a
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst <= atol, worst


def test_the_run_folder_lists_every_skipped_line_and_the_log_the_first_20(tmp_path: Path) -> None:
    skipped = [BadLine("d.jsonl", n, "not JSON (bad)") for n in range(1, 26)]
    said: list[str] = []
    _report_data(Prepared([], [], skipped, "random rows"), tmp_path, said.append)
    assert (tmp_path / "skipped.txt").read_text().splitlines() == [str(b) for b in skipped]
    assert said[:20] == [f"skipped {b}" for b in skipped[:20]]
    assert said[20] == f"... and 5 more bad lines, all in {tmp_path / 'skipped.txt'}"
    assert said[21] == "data: 0 training examples, 0 validation (random rows); skipped 25 lines: 25 not JSON"


def test_training_lowers_the_loss_and_leaves_a_run(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    out = tmp_path / "run"
    log = io.StringIO()  # not a terminal: plain progress lines, as in a CI log
    console = Console(file=log, width=200, highlight=False, color_system=None)
    result = fit(
        build_config(tiny_config_dict(tiny_hf, records_file, out, max_steps=8), "test"), console=console
    )
    lines = log.getvalue().splitlines()
    assert lines.index("reading and tokenizing the training data ...") < lines.index(
        "training: 0/8 steps (0%), starting"
    )
    assert any(line.startswith("training: 8/8 steps (100%), ") and "; loss " in line for line in lines), lines
    losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 8
    assert sum(losses[-2:]) / 2 < 0.8 * sum(losses[:2]) / 2, losses
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 8 and run["data"] == {
        "train": 4,
        "val": 4,
        "skipped": 0,
        "split": "by repository: acme/one",
    }
    assert (
        set(run["eval"]) == {"eval_loss", "eval_accuracy", "eval_scored"} and run["eval"]["eval_scored"] == 4
    )
    assert result.eval == run["eval"]
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "skipped.txt").read_text() == ""


def test_resume_continues_exactly(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    over = dict(
        max_steps=4, save_steps=2, lr_scheduler="cosine", warmup_steps=1, gradient_accumulation_steps=2
    )
    whole = tmp_path / "whole"
    fit(build_config(tiny_config_dict(tiny_hf, records_file, whole, **over), "test"))
    assert [p.name for p in whole.glob("checkpoint-*")] == ["checkpoint-2"]
    # A run stopped after step 2: only its checkpoint survives.
    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copytree(whole / "checkpoint-2", cut / "checkpoint-2")
    fit(build_config(tiny_config_dict(tiny_hf, records_file, cut, **over), "test"), resume=True)
    assert_same_weights(adapter_weights(cut), adapter_weights(whole), atol=1e-6)
    steps = [json.loads(line)["step"] for line in (cut / "metrics.jsonl").read_text().splitlines()]
    assert steps == [3, 4]
    changed = build_config(tiny_config_dict(tiny_hf, records_file, cut, **{**over, "lora_r": 4}), "test")
    with pytest.raises(ConfigError, match="the config changed \\(lora_r\\)"):
        fit(changed, resume=True)
    with pytest.raises(UsageError, match="no checkpoint"):
        fit(
            build_config(tiny_config_dict(tiny_hf, records_file, tmp_path / "none", **over), "test"),
            resume=True,
        )


def test_bad_lines_are_listed_and_training_goes_on(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    with records_file.open("a") as f:
        f.write('{"title": "x", "diff": "", "category": "nope"}\nnot json\n')
    out = tmp_path / "run"
    fit(build_config(tiny_config_dict(tiny_hf, records_file, out, max_steps=1, val_set_size=0), "test"))
    assert (out / "skipped.txt").read_text().splitlines() == [
        f"{records_file}:9: unknown category 'nope'",
        f"{records_file}:10: not JSON (Expecting value)",
    ]


def test_config_is_checked(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    good = tiny_config_dict(tiny_hf, records_file, tmp_path / "run")
    with pytest.raises(ConfigError, match="unknown key 'lora_rank'"):
        build_config({**good, "lora_rank": 8}, "c.yaml")
    with pytest.raises(ConfigError, match="'sample_packing' is not supported"):
        build_config({**good, "sample_packing": True}, "c.yaml")
    with pytest.raises(ConfigError, match="'lora_r' must be an integer"):
        build_config({**good, "lora_r": "8"}, "c.yaml")
    with pytest.raises(ConfigError, match="prompt_loss_weight"):
        build_config({**good, "prompt_loss_weight": 2}, "c.yaml")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**good, "bf16": False}))
    cfg = read_config(path, {"max_steps": 3, "train_on_inputs": True})
    assert cfg.max_steps == 3 and cfg.train_on_inputs and cfg.bf16 == "false"


@pytest.mark.parametrize(
    "name",
    [
        "examples/smollm2-cpu.yaml",
        "examples/default-adapter.yaml",
        "examples/adapter-v2.yaml",
        "benchmarks/masking.yaml",
    ],
)
def test_the_shipped_configs_are_valid(name: str) -> None:
    cfg = read_config(Path(__file__).parents[2] / name, {})
    assert cfg.base_model == "embedded" and cfg.bf16 == "false" and cfg.max_steps


def test_two_gloo_processes_train_like_one_with_accumulation(
    tmp_path: Path, tiny_hf: Path, records_file: Path
) -> None:
    """torchrun, 2 CPU processes: each step averages the same 2 micro-batches one process accumulates."""
    common = dict(max_steps=3, micro_batch_size=1, val_set_size=0, lr_scheduler="cosine", warmup_steps=1)
    single = tmp_path / "single"
    fit(
        build_config(
            tiny_config_dict(tiny_hf, records_file, single, gradient_accumulation_steps=2, **common), "t"
        )
    )
    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump(tiny_config_dict(tiny_hf, records_file, tmp_path / "ddp", **common)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "prtriage", "train", "fit", "--config", str(config)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es)" in done.stderr
    run = json.loads((tmp_path / "ddp" / "run.json").read_text())
    assert run["steps"] == 3
    assert_same_weights(adapter_weights(tmp_path / "ddp"), adapter_weights(single), atol=1e-5)
