"""Classify many change records in one process, reusing the model and the shared prompt prefix."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from prtriage.config import Settings
from prtriage.engine import Engine
from prtriage.errors import PrtriageError
from prtriage.records import BadLine, atomic_output, check_change_record, read_jsonl
from prtriage.triage import change_from_diff, classify


@dataclass
class BatchSummary:
    classified: int = 0
    bad: list[BadLine] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    failing: Counter[str] = field(default_factory=Counter)  # categories of the results not uncertain
    uncertain: int = 0


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
    progress = Progress(
        TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=stderr, transient=True,
    )  # fmt: skip
    with atomic_output(output_path) as out, progress:
        task = progress.add_task("classify", total=_count_lines(input_path))
        for number, obj in read_jsonl(input_path):
            progress.advance(task)
            if isinstance(obj, BadLine):
                summary.bad.append(obj)
                continue
            bad = check_change_record(obj, str(input_path), number)
            if bad is not None:
                summary.bad.append(bad)
                continue
            change = change_from_diff(
                obj.get("title") or "", obj.get("body") or "", obj["diff"].splitlines(True),
                settings.exclude, source=f"{input_path.name}:{number}",
            )  # fmt: skip
            try:
                result = classify(change, engine, settings)
            except PrtriageError as e:  # one record's failure must not lose the others
                summary.bad.append(BadLine(str(input_path), number, e.message))
                continue
            out.write(json.dumps({"id": obj.get("id", number), **result.to_json()}, ensure_ascii=False))
            out.write("\n")
            out.flush()
            summary.classified += 1
            summary.categories[result.category] += 1
            if result.uncertain:
                summary.uncertain += 1
            else:
                summary.failing[result.category] += 1
    return summary
