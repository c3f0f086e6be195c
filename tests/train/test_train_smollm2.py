"""The real SmolLM2-135M from the embedded GGUF: a short LoRA run, exported, loaded by llama.cpp with parity."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import tiny_config_dict

from prtriage.train.config import build_config
from prtriage.train.export import export_run
from prtriage.train.fit import fit
from prtriage.train.rundir import read_run

pytestmark = [pytest.mark.train, pytest.mark.slow]


def test_smollm2_lora_merged_and_adapter_exports_match_pytorch(tmp_path: Path, records_file: Path) -> None:
    over = dict(max_steps=2, micro_batch_size=1, gradient_accumulation_steps=2, learning_rate=1e-3, eval_steps=2,
                val_set_size=0.5)  # fmt: skip
    result = fit(build_config(tiny_config_dict("embedded", records_file, tmp_path / "run", **over), "test"))
    assert result.steps == 2 and result.eval["eval_scored"] == 4  # one of the two repositories
    targets = [("q8_0", tmp_path / "m-q8_0.gguf")]
    results = export_run(read_run(tmp_path / "run"), targets, adapter_out=tmp_path / "lora.gguf", threads=1)
    # The merged Q8_0, and the adapter over the embedded Q4_1 file it was trained on.
    assert [r.kind for r in results] == ["q8_0", "q4_1"]
    for r in results:
        assert r.parity is not None and r.parity.passed, r.parity.summary() if r.parity else r
        assert r.parity.argmax_agreement > 0.9
