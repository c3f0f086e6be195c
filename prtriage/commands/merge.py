"""`prtriage merge`: the outputs of `classify --input --shard K/N` runs joined into one file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prtriage.commands.common import stderr
from prtriage.core import errors


@dataclass(frozen=True)
class MergeOptions:
    results: tuple[Path, ...]
    input_: Path
    output: Path


def run(options: MergeOptions) -> int:
    from prtriage.batching.input_index import scan_input
    from prtriage.batching.result_files import merge_results

    for path in (options.input_, *options.results):
        if not path.is_file():
            raise errors.UsageError(f"file not found: {path}")
    index = scan_input(options.input_)
    count = merge_results(index, options.results, options.output, expected=index.lines_mask())
    err = stderr()
    err.print(f"merged {count} results from {len(options.results)} files into {options.output}", markup=False)
    if index.bad:
        err.print(
            f"{len(index.bad)} lines of {options.input_} are not records (the runs named them)", markup=False
        )
    return errors.EXIT_OK
