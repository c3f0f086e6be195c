"""Merge, write GGUF, load it with the real llama.cpp: parity holds per type and catches broken exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gguf import GGUFReader
from train_helpers import change_records, make_tiny, tiny_config_dict, write_jsonl

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import ConfigError, ModelError
from prtriage.pipeline.model_files import ModelFiles, embedded_model_path
from prtriage.pipeline.prompt import NAMES, TrainedPrompt
from prtriage.train import gguf_out
from prtriage.train.base import load_model, resolve_base
from prtriage.train.config import build_config
from prtriage.train.export import export_run, write_model
from prtriage.train.fit import fit
from prtriage.train.rundir import Run, read_run
from prtriage.train.tokenizer import HFTokenizer
from prtriage.train.verify import check_parity

pytestmark = pytest.mark.train


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Run:
    """A short LoRA run on the tiny model loaded from GGUF (the path the embedded model takes)."""
    root = tmp_path_factory.mktemp("run")
    data = write_jsonl(root / "changes.jsonl", change_records())
    fit(build_config(tiny_config_dict(tiny_gguf, data, root / "run", max_steps=4), "test"))
    return read_run(root / "run")


def fields(path: Path) -> dict[str, Any]:
    return {k: f.contents() for k, f in GGUFReader(path).fields.items() if not k.startswith("GGUF.")}


def test_hf_base_tokenizer_metadata_is_what_llama_cpp_wrote_for_smollm2(tiny_gguf: Path) -> None:
    ours, theirs = fields(tiny_gguf), fields(embedded_model_path())
    for key in ("tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.add_bos_token", "tokenizer.chat_template"):  # fmt: skip
        assert ours[key] == theirs[key], key
    assert ours["general.architecture"] == "llama" and ours["llama.block_count"] == 2


KINDS = ["f32", "f16", "bf16", "q8_0", "q4_k_m"]


def test_each_export_type_and_the_adapter_run_in_llama_cpp_with_parity(run: Run, tmp_path: Path) -> None:
    """One merge, five GGUF types and a LoRA adapter GGUF; each loaded by llama.cpp and checked."""
    targets = [(kind, tmp_path / f"m-{kind}.gguf") for kind in KINDS]
    results = export_run(run, targets, adapter_out=tmp_path / "lora.gguf", threads=1)
    assert [r.kind for r in results] == [*KINDS, "f32"]  # the adapter is judged by its f32 base
    for r in results:
        assert r.parity is not None and r.parity.passed, r.parity.summary() if r.parity else r
        assert r.parity.positions > 300 and r.parity.max_abs > 0
    base = fields(run.base.gguf)  # type: ignore[arg-type]
    for kind, out in targets:
        meta = fields(out)
        assert meta["general.file_type"] == {"f32": 0, "f16": 1, "bf16": 32, "q8_0": 7, "q4_k_m": 15}[kind]
        # Copied from the GGUF base, tokenizer and chat template included.
        assert meta["tokenizer.ggml.tokens"] == base["tokenizer.ggml.tokens"]
        assert meta["tokenizer.chat_template"] == base["tokenizer.chat_template"]
    assert results[-1].files.path == run.base.gguf and results[-1].files.adapter == tmp_path / "lora.gguf"
    meta = fields(tmp_path / "lora.gguf")
    assert meta["general.type"] == "adapter" and meta["adapter.type"] == "lora"
    assert meta["adapter.lora.alpha"] == 16.0
    # The prompt the run trained on, for classify to build (checked again by the parity check).
    assert TrainedPrompt.from_metadata(meta) == run.trained_prompt and run.trained_prompt.format == NAMES
    assert TrainedPrompt.from_metadata(fields(targets[0][1])) == run.trained_prompt  # merged files too
    names = [t.name for t in GGUFReader(tmp_path / "lora.gguf").tensors]
    assert "blk.0.attn_q.weight.lora_a" in names and "blk.1.ffn_down.weight.lora_b" in names
    assert len(names) == 2 * 7 * 2  # A and B for 7 linear layers in each of 2 blocks
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(o.name for _, o in targets), "lora.gguf"])


def test_unpermuted_q_and_k_fail_the_parity_check(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check has teeth: the one layout step llama.cpp needs for Llama, left out, is caught."""
    monkeypatch.setattr(gguf_out, "PERMUTED", set())
    [exported] = export_run(run, [("f32", tmp_path / "broken.gguf")], threads=1)
    assert exported.parity is not None and not exported.parity.passed
    assert exported.parity.max_abs > 1.0 and any("differ" in p for p in exported.parity.problems)


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing(array: np.ndarray, qtype: Any) -> np.ndarray:
        calls.append(qtype)
        if len(calls) == 2:
            raise OSError("disk full")
        return np.ascontiguousarray(array, dtype=np.float32)

    monkeypatch.setattr(gguf_out, "encode", failing)
    tensors = [("a.weight", torch.ones(4)), ("b.weight", torch.ones(4)), ("c.weight", torch.ones(4))]
    with pytest.raises(OSError):
        gguf_out.write_gguf(tmp_path / "x.gguf", "llama", lambda w: None, tensors, "f32")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arch", "extra"),
    [
        ("qwen2", {}),  # biases on q/k/v, no q/k permutation
        (
            "llama",
            {
                "rope_scaling": {
                    "rope_type": "llama3",
                    "factor": 8.0,
                    "low_freq_factor": 1.0,
                    "high_freq_factor": 4.0,
                    "original_max_position_embeddings": 64,
                }
            },
        ),  # fmt: skip
        ("llama", {"tie_word_embeddings": False}),  # an output.weight of its own
    ],
    ids=["qwen2", "llama3-rope", "untied"],
)
def test_hf_bases_of_other_shapes_export_with_parity(
    tmp_path: Path, smollm_tokenizer: HFTokenizer, arch: str, extra: dict[str, Any]
) -> None:
    folder = make_tiny(tmp_path / "hf", smollm_tokenizer, arch=arch, seed=3, **extra)
    base = resolve_base(str(folder))
    model = load_model(base, torch.float32).eval()
    out = tmp_path / "m.gguf"
    # SmolLM2's tokenizer as loaded for a Llama (transformers would wrap it as Qwen2's for a Qwen2 folder).
    write_model(model, base, smollm_tokenizer, out, "f32")
    names = {t.name for t in GGUFReader(out).tensors}
    assert ("blk.0.attn_q.bias" in names) == (arch == "qwen2")
    assert ("rope_freqs.weight" in names) == ("rope_scaling" in extra)
    assert ("output.weight" in names) == (extra.get("tie_word_embeddings") is False)
    parity = check_parity(
        model, smollm_tokenizer, ModelFiles("m", out, None), "f32", DEFAULT_CATEGORIES, threads=1
    )
    assert parity.passed, parity.summary()


