"""llama.cpp through llama-cpp-python: score every category, then write a reasoning under a grammar.

`Engine` is the model seam: triage talks to this protocol, so tests of the layers above can swap
in a small fake while the engine itself is tested against the real model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from prtriage.core.errors import ModelError
from prtriage.pipeline.model_files import ModelFiles, string_metadata
from prtriage.pipeline.native import capture_native_output
from prtriage.pipeline.prompt import TrainedPrompt

if TYPE_CHECKING:
    import numpy as np

# The reasoning is a JSON string body: no quote, backslash or control character, so the object
# always parses and can be cut anywhere; the closing `"}` ends it. Hand-written, not converted
# from a schema: the converter lets control characters into strings. tests/pipeline/test_engine.py compiles
# it in a subprocess (a bad grammar crashes the process in C).
REASONING_GRAMMAR = r"""
root ::= char* "\"}"
char ::= [^"\\\x7F\x00-\x1F]
"""


class Engine(Protocol):
    """What classify needs of a model: its tokenizer, category scores, a reasoning, and timings."""

    name: str
    files: ModelFiles  # what was loaded, and the identity (sha256) results carry

    @property
    def bos_id(self) -> int | None: ...

    @property
    def adapter(self) -> str | None:
        """The LoRA adapter applied on top of the model, as results name it; None without one."""

    @property
    def trained_prompt(self) -> TrainedPrompt | None:
        """The prompt the adapter (or a merged fine-tune) was trained on; None when it does not say."""

    def tokenize(self, text: str, special: bool) -> list[int]: ...

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        """Log-probability of each candidate token sequence right after `prompt`.

        `prompt[:stable]` is shared by many prompts and may be reused from a cache.
        """

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        """A reasoning generated after `prompt` (which ends inside the JSON string)."""

    def take_timings(self) -> dict[str, float]:
        """Time spent and tokens evaluated since the last call."""


class LoadedEngine(Engine, Protocol):
    """An engine as the commands open it: also the model files it was loaded from (for warnings)."""

    files: ModelFiles


def default_threads() -> int:
    """The cores not busy right now, at most 4 (prtriage/pipeline/cpu.py; measured in docs/benchmarks.md)."""
    from prtriage.pipeline.cpu import default_threads as free_cores

    return free_cores()


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


@dataclass
class _Clock:
    totals: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        self.totals[key] = self.totals.get(key, 0.0) + value


def _quiet_llama_cpp() -> Any:
    """The llama_cpp module, its Python logger at ERROR (loading a model sets it to DEBUG)."""
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    import llama_cpp

    return llama_cpp


def _trained_prompt(files: ModelFiles, model_metadata: dict[str, str]) -> TrainedPrompt | None:
    """An adapter's prompt metadata, else the model's own (a merged fine-tune carries it too)."""
    if files.adapter is not None:
        return TrainedPrompt.from_metadata(string_metadata(files.adapter, "prtriage."))
    return TrainedPrompt.from_metadata(model_metadata)


@contextlib.contextmanager
def _plain_cpu_buffers(llama_cpp: Any) -> Iterator[None]:
    """On AMX CPUs, load without llama.cpp's extra CPU buffer types (AMX, weight repacking).

    With them, llama-cpp-python 0.3.36 crashes (segfault in llama_decode) on a Sapphire Rapids
    CPU, with or without an adapter; without them the default Q4_1 model decodes 281 tokens in
    0.97 s against 1.00 s (measured here). Llama() has no flag for it, so the default model
    parameters it starts from are swapped while it loads.
    """
    from prtriage.pipeline.cpu import has_amx

    module = llama_cpp.llama_cpp
    default = module.llama_model_default_params
    if not has_amx() or not hasattr(default(), "use_extra_bufts"):
        yield
        return

    def plain() -> Any:
        params = default()
        params.use_extra_bufts = False
        return params

    module.llama_model_default_params = plain
    try:
        yield
    finally:
        module.llama_model_default_params = default


def load_llama(files: ModelFiles, **params: Any) -> Any:
    """A `llama_cpp.Llama` for `files` (with its adapter), its native log shown only if loading fails.

    `params` are the Llama's own (n_ctx, n_batch, n_threads, n_gpu_layers, seed, logits_all, ...).
    """
    llama_cpp = _quiet_llama_cpp()
    kwargs: dict[str, Any] = dict(model_path=str(files.path), verbose=True, **params)  # the log is captured
    if files.adapter is not None:
        kwargs["lora_path"] = str(files.adapter)
    with capture_native_output() as log, _plain_cpu_buffers(llama_cpp):
        try:
            llm = llama_cpp.Llama(**kwargs)
        except Exception as e:  # llama-cpp-python raises ValueError/RuntimeError with no cause
            cause = log.last_error() or str(e)
            raise ModelError(
                f"cannot load {files.path}"
                + (f" with adapter {files.adapter}" if files.adapter else "")
                + f": {cause}",
                hint="check that the file is a complete GGUF for llama.cpp (re-download or re-export it)",
            ) from None
    llm.verbose = False
    _quiet_llama_cpp()
    return llm


class LlamaEngine:
    """One loaded model and context; successive prompts reuse the KV cache of their common prefix."""

    def __init__(
        self,
        files: ModelFiles,
        context_size: int,
        threads: int | None = None,
        gpu_layers: int | None = None,
        seed: int = 0,
    ) -> None:
        llama_cpp = _quiet_llama_cpp()
        self.name = files.name
        self.files = files
        self.threads = threads or default_threads()
        if gpu_layers is None:
            gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        self.gpu_layers = gpu_layers
        self._clock = _Clock()
        start = time.perf_counter()
        self.llm = load_llama(
            files, n_ctx=context_size, n_batch=min(512, context_size), n_threads=self.threads,
            n_threads_batch=self.threads, n_gpu_layers=gpu_layers, seed=seed, logits_all=False,
        )  # fmt: skip
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self._n_vocab = self.llm.n_vocab()
        add_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        self._bos = self.llm.token_bos() if add_bos else None
        self._trained = _trained_prompt(files, self.llm.metadata)
        self._clock.add("load_s", time.perf_counter() - start)
        self._grammar: Any = None

    @property
    def bos_id(self) -> int | None:
        return self._bos

    @property
    def adapter(self) -> str | None:
        return str(self.files.adapter) if self.files.adapter else None

    @property
    def trained_prompt(self) -> TrainedPrompt | None:
        return self._trained

    @property
    def context_size(self) -> int:
        return int(self.llm.n_ctx())

    def tokenize(self, text: str, special: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.llm.detokenize(list(ids)).decode("utf-8", "replace")

    def _last_logits(self) -> np.ndarray:
        import llama_cpp
        import numpy as np

        ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).astype(np.float64)

    def _eval_from(self, ids: Sequence[int], keep: int) -> None:
        """Evaluate ids[keep:] on top of the first `keep` cached tokens (their KV is reused)."""
        self.llm.n_tokens = keep
        self.llm.eval(list(ids[keep:]))

    def evaluate(self, ids: Sequence[int], stable: int) -> int:
        """Make `ids` the context; returns how many tokens were evaluated.

        Results must not depend on what was evaluated before, and llama.cpp's numbers depend on
        how tokens are batched. So tokens are always evaluated in the same chunks: `ids[:stable]`
        (the prefix every prompt shares) on its own, reused from the cache when it matches, then
        the rest from there.
        """
        if len(ids) > self.context_size:
            raise ModelError(f"prompt of {len(ids)} tokens exceeds the context of {self.context_size}")
        if not 0 < stable < len(ids):
            raise ValueError("the stable prefix must be a proper, non-empty prefix")
        cached = self.llm.input_ids[: self.llm.n_tokens]
        evaluated = len(ids) - stable
        if len(cached) < stable or list(cached[:stable]) != list(ids[:stable]):
            self._eval_from(ids[:stable], 0)
            evaluated = len(ids)
        self._eval_from(ids, stable)
        return evaluated

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        start = time.perf_counter()
        evaluated = self.evaluate(prompt, stable)
        self._clock.add("prompt_s", time.perf_counter() - start)
        self._clock.add("prompt_tokens", len(prompt))
        self._clock.add("prompt_tokens_evaluated", evaluated)
        start = time.perf_counter()
        n = len(prompt)
        # Log-probabilities after each candidate prefix; candidates sharing a prefix share its eval.
        after: dict[tuple[int, ...], np.ndarray] = {(): _log_softmax(self._last_logits())}
        scores = []
        for cand in candidates:
            total = 0.0
            for k, token in enumerate(cand):
                prefix = tuple(cand[:k])
                if prefix not in after:
                    self._eval_from([*prompt, *prefix], n)
                    after[prefix] = _log_softmax(self._last_logits())
                total += float(after[prefix][token])
            scores.append(total)
        self.llm.n_tokens = n  # the prompt stays cached for the reasoning and the next change
        self._clock.add("score_s", time.perf_counter() - start)
        return scores

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        import llama_cpp

        if self._grammar is None:
            with capture_native_output():
                self._grammar = llama_cpp.LlamaGrammar.from_string(REASONING_GRAMMAR, verbose=False)
        start = time.perf_counter()
        self.evaluate(prompt, stable)
        out: list[int] = []
        text = ""
        generator = self.llm.generate(
            list(prompt), temp=0.0, top_k=1, repeat_penalty=1.0, grammar=self._grammar, reset=True
        )
        for token in generator:
            if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                break
            out.append(token)
            text = self.detokenize(out)
            if '"' in text or len(out) >= max_tokens:
                break
        generator.close()
        self._clock.add("reasoning_s", time.perf_counter() - start)
        self._clock.add("generated_tokens", len(out))
        # The grammar allows `"` only in the closing `"}`; a cut reasoning is closed here.
        return text.split('"', 1)[0].strip() if '"' in text else _cut_at_word(text)

    def take_timings(self) -> dict[str, float]:
        totals, self._clock.totals = self._clock.totals, {}
        return totals


def _cut_at_word(text: str) -> str:
    """A reasoning cut by the token limit, ended at its last whole word."""
    text = text.strip()
    head, sep, _ = text.rpartition(" ")
    return (head if sep and len(head) > len(text) // 2 else text).rstrip(",;:") + "..."


def probabilities(logprobs: Sequence[float]) -> list[float]:
    """Scores renormalised over the configured categories (they sum to 1)."""
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    total = sum(weights)
    return [w / total for w in weights]
