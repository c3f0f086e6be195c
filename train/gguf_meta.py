"""GGUF metadata for an export: copied from a GGUF base, or built for a Hugging Face base.

A fine-tune keeps its base's tokenizer, so a GGUF base's keys (tokenizer, pre-tokenizer name, chat
template, architecture) are copied as they are. For a Hugging Face base they are built the way
llama.cpp's converter builds them: tokens and types from the tokenizer, merges and special ids from
`gguf.SpecialVocab`, and the pre-tokenizer name identified by hashing the ids of llama.cpp's test
string (the same string and hashes as its converter, for the families supported here).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path
from typing import Any

from prtriage.core.errors import ModelError

# Rewritten for each export rather than copied.
OWN_KEYS = ("general.architecture", "general.file_type", "general.quantization_version", "general.name")

# llama.cpp's convert_hf_to_gguf.py get_vocab_base_pre(): its test string, and the hashes of the
# token ids it gives with the tokenizers of the families prtriage exports.
CHECK_TEXT = (
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ "
    "🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ "
    "------======= нещо на Български ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you "
    "sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL"
)
PRE_TOKENIZERS = {
    "855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249": "smollm",
    "0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5": "llama-bpe",
    "e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea": "qwen2",
    "d4540891389ea895b53b399da6ac824becc30f2fba0e9ddbb98f92e55ca0e97c": "qwen2",
    "b3f499bb4255f8ca19fccd664443283318f2fd2414d5e0b040fbdd0cc195d6c5": "deepseek-r1-qwen",
}


def copy_from_gguf(base: Path, name: str | None, expect: dict[str, int]) -> Callable[[Any], None]:
    """A metadata writer copying every key of `base` but the per-file ones, after checking dimensions."""
    from gguf import GGUFValueType

    from prtriage.train.base import read_gguf

    reader = read_gguf(base)
    arch = reader.fields["general.architecture"].contents()
    for key, value in expect.items():
        field = reader.fields.get(f"{arch}.{key}")
        if field is not None and field.contents() != value:
            raise ModelError(f"the model does not match its base GGUF: {key} {value} != {field.contents()}")
    copied = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in OWN_KEYS:
            continue
        sub = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
        copied.append((key, field.contents(), field.types[0], sub))
    base_name = reader.fields["general.name"].contents() if "general.name" in reader.fields else None

    def write(writer: Any) -> None:
        writer.add_name(name or (f"{base_name} (prtriage fine-tune)" if base_name else "prtriage fine-tune"))
        for key, value, vtype, sub in copied:
            writer.add_key_value(key, value, vtype, sub_type=sub)

    return write


def pre_tokenizer(hf_tokenizer: Any) -> str:
    digest = sha256(str(hf_tokenizer.encode(CHECK_TEXT)).encode()).hexdigest()
    try:
        return PRE_TOKENIZERS[digest]
    except KeyError:
        raise ModelError(
            "the base tokenizer's pre-tokenizer is not one prtriage can name for llama.cpp",
            hint="use a GGUF base (its tokenizer is copied), or convert the base with llama.cpp's converter",
        ) from None


def _looks_special(token: str) -> bool:
    return (token.startswith("<|") and token.endswith("|>")) or token in ("<s>", "</s>", "<unk>", "<pad>")


def vocab(hf_tokenizer: Any, vocab_size: int) -> tuple[list[str], list[int]]:
    """Tokens and their llama.cpp types, padded to the model's vocabulary size (as the converter does)."""
    from gguf import TokenType

    reverse = {i: tok for tok, i in hf_tokenizer.get_vocab().items()}
    added = hf_tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(TokenType.UNUSED)
            continue
        token = reverse[i]
        if i in added:
            types.append(
                TokenType.CONTROL if added[i].special or _looks_special(token) else TokenType.USER_DEFINED
            )
        else:
            types.append(TokenType.NORMAL)
        tokens.append(token)
    return tokens, [int(t) for t in types]


def _rope_theta(config: Any) -> float:
    theta = getattr(config, "rope_theta", None)
    if theta is None:
        theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta", 10000.0)
    return float(theta)


def build_for_hf(model: Any, hf_tokenizer: Any, add_bos: bool, name: str) -> Callable[[Any], None]:
    """A metadata writer for a Llama- or Qwen2-family model with a BPE (gpt2-style) tokenizer."""
    import gguf

    if getattr(hf_tokenizer, "is_fast", False) is False:
        raise ModelError("only fast (tokenizer.json) BPE tokenizers can be exported from a Hugging Face base")
    config = model.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    tokens, types = vocab(hf_tokenizer, config.vocab_size)
    pre = pre_tokenizer(hf_tokenizer)
    with tempfile.TemporaryDirectory() as folder:
        hf_tokenizer.save_pretrained(folder)  # SpecialVocab reads merges and special ids from files
        special = gguf.SpecialVocab(folder, load_merges=True, n_vocab=len(tokens))
    if not special.merges:
        raise ModelError("the base tokenizer has no BPE merges: only BPE tokenizers are supported")
    special.add_special_token["bos"] = add_bos  # the policy training used; inference reads this key

    def write(writer: Any) -> None:
        writer.add_name(name)
        writer.add_context_length(config.max_position_embeddings)
        writer.add_embedding_length(config.hidden_size)
        writer.add_block_count(config.num_hidden_layers)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(config.num_attention_heads)
        writer.add_head_count_kv(getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
        writer.add_rope_freq_base(_rope_theta(config))
        writer.add_layer_norm_rms_eps(config.rms_norm_eps)
        writer.add_rope_dimension_count(head_dim)
        if head_dim != config.hidden_size // config.num_attention_heads:
            writer.add_key_length(head_dim)
            writer.add_value_length(head_dim)
        writer.add_vocab_size(config.vocab_size)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(pre)
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        special.add_to_gguf(writer, quiet=True)

    return write


def stored_type(path: Path) -> str:
    """The export type a GGUF's weights are stored in (for its parity tolerance)."""
    from prtriage.train.base import read_gguf

    counts: dict[str, int] = {}
    for t in read_gguf(path).tensors:
        if len(t.shape) >= 2 and t.n_elements > 0:
            counts[t.tensor_type.name.lower()] = counts.get(t.tensor_type.name.lower(), 0) + int(t.n_elements)
    return max(counts, key=lambda k: counts[k]) if counts else "f32"
