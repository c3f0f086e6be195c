"""PyTorch weights → GGUF tensors and files, written with the `gguf` package (no llama.cpp checkout).

What llama.cpp's converter does and this repeats, for the architectures it supports here:
- HF tensor names → GGUF names through `gguf.get_tensor_name_map`;
- Llama-architecture q_proj/k_proj rows regrouped per head for llama.cpp's RoPE layout (transformers
  undid that permutation when it loaded a GGUF base, so it must be redone); Qwen2 is not permuted;
- 2-D weights in the export type, 1-D tensors (norms, biases) in F32; a tied LM head not written;
- RoPE frequency scaling (Llama 3.x) as a `rope_freqs` tensor of per-dimension factors.
Files are written under a `.partial` name and renamed when complete: no half-written GGUF survives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from prtriage.core.atomic import atomic_path
from prtriage.core.errors import ModelError

# transformers model_type → llama.cpp architecture; Mistral is a Llama for llama.cpp.
ARCHITECTURES = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2"}
PERMUTED = {"llama"}  # architectures whose q/k rows llama.cpp expects regrouped
DIRECT_TYPES = ("f32", "f16", "bf16", "q8_0")  # written by the gguf package itself


def gguf_arch(model_type: str) -> str:
    try:
        return ARCHITECTURES[model_type]
    except KeyError:
        raise ModelError(
            f"exporting architecture {model_type!r} to GGUF is not supported",
            hint="supported: " + ", ".join(sorted(ARCHITECTURES)),
        ) from None


def _arch_enum(arch: str) -> Any:
    import gguf

    return next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)


def permute_rows(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """llama.cpp's q/k layout: rows of each head regrouped from (2, d/2) halves to interleaved pairs."""
    shape = w.shape
    return w.reshape(n_head, 2, shape[0] // n_head // 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


@dataclass(frozen=True)
class Dims:
    n_blocks: int
    n_head: int
    n_kv_head: int


def dims(config: Any) -> Dims:
    return Dims(config.num_hidden_layers, config.num_attention_heads,
                getattr(config, "num_key_value_heads", None) or config.num_attention_heads)  # fmt: skip


def gguf_name(hf_name: str, arch: str, n_blocks: int) -> str:
    import gguf

    found = gguf.get_tensor_name_map(_arch_enum(arch), n_blocks).get_name(
        hf_name, try_suffixes=(".weight", ".bias")
    )
    if found is None:
        raise ModelError(f"no GGUF tensor name for {hf_name} in architecture {arch}")
    return str(found)


def unpermute_rows(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """The inverse of `permute_rows`: interleaved pairs back to (2, d/2) halves."""
    shape = w.shape
    return w.reshape(n_head, shape[0] // n_head // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def _permuted_heads(name: str, arch: str, d: Dims) -> int | None:
    """The head count whose rows llama.cpp regroups in this tensor (`name` is the GGUF name), or None."""
    if arch in PERMUTED:
        if ".attn_q." in name:
            return d.n_head
        if ".attn_k." in name:
            return d.n_kv_head
    return None


def to_gguf_layout(name: str, tensor: torch.Tensor, arch: str, d: Dims) -> torch.Tensor:
    """The tensor as llama.cpp stores it."""
    heads = _permuted_heads(name, arch, d)
    return tensor if heads is None else permute_rows(tensor, heads)


def from_gguf_layout(name: str, tensor: torch.Tensor, arch: str, d: Dims) -> torch.Tensor:
    """A tensor read from a GGUF file, in transformers' layout again."""
    heads = _permuted_heads(name, arch, d)
    return tensor if heads is None else unpermute_rows(tensor, heads)


def _tied(model: Any) -> bool:
    head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    return head is None or head.weight.data_ptr() == embed.weight.data_ptr()


def rope_factors(model: Any) -> np.ndarray | None:
    """Per-dimension RoPE frequency divisors when the model scales RoPE (Llama 3.x), else None.

    Read from the model's own inverse frequencies, so any scaling that only rescales frequencies
    (linear, llama3) is exported exactly as transformers computes it.
    """
    rotary = getattr(model.get_decoder(), "rotary_emb", None)
    inv = getattr(rotary, "inv_freq", None)
    if inv is None:
        return None
    scaling = getattr(rotary, "attention_scaling", 1.0)
    if abs(float(scaling) - 1.0) > 1e-6:
        raise ModelError("this model's RoPE scaling changes attention scale (YaRN/LongRoPE): not supported")
    dim = inv.numel() * 2
    theta = float(getattr(model.config, "rope_theta", 0) or model.config.rope_parameters["rope_theta"])
    default = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    factors = (default / inv.float().cpu()).numpy().astype(np.float32)
    return None if np.allclose(factors, 1.0, rtol=1e-5) else factors


def model_tensors(model: Any, arch: str) -> Iterator[tuple[str, torch.Tensor]]:
    """(GGUF name, tensor in llama.cpp's layout) for every weight of a merged causal LM."""
    d = dims(model.config)
    tied = _tied(model)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd when output.weight is absent
        if "rotary_emb" in hf_name:
            continue
        name = gguf_name(hf_name, arch, d.n_blocks)
        yield name, to_gguf_layout(name, tensor.detach().float().cpu(), arch, d)


def _tensor_type(name: str, shape: tuple[int, ...], kind: str) -> Any:
    from gguf import GGMLQuantizationType as Q

    if len(shape) < 2 or kind == "f32" or name == "rope_freqs.weight":
        return Q.F32
    if kind == "bf16":
        return Q.BF16
    if kind == "q8_0" and shape[-1] % 32 == 0:
        return Q.Q8_0
    return Q.F16  # f16, and q8_0 rows that do not divide into blocks of 32


def encode(array: np.ndarray, qtype: Any) -> np.ndarray:
    from gguf import GGMLQuantizationType as Q
    from gguf import quants

    if qtype == Q.F32:
        return np.ascontiguousarray(array, dtype=np.float32)
    if qtype == Q.F16:
        return np.ascontiguousarray(array, dtype=np.float16)
    return quants.quantize(np.ascontiguousarray(array, dtype=np.float32), qtype)


def _stored(shape: tuple[int, ...], qtype: Any) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, numpy dtype, bytes) of the encoded tensor: quantized ones are byte arrays."""
    from gguf import GGMLQuantizationType as Q
    from gguf import quants

    count = int(np.prod(shape))
    if qtype == Q.F32:
        return shape, np.dtype(np.float32), count * 4
    if qtype == Q.F16:
        return shape, np.dtype(np.float16), count * 2
    byte_shape = tuple(quants.quant_shape_to_byte_shape(shape, qtype))
    return byte_shape, np.dtype(np.uint8), int(np.prod(byte_shape))


FILE_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "bf16": "MOSTLY_BF16", "q8_0": "MOSTLY_Q8_0"}


def write_gguf(
    path: Path,
    arch: str,
    metadata: Callable[[Any], None],
    tensors: list[tuple[str, torch.Tensor | np.ndarray]],
    kind: str,
    on_tensor: Callable[[str], None] | None = None,
) -> None:
    """A GGUF file: `metadata(writer)` adds the keys, then each tensor is encoded and streamed out."""
    import gguf

    with atomic_path(path) as partial:
        writer = gguf.GGUFWriter(partial, arch)
        metadata(writer)
        writer.add_file_type(getattr(gguf.LlamaFileType, FILE_TYPES[kind]))
        if kind == "q8_0":
            writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        planned = []
        for name, tensor in tensors:
            qtype = _tensor_type(name, tuple(tensor.shape), kind)
            shape, dtype, nbytes = _stored(tuple(tensor.shape), qtype)
            writer.add_tensor_info(name, shape, dtype, nbytes, raw_dtype=qtype)
            planned.append((name, tensor, qtype))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for name, tensor, qtype in planned:  # one tensor in memory at a time
            array = tensor.numpy() if isinstance(tensor, torch.Tensor) else tensor
            writer.write_tensor_data(encode(array, qtype))
            if on_tensor:
                on_tensor(name)
        writer.close()


def lora_tensors(peft_model: Any, arch: str) -> Iterator[tuple[str, torch.Tensor]]:
    """`<gguf name>.lora_a` (r × in) and `.lora_b` (out × r) for each adapted layer, llama.cpp's layout.

    llama.cpp computes W·x + (alpha/r)·B(A·x); the q/k permutation acts on output rows, so only B
    is permuted.
    """
    from peft.tuners.lora import LoraLayer

    causal = peft_model.get_base_model()
    d = dims(causal.config)
    found = False
    for module_name, module in causal.named_modules():
        if not isinstance(module, LoraLayer) or "default" not in module.lora_A:
            continue
        lora_a: Any = module.lora_A["default"]
        lora_b: Any = module.lora_B["default"]
        if not isinstance(lora_a, torch.nn.Linear):
            raise ModelError(f"{module_name}: only LoRA on linear layers can be exported for llama.cpp")
        name = gguf_name(module_name + ".weight", arch, d.n_blocks)
        a = lora_a.weight.detach().float().cpu()
        b = lora_b.weight.detach().float().cpu()
        yield name + ".lora_a", a
        yield name + ".lora_b", to_gguf_layout(name, b, arch, d)
        found = True
    if not found:
        raise ModelError("the adapter has no LoRA layers to export")
