"""`classify --input` (prtriage/commands/batch.py) with a fake engine: records in, JSON lines out."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine

from prtriage.commands.batch import BatchOptions, run
from prtriage.core.errors import EXIT_CANNOT_TRIAGE, EXIT_FAIL_ON, EXIT_OK, UsageError
from prtriage.core.settings import Settings

TESTS = Path(__file__).resolve().parents[1]  # where fake_engine.py is, for PRTRIAGE_ENGINE
FIX_DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,3 @@\n def div(a, b):\n+    assert b\n     return a / b\n"
)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a1", "title": "Zero", "diff": FIX_DIFF}), "{not json",
             json.dumps({"id": "b2", "diff": FIX_DIFF})]  # fmt: skip
    src.write_text("\n".join(lines) + "\n")
    return src


def batch(tmp_path: Path, src: Path, *args: str) -> int:
    return run_main(
        "classify", "-C", str(tmp_path), "--input", str(src), "--output", str(tmp_path / "out.jsonl"), *args
    )


def test_each_good_record_is_one_line_and_bad_ones_are_named(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))
    assert batch(tmp_path, records) == EXIT_OK
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["id"], r["category"], r["confidence"]) for r in lines] == [
        ("a1", "docs", 0.7),
        ("b2", "docs", 0.7),
    ]
    err = capsys.readouterr().err
    assert "in.jsonl:2: not JSON" in err and "classified 2 records, skipped 1; docs 2" in err
    assert engine.scored == 2


def test_fail_on_exits_1_without_naming_the_category(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.9))
    assert batch(tmp_path, records, "--fail-on", "fix") == EXIT_FAIL_ON
    assert "is in fail-on" not in capsys.readouterr().err  # as before: the summary line says enough
    assert batch(tmp_path, records, "--fail-on", "docs") == EXIT_OK


def test_uncertain_results_do_not_fail(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.6))
    assert batch(tmp_path, records, "--fail-on", "fix", "--min-confidence", "0.9") == EXIT_OK
    assert "2 results were uncertain (below min-confidence)" in capsys.readouterr().err


def test_nothing_classifiable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering())
    src = tmp_path / "bad.jsonl"
    src.write_text("{not json\n")
    assert batch(tmp_path, src) == 2
    assert "no record in" in capsys.readouterr().err


def test_a_missing_input_fails_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering())
    with pytest.raises(UsageError, match="input file not found"):
        run(BatchOptions(tmp_path / "missing.jsonl", tmp_path / "out.jsonl", Settings()))
    assert engine.opened == 0 and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--shard", "1/2"), "--shard goes with --input"),
        (("--resume",), "--resume goes with --input"),
        (("--ray",), "--ray goes with --input"),
        (
            ("--input", "in.jsonl", "--output", "o.jsonl", "--ray-address", "auto"),
            "--ray-address goes with --ray",
        ),
        (("--input", "in.jsonl", "--output", "o.jsonl", "--ray-actors", "2"), "--ray-actors goes with --ray"),
        (
            ("--input", "in.jsonl", "--output", "o.jsonl", "--shard", "3/2"),
            "--shard 3/2: K must be from 1 to N",
        ),
    ],
)
def test_batch_flags_that_cannot_apply_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    engine = use_fake_engine(monkeypatch, FakeEngine.answering())
    monkeypatch.chdir(tmp_path)
    assert run_main("classify", *args) == 2
    assert message in capsys.readouterr().err and engine.opened == 0


def test_shards_then_merge_give_what_one_run_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"pr-{i}", "title": f"Change {i}", "diff": FIX_DIFF}) for i in range(12)]
    src.write_text("\n".join([*lines[:5], "{not json", *lines[5:]]) + "\n")
    shards = [tmp_path / f"out-{k}.jsonl" for k in (1, 2, 3)]
    for k, out in enumerate(shards, 1):
        assert run_main("classify", "--input", str(src), "--output", str(out), "--shard", f"{k}/3") == EXIT_OK
    merged = tmp_path / "merged.jsonl"
    assert run_main("merge", "--input", str(src), "-o", str(merged), *map(str, shards)) == EXIT_OK
    assert "merged 12 results from 3 files" in capsys.readouterr().err
    assert batch(tmp_path, src) == EXIT_OK  # the same input in one run
    one = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    both = [json.loads(line) for line in merged.read_text().splitlines()]
    assert [r["id"] for r in both] == [r["id"] for r in one] == [f"pr-{i}" for i in range(12)]
    assert [(r["category"], r["source"]) for r in both] == [(r["category"], r["source"]) for r in one]
    # A shard missing: refused, naming the gap; the merged file is not written.
    assert run_main("merge", "--input", str(src), "-o", str(tmp_path / "m2.jsonl"), str(shards[0])) == 2
    assert "are in none of the files" in capsys.readouterr().err and not (tmp_path / "m2.jsonl").exists()


def test_resume_from_the_command_line(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))
    (tmp_path / "out.jsonl.partial").write_text(json.dumps({"id": "a1", "category": "docs"}) + "\n")
    assert batch(tmp_path, records) == 2
    assert "holds the results of an interrupted run" in capsys.readouterr().err
    assert batch(tmp_path, records, "--resume") == EXIT_OK
    err = capsys.readouterr().err
    assert "resuming: 1 records already in" in err and "classified 2 records (1 resumed), skipped 1" in err
    assert engine.scored == 1
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        "a1",
        "b2",
    ]


def _resume_run(tmp_path: Path, n: int, **fake: str) -> tuple[list[str], dict[str, str], Path]:
    """`prtriage classify --input --output --resume` on n records, as a real process would run it:
    the command, its environment (the fake engine through PRTRIAGE_ENGINE, FAKE_ENGINE_* from
    `fake`) and the output path."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"pr-{i}", "title": "t", "diff": FIX_DIFF}) + "\n" for i in range(n))
    )
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "PRTRIAGE_ENGINE": "fake_engine:factory", **{f"FAKE_ENGINE_{k.upper()}": v for k, v in fake.items()},
    }  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "prtriage",
        "classify",
        "--input",
        str(src),
        "--output",
        str(out),
        "--resume",
    ]
    return command, env, out


