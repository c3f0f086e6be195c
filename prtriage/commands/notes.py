"""`notes A..B`: release notes, every first-parent change in the range classified and grouped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from prtriage.commands.common import ModelFlags, stderr
from prtriage.core import errors
from prtriage.core.settings import resolve_settings
from prtriage.pipeline import git


@dataclass(frozen=True)
class NotesOptions(ModelFlags):
    range_: str
    fmt: str = "markdown"
    title: str | None = None
    gpu_layers: int | None = None
    min_confidence: float | None = None
    exclude: tuple[str, ...] = ()
    repo: Path = Path(".")


def run(options: NotesOptions) -> int:
    from prtriage import release_notes

    o = options
    flags = {**o.model_settings(), "gpu-layers": o.gpu_layers, "min-confidence": o.min_confidence,
             "exclude": o.exclude}  # fmt: skip
    cwd = o.repo.resolve()
    settings = resolve_settings(flags, cwd=cwd, config_file=o.config)
    text = release_notes.release_notes(git.repo_root(cwd), o.range_, settings, o.fmt, o.title, stderr())
    click.echo(text, nl=False)
    return errors.EXIT_OK
