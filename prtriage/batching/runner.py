"""Classify many change records in one process, reusing the model and the shared prompt prefix.

A run is planned before the model loads (`plan_batch`): the pre-pass indexes the input (bad lines
by number, duplicate ids refused), `--shard K/N` picks its records, and `resume_from` marks the
ones a previous run already wrote. Results are appended to `OUTPUT.partial` one flushed line at a
time and renamed to OUTPUT when every record is done; memory stays flat whatever the input size
(the index keeps 16 bytes per record). The Ray job (ray_runner.py) plans and classifies the same way.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from rich.console import Console

from prtriage.batching.input_index import InputIndex, scan_input
from prtriage.batching.result_files import drop_torn_tail, merge_results, read_results
from prtriage.batching.shard import ShardSpec, record_id
from prtriage.core.atomic import partial_path
from prtriage.core.errors import PrtriageError, UsageError
from prtriage.core.escape import one_line
from prtriage.core.jsonl import BadLine, read_jsonl
from prtriage.core.progress import ProgressLine
from prtriage.core.settings import Settings
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.engine import Engine
from prtriage.pipeline.triage import classify

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


@dataclass
class BatchSummary:
    classified: int = 0  # results in the output, resumed ones included
    resumed: int = 0  # of which a previous run wrote
    bad: list[BadLine] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    failing: Counter[str] = field(default_factory=Counter)  # categories of the results not uncertain
    uncertain: int = 0
    planted: int = 0  # results whose change holds text addressed to the classifier
    failed: int = 0  # records classifying failed on in this run (in `bad` too): not in the output

    def add(self, result: dict[str, Any]) -> None:
        """Count one output object (its `category`, `uncertain` and `planted`)."""
        self.classified += 1
        self.categories[result["category"]] += 1
        self.planted += bool(result.get("planted"))
        if result.get("uncertain"):
            self.uncertain += 1
        else:
            self.failing[result["category"]] += 1


@dataclass
class Plan:
    """What a run does: the input's index, which lines it classifies, what it resumed."""

    index: InputIndex
    shard: ShardSpec | None
    expected: np.ndarray  # bool per input line: a good record of this shard
    todo: np.ndarray  # bool per input line: expected and not yet in the output
    failed: np.ndarray  # bool per input line: the model failed on it in this run
    summary: BatchSummary
    last_written: int = 0  # the highest input line in the output so far
    in_order: bool = True  # whether the output's lines are in input order so far

    @property
    def input(self) -> Path:
        return self.index.path

    @property
    def remaining(self) -> int:
        return int(self.todo.sum())

    def wants(self, number: int) -> bool:
        return 0 < number < len(self.todo) and bool(self.todo[number])

    def fail(self, number: int, reason: str) -> None:
        """The model failed on this record: reported, and not tried again in this run."""
        self.summary.bad.append(BadLine(str(self.input), number, reason))
        self.summary.failed += 1
        self.todo[number], self.failed[number] = False, True

    def written(self, number: int) -> None:
        self.todo[number] = False
        self.in_order = self.in_order and number > self.last_written
        self.last_written = max(self.last_written, number)


def plan_batch(input_path: Path, shard: ShardSpec | None = None) -> Plan:
    """The pre-pass: a UsageError for duplicate ids (or an unreadable input) before any work."""
    index = scan_input(input_path)
    expected = index.lines_mask(shard)
    failed = np.zeros_like(expected)
    return Plan(index, shard, expected, expected.copy(), failed, BatchSummary(bad=list(index.bad)))


def resume_from(plan: Plan, paths: Sequence[Path]) -> None:
    """Mark the records these result files hold as done; refuse one that is not this run's."""
    for path in paths:
        for result in read_results(path):
            number = plan.index.line_of(result.rid)
            where = f"{path}:{result.number}: id {result.rid!r}"
            if number is None or not plan.expected[number]:
                part = f" in shard {plan.shard} of" if plan.shard else " a record of"
                raise UsageError(
                    f"{where} is not{part} {plan.input}",
                    hint="resume with the input and --shard of the run that wrote it",
                )
            if not plan.todo[number]:
                raise UsageError(f"{where} is there twice", hint="delete it and start the run again")
            plan.written(number)
            plan.summary.add(result.obj)
            plan.summary.resumed += 1


def shards_folder(output: Path) -> Path:
    """Where a --ray run keeps its results until they are merged into OUTPUT (ray_runner.py)."""
    return output.with_name(output.name + ".shards")


