"""`data`: labeled change records (JSONL) from git history or a GitHub export; split; teach."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from prtriage.commands.common import stderr
from prtriage.core import errors
from prtriage.core.settings import resolve_settings


@dataclass(frozen=True)
class FromGitOptions:
    repo: Path
    output: Path | None = None  # None: stdout
    mapping: tuple[str, ...] = ()  # TYPE=CATEGORY overrides
    since: str | None = None
    max_per_category: int | None = None
    max_diff_bytes: int = 48_000
    seed: int = 0


@dataclass(frozen=True)
class FromGitHubOptions:
    export: Path
    diffs: Path
    labels: tuple[str, ...] = ()  # LABEL=CATEGORY overrides
    mapping: tuple[str, ...] = ()
    repo_name: str = ""
    max_diff_bytes: int = 48_000
    output: Path | None = None


@dataclass(frozen=True)
class SplitOptions:
    input_: Path
    train_output: Path
    test_output: Path
    mode: str = "repo"  # repo, time or random
    test_fraction: float = 0.2
    test_repos: str | None = None  # comma-separated
    seed: int = 0


@dataclass(frozen=True)
class TeachOptions:
    input_: Path
    output: Path | None = None
    title_dropout: float = 0.3
    planted: float = 0.3
    seed: int = 0


def _write_jsonl(records: Any, output: Path | None) -> None:
    import json

    from prtriage.core.jsonl import write_jsonl

    if output is None:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    write_jsonl(output, records)


def _harvest_report(summary: Any, err: Console) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    err.print(f"wrote {summary.written} records ({counts or 'none'})", markup=False)
    for reason, n in summary.skipped.most_common():
        err.print(f"skipped {n}: {reason}", markup=False)


def from_git(options: FromGitOptions) -> int:
    from prtriage.core.conventional import DEFAULT_TYPE_MAP
    from prtriage.dataset.harvest import HarvestSummary, parse_mapping
    from prtriage.dataset.harvest import from_git as harvest

    o = options
    settings = resolve_settings({}, cwd=o.repo.resolve())
    type_map = parse_mapping(o.mapping, DEFAULT_TYPE_MAP, settings.category_names)
    summary = HarvestSummary()
    _write_jsonl(
        harvest(o.repo.resolve(), type_map, o.since, o.max_per_category, o.max_diff_bytes, o.seed, summary),
        o.output,
    )
    _harvest_report(summary, stderr())
    return errors.EXIT_OK


def from_github(options: FromGitHubOptions) -> int:
    from prtriage.core.conventional import DEFAULT_TYPE_MAP
    from prtriage.core.progress import ProgressLine
    from prtriage.dataset.harvest import DEFAULT_LABEL_MAP, HarvestSummary, parse_mapping
    from prtriage.dataset.harvest import from_github as harvest

    o = options
    names = resolve_settings({}).category_names
    label_map = parse_mapping(o.labels, DEFAULT_LABEL_MAP, names)
    type_map = parse_mapping(o.mapping, DEFAULT_TYPE_MAP, names)
    summary = HarvestSummary()
    err = stderr()
    with ProgressLine(err, "reading pull requests", None, "pull requests") as progress:
        records = harvest(o.export, o.diffs, label_map, type_map, o.max_diff_bytes, summary, o.repo_name,
                          lambda done, total: progress.update(done, total))  # fmt: skip
        _write_jsonl(records, o.output)
    _harvest_report(summary, err)
    return errors.EXIT_OK


def split(options: SplitOptions) -> int:
    from prtriage.core.jsonl import report_skipped, write_jsonl
    from prtriage.dataset.split import choose_test, load_records

    o = options
    bad: list[Any] = []
    records = load_records(o.input_, bad)
    repos = [r.strip() for r in (o.test_repos or "").split(",") if r.strip()]
    if repos and o.mode != "repo":
        raise errors.UsageError("--test-repos goes with --by repo")
    sides = choose_test(records, o.mode, o.test_fraction, repos, o.seed)
    write_jsonl(o.train_output, [r for r, t in zip(records, sides) if not t])
    write_jsonl(o.test_output, [r for r, t in zip(records, sides) if t])
    err = stderr()
    report_skipped(bad, lambda line: err.print(line, markup=False))
    n_test = sum(sides)
    err.print(f"train {len(records) - n_test}, test {n_test}, skipped {len(bad)}", markup=False)
    return errors.EXIT_OK


def teach(options: TeachOptions) -> int:
    from prtriage.core.jsonl import SHOWN_SKIPPED, report_skipped
    from prtriage.dataset.planting import load_phrasings
    from prtriage.dataset.teacher import AugmentOptions, augment
    from prtriage.evaluation.predict import load_eval_records

    o = options
    settings = resolve_settings({})
    bad: list[Any] = []
    records = load_eval_records(o.input_, settings.category_names, bad, None, o.seed)
    if not records:
        raise errors.UsageError(f"no usable labeled records in {o.input_}")
    augment_options = AugmentOptions(o.title_dropout, o.planted, o.seed)
    _write_jsonl(
        augment(records, settings.category_names, load_phrasings("train"), augment_options), o.output
    )
    err = stderr()
    report_skipped(bad, lambda line: err.print(line, markup=False), SHOWN_SKIPPED)
    err.print(f"wrote {len(records)} records, skipped {len(bad)}", markup=False)
    return errors.EXIT_OK
