"""Training data: Axolotl `input_output` rows and change records, validated line by line.

Change records (`title`, `body`, `diff`, `category`, optional `reasoning`) become segments through
the very functions inference uses (`change.change_from_record`, `budget.fit_change`,
`prompt.answer_segments`), with the same diff budget, so train and serve cannot drift.

Every line that cannot be used is reported with its file and line number and counted by reason;
nothing is dropped silently.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage.core.categories import Category
from prtriage.core.errors import PrtriageError, UsageError
from prtriage.core.jsonl import BadLine, check_change_record, partition_bad, read_checked
from prtriage.dataset.split import choose_groups
from prtriage.pipeline.budget import fit_change
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.prompt import DEFINITIONS, Segment, Tokenizer, answer_segments, category_segment

INPUT_OUTPUT = "input_output"
CHANGES = "changes"
AUTO = "auto"
DATASET_TYPES = (INPUT_OUTPUT, CHANGES, AUTO)


@dataclass(frozen=True)
class Row:
    """A validated line, before its (costly) prompt is built and tokenized."""

    path: str
    line: int
    group: str | None  # the validation split unit: the record's repository
    category: str | None
    segments: tuple[Segment, ...] | None = None  # input_output rows
    record: dict[str, Any] | None = None  # change records


@dataclass(frozen=True)
class Example:
    path: str
    line: int
    category: str | None  # set when the answer starts with the category, so it can be scored
    segments: tuple[Segment, ...]


def _bad(path: Path, number: int, reason: str) -> BadLine:
    return BadLine(str(path), number, reason)


def _category(obj: dict[str, Any], known: set[str], required: bool) -> tuple[str | None, str | None]:
    """(the category name or None when absent and optional, what is wrong with it or None)."""
    value = obj.get("category")
    if value is None and not required:
        return None, None
    if not isinstance(value, str):
        return None, "'category' missing or not a string"
    if value not in known:
        return None, f"unknown category '{value}'"
    return value, None


def _segments(obj: dict[str, Any], parse_special: bool) -> tuple[Segment, ...] | str:
    raw = obj.get("segments")
    if not isinstance(raw, list) or not raw:
        return "no 'segments' list (or an empty one)"
    segments = []
    for i, seg in enumerate(raw):
        if not isinstance(seg, dict):
            return f"segment {i}: not an object"
        if not isinstance(seg.get("text"), str):
            return f"segment {i}: 'text' missing or not a string"
        if not isinstance(seg.get("label"), bool):
            return f"segment {i}: 'label' missing or not true/false"
        special = seg.get("special", parse_special)
        if not isinstance(special, bool):
            return f"segment {i}: 'special' is not true/false"
        segments.append(Segment(seg["text"], label=seg["label"], special=special))
    if not any(s.label for s in segments):
        return "no trainable segment (no segment has label true)"
    return tuple(segments)


def parse_row(
    obj: dict[str, Any], path: Path, number: int, kind: str, known: set[str], parse_special: bool
) -> Row | BadLine:
    """One JSON object as a training row, or what is wrong with it (structure first, then category)."""
    if kind == AUTO:
        kind = INPUT_OUTPUT if "segments" in obj else CHANGES if "diff" in obj else ""
        if not kind:
            return _bad(path, number, "neither 'segments' (input_output row) nor 'diff' (change record)")
    group = obj["repo"] if isinstance(obj.get("repo"), str) else None
    if kind == INPUT_OUTPUT:
        segments = _segments(obj, parse_special)
        if isinstance(segments, str):
            return _bad(path, number, segments)
        category, problem = _category(obj, known, required=False)
        if problem is not None:
            return _bad(path, number, problem)
        # The category can be scored only when the answer starts the way inference scores it.
        first = next(s for s in segments if s.label)
        scorable = category if category and first.text == category_segment(category).text else None
        return Row(str(path), number, group, scorable, segments=segments)
    bad = check_change_record(obj, str(path), number)
    if bad is not None:
        return bad
    category, problem = _category(obj, known, required=True)
    if problem is not None:
        return _bad(path, number, problem)
    if obj.get("reasoning") is not None and not isinstance(obj["reasoning"], str):
        return _bad(path, number, "'reasoning' is not a string")
    return Row(str(path), number, group, category, record=obj)


def read_rows(
    path: Path, kind: str, categories: Sequence[Category], parse_special: bool = False
) -> tuple[list[Row], list[BadLine]]:
    """Every good row of a JSONL file (.gz ok), and every bad line with its reason."""
    if kind not in DATASET_TYPES:
        raise UsageError(f"{path}: dataset type {kind!r} is not one of {', '.join(DATASET_TYPES)}")
    known = {c.name for c in categories}
    skipped: list[BadLine] = []

    def parse(obj: dict[str, Any], number: int) -> Row | BadLine:
        return parse_row(obj, path, number, kind, known, parse_special)

    rows = list(read_checked(path, parse, skipped.append))
    return rows, skipped


@dataclass(frozen=True)
class PromptBudget:
    """What inference will use: the diff budget of a change depends on all of it."""

    categories: tuple[Category, ...]
    context_size: int
    reasoning_tokens: int
    exclude: tuple[str, ...] = ()
    prompt_format: str = DEFINITIONS


def build_example(row: Row, tokenizer: Tokenizer, budget: PromptBudget) -> Example | BadLine:
    """A row's segments: as given, or the inference prompt of a change record plus its answer."""
    if row.segments is not None:
        return Example(row.path, row.line, row.category, row.segments)
    assert row.record is not None and row.category is not None
    obj = row.record
    change = change_from_record(obj, budget.exclude)
    if not change.files:
        return BadLine(row.path, row.line, "the diff has no files")
    try:
        fitted = fit_change(
            change.title, change.body, change.files, budget.categories, tokenizer,
            budget.context_size, budget.reasoning_tokens, budget.prompt_format,
        )  # fmt: skip
    except PrtriageError as e:
        return BadLine(row.path, row.line, e.message)
    answer = answer_segments(row.category, obj.get("reasoning"))
    return Example(row.path, row.line, row.category, (*fitted.segments, *answer))


