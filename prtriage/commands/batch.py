"""`classify --input`: JSONL change records in, one JSON result line each out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prtriage import errors
from prtriage.commands.common import PLANTED_FAILS, fail_on_code, open_engine, stderr
from prtriage.config import Settings


@dataclass(frozen=True)
class BatchOptions:
    input: Path
    output: Path
    settings: Settings


def run(options: BatchOptions) -> int:
    from prtriage import batch
    from prtriage.records import report_skipped

    input_, settings = options.input, options.settings
    if not input_.is_file():
        raise errors.UsageError(f"input file not found: {input_}")
    err = stderr()
    engine = open_engine(settings, err)
    summary = batch.classify_file(input_, options.output, engine, settings, err)
    report_skipped(summary.bad, lambda line: err.print(line, markup=False))
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    err.print(f"classified {summary.classified} records, skipped {len(summary.bad)}; {counts}")
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
    # summary.failing holds only results that are not uncertain; batch names no category on stderr.
    return max((fail_on_code(c, settings) for c in summary.failing), default=errors.EXIT_OK)
