"""Parity between the exported GGUF under llama.cpp and the PyTorch model it came from.

On a few fixed prompts in prtriage's own format (one with `<|im_end|>` inside the diff), three
checks, each of which must hold:
1. tokenization: llama.cpp's ids equal the training tokenizer's, segment by segment;
2. next-token log-probabilities at every position, over the whole vocabulary: max and mean |Δ|
   within the export type's tolerances;
3. category scores, through `prtriage.pipeline.engine.LlamaEngine.score` (what `classify` runs): each within
   the tolerance, and the same best category unless PyTorch itself has two within 2×tolerance.

Tolerances are per export type: the rounding of the weights to the file's type and llama.cpp's own
arithmetic (f16 KV cache; activations converted to 8-bit blocks for quantized matrix products, which
SmolLM2's outlier activations feel) both move the numbers. Measured on a SmolLM2-135M fine-tune, CPU
build (docs/training.md has the table); each tolerance leaves about 1.5-3x room over the
measurement. A broken export (q/k not permuted, wrong metadata) is off by far more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prtriage.core.categories import Category
from prtriage.core.errors import ModelError
from prtriage.pipeline.model_files import ModelFiles
from prtriage.pipeline.prompt import (
    DEFINITIONS,
    PromptChange,
    Segment,
    Tokenizer,
    TrainedPrompt,
    category_segment,
    input_segments,
    tokenize_segments,
)
from prtriage.train.scoring import category_logprobs, next_token_logprobs


@dataclass(frozen=True)
class Tolerance:
    max_abs: float  # largest |Δ| of a next-token log-probability, any position, any token
    mean_abs: float  # mean |Δ| over all positions and tokens
    category: float  # largest |Δ| of a category score


TOLERANCES = {
    "f32": Tolerance(0.15, 0.01, 0.05),
    "f16": Tolerance(0.4, 0.02, 0.1),
    "bf16": Tolerance(1.0, 0.08, 0.6),
    "q8_0": Tolerance(4.0, 0.3, 1.0),
    "q6_k": Tolerance(5.0, 0.4, 1.2),
}
# 5 bits and fewer: SmolLM2's rows (576 wide) do not divide into K-quant blocks, so llama.cpp falls
# back to q5_0/q5_1 and the numbers move by whole nats (q5_k_m measured max 10.2, mean 0.64). At
# this level the check catches broken files (q/k unpermuted: max 39, mean 4.1), not rounding.
LOW_BIT = Tolerance(20.0, 2.0, 6.0)
PARITY_CONTEXT = 1024

PROMPT_CHANGES = (
    PromptChange(
        title="Fix division by zero in average()",
        body="average() crashed on an empty list; it now returns 0.",
        file_list="M src/stats.py (+3 -1)",
        diff=(
            "--- a/src/stats.py\n+++ b/src/stats.py\n@@ -10,4 +10,6 @@ def average(values):\n"
            "-    return sum(values) / len(values)\n+    if not values:\n+        return 0.0\n"
            "+    return sum(values) / len(values)\n"
        ),
    ),
    PromptChange(
        title="Document the <|im_end|> marker",
        body="Explain what <|im_end|> and <|im_start|>assistant mean in prompts.",
        file_list="M docs/prompt.md (+2 -0)",
        diff=(
            "--- a/docs/prompt.md\n+++ b/docs/prompt.md\n@@ -1,3 +1,5 @@\n # Prompt\n"
            "+A turn ends with <|im_end|>\n+<|im_start|>assistant\n"
        ),
    ),
)


class ParityError(ModelError):
    """The exported model does not compute what the trained model computes."""


@dataclass
class Parity:
    kind: str
    tolerance: Tolerance
    max_abs: float = 0.0
    mean_abs: float = 0.0
    argmax_agreement: float = 1.0  # share of positions where both pick the same next token
    category_max_abs: float = 0.0
    positions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return (
            f"parity {self.kind}: {verdict}; next-token log-prob |Δ| max {self.max_abs:.4f} "
            f"(tolerance {self.tolerance.max_abs}), mean {self.mean_abs:.5f} ({self.tolerance.mean_abs}); "
            f"same top token at {self.argmax_agreement:.1%} of {self.positions} positions; "
            f"category scores |Δ| max {self.category_max_abs:.4f} ({self.tolerance.category})"
        )


def tolerance(kind: str) -> Tolerance:
    return TOLERANCES.get(kind, LOW_BIT)


def parity_prompts(categories: Sequence[Category], prompt_format: str = DEFINITIONS) -> list[list[Segment]]:
    return [input_segments(change, categories, prompt_format) for change in PROMPT_CHANGES]


def _flat(pieces: list[list[int]]) -> list[int]:
    return [i for p in pieces for i in p]


def _llama_logprobs(llm: Any, ids: Sequence[int]) -> np.ndarray:
    llm.reset()
    llm.eval(list(ids))
    logits = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _open_llama(files: ModelFiles, context: int, threads: int | None) -> Any:
    """llama.cpp with every position's logits (`logits_all`), on the CPU, in one batch."""
    from prtriage.pipeline.engine import default_threads, load_llama

    n = threads or default_threads()
    try:
        return load_llama(files, n_ctx=context, n_batch=context, logits_all=True, n_gpu_layers=0,
                          n_threads=n, n_threads_batch=n, seed=0)  # fmt: skip
    except ModelError as e:
        raise ParityError(f"llama.cpp {e.message}") from None


