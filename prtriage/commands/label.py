"""`label`: label a pull request from a `classify --github` result (the fork-safe recipe's trusted job).

Light on purpose: the Action runs it without numpy or llama.cpp installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prtriage.commands.common import stderr
from prtriage.commands.github_mode import label_options
from prtriage.core import errors
from prtriage.core.settings import resolve_settings


@dataclass(frozen=True)
class LabelCommandOptions:
    from_: Path  # the json output of classify --github
    label_prefix: str | None = None
    create_labels: bool = False
    uncertain_label: str | None = None
    label_map: str | None = None
    planted_label: str | None = None
    comment: bool = False
    config: Path | None = None


def run(options: LabelCommandOptions) -> int:
    from prtriage.github import actions, label_step

    o = options
    flags = {"uncertain-label": o.uncertain_label, "labels": o.label_map, "planted-label": o.planted_label}
    settings = resolve_settings(flags, cwd=Path.cwd(), config_file=o.config)
    with actions.errors_as_annotations():
        done = label_step.label_from_result(
            o.from_, settings, label_options(True, o.label_prefix, o.create_labels), os.environ, o.comment
        )
    for line in done:
        stderr().print(f"prtriage: {line}", markup=False)
    return errors.EXIT_OK
