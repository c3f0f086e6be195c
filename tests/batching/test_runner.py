"""Batch classification of change records, with a fake engine: every record answered or named."""

from __future__ import annotations

import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeEngine
from rich.console import Console

from prtriage.batching.runner import BatchSummary, plan_batch, run_batch
from prtriage.batching.shard import ShardSpec, digest
from prtriage.core.errors import UsageError
from prtriage.core.settings import Settings

DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,3 @@\n def div(a, b):\n+    assert b\n     return a / b\n"
)
SCORES = {"fix": math.log(0.6), "feature": math.log(0.35)}


def _write(path: Path, lines: list[Any]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _run(
    src: Path, engine: FakeEngine, settings: Settings | None = None, shard: ShardSpec | None = None,
    resume: bool = False,
) -> tuple[BatchSummary, list[dict[str, Any]]]:  # fmt: skip
    out = src.with_name("out.jsonl")
    plan = plan_batch(src, shard)
    summary = run_batch(
        plan, out, resume, lambda: engine, settings or Settings(), Console(file=io.StringIO())
    )
    return summary, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_each_good_record_gives_one_line_and_each_bad_one_a_reason(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "title": "Guard against zero", "body": None, "diff": DIFF},  # 1
            "not json",  # 2
            {"title": "no diff"},  # 3
            {"diff": DIFF, "title": 5},  # 4
            {"title": "No id", "diff": DIFF},  # 5
        ],
    )
    summary, lines = _run(src, FakeEngine(SCORES))
    assert [line["id"] for line in lines] == ["a", 5]  # a record without id is named by its line
    assert [line["source"] for line in lines] == ["in.jsonl:1", "in.jsonl:5"]
    assert lines[0]["category"] == "fix" and lines[0]["reasoning"]
    assert set(lines[0]) >= {"confidence", "probabilities", "files", "prompt_tokens", "timings"}
    assert summary.classified == 2 and summary.categories == {"fix": 2} and summary.failing == {"fix": 2}
    assert [(b.line, b.reason.split(" (")[0]) for b in summary.bad] == [
        (2, "not JSON"),
        (3, "'diff' missing or not a string"),
        (4, "'title' is not a string"),
    ]
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_a_record_the_model_fails_on_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [{"id": 1, "title": "boom", "diff": DIFF}, {"id": 2, "title": "fine", "diff": DIFF}],
    )
    summary, lines = _run(src, FakeEngine(SCORES, fail_on="boom"))
    assert [line["id"] for line in lines] == [2]
    assert [(b.line, b.reason) for b in summary.bad] == [(1, "cannot score a prompt with 'boom'")]


