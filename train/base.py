"""The base model to fine-tune: the embedded SmolLM2, a GGUF file, a Hugging Face folder or hub id.

A GGUF base is loaded by transformers (dequantized, Llama-family and Qwen2 architectures), which
makes the whole pipeline run offline on CPU; export then copies its tokenizer and metadata.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prtriage.core.errors import ConfigError, ModelError
from prtriage.pipeline.model_files import check_gguf, embedded_model_path
from prtriage.train.tokenizer import HFTokenizer, adds_bos_by_default

if TYPE_CHECKING:
    import torch

EMBEDDED = ("embedded", "default")


@dataclass(frozen=True)
class Base:
    ref: str  # as the config wrote it
    gguf: Path | None  # the GGUF file when the base is one
    source: str  # what `from_pretrained` reads: a folder or a hub id

    @property
    def kind(self) -> str:
        return "gguf" if self.gguf else "hf"

    @property
    def portable_ref(self) -> str:
        """The reference as it resolves from any working directory."""
        if self.ref in EMBEDDED:
            return "embedded"
        return str(self.gguf) if self.gguf else self.source


def resolve_base(ref: str) -> Base:
    """Where the base model's files are; fails early with the reference the user wrote."""
    if ref in EMBEDDED:
        path = embedded_model_path()
        return Base(ref, path, str(path.parent))
    path = Path(ref).expanduser()
    if path.suffix == ".gguf" or path.is_file():
        check_gguf(path, "base model")
        path = path.resolve()
        return Base(ref, path, str(path.parent))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"base_model {ref!r} is a folder without config.json")
        return Base(ref, None, str(path.resolve()))
    if ref.count("/") == 1 and not ref.startswith((".", "/", "~")):
        return Base(ref, None, ref)  # a hub id: from_pretrained downloads or reads its cache
    raise ConfigError(
        f"base_model {ref!r} not found",
        hint="use 'embedded', a .gguf file, a Hugging Face model folder, or a hub id owner/name",
    )


def read_gguf(path: Path) -> Any:
    """A `gguf.GGUFReader` for the file, shared while the file is unchanged.

    Parsing a 49k-token vocabulary takes seconds, and export reads its base several times.
    """
    stat = path.stat()
    return _reader(path.resolve(), stat.st_mtime_ns, stat.st_size)


@cache
def _reader(path: Path, mtime_ns: int, size: int) -> Any:
    from gguf import GGUFReader

    return GGUFReader(path)


def gguf_metadata(path: Path) -> dict[str, Any]:
    """Scalar and string metadata of a GGUF (arrays such as the token list are left out)."""
    from gguf import GGUFValueType

    reader = read_gguf(path)
    out: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if field.types and field.types[0] != GGUFValueType.ARRAY:
            out[key] = field.contents()
    return out


def quiet_transformers() -> None:
    """transformers' progress bars and advice would bury ours; errors still show."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="transformers")


def _pretrained_kwargs(base: Base) -> dict[str, Any]:
    return {"gguf_file": base.gguf.name} if base.gguf else {}


@cache
def _hf_tokenizer(base: Base) -> Any:
    # Cached: building a tokenizer from GGUF metadata takes seconds, and fit, export and verify
    # each need it; the tokenizer is only read from.
    quiet_transformers()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(base.source, **_pretrained_kwargs(base))
    except Exception as e:  # OSError, ValueError, unsupported GGUF tokenizer: one message for all
        raise ModelError(f"cannot load the tokenizer of {base.ref}: {e}") from None


def load_tokenizer(base: Base) -> HFTokenizer:
    """The base's tokenizer, with the BOS policy inference will use for the exported GGUF."""
    hf = _hf_tokenizer(base)
    if base.gguf:
        add_bos = bool(gguf_metadata(base.gguf).get("tokenizer.ggml.add_bos_token", False))
    else:
        add_bos = adds_bos_by_default(hf)
    return HFTokenizer(hf, add_bos)


def load_model(base: Base, dtype: torch.dtype, device: str | torch.device = "cpu") -> Any:
    """The base as a transformers causal LM (a GGUF base is dequantized to `dtype`)."""
    quiet_transformers()
    import transformers
    from transformers import AutoModelForCausalLM

    # `torch_dtype` became `dtype` in transformers 4.56; the old name warns in 5.x.
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kwargs = {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": dtype, **_pretrained_kwargs(base)}
    try:
        # transformers' GGUF reader draws its own tqdm bar, whatever its progress-bar setting says.
        with contextlib.redirect_stderr(io.StringIO()):
            model: Any = AutoModelForCausalLM.from_pretrained(base.source, **kwargs)
    except Exception as e:
        raise ModelError(f"cannot load base model {base.ref}: {type(e).__name__}: {e}") from None
    return model.to(device)
