"""cli.py passes each command's click parameters, by name, to its options dataclass."""

from __future__ import annotations

import dataclasses

import click
import pytest

from prtriage import cli
from prtriage.commands import config, data, label, modes, notes
from prtriage.commands import eval as eval_command


@pytest.mark.parametrize(
    "command, options",
    [
        (cli.classify, modes.ClassifyFlags),
        (cli.label, label.LabelCommandOptions),
        (cli.config, config.ConfigOptions),
        (cli.notes, notes.NotesOptions),
        (cli.eval_, eval_command.EvalOptions),
        (cli.data_from_git, data.FromGitOptions),
        (cli.data_from_github, data.FromGitHubOptions),
        (cli.data_split, data.SplitOptions),
        (cli.data_teach, data.TeachOptions),
    ],
)
def test_parameters_are_the_option_fields(command: click.Command, options: type) -> None:
    assert {p.name for p in command.params} == {f.name for f in dataclasses.fields(options)}
    assert dataclasses.fields(options) and options.__dataclass_params__.frozen  # type: ignore[attr-defined]