def test_unsupported_architectures_are_refused(tmp_path: Path, smollm_tokenizer: HFTokenizer) -> None:
    with pytest.raises(ModelError, match="not supported"):
        gguf_out.gguf_arch("gpt2")


def test_a_qwen2_gguf_base_trains_and_exports_with_its_adapter(
    tmp_path: Path, smollm_tokenizer: HFTokenizer
) -> None:
    """Qwen2 as a GGUF base: biases, no q/k permutation, metadata copied, adapter over it."""
    hf = make_tiny(tmp_path / "hf", smollm_tokenizer, arch="qwen2", seed=5)
    base = resolve_base(str(hf))
    gguf_base = tmp_path / "qwen2.gguf"
    write_model(load_model(base, torch.float32), base, smollm_tokenizer, gguf_base, "f32")
    data = write_jsonl(tmp_path / "changes.jsonl", change_records())
    fit(build_config(tiny_config_dict(gguf_base, data, tmp_path / "run", max_steps=2), "test"))
    results = export_run(read_run(tmp_path / "run"), [("f16", tmp_path / "m.gguf")], adapter_out=tmp_path / "lora.gguf",
                         threads=1)  # fmt: skip
    assert [r.kind for r in results] == ["f16", "f32"]
    assert all(r.parity is not None and r.parity.passed for r in results), [r.parity for r in results]
    assert fields(tmp_path / "lora.gguf")["general.architecture"] == "qwen2"


def test_lora_on_the_top_block_only_trains_and_exports_that_block(
    tmp_path: Path, tiny_gguf: Path, records_file: Path
) -> None:
    """peft_layers_to_transform: the adapter holds the chosen block only, and runs with parity."""
    cfg = tiny_config_dict(
        tiny_gguf, records_file, tmp_path / "run", max_steps=2, peft_layers_to_transform=[1]
    )
    fit(build_config(cfg, "test"))
    results = export_run(read_run(tmp_path / "run"), [("f32", tmp_path / "m.gguf")], adapter_out=tmp_path / "lora.gguf",
                         threads=1)  # fmt: skip
    assert all(r.parity is not None and r.parity.passed for r in results), [r.parity for r in results]
    names = [t.name for t in GGUFReader(tmp_path / "lora.gguf").tensors]
    assert names and all(n.startswith("blk.1.") for n in names), names
    assert len(names) == 2 * 7  # A and B of q, k, v, o, gate, up, down
    with pytest.raises(ConfigError, match="blocks 0 to 1"):
        fit(build_config({**cfg, "peft_layers_to_transform": [2]}, "test"))
    with pytest.raises(ConfigError, match="list of block numbers"):
        build_config({**cfg, "peft_layers_to_transform": [-1]}, "test")
