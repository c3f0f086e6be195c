"""Micro-batches: length-grouped, padded on the right, the same order on every rank and after resume.

Grouping examples of similar length wastes less compute on padding; shuffling the groups keeps
the order random. The order is a pure function of (seed, epoch), so a resumed run and every
data-parallel rank see exactly the batches a single uninterrupted run would.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from prtriage.train.masking import IGNORE, Tokenized

GROUP_SPAN = 64  # batches per length group: large enough to cut padding, small enough to stay random


def epoch_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, group_by_length: bool
) -> list[list[int]]:
    """Example indices for each micro-batch of one epoch; the last short batch is kept."""
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if group_by_length:
        span = batch_size * GROUP_SPAN
        order = [
            i
            for start in range(0, len(order), span)
            for i in sorted(order[start : start + span], key=lambda i: -lengths[i])
        ]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def shard(batches: list[list[int]], rank: int, world: int) -> list[list[int]]:
    """This rank's batches; every rank gets the same count (a trailing remainder is dropped)."""
    usable = len(batches) - len(batches) % world
    return batches[rank:usable:world]


def collate(items: Sequence[Tokenized], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors; padding has label -100, weight 0 and attention mask 0."""
    width = max(len(t) for t in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    weights = torch.zeros((len(items), width), dtype=torch.float32)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, t in enumerate(items):
        n = len(t)
        ids[row, :n] = torch.tensor(t.input_ids)
        labels[row, :n] = torch.tensor(t.labels)
        weights[row, :n] = torch.tensor(t.weights)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "weights": weights}
