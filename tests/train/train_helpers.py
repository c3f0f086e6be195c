"""Helpers for the train tests: a tiny model with SmolLM2's real tokenizer, change records, configs.

The tiny model's weights are drawn with a large spread (initializer_range 0.2) so that attention
patterns and logits are far from uniform: a wrong q/k layout or a metadata mistake then changes
llama.cpp's numbers by whole nats instead of hiding in noise (test_train_export.py checks that it does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from prtriage.train.tokenizer import HFTokenizer


def tiny_config(arch: str = "llama", vocab_size: int = 49152, **extra: Any) -> Any:
    from transformers import LlamaConfig, Qwen2Config

    common = dict(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        tie_word_embeddings=True, initializer_range=0.2, bos_token_id=1, eos_token_id=2,
        pad_token_id=2, rms_norm_eps=1e-5,
    )  # fmt: skip
    common.update(extra)
    if arch == "qwen2":
        return Qwen2Config(**common, rope_theta=10000.0)
    return LlamaConfig(**common, rope_theta=10000.0)


def make_tiny(folder: Path, tokenizer: HFTokenizer, arch: str = "llama", seed: int = 0, **extra: Any) -> Path:
    """A tiny random causal LM with SmolLM2's tokenizer, saved as a Hugging Face folder."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(arch, len(tokenizer.hf), **extra))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.hf.save_pretrained(folder)
    return folder


def _diff(path: str, added: list[str], removed: list[str] | None = None) -> str:
    removed = removed or []
    body = "".join(f"-{line}\n" for line in removed) + "".join(f"+{line}\n" for line in added)
    return (
        f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -1,{len(removed)} +1,{len(added)} @@\n{body}"
    )


RECORDS = [
    (
        "fix",
        "Fix crash on empty input",
        "src/parse.py",
        ["if not text:", "    return []"],
        ["return text.split()"],
    ),
    ("docs", "Document the config file", "README.md", ["## Configuration", "Set `name` in config."], None),
    (
        "test",
        "Add tests for the parser",
        "tests/test_parse.py",
        ["def test_empty():", "    assert parse('') == []"],
        None,
    ),
    ("deps", "Bump requests to 2.32", "requirements.txt", ["requests==2.32.0"], ["requests==2.31.0"]),
    ("fix", "Fix off-by-one in pager", "src/pager.py", ["end = start + size"], ["end = start + size + 1"]),
    (
        "docs",
        "Fix typos in the guide",
        "docs/guide.md",
        ["The parser reads text."],
        ["The parsre reads text."],
    ),
    (
        "test",
        "Cover the pager edge cases",
        "tests/test_pager.py",
        ["def test_last_page():", "    assert page(3) == 1"],
        None,
    ),
    ("deps", "Update lock file", "requirements.lock", ["idna==3.7"], ["idna==3.6"]),
]


def change_records(repos: tuple[str, ...] = ("acme/one", "acme/two")) -> list[dict[str, Any]]:
    out = []
    for i, (category, title, path, added, removed) in enumerate(RECORDS):
        out.append({"id": f"r{i}", "repo": repos[i % len(repos)], "title": title, "body": "",
                    "diff": _diff(path, added, removed), "category": category})  # fmt: skip
    return out


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


CATEGORIES = ["fix", "docs", "test", "deps"]  # fewer categories: a shorter prompt, faster tests


def tiny_config_dict(base: Path, data: Path, out: Path, **over: Any) -> dict[str, Any]:
    """A training config for the tiny model: high learning rate, a few steps, no checkpointing cost."""
    cfg: dict[str, Any] = {
        "base_model": str(base),
        "datasets": [{"path": str(data), "type": "changes"}],
        "categories": CATEGORIES,
        "sequence_len": 512,
        "val_set_size": 0.25,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "micro_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "max_steps": 6,
        "learning_rate": 0.01,
        "warmup_steps": 0,
        "lr_scheduler": "constant",
        "eval_steps": 100,
        "save_steps": 100,
        "seed": 0,
        "threads": 1,  # on a shared 2-core machine two torch threads can be 20x slower than one
        "output_dir": str(out),
    }
    cfg.update(over)
    return cfg
