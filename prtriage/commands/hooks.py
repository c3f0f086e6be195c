"""pre-commit hooks: `classify --pre-push` (what a push sends) and `--commit-msg FILE` (its type)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prtriage.commands.common import (
    classify_and_print,
    fail_on_code,
    open_engine,
    planted_code,
    result_code,
    stderr,
)
from prtriage.core import errors
from prtriage.core.settings import Settings
from prtriage.pipeline.render import planted_note, uncertain_note


@dataclass(frozen=True)
class PrePushOptions:
    cwd: Path
    settings: Settings
    fmt: str = "text"
    title: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class CommitMsgOptions:
    cwd: Path
    settings: Settings
    message_file: Path
    fail_on_mismatch: bool = False  # exit 1 when the message's type disagrees with the change


def pre_push(options: PrePushOptions) -> int:
    from prtriage import git_hooks

    o, err = options, stderr()
    change = git_hooks.pre_push_change(
        o.cwd, os.environ, o.settings.exclude, o.settings.base, o.title, o.body
    )
    if change is None:
        err.print("prtriage: this push sends no file changes: nothing to classify")
        return errors.EXIT_OK
    result = classify_and_print(change, o.settings, o.fmt, err)
    return result_code(result, o.settings, err, hook=True)  # planted text blocks the push


def commit_msg(options: CommitMsgOptions) -> int:
    from prtriage import git_hooks
    from prtriage.pipeline import triage

    o, err = options, stderr()
    message = git_hooks.read_commit_message(o.message_file)
    skip = git_hooks.skip_reason(message, o.settings.category_names)
    change = None if skip else git_hooks.staged_change(o.cwd, o.settings.exclude, message)
    if skip or change is None:
        err.print(f"prtriage: nothing to check ({skip or 'no staged changes'})", markup=False)
        return errors.EXIT_OK
    with err.status("classifying the staged change"):
        result = triage.classify(change, open_engine(o.settings, err), o.settings)
    check = git_hooks.check_type(message, result)
    err.print(f"prtriage: {check.text}", markup=False)
    if result.uncertain:
        err.print(f"prtriage: {uncertain_note(result)}", markup=False)
    if result.planted:
        err.print(f"prtriage: {planted_note(result)}", markup=False)
        for span in result.planted:
            err.print(f"  {span.describe()}", markup=False)
    planted = planted_code(result, o.settings, err, hook=True)
    if planted is not None:
        return planted
    if not check.agrees and o.fail_on_mismatch and not result.uncertain:
        return errors.EXIT_FAIL_ON
    return fail_on_code(result.category, o.settings, err, result.uncertain)
