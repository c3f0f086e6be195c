"""`classify --input --ray`: the batch on a Ray cluster through Ray Data (a local Ray by default).

The driver (this process) plans the run as the single-process batch does (batch.plan_batch: the
pre-pass, --shard, duplicate ids refused; --resume). Ray Data reads the input on the driver's node
through `NumberedLines`, a datasource of our own: Ray's JSON reader aborts on a bad line and
numbers nothing, and a record without an id is known by its line. Only the planned lines go on,
through `map_batches` to a pool of actors that each load one engine once with --threads CPUs
(`Classifier`). Results stream back to the driver, which appends each as one flushed line to a
shard under OUTPUT.shards/ (renamed when full), so a stopped job resumes like a stopped batch; at
the end the shards are merged into OUTPUT in input order, every planned record exactly once.

Only prtriage/commands/batch.py imports this module, and only for --ray: plain prtriage never
imports Ray.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import ray
import ray.data
from ray.data.datasource import FileBasedDatasource
from rich.console import Console

from prtriage.batching.result_files import drop_torn_tail, merge_results
from prtriage.batching.runner import (
    BatchSummary,
    Plan,
    classify_record,
    resume_from,
    say_resumed,
    shards_folder,
)
from prtriage.core.atomic import partial_path
from prtriage.core.errors import ModelError, PrtriageError, UsageError
from prtriage.core.jsonl import BadLine
from prtriage.core.progress import ProgressLine
from prtriage.core.settings import Settings
from prtriage.pipeline import engine_factory
from prtriage.pipeline.engine import Engine
from prtriage.pipeline.native import capture_native_output

if TYPE_CHECKING:
    from prtriage.batching.ray_options import RayOptions

RESULTS_PER_SHARD = 1000  # a shard file is renamed complete at this many results
# Records per block read, and so per actor task: an actor returns a task's results together, so
# small tasks keep results streaming to the driver and a killed actor's lost work small.
RECORDS_PER_TASK = 4


class NumberedLines(FileBasedDatasource):
    """JSONL (.gz too) as rows of (line, text), only the lines `wanted` marks.

    Lines are counted as jsonl.read_jsonl counts them (a text stream, universal newlines), so a
    record's line is the same here as in the pre-pass, the single-process batch and its `source`.
    """

    def __init__(self, path: str, wanted: np.ndarray) -> None:
        super().__init__(path)
        self.wanted = wanted

    def _read_stream(self, f: pa.NativeFile, path: str) -> Iterator[pa.Table]:
        numbers: list[int] = []
        texts: list[str] = []
        for number, text in enumerate(io.TextIOWrapper(f, encoding="utf-8", errors="replace"), 1):
            if number < len(self.wanted) and self.wanted[number]:
                numbers.append(number)
                texts.append(text)
            if len(numbers) == RECORDS_PER_TASK:
                yield pa.table({"line": numbers, "text": texts})
                numbers, texts = [], []
        if numbers:
            yield pa.table({"line": numbers, "text": texts})


class Classifier:
    """One per actor: loads one engine when the actor starts, then classifies each batch given.

    An engine that fails to load is not raised here: Ray would retry the actor for minutes, with
    tracebacks on the user's terminal. Each row then carries the reason in `fatal`, and the driver
    stops the job with it.
    """

    def __init__(self, settings: Settings, factory: str | None, source_name: str) -> None:
        self.settings, self.source_name = settings, source_name
        self.engine: Engine | None = None
        self.fatal = ""
        try:
            self.engine = engine_factory.open_engine(settings, factory)
        except PrtriageError as e:
            self.fatal = json.dumps([e.message, e.hint])
        except Exception as e:  # a crash in the loader: still one line
            self.fatal = json.dumps([f"{type(e).__name__}: {e}", None])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        lines = batch["line"].tolist()
        results, errors = [], []
        for number, text in zip(lines, batch["text"].tolist()):
            out = self._classify(number, text)
            results.append("" if isinstance(out, BadLine) else json.dumps(out, ensure_ascii=False))
            errors.append(out.reason if isinstance(out, BadLine) else "")
        return {"line": lines, "result": results, "error": errors, "fatal": [self.fatal] * len(lines)}

    def _classify(self, number: int, text: str) -> dict[str, Any] | BadLine:
        if self.engine is None:
            return BadLine(self.source_name, number, "the engine did not load")
        return classify_record(self.source_name, number, json.loads(text), self.engine, self.settings)


def run(
    plan: Plan, output: Path, settings: Settings, resume: bool, options: RayOptions, stderr: Console
) -> BatchSummary:
    """Resume, classify what remains on Ray, and merge the shards into OUTPUT."""
    folder = shards_folder(output)
    sources = resume_sources(folder, output, resume)
    resume_from(plan, sources)
    say_resumed(plan, sources, stderr)
    threads = settings.threads or 1  # per actor: the CPUs it asks Ray for
    if plan.remaining:
        folder.mkdir(parents=True, exist_ok=True)
        with ray_session(options.address) as cpus:
            actors = options.actors or max(1, cpus // threads)
            stderr.print(
                f"ray: {actors} actors of {threads} CPUs each, {cpus} CPUs in the cluster", markup=False
            )
            rows = dataset(plan, replace(settings, threads=threads), actors).iter_rows()
            _collect(plan, rows, ShardWriter(folder, _next_shard(folder)), stderr)
    shards = sorted(folder.glob("part-*.jsonl")) if folder.is_dir() else []
    kept = [p for p in sources if p == output]  # a complete OUTPUT resumed to retry what it lacks
    merge_results(plan.index, shards + kept, output, expected=plan.expected & ~plan.failed)
    shutil.rmtree(folder, ignore_errors=True)
    return plan.summary


def resume_sources(folder: Path, output: Path, resume: bool) -> list[Path]:
    """The result files a --ray run continues from: its shards (torn tails dropped), else OUTPUT."""
    if partial_path(output).exists():
        raise UsageError(
            f"{partial_path(output)} holds the results of a run without --ray",
            hint="resume it without --ray, or delete it",
        )
    parts = sorted(folder.glob("part-*")) if folder.is_dir() else []
    if parts and not resume:
        raise UsageError(
            f"{folder} holds the results of an interrupted --ray run",
            hint="add --resume to continue it, or delete the folder to start over",
        )
    for part in parts:
        if part.suffix == ".partial":  # the shard being written when the run stopped
            drop_torn_tail(part)
            part.rename(part.with_suffix(""))
    if parts:
        return sorted(folder.glob("part-*.jsonl"))
    return [output] if resume and output.is_file() else []


def _next_shard(folder: Path) -> int:
    return max((int(p.name.split("-")[1].split(".")[0]) for p in folder.glob("part-*")), default=0) + 1


class ShardWriter:
    """Results appended to part-NNNNN.jsonl.partial, one flushed line each; renamed when full."""

    def __init__(self, folder: Path, number: int) -> None:
        self.folder, self.number, self.count = folder, number, 0
        self.file: io.TextIOWrapper | None = None

    def path(self) -> Path:
        return self.folder / f"part-{self.number:05d}.jsonl"

    def write(self, line: str) -> None:
        if self.file is None:
            self.file = partial_path(self.path()).open("w", encoding="utf-8")
        self.file.write(line + "\n")
        self.file.flush()
        self.count += 1
        if self.count == RESULTS_PER_SHARD:
            self.close()

    def abandon(self) -> None:
        """The run stopped: the open shard stays .partial (its flushed lines are for --resume)."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def close(self) -> None:
        """The open shard complete: renamed, and the next write starts the next one."""
        if self.file is not None:
            self.file.close()
            os.replace(partial_path(self.path()), self.path())
            self.file, self.number, self.count = None, self.number + 1, 0


