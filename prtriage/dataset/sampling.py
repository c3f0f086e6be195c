"""Seeded choices of records: the same seed picks the same records in every release.

Published numbers (eval samples, training subsets, harvest caps) depend on these picks;
tests/dataset/test_sampling.py pins them for fixed seeds.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def seeded_subset(items: Sequence[T], limit: int | None, seed: int | random.Random) -> list[T]:
    """At most `limit` items, a seeded random choice kept in their original order (None: all).

    `seed` may be a shared `random.Random`, for several subsets drawn in turn from one seed.
    """
    if limit is None or len(items) <= limit:
        return list(items)
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    keep = set(rng.sample(range(len(items)), limit))
    return [x for i, x in enumerate(items) if i in keep]


def _by_category(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by `category`: the groups in order of first appearance, each in input order.

    Both samplers below draw from one seeded Random group by group, so this order is part of
    what the pinned tests fix.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[r["category"]].append(r)
    return groups


def balanced_sample(records: Sequence[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample of at most `limit` records, round-robin over categories so each is represented."""
    by_cat = _by_category(records)
    rng = random.Random(seed)
    for group in by_cat.values():
        rng.shuffle(group)
    chosen: list[dict[str, Any]] = []
    while len(chosen) < min(limit, len(records)):
        for cat in sorted(by_cat):
            if by_cat[cat] and len(chosen) < limit:
                chosen.append(by_cat[cat].pop())
    return chosen


def capped_per_category(records: list[dict[str, Any]], limit: int | None, seed: int) -> list[dict[str, Any]]:
    """At most `limit` records of each category (a seeded choice), kept in input order (None: all)."""
    if limit is None:
        return records
    rng = random.Random(seed)
    kept = []
    for group in _by_category(records).values():
        kept.extend(seeded_subset(group, limit, rng))
    order = {id(r): i for i, r in enumerate(records)}
    return sorted(kept, key=lambda r: order[id(r)])
