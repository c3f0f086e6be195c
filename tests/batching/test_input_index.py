"""The batch pre-pass (prtriage/batching/input_index.py): bad lines by number, ids indexed, duplicates refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prtriage.batching.input_index import scan_input
from prtriage.batching.shard import ShardSpec, digest
from prtriage.core.errors import UsageError

DIFF = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def test_good_records_are_indexed_by_id_and_bad_lines_named(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [{"id": "a", "diff": DIFF}, "{oops", "", {"diff": DIFF}, {"id": 2.5, "diff": DIFF}, {"id": "b"}],
    )
    index = scan_input(src)
    assert index.count == 2 and index.last_line == 6
    assert index.line_of("a") == 1 and index.line_of(4) == 4  # no id: the line number is its id
    assert index.line_of("b") is None and index.line_of("zzz") is None
    assert [(b.line, b.reason.split(" (")[0]) for b in index.bad] == [
        (2, "not JSON"), (5, "'id' is not a string or an integer"), (6, "'diff' missing or not a string"),
    ]  # fmt: skip
    assert index.lines_mask().nonzero()[0].tolist() == [1, 4]


def test_the_shard_mask_holds_the_lines_of_the_shard_records(tmp_path: Path) -> None:
    ids = [f"r{i}" for i in range(40)]
    index = scan_input(_write(tmp_path / "in.jsonl", [{"id": i, "diff": DIFF} for i in ids]))
    for k in (1, 2, 3):
        shard = ShardSpec(k, 3)
        lines = index.lines_mask(shard).nonzero()[0].tolist()
        assert lines == [n for n, i in enumerate(ids, 1) if shard.takes(digest(i))]


def test_a_duplicate_id_is_refused_naming_both_lines(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [{"id": "a", "diff": DIFF}, {"id": "b", "diff": DIFF}, {"id": "a", "diff": DIFF}],
    )
    with pytest.raises(UsageError, match=r"duplicate id 'a' on lines 1 and 3"):
        scan_input(src)


def test_an_id_equal_to_the_line_number_of_a_record_without_id_is_a_duplicate(tmp_path: Path) -> None:
    # Both output lines would carry "id": 1: one key, so one of them could never be resumed or merged.
    src = _write(tmp_path / "in.jsonl", [{"diff": DIFF}, {"id": 1, "diff": DIFF}])
    with pytest.raises(UsageError, match=r"duplicate id 1 on lines 1 and 2"):
        scan_input(src)
    assert scan_input(_write(tmp_path / "ok.jsonl", [{"diff": DIFF}, {"id": "1", "diff": DIFF}])).count == 2
