"""Session fixtures for the train tests: real parts (SmolLM2's tokenizer, llama.cpp), tiny sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_helpers import change_records, make_tiny, write_jsonl

from prtriage.train.base import load_tokenizer, resolve_base
from prtriage.train.tokenizer import HFTokenizer


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> None:
    # Tiny models gain nothing from threads, and on a busy machine OpenMP threads spin against
    # other processes: measured 0.9 s with one thread against 17 s with two for the same fit.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def smollm_tokenizer() -> HFTokenizer:
    return load_tokenizer(resolve_base("embedded"))


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory, smollm_tokenizer: HFTokenizer) -> Path:
    return make_tiny(tmp_path_factory.mktemp("tiny") / "hf", smollm_tokenizer)


@pytest.fixture(scope="session")
def tiny_gguf(tiny_hf: Path) -> Path:
    """The tiny model as an f32 GGUF (written through the Hugging Face-base path): a GGUF base."""
    from prtriage.train.base import load_model
    from prtriage.train.export import write_model

    base = resolve_base(str(tiny_hf))
    out = tiny_hf.parent / "tiny-f32.gguf"
    write_model(load_model(base, torch.float32), base, load_tokenizer(base), out, "f32")
    return out


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "changes.jsonl", change_records())
