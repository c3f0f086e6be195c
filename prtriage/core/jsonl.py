"""JSONL change records (plain or .gz): read line by line, every bad line reported by number; written whole."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from prtriage.core.atomic import atomic_output
from prtriage.core.errors import UsageError

T = TypeVar("T")
SHOWN_SKIPPED = 20  # skipped lines printed where a command lists only the first ones


@dataclass(frozen=True)
class BadLine:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def open_text(path: Path) -> IO[str]:
    if not path.is_file():
        raise UsageError(f"input file not found: {path}")
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
        return path.open(encoding="utf-8", errors="replace")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """(line number, object) for each non-blank line, or a BadLine saying what is wrong with it."""
    with open_text(path) as f:
        try:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    yield number, BadLine(str(path), number, f"not JSON ({e.msg})")
                    continue
                if not isinstance(obj, dict):
                    yield number, BadLine(str(path), number, "not a JSON object")
                    continue
                yield number, obj
        except (OSError, EOFError) as e:  # a truncated .gz fails here, after its good lines
            yield -1, BadLine(str(path), -1, f"cannot read further: {e}")


def read_checked(
    path: Path, parse: Callable[[dict[str, Any], int], T | BadLine], skip: Callable[[BadLine], object]
) -> Iterator[T]:
    """Each good line of a JSONL file as `parse` makes it (from the object and its line number).

    Every bad line, not a JSON object or refused by `parse` (a BadLine), goes to `skip` instead,
    as it is met: callers keep one list of skipped lines in file order.
    """
    for number, obj in read_jsonl(path):
        item = obj if isinstance(obj, BadLine) else parse(obj, number)
        if isinstance(item, BadLine):
            skip(item)
        else:
            yield item


def partition_bad(items: Iterable[T | BadLine]) -> tuple[list[T], list[BadLine]]:
    """The good items and the BadLines among `items`, each list in the order given."""
    good: list[T] = []
    bad: list[BadLine] = []
    for item in items:
        if isinstance(item, BadLine):
            bad.append(item)
        else:
            good.append(item)
    return good, bad


def check_change_record(obj: dict[str, Any], path: str, number: int) -> BadLine | None:
    """A record to classify needs a string `diff`; `title` and `body` may be missing or null."""
    if not isinstance(obj.get("diff"), str):
        return BadLine(path, number, "'diff' missing or not a string")
    for key in ("title", "body"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return BadLine(path, number, f"'{key}' is not a string")
    return None


def reason_key(reason: str) -> str:
    """The reason without its particulars (segment number, category name, parser detail), for counting."""
    reason = re.sub(r"^segment \d+: ", "segment ", reason)
    return re.sub(r" \([^()]*\)$| '[^']*'$", "", reason)


def reason_counts(skipped: Sequence[BadLine]) -> Counter[str]:
    return Counter(reason_key(b.reason) for b in skipped)


def skipped_summary(skipped: Sequence[BadLine]) -> str:
    """How many lines were skipped, counted by reason, most common first."""
    if not skipped:
        return "no line skipped"
    parts = ", ".join(f"{n} {reason}" for reason, n in reason_counts(skipped).most_common())
    return f"skipped {len(skipped)} lines: {parts}"


def report_skipped(
    skipped: Sequence[BadLine], say: Callable[[str], object], shown: int | None = None,
    listed_in: Path | None = None,
) -> None:  # fmt: skip
    """Each skipped line as `skipped FILE:LINE: reason`: every one, or the first `shown` and a
    count of the rest (and the file that lists them all, where there is one)."""
    for bad in skipped[:shown]:
        say(f"skipped {bad}")
    if shown is not None and len(skipped) > shown:
        say(f"... and {len(skipped) - shown} more bad lines" + (f", all in {listed_in}" if listed_in else ""))


def write_jsonl(path: Path, objects: Iterable[Any]) -> int:
    """Each object as one line of JSON, through `atomic_output`; returns how many were written.

    Lines are flushed as they go: an interrupted run leaves the finished ones in `path.partial`.
    """
    count = 0
    with atomic_output(path) as out:
        for obj in objects:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
            count += 1
    return count
