"""The pre-pass over a batch input: each good record's key digest and line, the bad lines by number,
and duplicate ids refused before any work.

It streams the file once and keeps 16 bytes per record (two numpy columns), never a record: what
`--shard`, `--resume`, `merge` and the Ray job need to know which output line is which record.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prtriage.batching.shard import RecordId, ShardSpec, check_id, digest, record_id
from prtriage.core.errors import UsageError
from prtriage.core.jsonl import BadLine, check_change_record, read_jsonl


def record_problem(obj: dict[str, Any], path: str, number: int) -> BadLine | None:
    """Why a parsed line cannot be classified (no string diff, a bad title, body or id), or None."""
    return check_change_record(obj, path, number) or check_id(obj, path, number)


@dataclass(frozen=True)
class InputIndex:
    path: Path
    digests: np.ndarray  # uint64 key digests of the good records, sorted
    lines: np.ndarray  # int64 line number of each, aligned with `digests`
    bad: tuple[BadLine, ...]  # lines that are not good records, in file order
    last_line: int  # the highest line number read

    @property
    def count(self) -> int:
        return len(self.digests)

    def line_of(self, rid: RecordId) -> int | None:
        """The line of the good record with this id, or None when the input has none."""
        key = np.uint64(digest(rid))
        i = int(np.searchsorted(self.digests, key))
        return int(self.lines[i]) if i < len(self.digests) and self.digests[i] == key else None

    def lines_mask(self, shard: ShardSpec | None = None) -> np.ndarray:
        """A boolean per line number (0 .. last_line): True where a good record (of `shard`) is."""
        mask = np.zeros(self.last_line + 1, dtype=bool)
        keep = self.lines if shard is None else self.lines[self.digests % shard.n == shard.k - 1]
        mask[keep] = True
        return mask


def scan_input(path: Path) -> InputIndex:
    """Read every line once; a UsageError naming the lines if two records share an id."""
    digests, lines, bad, last = array("Q"), array("q"), [], 0
    for number, obj in read_jsonl(path):
        last = max(last, number)
        if isinstance(obj, BadLine):
            bad.append(obj)
            continue
        problem = record_problem(obj, str(path), number)
        if problem is not None:
            bad.append(problem)
            continue
        digests.append(digest(record_id(obj, number)))
        lines.append(number)
    keys = np.frombuffer(digests, dtype=np.uint64) if digests else np.zeros(0, dtype=np.uint64)
    numbers = np.frombuffer(lines, dtype=np.int64) if lines else np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, numbers = keys[order], numbers[order]
    repeats = np.flatnonzero(keys[1:] == keys[:-1])
    if repeats.size:
        _refuse_duplicates(path, numbers, repeats)
    return InputIndex(path, keys, numbers, tuple(bad), last)


def _refuse_duplicates(path: Path, numbers: np.ndarray, repeats: np.ndarray) -> None:
    """Name the first repeated id and both its lines (a second read, only when there is one)."""
    first, second = sorted((int(numbers[repeats[0]]), int(numbers[repeats[0] + 1])))
    ids = _ids_at(path, {first, second})
    more = f" ({repeats.size} repeated ids in all)" if repeats.size > 1 else ""
    hint = "ids must be unique: output lines are matched to records by id (--shard, --resume, merge)"
    if ids[first] == ids[second]:
        message = f"{path}: duplicate id {ids[first]!r} on lines {first} and {second}{more}"
    else:  # two ids with one 64-bit digest: about 1 in 10^9 for 100,000 ids
        message = f"{path}: ids {ids[first]!r} (line {first}) and {ids[second]!r} (line {second}) share a key digest"
    raise UsageError(message, hint=hint)


def _ids_at(path: Path, wanted: set[int]) -> dict[int, RecordId]:
    found: dict[int, RecordId] = {}
    for number, obj in read_jsonl(path):
        if number in wanted and isinstance(obj, dict):
            found[number] = record_id(obj, number)
            if len(found) == len(wanted):
                break
    return found
