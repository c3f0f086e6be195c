"""The categories a change can fall in, each with the one-line definition the model reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prtriage.core.errors import ConfigError

# A name must be a short identifier: it is scored as model output and used as a label.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # fullmatch: `$` would let a trailing "\n" through


@dataclass(frozen=True)
class Category:
    name: str
    definition: str


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("feature", "adds new functionality or a new capability for users"),
    Category("fix", "corrects a bug, a crash or otherwise wrong behaviour"),
    Category("docs", "changes documentation only: READMEs, guides, docstrings, comments"),
    Category("refactor", "restructures or renames code without changing its behaviour"),
    Category("perf", "makes code faster or use less memory"),
    Category("test", "adds or changes tests, fixtures or snapshots only"),
    Category("ci", "changes continuous-integration workflows or their scripts"),
    Category("build", "changes the build system, packaging, bundling or compiler settings"),
    Category("deps", "adds, removes or upgrades dependencies or lock files"),
    Category("chore", "maintenance that fits no other category: releases, tooling, housekeeping"),
)

DEFAULT_DEFINITIONS = {c.name: c.definition for c in DEFAULT_CATEGORIES}


def make_categories(spec: object, source: str) -> tuple[Category, ...]:
    """Categories from config: a list of names (default definitions) or a table name → definition."""
    if isinstance(spec, dict):
        pairs = list(spec.items())
    elif isinstance(spec, list):
        pairs = []
        for name in spec:
            if not isinstance(name, str) or name not in DEFAULT_DEFINITIONS:
                raise ConfigError(
                    f"{source}: category {name!r} has no built-in definition",
                    hint='give categories as a table: name = "one-line definition"',
                )
            pairs.append((name, DEFAULT_DEFINITIONS[name]))
    else:
        raise ConfigError(f"{source}: 'categories' must be a list of names or a table of definitions")
    if len(pairs) < 2:
        raise ConfigError(f"{source}: at least two categories are needed")
    seen: set[str] = set()
    result = []
    for name, definition in pairs:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(
                f"{source}: bad category name {name!r}",
                hint="use lowercase letters, digits, '-' or '_' (at most 32 characters)",
            )
        if not isinstance(definition, str) or not definition.strip() or "\n" in definition:
            raise ConfigError(f"{source}: category {name!r} needs a one-line definition")
        if name in seen:
            raise ConfigError(f"{source}: category {name!r} is listed twice")
        seen.add(name)
        result.append(Category(name, definition.strip()))
    return tuple(result)


def check_known(names: list[str] | tuple[str, ...], categories: tuple[Category, ...], what: str) -> None:
    """Fail with the unknown name when `names` mentions a category that is not configured."""
    known = {c.name for c in categories}
    for name in names:
        if name not in known:
            raise ConfigError(
                f"{what}: unknown category {name!r}",
                hint="known categories: " + ", ".join(c.name for c in categories),
            )