def test_uncertain_results_are_counted_apart_from_failing_ones(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": 1, "title": "t", "diff": DIFF}])
    summary, lines = _run(src, FakeEngine(SCORES), Settings(min_confidence=0.9))
    assert lines[0]["uncertain"] is True
    assert summary.uncertain == 1 and summary.failing == {} and summary.categories == {"fix": 1}


def test_gzip_input_and_exclusions(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl.gz", [{"id": 1, "title": "t", "diff": DIFF}])
    summary, lines = _run(src, FakeEngine(SCORES), Settings(exclude=("src/*",)))
    assert summary.classified == 1
    assert lines[0]["files"][0]["reason"] == "excluded by config"


def test_the_progress_line_ends_at_every_planned_record(tmp_path: Path) -> None:
    # Bad lines are found by the pre-pass and not planned: the line must still reach 100%.
    src = _write(
        tmp_path / "in.jsonl", [{"id": 1, "diff": DIFF}, "not json", {"id": 3}, {"id": 4, "diff": DIFF}]
    )
    err = io.StringIO()
    run_batch(plan_batch(src), tmp_path / "out.jsonl", False, lambda: FakeEngine(SCORES), Settings(),
              Console(file=err, width=200))  # fmt: skip
    assert err.getvalue().splitlines()[-1].startswith("classifying: 2/2 records (100%)")


def _records(path: Path, n: int, **extra: Any) -> Path:
    return _write(path, [{"id": f"r{i}", "title": f"t{i}", "diff": DIFF, **extra} for i in range(1, n + 1)])


def test_shards_cover_every_record_once_whatever_the_input_order(tmp_path: Path) -> None:
    records = [{"id": f"r{i}", "title": "t", "diff": DIFF} for i in range(30)] + [
        {"title": "no id", "diff": DIFF}
    ]
    taken: dict[str, list[object]] = {}
    for name, order in (("in.jsonl", records), ("rev.jsonl", records[::-1])):
        src = _write(tmp_path / name, order)
        ids: list[object] = []
        for k in (1, 2, 3):
            _, lines = _run(src, FakeEngine(SCORES), shard=ShardSpec(k, 3))
            src.with_name("out.jsonl").unlink()
            ids += [line["id"] for line in lines]
            taken.setdefault(f"{name}:{k}", [line["id"] for line in lines])
        assert sorted(map(str, ids)) == sorted(
            [f"r{i}" for i in range(30)] + ["31" if name == "in.jsonl" else "1"]
        )
    for k in (1, 2, 3):  # the same ids in each shard, whichever order (the id-less record aside)
        assert {i for i in taken[f"in.jsonl:{k}"] if isinstance(i, str)} == {
            i for i in taken[f"rev.jsonl:{k}"] if isinstance(i, str)
        }


def test_a_duplicate_id_is_an_error_before_the_model_loads(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": "a", "diff": DIFF}, "{bad", {"id": "a", "diff": DIFF}])
    with pytest.raises(UsageError, match="duplicate id 'a' on lines 1 and 3"):
        plan_batch(src)


def test_resume_drops_the_torn_line_skips_what_is_done_and_renames_when_complete(tmp_path: Path) -> None:
    src = _records(tmp_path / "in.jsonl", 6)
    out = tmp_path / "out.jsonl"
    _run(src, FakeEngine(SCORES))
    whole = out.read_text().splitlines(True)
    out.unlink()
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("".join(whole[:3]) + whole[3][:40])  # killed while writing the 4th
    engine = FakeEngine(SCORES)
    summary, lines = _run(src, engine, resume=True)
    assert [line["id"] for line in lines] == [f"r{i}" for i in range(1, 7)]
    assert out.read_text().splitlines(True)[:3] == whole[:3]  # kept byte for byte
    assert engine.scored == 3 and summary.classified == 6 and summary.resumed == 3
    assert not partial.exists()


def test_a_leftover_partial_is_never_overwritten_without_resume(tmp_path: Path) -> None:
    src = _records(tmp_path / "in.jsonl", 2)
    (tmp_path / "out.jsonl.partial").write_text(json.dumps({"id": "r1", "category": "fix"}) + "\n")
    with pytest.raises(UsageError, match="holds the results of an interrupted run") as e:
        _run(src, FakeEngine(SCORES))
    assert e.value.hint and "--resume" in e.value.hint
    assert (tmp_path / "out.jsonl.partial").read_text().startswith('{"id": "r1"')


def test_resume_of_a_complete_output_retries_the_records_that_failed_and_keeps_input_order(
    tmp_path: Path,
) -> None:
    src = _write(
        tmp_path / "in.jsonl", [{"id": i, "title": t, "diff": DIFF} for i, t in enumerate(["a", "boom", "c"])]
    )
    summary, lines = _run(src, FakeEngine(SCORES, fail_on="boom"))
    assert [line["id"] for line in lines] == [0, 2] and [b.line for b in summary.bad] == [2]
    engine = FakeEngine(SCORES)
    summary, lines = _run(src, engine, resume=True)
    assert [line["id"] for line in lines] == [0, 1, 2] and engine.scored == 1
    assert summary.classified == 3 and summary.resumed == 2 and not summary.bad


def test_resume_refuses_results_of_another_input_or_shard(tmp_path: Path) -> None:
    src = _records(tmp_path / "in.jsonl", 8)
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text(json.dumps({"id": "elsewhere", "category": "fix"}) + "\n")
    with pytest.raises(UsageError, match=r"out.jsonl.partial:1: id 'elsewhere' is not a record of"):
        _run(src, FakeEngine(SCORES), resume=True)
    shard = ShardSpec(1, 2)
    other = next(f"r{i}" for i in range(1, 9) if not shard.takes(digest(f"r{i}")))
    partial.write_text(json.dumps({"id": other, "category": "fix"}) + "\n")
    with pytest.raises(UsageError, match=rf"id '{other}' is not in shard 1/2 of"):
        _run(src, FakeEngine(SCORES), shard=shard, resume=True)


def test_nothing_left_to_do_never_loads_the_model(tmp_path: Path) -> None:
    src = _records(tmp_path / "in.jsonl", 2)
    _run(src, FakeEngine(SCORES))

    def refuse() -> FakeEngine:
        raise AssertionError("the model was loaded")

    out = tmp_path / "out.jsonl"
    summary = run_batch(plan_batch(src), out, True, refuse, Settings(), Console(file=io.StringIO()))
    assert summary.classified == 2 and summary.resumed == 2 and len(out.read_text().splitlines()) == 2


def test_the_shards_of_a_ray_run_are_not_resumed_without_ray(tmp_path: Path) -> None:
    src = _records(tmp_path / "in.jsonl", 2)
    (tmp_path / "out.jsonl.shards").mkdir()
    (tmp_path / "out.jsonl.shards" / "part-00001.jsonl").write_text(json.dumps({"id": "r1"}) + "\n")
    with pytest.raises(UsageError, match="holds the results of a --ray run"):
        _run(src, FakeEngine(SCORES), resume=True)
