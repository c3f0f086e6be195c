"""Category → text maps read from config: label names (`[labels]`) and release-notes headings.

A label map is written in config as a table (`[labels]`, `[tool.prtriage.labels]`) or, in
environment variables, flags and Action inputs, as `fix=bug,feature=enhancement`. A category left
out gets `prefix + category`; a category mapped to "" gets no label. Several categories may share
one label (many-to-one: `fix=bug,perf=bug`). It lives beside config, not in `github/`, because
config checks it when settings load and config sits below the GitHub side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prtriage.core.categories import Category
from prtriage.core.errors import ConfigError
from prtriage.core.globs import GlobError, compile_glob

MAX_LABEL_LENGTH = 50  # GitHub's limit for a label name
LabelMap = tuple[tuple[str, str], ...]  # (category, label name) pairs, "" for no label


def parse_label_map(key: str, value: Any, source: str) -> LabelMap:
    """(category, label) pairs from a TOML table or `category=label,...`; each bad item names itself."""
    return parse_pairs(key, value, source, _check_name)


def parse_path_labels(key: str, value: Any, source: str) -> LabelMap:
    """(glob, label) pairs, `"docs/**" = "documentation"`: the glob as actions/labeler reads it,
    the label checked as a label map's is."""
    return parse_pairs(key, value, source, _check_path_rule, what="glob")


def _check_path_rule(key: str, glob: str, name: Any, source: str) -> None:
    try:
        compile_glob(glob)
    except GlobError as e:
        raise ConfigError(f"{source}: '{key}': glob {glob!r} has {e}") from None
    if not name:
        raise ConfigError(f"{source}: '{key}': glob {glob!r} needs a label")
    _check_name(key, glob, name, source)


def parse_pairs(
    key: str, value: Any, source: str, check: Callable[[str, str, Any, str], None], what: str = "category"
) -> LabelMap:
    """(category, text) pairs from a TOML table or `category=text,...`, in the order given."""
    if isinstance(value, str):
        pairs: list[tuple[Any, Any]] = []
        for item in (i.strip() for i in value.split(",")):
            if not item:
                continue
            category, sep, name = item.partition("=")
            if not sep:
                raise ConfigError(
                    f"{source}: '{key}' item {item!r} is not {what.upper()}=LABEL",
                    hint="e.g. fix=bug,feature=enhancement (LABEL empty for no label)"
                    if what == "category" else 'e.g. docs/**=documentation',
                )  # fmt: skip
            pairs.append((category.strip(), name.strip()))
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise ConfigError(f"{source}: '{key}' must be a table of {what} = \"label\"")
    seen: set[str] = set()
    for category, name in pairs:
        if not isinstance(category, str) or not category.strip():
            raise ConfigError(
                f"{source}: '{key}' has an empty {what}" + (" name" if what == "category" else "")
            )
        if category in seen:
            raise ConfigError(f"{source}: '{key}' maps {what} {category!r} twice")
        seen.add(category)
        check(key, category, name, source)
    return tuple((c, n) for c, n in pairs)


def _check_name(key: str, category: str, name: Any, source: str) -> None:
    if not isinstance(name, str):
        raise ConfigError(f"{source}: '{key}': the label of {category!r} must be a string")
    if name != name.strip() or (name and not name.strip()):
        raise ConfigError(f"{source}: '{key}': label {name!r} of {category!r} has surrounding spaces")
    if len(name) > MAX_LABEL_LENGTH:
        raise ConfigError(
            f"{source}: '{key}': label {name!r} of {category!r} is longer than {MAX_LABEL_LENGTH} characters"
        )
    if "," in name:
        raise ConfigError(f"{source}: '{key}': label {name!r} of {category!r} holds a comma")


def check_label_map(label_map: LabelMap, categories: Sequence[Category], what: str = "labels") -> None:
    """Every mapped category is a configured one (checked once all config layers are merged)."""
    known = [c.name for c in categories]
    for category, _ in label_map:
        if category not in known:
            raise ConfigError(
                f"{what}: unknown category {category!r}", hint="known categories: " + ", ".join(known)
            )
