"""pre-commit hooks: `classify --pre-push` (what a push sends) and `--commit-msg FILE` (its type)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prtriage.commands.common import PLANTED_FAILS, classify_and_print, fail_on_code, result_code, stderr
from prtriage.core import errors
from prtriage.core.escape import no_workflow_command, one_line
from prtriage.core.settings import Settings

if TYPE_CHECKING:
    from prtriage.pipeline.change import Change


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
    """The staged change against the message's type, from the lexical model and the rules: no LLM,
    so it answers in about the time `prtriage --version` takes (benchmarks/commit_msg_hook.py)."""
    from prtriage import git_hooks
    from prtriage.evaluation.rules import rule_scores
    from prtriage.pipeline.planted_text import find_planted

    o, err = options, stderr()
    message = git_hooks.read_commit_message(o.message_file)
    names = o.settings.category_names
    skip = git_hooks.skip_reason(message, names)
    change = None if skip else git_hooks.staged_change(o.cwd, o.settings.exclude, message)
    if skip or change is None:
        err.print(f"prtriage: nothing to check ({skip or 'no staged changes'})", markup=False)
        return errors.EXIT_OK
    lexical = _lexical_probabilities(o.settings, change)
    votes = rule_scores(change.title, change.files, names)
    check = git_hooks.check_type(message, lexical, votes, o.settings.min_confidence)
    err.print(f"prtriage: {check.text}", markup=False)
    if check.uncertain:
        err.print(f"prtriage: uncertain: {check.confidence:.0%} is below min-confidence", markup=False)
    planted = find_planted(change.title, change.body, change.files, names)
    if planted:
        places = ", ".join(sorted({no_workflow_command(one_line(span.where)) for span in planted}))
        err.print(f"prtriage: planted text: the change holds text addressed to the classifier ({places})",
                  markup=False)  # fmt: skip
        for span in planted:
            err.print(f"  {no_workflow_command(span.describe())}", markup=False)  # a path may start it
        if o.settings.planted != "report":
            err.print(PLANTED_FAILS, markup=False)
            return errors.EXIT_PLANTED
    if not check.agrees and o.fail_on_mismatch and not check.uncertain:
        return errors.EXIT_FAIL_ON
    return fail_on_code(check.category, o.settings, err, check.uncertain)


def _lexical_probabilities(settings: Settings, change: Change) -> dict[str, float] | None:
    """The lexical model's probabilities through its index (no numpy, no LLM); None when it was
    trained on other categories than the configured ones (the rules answer alone)."""
    import math
    from pathlib import Path

    from prtriage.pipeline import lexical_model

    model = lexical_model.indexed(
        Path(settings.lexical) if settings.lexical else lexical_model.DEFAULT_LEXICAL
    )
    if set(model.categories) != set(settings.category_names):
        return None
    logp = model.log_probabilities(change.title, change.body, change.files)
    return {c: math.exp(v) for c, v in logp.items()}
