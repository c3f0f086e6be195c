"""`classify --github`: the pull request of this Actions run classified; outputs, summary,
annotations, and optionally its label and sticky comment."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prtriage.commands.common import classify_and_print, result_code, stderr
from prtriage.core.errors import EXIT_OK

if TYPE_CHECKING:
    from prtriage.github.label_step import LabelOptions


@dataclass(frozen=True)
class GitHubOptions:
    cwd: Path
    flags: Mapping[str, Any]  # settings given as flags; the config comes from the base commit
    config: Path | None  # --config: a path in the base commit (or a file outside the clone)
    fmt: str
    title: str | None
    body: str | None
    diff_from: str  # git: the local clone; github: through the API
    labels: LabelOptions
    comment: bool = False


def label_options(enabled: bool, prefix: str | None, create: bool) -> LabelOptions:
    from prtriage.github.label_step import LabelOptions
    from prtriage.github.labels import DEFAULT_PREFIX

    return LabelOptions(enabled, DEFAULT_PREFIX if prefix is None else prefix, create)


def run(options: GitHubOptions) -> int:
    from prtriage.github import actions, base_config, classify_step, label_step
    from prtriage.github.label_rules import from_diffs

    o, err = options, stderr()
    with actions.errors_as_annotations():
        pr = actions.read_pull_request(os.environ)
        classify_step.check_diff_source(o.diff_from, os.environ)
        settings, read = base_config.settings_from_base(pr, o.cwd, o.flags, o.config, o.diff_from, os.environ)
        if classify_step.skipped(pr, settings, sys.stdout):
            return EXIT_OK
        change = classify_step.pull_request_change(
            pr, o.cwd, settings, o.diff_from, os.environ, o.title, o.body
        )
        notice = base_config.config_change_notice(read, pr, [f.path for f in change.files])
        # File names and model output are the pull request author's text: no workflow commands in it.
        with actions.commands_stopped(sys.stdout) if o.fmt != "json" else contextlib.nullcontext():
            result = classify_and_print(change, settings, o.fmt, err)
        classify_step.publish(result, pr, settings, os.environ, sys.stdout, notice)
        if o.labels.enabled:
            outcome = label_step.apply_label(
                result, pr, settings, o.labels, os.environ, from_diffs(change.files)
            )
            err.print(f"prtriage: {outcome.describe()}", markup=False)
            review = label_step.apply_planted_label(result, pr, settings, o.labels, os.environ)
            if review:
                err.print(f"prtriage: {review}", markup=False)
        if o.comment:
            withheld = o.labels.enabled and label_step.withholds_category(bool(result.planted), settings)
            said = label_step.apply_comment(result, pr, os.environ, withheld)
            err.print(f"prtriage: {said.describe()}", markup=False)
    return result_code(result, settings, err)