def _collect(plan: Plan, rows: Iterable[dict[str, Any]], writer: ShardWriter, stderr: Console) -> None:
    """Each result row as it arrives: written to a shard, or its failure noted (as batch does)."""
    total = int(plan.expected.sum())
    progress = ProgressLine(stderr, "classifying", total, "records", done=total - plan.remaining)
    results = _unwrapped(rows)
    try:
        with progress:
            _write_rows(plan, results, writer, progress)
    except BaseException:
        writer.abandon()
        raise
    finally:
        results.close()  # Ray's iterator ends now, while Ray is still up to stop its executor
    writer.close()


def _write_rows(
    plan: Plan, rows: Iterator[dict[str, Any]], writer: ShardWriter, progress: ProgressLine
) -> None:
    for row in rows:
        if row["fatal"]:
            message, hint = json.loads(row["fatal"])
            raise ModelError(f"a Ray actor could not load the engine: {message}", hint=hint)
        number = int(row["line"])
        if not plan.wants(number):
            continue  # delivered twice (a retried task): already written
        if row["error"]:
            plan.fail(number, row["error"])
        else:
            writer.write(row["result"])
            plan.written(number)
            plan.summary.add(json.loads(row["result"]))
        progress.advance()


def _unwrapped(rows: Iterable[dict[str, Any]]) -> Generator[dict[str, Any], None, None]:
    """The rows; a failure inside Ray as prtriage's own error (the cause's message, no traceback)."""
    try:
        yield from rows
    except (KeyboardInterrupt, PrtriageError):
        raise
    except Exception as e:  # Ray wraps what a worker raised
        cause = _prtriage_cause(e)
        if cause is not None:
            raise cause from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ModelError(
            f"the Ray job failed: {type(e).__name__}: {first}", hint="see /tmp/ray/session_latest/logs"
        ) from None


