"""`config`: the effective settings and where each came from (flag, environment, which config file
at which commit, or the default), as classify would use them here, or under --github."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from prtriage.core import errors
from prtriage.core.settings import Settings, effective, resolve_settings


@dataclass(frozen=True)
class ConfigOptions:
    config: Path | None = None
    repo: Path = Path(".")
    github: bool = False  # as classify --github: the pull request's base commit's config
    diff_from: str = "git"
    fmt: str = "text"


def run(options: ConfigOptions) -> int:
    o = options
    cwd = o.repo.resolve()
    if o.diff_from != "git" and not o.github:
        raise errors.UsageError("--diff-from goes with --github")
    if o.github:
        from prtriage.github import actions, base_config, classify_step

        pr = actions.read_pull_request(os.environ)
        classify_step.check_diff_source(o.diff_from, os.environ)
        settings, _ = base_config.settings_from_base(pr, cwd, {}, o.config, o.diff_from, os.environ)
    else:
        settings = resolve_settings({}, cwd=cwd, config_file=o.config)
    engine = engine_factory_named(os.environ)
    if o.fmt == "json":
        rows = {key: {"value": value, "source": source} for key, value, source in effective(settings)}
        data = {"config": settings.config_source or None, "settings": rows, "engine": engine}
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        print_settings(settings, Console(highlight=False))
        if engine:
            print_engine(engine, Console(highlight=False))
    return errors.EXIT_OK


def engine_factory_named(env: Mapping[str, str]) -> str | None:
    """$PRTRIAGE_ENGINE: `module:function`, imported and called instead of loading llama.cpp."""
    from prtriage.pipeline.engine_factory import ENGINE_FACTORY_ENV

    return env.get(ENGINE_FACTORY_ENV) or None


def print_engine(spec: str, console: Console) -> None:
    line = Text("engine = ", style="bold") + Text(spec)
    line += Text(
        "  (environment (PRTRIAGE_ENGINE): this module:function is imported and called to classify; "
        "the model and adapter above are not loaded)",
        style="dim",
    )
    console.print(line, soft_wrap=True)


def print_settings(settings: Settings, console: Console) -> None:
    """One line a key, `key = value  (source)`: long paths stay whole and copyable (no table)."""
    console.print(Text(f"config file: {settings.config_source or 'none found'}"), soft_wrap=True)
    for key, value, source in effective(settings):
        if key == "categories":  # the definitions are in --format json
            value = ", ".join(settings.category_names)
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        line = Text(f"{key} = ", style="bold") + Text(shown) + Text(f"  ({source})", style="dim")
        console.print(line, soft_wrap=True)