def journal_for(output: Path, resume: bool) -> tuple[Path, list[Path]]:
    """`OUTPUT.partial`, which results are appended to, and the files to resume from.

    Without --resume a leftover partial is refused (it holds finished work); with it, a torn last
    line is dropped, or a complete OUTPUT is copied there to retry the records it lacks.
    """
    journal = partial_path(output)
    shards = shards_folder(output)
    if shards.is_dir() and any(shards.iterdir()):
        raise UsageError(
            f"{shards} holds the results of a --ray run", hint="resume it with --ray, or delete it"
        )
    if journal.exists():
        if not resume:
            raise UsageError(
                f"{journal} holds the results of an interrupted run",
                hint="add --resume to continue it, or delete it to start over",
            )
        drop_torn_tail(journal)
        return journal, [journal]
    if resume and output.is_file():
        shutil.copyfile(output, journal)
        return journal, [journal]
    return journal, []


def run_batch(
    plan: Plan, output: Path, resume: bool, load: Callable[[], Engine], settings: Settings, stderr: Console
) -> BatchSummary:
    """The planned run in this process: resumed from OUTPUT.partial with `resume`, then classified."""
    journal, resumed = journal_for(output, resume)
    resume_from(plan, resumed)
    say_resumed(plan, resumed, stderr)
    return classify_file(plan, journal, output, load, settings, stderr)


def say_resumed(plan: Plan, files: Sequence[Path], stderr: Console) -> None:
    if files:
        where = str(files[0]) if len(files) == 1 else f"{len(files)} files"
        stderr.print(f"resuming: {plan.summary.resumed} records already in {where}", markup=False)


def classify_file(
    plan: Plan, journal: Path, output: Path, load: Callable[[], Engine], settings: Settings,
    stderr: Console,
) -> BatchSummary:  # fmt: skip
    """Classify the records the plan wants, in input order; OUTPUT appears when all are done.

    Each good record → one output line: its `id` and the same object `--format json` prints.
    `load` opens the model, only once there is a record to classify.
    """
    total = int(plan.expected.sum())
    progress = ProgressLine(stderr, "classifying", total, "records", done=total - plan.remaining)
    try:
        out = journal.open("a", encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {journal}: {e.strerror}") from None
    with out, progress:
        _classify_into(plan, out, functools.cache(load), settings, progress)
    finish(plan, [journal], output)
    return plan.summary


def _classify_into(
    plan: Plan, out: IO[str], engine: Callable[[], Engine], settings: Settings, progress: ProgressLine
) -> None:
    for number, obj in read_jsonl(plan.input):
        if isinstance(obj, BadLine) or not plan.wants(number):
            continue  # a bad line is in the summary since the pre-pass
        result = classify_record(plan.input.name, number, obj, engine(), settings)
        if isinstance(result, BadLine):
            plan.fail(number, result.reason)
        else:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush()  # a kill loses at most the record in flight
            plan.written(number)
            plan.summary.add(result)
        progress.advance()  # after the record: counts and rates are of finished work


def classify_record(
    source_name: str, number: int, obj: dict[str, Any], engine: Engine, settings: Settings
) -> dict[str, Any] | BadLine:
    """The output object of one checked record, or a BadLine with the reason it failed.

    Any exception of one record is its failure, a bug included: ending the run there would make
    every --resume replay the same record and end again.
    """
    try:
        change = change_from_record(obj, settings.exclude, source=f"{source_name}:{number}")
        result = classify(change, engine, settings)
    except PrtriageError as e:  # one record's failure must not lose the others
        return BadLine(source_name, number, e.message)
    except Exception as e:  # noqa: BLE001 - a bug on one record: recorded, the others go on
        first = one_line(str(e))[:200]
        return BadLine(
            source_name, number, f"internal error: {type(e).__name__}" + (f": {first}" if first else "")
        )
    return {"id": record_id(obj, number), **result.to_json()}


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Only one run writes OUTPUT (and OUTPUT.partial) at a time: `OUTPUT.lock`, held with
    flock while the run lasts; a second run is refused at once, before it touches the journal."""
    if fcntl is None:  # no flock (Windows): unguarded, as before
        yield
        return
    path = output.with_name(output.name + ".lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.stat(path).st_ino == os.fstat(fd).st_ino  # not a lock file the holder just removed
        except (BlockingIOError, FileNotFoundError):
            held = False
        if not held:
            raise UsageError(
                f"another run is writing {output} (it holds {path})",
                hint="wait for it to finish, or give another --output",
            )
        yield
        path.unlink(missing_ok=True)  # still held: whoever opens it next checks the inode
    finally:
        os.close(fd)


def finish(plan: Plan, journal: Sequence[Path], output: Path) -> None:
    """The results become OUTPUT: renamed when one file in input order, else merged into order."""
    if len(journal) == 1 and plan.in_order:
        os.replace(journal[0], output)
        return
    merge_results(plan.index, journal, output)
    for path in journal:
        path.unlink()
