"""The Hugging Face tokenizer behind `prompt.Tokenizer`, producing exactly the ids llama.cpp produces.

Two settings make the two agree (tests/train/test_train_tokenizer.py pins it against llama.cpp):
- no BOS/EOS added by the tokenizer; the BOS policy is the GGUF's `tokenizer.ggml.add_bos_token`
  (absent means no BOS, as `prtriage.pipeline.engine` reads it), applied once by `tokenize_segments`;
- control-token text in untrusted segments is split (`split_special_tokens=True`): otherwise HF
  turns a literal `<|im_end|>` in a diff into the control token while llama.cpp keeps it as text.
"""

from __future__ import annotations

from typing import Any


class HFTokenizer:
    """`prompt.Tokenizer` over a transformers tokenizer."""

    def __init__(self, tokenizer: Any, add_bos: bool) -> None:
        self.hf = tokenizer
        self._bos: int | None = tokenizer.bos_token_id if add_bos else None
        if add_bos and self._bos is None:
            raise ValueError("the tokenizer has no BOS token but the model asks for one")

    @property
    def bos_id(self) -> int | None:
        return self._bos

    @property
    def pad_id(self) -> int:
        """Padding: never trained on and masked out of attention, so any id works; prefer the real one."""
        for candidate in (self.hf.pad_token_id, self.hf.eos_token_id, 0):
            if candidate is not None:
                return int(candidate)
        return 0

    def tokenize(self, text: str, special: bool) -> list[int]:
        ids: list[int] = self.hf(text, add_special_tokens=False, split_special_tokens=not special)[
            "input_ids"
        ]
        return ids

    def __len__(self) -> int:
        return len(self.hf)


def adds_bos_by_default(tokenizer: Any) -> bool:
    """Whether a Hugging Face tokenizer puts a BOS first on its own (Llama 3 does; SmolLM2, Qwen2 do not)."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos
