"""`lora_init`: a run starts from an exported adapter .gguf, read back exactly as it was written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from train_helpers import tiny_config_dict

from prtriage.core.errors import ConfigError, ModelError
from prtriage.train.base import load_model
from prtriage.train.config import build_config
from prtriage.train.export import export_run
from prtriage.train.fit import fit, lora_config
from prtriage.train.lora_init import load_lora_init
from prtriage.train.rundir import read_run

pytestmark = pytest.mark.train


def _fresh_peft(cfg_dict: dict[str, Any], base: Path) -> torch.nn.Module:
    from peft import get_peft_model

    model = load_model(read_run(Path(cfg_dict["output_dir"])).base, torch.float32)
    return get_peft_model(model, lora_config(build_config(cfg_dict, "test"), model))


def _lora_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if "lora_" in k}


def test_an_exported_adapter_is_read_back_exactly_and_a_run_starts_from_it(
    tmp_path: Path, tiny_gguf: Path, records_file: Path
) -> None:
    from peft import PeftModel

    cfg = tiny_config_dict(tiny_gguf, records_file, tmp_path / "run", max_steps=2)
    fit(build_config(cfg, "test"))
    run = read_run(tmp_path / "run")
    adapter = tmp_path / "lora.gguf"
    export_run(run, [("f32", tmp_path / "m.gguf")], adapter_out=adapter, threads=1)

    trained = _lora_weights(PeftModel.from_pretrained(load_model(run.base, torch.float32), str(run.adapter)))
    fresh = _fresh_peft(cfg, tiny_gguf)
    assert any(not torch.equal(v, trained[k]) for k, v in _lora_weights(fresh).items())  # B starts at 0
    assert load_lora_init(fresh, adapter, 16) == 2 * 7  # q, k, v, o, gate, up, down in 2 blocks
    loaded = _lora_weights(fresh)
    assert loaded.keys() == trained.keys()
    for key, value in trained.items():  # q and k's B went through llama.cpp's row permutation
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0, msg=key)

    second = {**cfg, "lora_init": str(adapter), "output_dir": str(tmp_path / "second"), "max_steps": 1}
    result = fit(build_config(second, "test"))
    assert result.steps == 1
    assert read_run(tmp_path / "second").info["config"]["lora_init"] == str(adapter)

    with pytest.raises(ConfigError, match="lora_alpha 16, the config 32"):
        load_lora_init(_fresh_peft(cfg, tiny_gguf), adapter, 32)
    one_block = {**cfg, "peft_layers_to_transform": [1]}
    with pytest.raises(ConfigError, match="adapts blk.0"):
        load_lora_init(_fresh_peft(one_block, tiny_gguf), adapter, 16)
    wider = {**cfg, "lora_r": 4}
    with pytest.raises(ConfigError, match="lora_r differs"):
        load_lora_init(_fresh_peft(wider, tiny_gguf), adapter, 16)
    with pytest.raises(ConfigError, match="no file"):
        load_lora_init(_fresh_peft(cfg, tiny_gguf), tmp_path / "missing.gguf", 16)
    missing = {**second, "lora_init": str(tmp_path / "missing.gguf"), "output_dir": str(tmp_path / "third")}
    with pytest.raises(ConfigError, match="no file"):
        fit(build_config(missing, "test"))
    assert not (tmp_path / "third").exists()  # refused before anything is made
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 10)
    with pytest.raises(ModelError, match="not a readable GGUF"):
        load_lora_init(_fresh_peft(cfg, tiny_gguf), broken, 16)