def test_kill_9_at_any_moment_loses_at_most_the_record_in_flight_and_never_duplicates(tmp_path: Path) -> None:
    """A real `prtriage classify --input --resume` process, killed three times mid-run, then finished."""
    n, log = 60, tmp_path / "scored.log"
    command, env, out = _resume_run(tmp_path, n, delay="0.02", log=str(log))
    partial = tmp_path / "out.jsonl.partial"
    rng, kept, kills = random.Random(7), 0, 0
    for _ in range(3):
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while proc.poll() is None and _complete_lines(partial) <= kept + 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))  # any moment: between records, inside one, inside a write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists(), "the run finished before the kill: slow the fake engine down"
        kills += 1
        now = _complete_lines(partial)
        assert now >= kept  # finished work is never lost
        kept = now
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {kept} records already in" in done.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [f"pr-{i}" for i in range(n)]  # every record once, in input order
    assert n <= log.stat().st_size <= n + kills  # each kill cost at most the record in flight
    assert not partial.exists()


def _complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_reasoning_tokens_0_generates_nothing_and_every_line_still_explains(
    tmp_path: Path, records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))
    monkeypatch.setenv("PRTRIAGE_REASONING", "model")  # the model would write, but may not
    assert batch(tmp_path, records, "--reasoning-tokens", "0") == EXIT_OK
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all("Chosen over" in line["reasoning"] for line in lines)
    assert {call.max_tokens for call in engine.calls if not call.candidates} == {0}


def test_failed_records_exit_3_and_say_how_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose records failed exited 0, as if all were classified."""
    use_fake_engine(monkeypatch, FakeEngine(FakeEngine.answering("docs", 0.7).scores, fail_on="boom"))
    src = tmp_path / "in.jsonl"
    titles = ["one", "boom", "three", "boom again"]
    src.write_text("".join(json.dumps({"id": t, "title": t, "diff": FIX_DIFF}) + "\n" for t in titles))
    assert batch(tmp_path, src) == EXIT_CANNOT_TRIAGE
    err = capsys.readouterr().err
    assert "2 records failed (named above) and are not in the output: --resume retries them" in err
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        "one",
        "three",
    ]


def test_a_bug_on_one_record_is_recorded_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An exception that is no PrtriageError ended the run at that record, and --resume replayed it."""
    from prtriage.batching import runner
    from prtriage.pipeline import triage

    use_fake_engine(monkeypatch, FakeEngine.answering("docs", 0.7))

    def classify(change: Any, engine: Any, settings: Settings) -> Any:
        if change.title == "crash":
            raise KeyError("a bug")
        return triage.classify(change, engine, settings)

    monkeypatch.setattr(runner, "classify", classify)
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": t, "title": t, "diff": FIX_DIFF}) + "\n" for t in ("a", "crash", "b"))
    )
    assert batch(tmp_path, src) == EXIT_CANNOT_TRIAGE
    err = capsys.readouterr().err
    assert "in.jsonl:2: internal error: KeyError: 'a bug'" in err and "1 records failed" in err
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        "a",
        "b",
    ]
    monkeypatch.setattr(runner, "classify", triage.classify)  # the bug fixed: --resume does the rest
    assert batch(tmp_path, src, "--resume") == EXIT_OK
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        "a",
        "crash",
        "b",
    ]


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    """Two `--resume` runs on one output appended to the same journal, interleaved."""
    n = 40
    command, env, out = _resume_run(tmp_path, n, delay="0.05")
    partial = tmp_path / "out.jsonl.partial"
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _complete_lines(partial) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert first.poll() is None, "the first run ended before the second began: slow the fake engine down"
    assert second.returncode == 2, second.stderr
    assert f"prtriage: error: another run is writing {out}" in second.stderr
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [f"pr-{i}" for i in range(n)]  # each once, in order
    assert not (tmp_path / "out.jsonl.lock").exists()
