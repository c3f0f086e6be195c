"""`prtriage train export`: merge the LoRA into the base, write GGUF, check parity with llama.cpp.

f32/f16/bf16/q8_0 are written by the gguf package; q4_k_m and the other llama.cpp types go through
llama.cpp's own quantizer in process (`prtriage.pipeline.model_cache.quantize`: no binary, no llama.cpp checkout),
from an f16 file that is removed afterwards. The unmerged LoRA can be written as a llama.cpp adapter
GGUF too (`--adapter-output`), for `prtriage classify --model BASE.gguf --adapter ADAPTER.gguf`; for
a Hugging Face base, the base itself is then written next to it, since llama.cpp needs one.
Every file is written under a `.partial` name and renamed when complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from prtriage.core.atomic import atomic_path
from prtriage.core.errors import ModelError, UsageError
from prtriage.pipeline.model_cache import quantize
from prtriage.pipeline.model_files import ModelFiles
from prtriage.pipeline.prompt import TrainedPrompt
from prtriage.train.base import Base, load_model, load_tokenizer, read_gguf
from prtriage.train.gguf_meta import build_for_hf, copy_from_gguf, stored_type
from prtriage.train.gguf_out import (
    DIRECT_TYPES,
    gguf_arch,
    lora_tensors,
    model_tensors,
    rope_factors,
    write_gguf,
)
from prtriage.train.rundir import Run
from prtriage.train.tokenizer import HFTokenizer
from prtriage.train.verify import Parity, check_parity

QUANTIZER_TYPES = (
    "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_s", "q3_k_m", "q3_k_l",
    "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k",
)  # fmt: skip
EXPORT_TYPES = (*DIRECT_TYPES, *QUANTIZER_TYPES)

Progress = Callable[[str], None]


@dataclass
class Exported:
    files: ModelFiles  # what `prtriage classify --model/--adapter` gets
    kind: str  # the type its weights are stored in: parity tolerances follow it
    parity: Parity | None = None


def check_type(kind: str) -> str:
    kind = kind.lower()
    if kind not in EXPORT_TYPES:
        raise UsageError(f"unknown export type {kind!r}", hint="one of " + ", ".join(EXPORT_TYPES))
    return kind


def _tensors(model: Any, base: Base, arch: str) -> list[tuple[str, Any]]:
    tensors: list[tuple[str, Any]] = list(model_tensors(model, arch))
    factors = rope_factors(model)
    if factors is not None:
        tensors.insert(0, ("rope_freqs.weight", factors))
    if base.gguf:
        # The same tensors as the base, or llama.cpp would read the copied metadata wrongly.
        want = {t.name: tuple(int(x) for x in reversed(t.shape)) for t in read_gguf(base.gguf).tensors}
        have = {name: tuple(t.shape) for name, t in tensors}
        if set(want) != set(have):
            missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
            raise ModelError(f"tensors differ from the base GGUF: missing {missing[:3]}, extra {extra[:3]}")
        wrong = [n for n in want if len(want[n]) == len(have[n]) and want[n] != have[n]]
        if wrong:
            raise ModelError(f"tensor shapes differ from the base GGUF: {wrong[:3]}")
    return tensors


def _metadata(model: Any, base: Base, tokenizer: HFTokenizer, name: str | None) -> Callable[[Any], None]:
    config = model.config
    if base.gguf:
        expect = {"block_count": config.num_hidden_layers, "embedding_length": config.hidden_size}
        return copy_from_gguf(base.gguf, name, expect)
    return build_for_hf(
        model, tokenizer.hf, tokenizer.bos_id is not None, name or f"{base.ref} (prtriage fine-tune)"
    )


def write_model(model: Any, base: Base, tokenizer: HFTokenizer, out: Path, kind: str,
                name: str | None = None, progress: Progress | None = None,
                prompt: TrainedPrompt | None = None) -> Path:  # fmt: skip
    """`model` (merged, fp32) as a GGUF of type `kind` at `out`, with the prompt it was trained on."""
    arch = gguf_arch(model.config.model_type)
    tensors = _tensors(model, base, arch)
    meta = _with_prompt(_metadata(model, base, tokenizer, name), prompt)
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind in DIRECT_TYPES:
        write_gguf(out, arch, meta, tensors, kind, progress)
        return out
    f16 = out.with_name(out.name + ".f16.partial")  # the quantizer's input, removed in any case
    try:
        write_gguf(f16, arch, meta, tensors, "f16", progress)
        with atomic_path(out) as partial:
            quantize(f16, partial, kind)
    finally:
        f16.unlink(missing_ok=True)
    return out


def _with_prompt(meta: Callable[[Any], None], prompt: TrainedPrompt | None) -> Callable[[Any], None]:
    """The metadata, then the prompt's keys: classify reads them to build the prompt trained on."""

    def write(writer: Any) -> None:
        meta(writer)
        for key, value in (prompt.metadata() if prompt else {}).items():
            writer.add_string(key, value)

    return write


