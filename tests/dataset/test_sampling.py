"""Seeded samplers and splits, pinned: the same seed must choose the same records in every release.

Published numbers (docs/model.md, docs/training.md) come from these choices; a refactor that
changes one id here changes them. The expected ids were recorded before the samplers were folded.
"""

from __future__ import annotations

from typing import Any

import pytest

from prtriage.dataset.sampling import balanced_sample, capped_per_category, seeded_subset
from prtriage.dataset.split import choose_test
from prtriage.evaluation.predict import sample_reasonings
from prtriage.evaluation.prediction_record import Prediction
from prtriage.train.data import Row, split_rows

CATEGORIES = ("fix", "feat", "docs")
SEED0_FIRST9 = ["r8", "r10", "r14", "r11", "r4", "r15", "r2", "r7", "r9"]


def _records() -> list[dict[str, Any]]:
    """16 records: three categories (fix over-represented), five repositories."""
    return [
        {"id": f"r{i}", "category": CATEGORIES[i % 3] if i < 12 else "fix", "repo": f"o/{'abcde'[i % 5]}"}
        for i in range(16)
    ]


def _rows() -> list[Row]:
    return [Row("f", i + 1, f"o/{'abcde'[i % 5]}", "fix") for i in range(16)]


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


@pytest.mark.parametrize(
    ("seed", "limit", "want"),
    [
        (0, 5, ["r8", "r10", "r14", "r11", "r4"]),
        (0, 9, SEED0_FIRST9),
        (0, 40, [*SEED0_FIRST9, "r5", "r1", "r0", "r6", "r13", "r3", "r12"]),  # every record
        (7, 5, ["r5", "r7", "r13", "r2", "r10"]),
        (7, 9, ["r5", "r7", "r13", "r2", "r10", "r3", "r8", "r1", "r9"]),
    ],
)
def test_balanced_sample_is_pinned(seed: int, limit: int, want: list[str]) -> None:
    assert _ids(balanced_sample(_records(), limit, seed)) == want


@pytest.mark.parametrize(
    ("seed", "n", "want"),
    [(0, 3, ["p0", "p6", "p9"]), (3, 3, ["p2", "p3", "p8"]), (0, 20, [f"p{i}" for i in range(10)])],
)
def test_sample_reasonings_is_pinned(seed: int, n: int, want: list[str]) -> None:
    preds = [Prediction(f"p{i}", "fix", "fix", {}, True, 0.0) for i in range(10)]
    assert [p.id for p in sample_reasonings(preds, n, seed)] == want


@pytest.mark.parametrize(
    ("seed", "limit", "want"),
    [
        (0, 4, [1, 7, 13, 16]),
        (1, 4, [5, 10, 13, 14]),
        (0, None, list(range(1, 17))),
        (1, 30, list(range(1, 17))),
    ],
)
def test_training_sample_is_pinned(seed: int, limit: int | None, want: list[int]) -> None:
    assert [r.line for r in seeded_subset(_rows(), limit, seed)] == want


@pytest.mark.parametrize(
    ("seed", "want"),
    [(0, ["r1", "r8", "r10", "r11", "r14", "r15"]), (4, ["r1", "r5", "r6", "r7", "r9", "r11"])],
)
def test_harvest_cap_per_category_is_pinned(seed: int, want: list[str]) -> None:
    assert _ids(capped_per_category(_records(), 2, seed)) == want


@pytest.mark.parametrize(
    ("seed", "val_size", "want", "how"),
    [
        (0, 0.25, [2, 3, 7, 8, 12, 13], "by repository: o/b, o/c"),
        (0, 3, [3, 8, 13], "by repository: o/c"),
        (0, 0.5, [1, 2, 3, 6, 7, 8, 11, 12, 13, 16], "by repository: o/a, o/b, o/c"),
        (1, 0.25, [3, 4, 8, 9, 13, 14], "by repository: o/c, o/d"),
        (1, 0.5, [3, 4, 5, 8, 9, 10, 13, 14, 15], "by repository: o/c, o/d, o/e"),
        (5, 0.25, [1, 6, 11, 16], "by repository: o/a"),
        (5, 0.5, [1, 2, 4, 6, 7, 9, 11, 12, 14, 16], "by repository: o/a, o/b, o/d"),
    ],
)
def test_training_split_by_repository_is_pinned(
    seed: int, val_size: float, want: list[int], how: str
) -> None:
    train, val, said = split_rows(_rows(), val_size, seed)
    assert [r.line for r in val] == want and said == how
    assert len(train) + len(val) == 16


@pytest.mark.parametrize(("seed", "want"), [(0, [2, 8, 9]), (2, [4, 6, 10])])
def test_training_split_of_rows_without_repository_is_pinned(seed: int, want: list[int]) -> None:
    rows = [Row("f", i + 1, None, None) for i in range(10)]
    train, val, how = split_rows(rows, 3, seed)
    assert [r.line for r in val] == want and how == "random rows" and len(train) == 7


@pytest.mark.parametrize(
    ("seed", "fraction", "want"),
    [
        (0, 0.2, ["r1", "r2", "r6", "r7", "r11", "r12"]),
        (0, 0.5, ["r0", "r1", "r2", "r5", "r6", "r7", "r10", "r11", "r12", "r15"]),
        (1, 0.2, ["r2", "r3", "r7", "r8", "r12", "r13"]),
        (1, 0.5, ["r2", "r3", "r4", "r7", "r8", "r9", "r12", "r13", "r14"]),
        (5, 0.2, ["r0", "r5", "r10", "r15"]),
        (5, 0.5, ["r0", "r1", "r3", "r5", "r6", "r8", "r10", "r11", "r13", "r15"]),
    ],
)
def test_data_split_by_repository_is_pinned(seed: int, fraction: float, want: list[str]) -> None:
    records = _records()
    sides = choose_test(records, "repo", fraction, (), seed)
    assert [r["id"] for r, test in zip(records, sides) if test] == want


@pytest.mark.parametrize(
    ("seed", "want"),
    [(0, ["r3", "r12", "r15"]), (1, ["r0", "r3", "r8", "r9", "r13"]), (5, ["r6", "r11", "r13"])],
)
def test_data_split_random_is_pinned(seed: int, want: list[str]) -> None:
    records = _records()
    sides = choose_test(records, "random", 0.3, (), seed)
    assert [r["id"] for r, test in zip(records, sides) if test] == want


def test_a_split_by_repository_keeps_one_repository_for_training() -> None:
    one_repo = [{**r, "repo": "o/a"} for r in _records()]
    assert not any(choose_test(one_repo, "repo", 0.9, (), 0))
    rows = _rows()
    train, val, _ = split_rows(rows, 15, 0)
    assert train and val and {r.group for r in train}.isdisjoint({r.group for r in val})
