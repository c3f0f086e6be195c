"""Batch result files (one JSON line per classified record): read back by id after a kill, and
merged in input order with every record at most once.

`classify --input` appends each result as one line and flushes it, so a `kill -9` can leave only
one thing behind that is not a whole result: a last line without its newline. `drop_torn_tail`
cuts it; `read_results` refuses anything else that is not a result line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prtriage.batching.input_index import InputIndex
from prtriage.batching.shard import RecordId
from prtriage.core.atomic import atomic_path
from prtriage.core.errors import UsageError

_CHUNK = 1 << 16


def drop_torn_tail(path: Path) -> bool:
    """Cut a last line that has no newline (a write a kill interrupted); True when one was cut."""
    with path.open("rb+") as f:
        end = f.seek(0, 2)
        if end == 0:
            return False
        f.seek(end - 1)
        if f.read(1) == b"\n":
            return False
        pos = end
        while pos > 0:  # back to the last newline, a chunk at a time
            start = max(0, pos - _CHUNK)
            f.seek(start)
            cut = f.read(pos - start).rfind(b"\n")
            if cut >= 0:
                f.truncate(start + cut + 1)
                return True
            pos = start
        f.truncate(0)
        return True


@dataclass(frozen=True)
class ResultLine:
    path: Path
    number: int  # line number in the result file
    offset: int  # byte offset of the line
    rid: RecordId
    obj: dict[str, Any]


def read_results(path: Path) -> Iterator[ResultLine]:
    """Each result line with its offset; a UsageError names a line that is not a result."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    with f:
        offset = 0
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield ResultLine(path, number, offset, *_parse_result(path, number, raw))
            offset += len(raw)


def _parse_result(path: Path, number: int, raw: bytes) -> tuple[RecordId, dict[str, Any]]:
    hint = "give the output files of `classify --input` (a .partial file: resume it first)"
    try:
        obj = json.loads(raw)
    except ValueError:
        raise UsageError(f"{path}:{number}: not a JSON result line", hint=hint) from None
    rid = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        raise UsageError(f"{path}:{number}: a result line without the record's id", hint=hint)
    return rid, obj


def merge_results(
    index: InputIndex, sources: Sequence[Path], output: Path, expected: np.ndarray | None = None
) -> int:
    """Write the result lines of `sources` to `output` in input order; returns how many.

    Refused, before `output` is touched: a result whose id is not a record of the input, a record
    in two places (overlapping shards), and with `expected` (a bool per input line) a record
    expected but in no source (a missing or unfinished shard).
    """
    where = np.full(index.last_line + 1, -1, dtype=np.int32)  # which source holds each line
    offsets = np.zeros(index.last_line + 1, dtype=np.int64)
    for s, path in enumerate(sources):
        for result in read_results(path):
            line = index.line_of(result.rid)
            if line is None:
                raise UsageError(
                    f"{path}:{result.number}: id {result.rid!r} is not a record of {index.path}",
                    hint="merge the outputs of runs over this same input",
                )
            if where[line] >= 0:
                raise _overlap(result, sources[where[line]])
            where[line], offsets[line] = s, result.offset
    if expected is not None:
        _refuse_gaps(index, expected & (where < 0))
    lines = np.flatnonzero(where >= 0)  # ascending: the input's order
    handles = [p.open("rb") for p in sources]
    try:
        with atomic_path(output, per_process=True) as tmp, tmp.open("wb") as out:
            for line in lines.tolist():
                f = handles[int(where[line])]
                f.seek(int(offsets[line]))
                raw = f.readline()
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
    finally:
        for f in handles:
            f.close()
    return len(lines)


def _overlap(result: ResultLine, other: Path) -> UsageError:
    where = f"twice in {other}" if other == result.path else f"in both {other} and {result.path}"
    return UsageError(
        f"id {result.rid!r} is {where}",
        hint="each record must come from one shard: were all shards made with the same N and input?",
    )


def _refuse_gaps(index: InputIndex, missing_mask: np.ndarray) -> None:
    missing = np.flatnonzero(missing_mask)
    if not missing.size:
        return
    more = f" and {missing.size - 5} more" if missing.size > 5 else ""
    shown = ", ".join(str(n) for n in missing[:5]) + more
    raise UsageError(
        f"{missing.size} records of {index.path} are in none of the files (lines {shown})",
        hint="a shard is missing or unfinished: run it (--resume finishes it) and merge again",
    )
