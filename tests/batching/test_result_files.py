"""Result files (prtriage/batching/result_files.py): a torn last line dropped; merged in input order, each record once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prtriage.batching.input_index import scan_input
from prtriage.batching.result_files import drop_torn_tail, merge_results, read_results
from prtriage.core.errors import UsageError

DIFF = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"


def _lines(path: Path, objs: list[object]) -> Path:
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs))
    return path


@pytest.fixture
def records(tmp_path: Path) -> Path:
    # line 3 is bad, line 5 has no id (its id is 5)
    return _lines(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "diff": DIFF},
            {"id": "b", "diff": DIFF},
            "{bad",
            {"id": "d", "diff": DIFF},
            {"diff": DIFF},
        ],
    )


def test_a_torn_last_line_is_dropped_and_a_whole_file_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.partial"
    path.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "cat')
    assert drop_torn_tail(path) is True
    assert path.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    assert drop_torn_tail(path) is False and path.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    path.write_bytes(b'{"id": "torn before the first newline')
    assert drop_torn_tail(path) is True and path.read_bytes() == b""
    long = b'{"id": "a"}\n' + b"x" * 200_000  # back past more than one read chunk
    path.write_bytes(long)
    assert drop_torn_tail(path) and path.read_bytes() == b'{"id": "a"}\n'


def test_read_results_gives_offsets_and_names_a_line_that_is_not_a_result(tmp_path: Path) -> None:
    path = _lines(tmp_path / "r.jsonl", [{"id": "a"}, "", {"id": 5}])
    got = [(r.number, r.offset, r.rid) for r in read_results(path)]
    assert got == [(1, 0, "a"), (3, 13, 5)]
    _lines(path, [{"id": "a"}, {"category": "fix"}])
    with pytest.raises(UsageError, match=r"r.jsonl:2: a result line without the record's id"):
        list(read_results(path))
    _lines(path, [{"id": "a"}, '{"id": "b", "cat'])
    with pytest.raises(UsageError, match=r"r.jsonl:2: not a JSON result line"):
        list(read_results(path))


def test_shards_merge_in_input_order_byte_for_byte(tmp_path: Path, records: Path) -> None:
    one = _lines(tmp_path / "1.jsonl", [{"id": 5, "category": "docs"}, {"id": "a", "category": "fix"}])
    two = _lines(tmp_path / "2.jsonl", [{"id": "d", "category": "ci"}, {"id": "b", "category": "perf"}])
    index = scan_input(records)
    out = tmp_path / "all.jsonl"
    assert merge_results(index, [one, two], out, expected=index.lines_mask()) == 4
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b", "d", 5]
    assert out.read_text().splitlines()[0] == json.dumps({"id": "a", "category": "fix"})
    assert list(tmp_path.glob(".*.tmp")) == []


def test_overlaps_strangers_and_gaps_are_refused_before_the_output_is_written(
    tmp_path: Path, records: Path
) -> None:
    index, out = scan_input(records), tmp_path / "all.jsonl"
    one = _lines(tmp_path / "1.jsonl", [{"id": "a"}, {"id": "b"}])
    two = _lines(tmp_path / "2.jsonl", [{"id": "d"}, {"id": 5}, {"id": "b"}])
    with pytest.raises(UsageError, match=r"id 'b' is in both .*1.jsonl and .*2.jsonl") as e:
        merge_results(index, [one, two], out, expected=index.lines_mask())
    assert e.value.hint and "same N" in e.value.hint
    _lines(two, [{"id": "d"}, {"id": "d"}])
    with pytest.raises(UsageError, match=r"id 'd' is twice in .*2.jsonl"):
        merge_results(index, [one, two], out)
    _lines(two, [{"id": "d"}, {"id": "zz"}])
    with pytest.raises(UsageError, match=r"2.jsonl:2: id 'zz' is not a record of"):
        merge_results(index, [one, two], out)
    _lines(two, [{"id": "d"}])
    with pytest.raises(UsageError, match=r"1 records of .*in.jsonl are in none of the files \(lines 5\)"):
        merge_results(index, [one, two], out, expected=index.lines_mask())
    assert not out.exists() and list(tmp_path.glob(".*.tmp")) == []
    assert merge_results(index, [one, two], out) == 3  # without `expected`: what there is, in order
