"""The language-model loss, computed only where it counts.

Hugging Face's causal-LM loss materialises logits for every position (sequence × vocabulary
floats, 49,152 wide for SmolLM2) even when almost every label is -100; masking then saves nothing.
Here the decoder's hidden states are gathered at the positions that carry a loss weight first,
and the LM head and cross-entropy run on those rows only: with the default masking, a 1,000-token
prompt and a 6-token answer cost 6 rows of LM head instead of 1,000 (benchmarks/train_masking.py).

The result is (weighted loss sum, weight sum); the caller divides by the weight of the whole
optimizer step, so that gradient accumulation and data-parallel ranks average over tokens, not
over micro-batches of different lengths.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def causal_parts(model: Any) -> tuple[nn.Module, nn.Module, float | None]:
    """(decoder, LM head, final logit soft-cap) of a transformers causal LM, peft-wrapped or not."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    softcap = getattr(causal.config, "final_logit_softcapping", None)  # Gemma 2
    return causal.get_decoder(), causal.get_output_embeddings(), softcap


def weighted_lm_loss(
    hidden: torch.Tensor,
    head: nn.Module,
    labels: torch.Tensor,
    weights: torch.Tensor,
    softcap: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ weight·CE over positions with weight > 0, and Σ weight; LM head applied to those rows only."""
    # Position t predicts token t+1 (HF labels are aligned with the inputs and shifted here).
    targets = labels[:, 1:]
    w = weights[:, 1:]
    keep = w > 0
    rows = hidden[:, :-1][keep]  # (n, hidden): the gather that saves the (seq, vocab) logits
    logits = head(rows).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    ce = F.cross_entropy(logits, targets[keep], reduction="none")
    kept = w[keep].to(ce.dtype)
    return (ce * kept).sum(), kept.sum()


class LossModel(nn.Module):
    """The causal LM and its loss as one module, so data-parallel wrappers see a single forward."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor,
        weights: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        decoder, head, softcap = causal_parts(self.model)
        hidden = decoder(
            input_ids=input_ids, attention_mask=attention_mask, use_cache=False
        ).last_hidden_state
        return weighted_lm_loss(hidden, head, labels, weights, softcap)


def full_logits_loss(
    model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Hugging Face's standard loss (logits at every position, -100 ignored): the reference."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, use_cache=False)
    loss: torch.Tensor = out.loss
    return loss
