"""`classify --input`: JSONL change records in, one JSON result line each out; in one process, a
`--shard K/N` of them, resumed with `--resume`, or on a Ray cluster with `--ray`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from rich.console import Console

from prtriage.batching.ray_options import RayOptions
from prtriage.batching.shard import ShardSpec
from prtriage.commands.common import PLANTED_FAILS, fail_on_code, open_engine, stderr
from prtriage.core import errors
from prtriage.core.settings import Settings

if TYPE_CHECKING:
    from prtriage.batching.runner import BatchSummary


@dataclass(frozen=True)
class BatchOptions:
    input: Path
    output: Path
    settings: Settings
    shard: ShardSpec | None = None
    resume: bool = False
    ray: RayOptions | None = None


def run(options: BatchOptions) -> int:
    from prtriage.batching import runner

    input_, output, settings = options.input, options.output, options.settings
    if not input_.is_file():
        raise errors.UsageError(f"input file not found: {input_}")
    err = stderr()
    plan = runner.plan_batch(input_, options.shard)  # duplicate ids refused before any work
    with runner.output_lock(output):  # a second run on the same output is refused, not interleaved
        if options.ray is not None:
            ray_runner = _ray_runner()
            summary = ray_runner.run(plan, output, settings, options.resume, options.ray, err)
        else:
            load = functools.partial(open_engine, settings, err)  # only once a record is to classify
            summary = runner.run_batch(plan, output, options.resume, load, settings, err)
    return report(summary, input_, settings, err)


def _ray_runner() -> ModuleType:
    """prtriage/batching/ray_runner.py: the one import of Ray, which plain prtriage never loads."""
    try:
        from prtriage.batching import ray_runner
    except ImportError as e:
        raise errors.UsageError(
            f"--ray needs Ray, which is not installed ({e.name or e})", hint="pip install 'prtriage[ray]'"
        ) from None
    return ray_runner


def report(summary: BatchSummary, input_: Path, settings: Settings, err: Console) -> int:
    """The skipped lines, the counts, and the exit code: planted text (4), records that failed (3),
    fail-on (1)."""
    for bad in summary.bad:
        err.print(f"skipped {bad}", markup=False)
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    resumed = f" ({summary.resumed} resumed)" if summary.resumed else ""
    err.print(f"classified {summary.classified} records{resumed}, skipped {len(summary.bad)}; {counts}")
    if summary.classified == 0 and summary.bad:
        raise errors.UsageError(f"no record in {input_} could be classified")
    if summary.uncertain:
        err.print(f"{summary.uncertain} results were uncertain (below min-confidence)", markup=False)
    if summary.planted:
        err.print(
            f"{summary.planted} changes hold text addressed to the classifier (their `planted` field)",
            markup=False,
        )
        if settings.fail_on and settings.planted == "fail":
            err.print(PLANTED_FAILS, markup=False)
            return errors.EXIT_PLANTED
    if summary.failed:
        err.print(
            f"prtriage: {summary.failed} records failed (named above) and are not in the output: "
            "--resume retries them",
            markup=False,
        )
        return errors.EXIT_CANNOT_TRIAGE
    # summary.failing holds only results that are not uncertain; batch names no category on stderr.
    return max((fail_on_code(c, settings) for c in summary.failing), default=errors.EXIT_OK)
