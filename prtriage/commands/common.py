"""What several commands share: the model flags, the stderr console, the model with its warning,
one result printed, and the fail-on verdict."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from prtriage.core import errors
from prtriage.core.settings import Settings

if TYPE_CHECKING:
    from prtriage.pipeline.change import Change
    from prtriage.pipeline.engine import LoadedEngine
    from prtriage.pipeline.result import Result


@dataclass(frozen=True, kw_only=True)
class ModelFlags:
    """The model flags that classify, notes and eval share (cli.py declares them once too)."""

    model: str | None = None
    adapter: str | None = None
    config: Path | None = None
    context_size: int | None = None
    threads: int | None = None

    def model_settings(self) -> dict[str, Any]:
        """These flags under their config-key names (`config` is the file they override)."""
        return {"model": self.model, "adapter": self.adapter, "context-size": self.context_size,
                "threads": self.threads}  # fmt: skip


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class _Stdout(Console):
    def on_broken_pipe(self) -> None:
        """rich would exit 1 (fail-on's code): leave a closed pipe to cli.main, as click.echo does."""
        self.quiet = True
        raise BrokenPipeError


def stdout() -> Console:
    """The console results are printed on (text format)."""
    return _Stdout(highlight=False)


def open_engine(settings: Settings, err: Console) -> LoadedEngine:
    """The model, with a one-line warning when the settings make its results doubtful."""
    # Looked up on the module: tests swap engine_factory.open_engine for a fake.
    from prtriage.pipeline import engine_factory
    from prtriage.pipeline.fusion import scorer_warning

    engine = engine_factory.open_engine(settings)
    for warning in (engine_factory.adapter_warning(settings, engine.files), scorer_warning(settings)):
        if warning:
            err.print(f"prtriage: {warning}", markup=False)
    return engine


def classify_and_print(change: Change, settings: Settings, fmt: str, err: Console) -> Result:
    """Classify one change and print it to stdout as `fmt` (text, json, markdown).

    A Conventional Commits type in the title is ignored by default here (a title prefix is what an
    author types to pass a gate); `declared = check` has the model read the title without it and
    says where they disagree, `declared = trust` takes the type's category without the model.
    """
    from prtriage.core.conventional import clean_title, declared_type
    from prtriage.pipeline import triage

    mode = settings.declared or "ignore"
    declared = declared_type(change.title, change.body) if mode != "ignore" else None
    if declared is not None and declared.category not in settings.category_names:
        declared = None  # a type the configured categories cannot hold: the model decides
    if declared is not None and mode == "trust":
        result = triage.declared_result(change, declared, settings)
    else:
        if declared is not None:  # the model must not read the answer it is checked against
            change = dataclasses.replace(change, title=clean_title(change.title))
        with err.status("loading the model"):
            engine = open_engine(settings, err)
        with err.status(f"classifying {len(change.files)} changed files"):
            result = dataclasses.replace(triage.classify(change, engine, settings), declared=declared)
        if declared is not None and declared.category != result.category:
            err.print(
                f"prtriage: the title's type '{declared.said}' means {declared.category}, but the change "
                f"looks like {result.category} ({result.confidence:.0%})", markup=False,
            )  # fmt: skip
    from prtriage.pipeline.render import print_text, to_json, to_markdown

    if fmt == "json":
        click.echo(to_json(result))
    elif fmt == "markdown":
        click.echo(to_markdown(result), nl=False)
    else:
        print_text(result, stdout())
    return result


PLANTED_FAILS = (
    "prtriage: failing closed: the change holds text addressed to the classifier, so its category "
    'cannot be trusted (planted = "report" only reports it)'
)


def planted_code(
    result: Result, settings: Settings, err: Console | None = None, hook: bool = False
) -> int | None:
    """EXIT_PLANTED when planted text must fail the run: with fail-on set, or in a hook (`hook`),
    unless `planted = "report"`. Checked before fail-on: planted text that lowers the confidence
    below min-confidence must not slip past the gate as an uncertain result would."""
    if not result.planted or settings.planted == "report" or not (settings.fail_on or hook):
        return None
    if err is not None:
        err.print(PLANTED_FAILS, markup=False)
    return errors.EXIT_PLANTED


def result_code(result: Result, settings: Settings, err: Console, hook: bool = False) -> int:
    """The exit code of one classified change: planted text first, then fail-on."""
    planted = planted_code(result, settings, err, hook)
    return planted if planted is not None else fail_on_code(result.category, settings, err, result.uncertain)


def fail_on_code(
    category: str, settings: Settings, err: Console | None = None, uncertain: bool = False
) -> int:
    """EXIT_FAIL_ON when the category is in fail-on, unless the result is uncertain (--min-confidence).

    With `err`, says so on stderr (one result); batch passes none, its summary line says enough.
    """
    if category not in settings.fail_on:
        return errors.EXIT_OK
    if uncertain:
        if err is not None:
            err.print(f"prtriage: category {category!r} is in fail-on, but the result is uncertain")
        return errors.EXIT_OK
    if err is not None:
        err.print(f"prtriage: category {category!r} is in fail-on")
    return errors.EXIT_FAIL_ON