def build_examples(
    rows: Sequence[Row], tokenizer: Tokenizer, budget: PromptBudget
) -> tuple[list[Example], list[BadLine]]:
    return partition_bad(build_example(row, tokenizer, budget) for row in rows)


def split_rows(rows: Sequence[Row], val_size: float, seed: int) -> tuple[list[Row], list[Row], str]:
    """Train and validation rows, and how they were split.

    By repository when every row names one and there are at least two: a model is then judged on
    repositories it never saw, which is the honest measure for a tool run on new repositories.
    `val_size` below 1 is a fraction of the rows, from 1 up a number of rows.
    """
    if val_size <= 0 or len(rows) < 2:
        return list(rows), [], "no validation split"
    want = int(val_size) if val_size >= 1 else max(1, round(val_size * len(rows)))
    want = min(want, len(rows) - 1)
    sizes = Counter(r.group for r in rows if r.group is not None)
    if len(sizes) >= 2 and all(r.group is not None for r in rows):
        chosen = choose_groups(sizes, want, seed)  # at least one repository stays in training
        train = [r for r in rows if r.group not in chosen]
        val = [r for r in rows if r.group in chosen]
        return train, val, "by repository: " + ", ".join(sorted(chosen))
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    held = set(order[:want])
    train = [r for i, r in enumerate(rows) if i not in held]
    val = [r for i, r in enumerate(rows) if i in held]
    return train, val, "random rows"


def example_to_json(example: Example) -> dict[str, Any]:
    """An Axolotl input_output row; `special` and `category` are prtriage's additions Axolotl ignores."""
    row: dict[str, Any] = {"segments": [s.to_json() for s in example.segments]}
    if example.category is not None:
        row["category"] = example.category
    return row