def check_parity(
    torch_model: Any,
    tokenizer: Tokenizer,
    files: ModelFiles,
    kind: str,
    categories: Sequence[Category],
    tol: Tolerance | None = None,
    threads: int | None = None,
    prompt: TrainedPrompt | None = None,
) -> Parity:
    """Compare llama.cpp running `files` with `torch_model` (fp32, eval mode) on the parity prompts.

    With `prompt` (what the run trained on), the file's metadata must say the same, and the parity
    prompts are built in that format, as classify will build them.
    """
    from prtriage.pipeline.engine import LlamaEngine

    tol = tolerance(kind) if tol is None else tol
    result = Parity(kind, tol)
    llm = _open_llama(files, PARITY_CONTEXT, threads)
    engine = LlamaEngine(files, PARITY_CONTEXT, threads=threads, gpu_layers=0)
    torch_model.eval()
    names = [c.name for c in categories]
    # A file without the keys gets v1's prompt from classify: right only for a run that trained on it.
    said = engine.trained_prompt or (
        prompt and TrainedPrompt(DEFINITIONS, prompt.categories, prompt.context_size)
    )
    if prompt is not None and said != prompt:
        result.problems.append(f"the file's prompt metadata says {engine.trained_prompt}, not {prompt}")
    diffs: list[np.ndarray] = []
    agree = 0
    for n, segments in enumerate(parity_prompts(categories, prompt.format if prompt else DEFINITIONS), 1):
        ours = tokenize_segments(segments, tokenizer)
        theirs = tokenize_segments(segments, engine)
        if ours != theirs:
            bad = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
            result.problems.append(
                f"prompt {n}: tokenization differs in segment {bad} ({segments[bad].text[:40]!r})"
            )
            continue
        ids = _flat(ours)
        want = next_token_logprobs(torch_model, ids)
        got = _llama_logprobs(llm, ids)
        delta = np.abs(want - got)
        diffs.append(delta)
        agree += int((want.argmax(axis=1) == got.argmax(axis=1)).sum())
        candidates = [engine.tokenize(category_segment(c).text, False) for c in names]
        if candidates != [tokenizer.tokenize(category_segment(c).text, False) for c in names]:
            result.problems.append("category tokens differ")
            continue
        ref = category_logprobs(torch_model, ids, candidates)
        out = engine.score(ids, candidates, len(ours[0]))  # stable prefix: the instructions, as classify
        result.category_max_abs = max(result.category_max_abs, max(abs(a - b) for a, b in zip(ref, out)))
        order = sorted(range(len(names)), key=lambda i: -ref[i])
        best_ref, best_out = order[0], max(range(len(names)), key=lambda i: out[i])
        if best_ref != best_out and ref[order[0]] - ref[order[1]] > 2 * tol.category:
            result.problems.append(
                f"prompt {n}: best category {names[best_out]} instead of {names[best_ref]}"
            )
    if diffs:
        stacked = np.concatenate(diffs)
        result.positions = stacked.shape[0]
        result.max_abs = float(stacked.max())
        result.mean_abs = float(stacked.mean())
        result.argmax_agreement = agree / result.positions
    if result.max_abs > tol.max_abs:
        result.problems.append(
            f"next-token log-probabilities differ by up to {result.max_abs:.4f} (> {tol.max_abs})"
        )
    if result.mean_abs > tol.mean_abs:
        result.problems.append(
            f"next-token log-probabilities differ by {result.mean_abs:.4f} on average (> {tol.mean_abs})"
        )
    if result.category_max_abs > tol.category:
        result.problems.append(
            f"category scores differ by up to {result.category_max_abs:.4f} (> {tol.category})"
        )
    del llm, engine
    return result


def verify_run(run_folder: Path, model_path: Path, adapter: Path | None, threads: int | None) -> Parity:
    """`prtriage train verify`: the run's merged PyTorch model against a GGUF (and adapter) in llama.cpp.

    The caller shows `parity.summary()` and fails on `not parity.passed`.
    """
    import torch
    from peft import PeftModel

    from prtriage.pipeline.model_files import check_gguf
    from prtriage.train.base import load_model, load_tokenizer
    from prtriage.train.gguf_meta import stored_type
    from prtriage.train.rundir import read_run

    finished = read_run(run_folder)
    check_gguf(model_path)
    if adapter is not None:
        check_gguf(adapter, "adapter")
    tokenizer = load_tokenizer(finished.base)
    model = PeftModel.from_pretrained(load_model(finished.base, torch.float32), str(finished.adapter))
    merged = model.merge_and_unload().eval()
    # Tolerances follow the type the weights are stored in (the base's, for an adapter).
    parity = check_parity(merged, tokenizer, ModelFiles(str(model_path), model_path, adapter),
                          stored_type(model_path), finished.categories, threads=threads,
                          prompt=finished.trained_prompt)  # fmt: skip
    return parity
