"""The PyTorch side of what inference computes: next-token log-probabilities and category scores.

`category_logprobs` mirrors `prtriage.engine.LlamaEngine.score` (the sum of each candidate's token
log-probabilities right after the prompt), so validation accuracy during training and the parity
check after export measure what `prtriage classify` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
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


@torch.no_grad()
def category_logprobs(model: Any, prompt: Sequence[int], candidates: Sequence[Sequence[int]]) -> list[float]:
    """Log-probability of each candidate token sequence right after `prompt`.

    The prompt runs once; its KV cache is then repeated for all candidates, which run as one batch
    (right-padded: causal attention keeps padding from touching the real positions).
    """
    device = _device(model)
    out = model(input_ids=torch.tensor([list(prompt)], device=device), use_cache=True)
    first = torch.log_softmax(out.logits[0, -1].double(), dim=-1)
    scores = [float(first[c[0]]) for c in candidates]
    longest = max(len(c) for c in candidates)
    if longest == 1:
        return scores
    keyword = _cache_keyword(model)
    cache = getattr(out, keyword)
    cache.batch_repeat_interleave(len(candidates))
    batch = torch.zeros((len(candidates), longest - 1), dtype=torch.long, device=device)
    for i, c in enumerate(candidates):
        batch[i, : len(c) - 1] = torch.tensor(list(c[:-1]))
    after = model(input_ids=batch, use_cache=True, **{keyword: cache}).logits.double()
    logprobs = torch.log_softmax(after, dim=-1)
    for i, c in enumerate(candidates):
        scores[i] += sum(float(logprobs[i, k - 1, c[k]]) for k in range(1, len(c)))
    return scores