def _prtriage_cause(error: BaseException) -> PrtriageError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, PrtriageError):
            return current
        seen.add(id(current))
        nested = getattr(current, "cause", None)
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None


def dataset(plan: Plan, settings: Settings, actors: int) -> ray.data.Dataset:
    """Read on the driver's node (the input need not be anywhere else), classify on the actors."""
    node = ray.get_runtime_context().get_node_id()
    source = NumberedLines(str(plan.input.resolve()), plan.todo.copy())
    lines = ray.data.read_datasource(source, num_cpus=0, label_selector={"ray.io/node-id": node})
    factory = os.environ.get(engine_factory.ENGINE_FACTORY_ENV) or None  # the workers load what we would
    return lines.map_batches(
        Classifier,
        fn_constructor_kwargs={"settings": settings, "factory": factory, "source_name": plan.input.name},
        batch_size=RECORDS_PER_TASK,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=settings.threads,
    )


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[int]:
    """Ray started (or joined: `address`, else RAY_ADDRESS) quietly; the CPUs it has; shut down after."""
    if (address or os.environ.get("RAY_ADDRESS", "")).startswith("ray://"):
        raise UsageError(
            "--ray cannot run through Ray Client (ray://): the input is read on the driver's node",
            hint="run prtriage on a node of the cluster, e.g. ray job submit -- prtriage classify ... --ray",
        )
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray Data's actor-restart notice
    try:
        with capture_native_output() as captured:
            ray.init(
                address=address, include_dashboard=False, log_to_driver=False,
                logging_level=logging.ERROR, ignore_reinit_error=True,
            )  # fmt: skip
    except Exception as e:  # Ray raises plain Exception too (a node that did not start in time)
        where = address or os.environ.get("RAY_ADDRESS") or "a local Ray"
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = captured.last_error() or "a local Ray logs to /tmp/ray/session_latest/logs"
        raise PrtriageError(f"cannot start or join {where}: {message}", hint=hint) from None
    try:
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # our own progress line says it once
        context.print_on_execution_start = False
        yield int(ray.cluster_resources().get("CPU", 1))
    finally:
        ray.shutdown()
