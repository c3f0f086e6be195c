"""JSONL records: every bad line named by number and reason, outputs written whole."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from prtriage.core.errors import UsageError
from prtriage.core.jsonl import (
    BadLine,
    check_change_record,
    partition_bad,
    read_checked,
    read_jsonl,
    reason_counts,
    reason_key,
    report_skipped,
    skipped_summary,
    write_jsonl,
)


def test_read_jsonl_numbers_lines_and_names_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": 1}\n\nnot json\n[1, 2]\n  \n{"id": 2}\n', encoding="utf-8")
    got = list(read_jsonl(path))
    assert [n for n, _ in got] == [1, 3, 4, 6]  # blank lines are skipped, not counted as bad
    assert got[0][1] == {"id": 1} and got[3][1] == {"id": 2}
    assert str(got[1][1]).startswith(f"{path}:3: not JSON (")
    assert got[2][1] == BadLine(str(path), 4, "not a JSON object")


def test_read_jsonl_reads_gzip_and_reports_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl.gz"
    data = gzip.compress(b"".join(json.dumps({"id": i}).encode() + b"\n" for i in range(200)))
    path.write_bytes(data)
    assert [obj for _, obj in read_jsonl(path)] == [{"id": i} for i in range(200)]
    path.write_bytes(data[: len(data) // 2])
    got = list(read_jsonl(path))
    *good, (number, last) = got
    # The lines before the cut come through in order (the last may be cut mid-line), then the error.
    assert len(good) > 50 and [obj for _, obj in good[:-1]] == [{"id": i} for i in range(len(good) - 1)]
    assert number == -1 and isinstance(last, BadLine) and last.reason.startswith("cannot read further")


def test_read_jsonl_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="input file not found"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


def test_read_jsonl_replaces_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"title": "caf\xe9"}\n')
    assert list(read_jsonl(path)) == [(1, {"title": "caf\ufffd"})]


def test_read_checked_parses_good_lines_and_skips_the_rest_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"n": 1}\nnot json\n{"n": -2}\n\n[3]\n{"n": 4}\n', encoding="utf-8")

    def parse(obj: dict[str, int], number: int) -> tuple[int, int] | BadLine:
        return (number, obj["n"]) if obj["n"] > 0 else BadLine(str(path), number, "negative")

    skipped: list[BadLine] = []
    assert list(read_checked(path, parse, skipped.append)) == [(1, 1), (6, 4)]
    assert [(b.line, b.reason.split(" (")[0]) for b in skipped] == [
        (2, "not JSON"), (3, "negative"), (5, "not a JSON object"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"diff": "x"}, None),
        ({"diff": "x", "title": None, "body": None}, None),
        ({}, "'diff' missing or not a string"),
        ({"diff": 3}, "'diff' missing or not a string"),
        ({"diff": "x", "title": 1}, "'title' is not a string"),
        ({"diff": "x", "body": ["a"]}, "'body' is not a string"),
    ],
)
def test_check_change_record(record: dict[str, object], reason: str | None) -> None:
    bad = check_change_record(record, "r.jsonl", 7)
    assert bad == (None if reason is None else BadLine("r.jsonl", 7, reason))


def test_write_jsonl_writes_one_object_a_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, iter([{"title": "café"}, {"n": 2}])) == 2
    assert path.read_text(encoding="utf-8") == '{"title": "café"}\n{"n": 2}\n'  # not ASCII-escaped
    assert list(tmp_path.iterdir()) == [path]


def test_write_jsonl_interrupted_keeps_finished_lines_in_the_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")

    def objects():
        yield {"n": 1}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(path, objects())
    assert path.read_text() == "old\n"  # never half-written
    assert (tmp_path / "out.jsonl.partial").read_text() == '{"n": 1}\n'


def test_write_jsonl_to_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_jsonl(tmp_path / "no" / "out.jsonl", [{}])


def test_skipped_lines_are_counted_by_reason_without_particulars() -> None:
    assert reason_key("segment 3: 'text' missing or not a string") == "segment 'text' missing or not a string"
    assert reason_key("unknown category 'perf'") == "unknown category"
    assert reason_key("not JSON (Expecting value)") == "not JSON"
    lines = [
        BadLine("a", 1, "not JSON (x)"),
        BadLine("a", 2, "not JSON (y)"),
        BadLine("b", 1, "unknown category 'z'"),
    ]
    assert reason_counts(lines) == {"not JSON": 2, "unknown category": 1}
    assert skipped_summary(lines) == "skipped 3 lines: 2 not JSON, 1 unknown category"
    assert skipped_summary([]) == "no line skipped"


def test_report_skipped_lists_every_line_or_the_first_ones_and_counts_the_rest() -> None:
    bad = [BadLine("in.jsonl", n, "not JSON") for n in (2, 5, 9)]
    said: list[str] = []
    report_skipped(bad, said.append)
    assert said == [
        "skipped in.jsonl:2: not JSON",
        "skipped in.jsonl:5: not JSON",
        "skipped in.jsonl:9: not JSON",
    ]
    said.clear()
    report_skipped(bad, said.append, shown=1)
    assert said == ["skipped in.jsonl:2: not JSON", "... and 2 more bad lines"]
    said.clear()
    report_skipped(bad, said.append, shown=2, listed_in=Path("run/skipped.txt"))
    assert said[2:] == [f"... and 1 more bad lines, all in {Path('run/skipped.txt')}"]
    said.clear()
    report_skipped(bad, said.append, shown=3)
    assert len(said) == 3  # none left over: no count line


def test_partition_bad_keeps_the_order_of_each_side() -> None:
    bad = [BadLine("f", 2, "x"), BadLine("f", 4, "y")]
    assert partition_bad(["a", bad[0], "b", bad[1], "c"]) == (["a", "b", "c"], bad)
