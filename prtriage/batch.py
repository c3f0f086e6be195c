"""Classify many change records in one process, reusing the model and the shared prompt prefix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from prtriage.change import change_from_record
from prtriage.config import Settings
from prtriage.engine import Engine
from prtriage.errors import PrtriageError
from prtriage.progress import ProgressLine
from prtriage.records import BadLine, check_change_record, read_checked, write_jsonl
from prtriage.triage import classify


@dataclass
class BatchSummary:
    classified: int = 0
    bad: list[BadLine] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    failing: Counter[str] = field(default_factory=Counter)  # categories of the results not uncertain
    uncertain: int = 0
    planted: int = 0  # results whose change holds text addressed to the classifier


def _count_lines(path: Path) -> int | None:
    if path.suffix == ".gz":
        return None
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def classify_file(
    input_path: Path, output_path: Path, engine: Engine, settings: Settings, stderr: Console
) -> BatchSummary:
    """Each good record → one output line: its `id` and the same object `--format json` prints."""
    summary = BatchSummary()
    progress = ProgressLine(stderr, "classifying", _count_lines(input_path), "records")
    write_jsonl(output_path, _classified(input_path, engine, settings, summary, progress))
    return summary


def _classified(
    input_path: Path, engine: Engine, settings: Settings, summary: BatchSummary, progress: ProgressLine
) -> Iterator[dict[str, Any]]:
    """The output object of each good record, in input order; the progress line counts every record."""

    def classified(obj: dict[str, Any], number: int) -> dict[str, Any] | BadLine:
        return _classify_record(input_path, number, obj, engine, settings, summary)

    def skip(bad: BadLine) -> None:
        summary.bad.append(bad)
        progress.advance()

    with progress:
        for out in read_checked(input_path, classified, skip):
            yield out  # written before the progress advances
            progress.advance()  # after the record: counts and rates are of finished work


def _classify_record(
    input_path: Path,
    number: int,
    obj: dict[str, Any],
    engine: Engine,
    settings: Settings,
    summary: BatchSummary,
) -> dict[str, Any] | BadLine:
    """The output object of one record, or why it could not be classified."""
    bad = check_change_record(obj, str(input_path), number)
    if bad is not None:
        return bad
    change = change_from_record(obj, settings.exclude, source=f"{input_path.name}:{number}")
    try:
        result = classify(change, engine, settings)
    except PrtriageError as e:  # one record's failure must not lose the others
        return BadLine(str(input_path), number, e.message)
    summary.classified += 1
    summary.categories[result.category] += 1
    summary.planted += bool(result.planted)
    if result.uncertain:
        summary.uncertain += 1
    else:
        summary.failing[result.category] += 1
    return {"id": obj.get("id", number), **result.to_json()}
