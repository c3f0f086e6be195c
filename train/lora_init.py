"""Start a LoRA from an adapter .gguf that prtriage exported (config key `lora_init`).

A later model can then build on the shipped one instead of relearning the categories from
nothing: on a 2-core CPU a step costs seconds, and the categories took v1 1,200 steps. The file
is read back exactly as `gguf_out.lora_tensors` wrote it: A as is, B with llama.cpp's q/k row
permutation undone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from prtriage.core.errors import ConfigError, ModelError
from prtriage.train.gguf_out import dims, from_gguf_layout, gguf_arch, gguf_name


def require_file(path: Path) -> None:
    """The one check that `lora_init` names a file (fit calls it before any work starts)."""
    if not path.is_file():
        raise ConfigError(
            f"lora_init: no file {path}", hint="point it at an adapter .gguf from `train export`"
        )


def read_adapter(path: Path) -> tuple[dict[str, np.ndarray], float | None]:
    """Tensors by GGUF name, and the adapter's alpha (None when the file does not say)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"lora_init: {path} is not a readable GGUF file ({exc})") from exc
    field = reader.fields.get("adapter.lora.alpha")
    alpha = float(field.contents()) if field is not None else None
    return {t.name: np.array(t.data, dtype=np.float32) for t in reader.tensors}, alpha


def load_lora_init(peft_model: Any, path: Path, lora_alpha: float) -> int:
    """Copy the adapter's A and B into every LoRA layer of `peft_model`; the number of layers set.

    The adapter must match the config exactly (same blocks, targets, rank and alpha): a partial
    or rescaled start would silently be a different model than the one named.
    """
    from peft.tuners.lora import LoraLayer

    require_file(path)
    tensors, alpha = read_adapter(path)
    if alpha is not None and abs(alpha - lora_alpha) > 1e-6:
        raise ConfigError(f"lora_init: {path} has lora_alpha {alpha:g}, the config {lora_alpha:g}")
    causal = peft_model.get_base_model()
    arch, d = gguf_arch(causal.config.model_type), dims(causal.config)
    used: set[str] = set()
    for module_name, module in causal.named_modules():
        if not isinstance(module, LoraLayer) or "default" not in module.lora_A:
            continue
        name = gguf_name(module_name + ".weight", arch, d.n_blocks)
        for part, layer in (("lora_a", module.lora_A["default"]), ("lora_b", module.lora_B["default"])):
            key, weight = f"{name}.{part}", layer.weight
            assert isinstance(weight, torch.Tensor)  # a Linear's weight (peft types it loosely)
            if key not in tensors:
                raise ConfigError(f"lora_init: {path} has no {key}",
                                  hint="the adapter was trained on other blocks or layers than this config names")  # fmt: skip
            value = torch.from_numpy(tensors[key])
            if part == "lora_b":
                value = from_gguf_layout(name, value, arch, d)
            if tuple(value.shape) != tuple(weight.shape):
                raise ConfigError(f"lora_init: {key} is {tuple(value.shape)}, the config makes "
                                  f"{tuple(weight.shape)} (lora_r differs?)")  # fmt: skip
            with torch.no_grad():
                weight.copy_(value.to(weight.dtype))
            used.add(key)
    extra = sorted(set(tensors) - used)
    if extra:
        raise ConfigError(f"lora_init: {path} adapts {extra[0]}, which this config does not",
                          hint="use the adapter's peft_layers_to_transform and lora_target_modules")  # fmt: skip
    return len(used) // 2
