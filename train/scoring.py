"""The PyTorch side of what inference computes: next-token log-probabilities and category scores.

`category_logprobs` mirrors `prtriage.pipeline.engine.LlamaEngine.score` (the sum of each candidate's token
log-probabilities right after the prompt), so validation accuracy during training and the parity
check after export measure what `prtriage classify` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


def _device(model: Any) -> torch.device:
    return next(model.parameters()).device


def _cache_keyword(model: Any) -> str:
    """transformers 5 renamed `past_key_values` to `cache` (the old name warns, then goes away)."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(type(causal).forward).parameters else "past_key_values"


@torch.no_grad()
def next_token_logprobs(model: Any, ids: Sequence[int]) -> np.ndarray:
    """(len(ids), vocab) float64 log-probabilities of the token after each position."""
    out = model(input_ids=torch.tensor([list(ids)], device=_device(model)), use_cache=False)
    return torch.log_softmax(out.logits[0].double(), dim=-1).cpu().numpy()


@dataclass
class PromptState:
    """A prompt run once: the log-probabilities of the next token, and the KV cache to continue from."""

    next_logprobs: torch.Tensor  # (vocab,) float64
    cache: Any
    keyword: str  # the name the model's forward takes the cache under


@torch.no_grad()
def run_prompt(model: Any, prompt: Sequence[int]) -> PromptState:
    out = model(input_ids=torch.tensor([list(prompt)], device=_device(model)), use_cache=True)
    keyword = _cache_keyword(model)
    first = torch.log_softmax(out.logits[0, -1].double(), dim=-1)
    return PromptState(first, getattr(out, keyword), keyword)


@torch.no_grad()
def continuation_loss(
    model: Any, state: PromptState, tokens: Sequence[int], weights: Sequence[float]
) -> tuple[float, float]:
    """(Σ weight·CE, Σ weight) of `tokens` following the prompt; the cache is left at the prompt."""
    logprobs = [state.next_logprobs]
    if len(tokens) > 1:
        ids = torch.tensor([list(tokens[:-1])], device=state.next_logprobs.device)
        after = model(input_ids=ids, use_cache=True, **{state.keyword: state.cache}).logits[0].double()
        logprobs.extend(torch.log_softmax(after, dim=-1))
        state.cache.crop(-(len(tokens) - 1))  # back to the prompt, for the candidates
    total = sum(-float(lp[t]) * w for lp, t, w in zip(logprobs, tokens, weights) if w > 0)
    return total, float(sum(weights))


@torch.no_grad()
def candidate_logprobs(model: Any, state: PromptState, candidates: Sequence[Sequence[int]]) -> list[float]:
    """Log-probability of each candidate token sequence after the prompt (uses up the cache).

    The candidates run as one batch on the repeated prompt cache (right-padded: causal attention
    keeps padding from touching the real positions).
    """
    scores = [float(state.next_logprobs[c[0]]) for c in candidates]
    longest = max(len(c) for c in candidates)
    if longest == 1:
        return scores
    device = state.next_logprobs.device
    state.cache.batch_repeat_interleave(len(candidates))
    batch = torch.zeros((len(candidates), longest - 1), dtype=torch.long, device=device)
    for i, c in enumerate(candidates):
        batch[i, : len(c) - 1] = torch.tensor(list(c[:-1]))
    after = model(input_ids=batch, use_cache=True, **{state.keyword: state.cache}).logits.double()
    logprobs = torch.log_softmax(after, dim=-1)
    for i, c in enumerate(candidates):
        scores[i] += sum(float(logprobs[i, k - 1, c[k]]) for k in range(1, len(c)))
    return scores


def category_logprobs(model: Any, prompt: Sequence[int], candidates: Sequence[Sequence[int]]) -> list[float]:
    """Log-probability of each candidate token sequence right after `prompt` (the prompt runs once)."""
    return candidate_logprobs(model, run_prompt(model, prompt), candidates)
