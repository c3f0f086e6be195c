"""A pinned training curve (torchtune's habit): a tiny fixed run whose per-step losses are recorded.

Any change to data preparation, masking, the prompt, batching, the optimizer, dropout or resume
moves these numbers; a refactor must not. Tolerance: 2e-3 absolute. Float sums differ in their
low bits between instruction sets (torch's CPU kernels for AVX2 and AVX-512) and thread counts;
those differences are orders of magnitude below 2e-3 over six steps, while the smallest real
change seen here (a resume that drew dropout anew) moved a step by 0.017.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from train_helpers import tiny_config_dict

from prtriage.train.config import build_config
from prtriage.train.fit import fit

pytestmark = pytest.mark.train

TOLERANCE = 2e-3
# Recorded with torch 2.13.0 (CPU, AVX-512 machine), SmolLM2's tokenizer, the tiny model of train_helpers.
PINNED = [12.756717, 12.161793, 11.203794, 10.362591, 9.276324, 8.559485]
SETTINGS = dict(
    max_steps=6, save_steps=3, lr_scheduler="cosine", warmup_steps=1, gradient_accumulation_steps=2,
    lora_dropout=0.1, val_set_size=0, prompt_format="definitions",  # v1's prompt: recorded before "names"
)  # fmt: skip


def _losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_the_curve_matches_the_recorded_losses(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    whole = tmp_path / "whole"
    fit(build_config(tiny_config_dict(tiny_hf, records_file, whole, **SETTINGS), "test"))
    assert _losses(whole) == pytest.approx(PINNED, abs=TOLERANCE)


def test_a_resumed_run_follows_the_same_curve(tmp_path: Path, tiny_hf: Path, records_file: Path) -> None:
    whole = tmp_path / "whole"
    fit(build_config(tiny_config_dict(tiny_hf, records_file, whole, **SETTINGS), "test"))
    cut = tmp_path / "cut"  # a run stopped after step 3: only its checkpoint survives
    cut.mkdir()
    shutil.copytree(whole / "checkpoint-3", cut / "checkpoint-3")
    fit(build_config(tiny_config_dict(tiny_hf, records_file, cut, **SETTINGS), "test"), resume=True)
    assert _losses(cut) == pytest.approx(PINNED[3:], abs=TOLERANCE)