def write_adapter(
    peft_model: Any, out: Path, alpha: float, name: str, prompt: TrainedPrompt | None = None
) -> Path:
    """The unmerged LoRA as a llama.cpp adapter GGUF (alpha kept: llama.cpp scales by alpha/rank)."""
    from gguf import GGUFType, Keys

    arch = gguf_arch(peft_model.get_base_model().config.model_type)
    tensors: list[tuple[str, Any]] = list(lora_tensors(peft_model, arch))

    def meta(writer: Any) -> None:
        writer.add_type(GGUFType.ADAPTER)
        writer.add_string(Keys.Adapter.TYPE, "lora")
        writer.add_float32(Keys.Adapter.LORA_ALPHA, float(alpha))
        writer.add_name(name)

    out.parent.mkdir(parents=True, exist_ok=True)
    write_gguf(out, arch, _with_prompt(meta, prompt), tensors, "f32")
    return out


def export_run(run: Run, targets: Sequence[tuple[str, Path]], adapter_out: Path | None = None,
               verify: bool = True, progress: Progress | None = None, say: Progress | None = None,
               threads: int | None = None) -> list[Exported]:  # fmt: skip
    """Export a finished run to each (type, path), and the adapter when asked; check each file's parity.

    The base is loaded and merged once for all types. Files are kept when a check fails, for
    inspection; the caller decides (the CLI exits non-zero).
    """
    from peft import PeftModel

    say = say or (lambda m: None)
    targets = [(check_type(kind), out) for kind, out in targets]
    base = run.base
    tokenizer = load_tokenizer(base)
    model = load_model(base, torch.float32)
    prompt = run.trained_prompt
    results: list[Exported] = []
    adapter_files: ModelFiles | None = None
    if adapter_out is not None:
        base_gguf = base.gguf
        if base_gguf is None:  # llama.cpp needs the base as GGUF too: written before LoRA wraps it
            base_gguf = adapter_out.with_name(adapter_out.stem + ".base.gguf")
            write_model(model, base, tokenizer, base_gguf, targets[0][0], progress=progress)
            say(f"wrote the adapter's base {base_gguf}")
        adapter_files = ModelFiles(str(adapter_out), base_gguf, adapter_out)
    peft_model = PeftModel.from_pretrained(model, str(run.adapter))
    if adapter_files is not None and adapter_out is not None:
        # peft types peft_config's values as the base PeftConfig; fit saved a LoraConfig, which has lora_alpha.
        alpha = float(peft_model.peft_config["default"].lora_alpha)  # type: ignore[attr-defined]
        write_adapter(peft_model, adapter_out, alpha, f"prtriage LoRA ({run.folder.name})", prompt)
        say(f"wrote the adapter {adapter_out}")
    merged = peft_model.merge_and_unload().eval()
    for kind, out in targets:
        write_model(merged, base, tokenizer, out, kind, progress=progress, prompt=prompt)
        say(f"wrote {out} ({kind}, {out.stat().st_size / 1e6:.1f} MB)")
        results.append(Exported(ModelFiles(str(out), out, None), kind))
    if adapter_files is not None:
        # The adapter runs over the base file as it is (quantized or not): judged by that type.
        results.append(Exported(adapter_files, stored_type(adapter_files.path)))
    for exported in results if verify else []:
        exported.parity = check_parity(merged, tokenizer, exported.files, exported.kind, run.categories,
                                       threads=threads, prompt=prompt)  # fmt: skip
        say(("adapter " if exported.files.adapter else "") + exported.parity.summary())
    return results
