"""Settings from flags, `PRTRIAGE_*` environment variables, config files and defaults, in that order."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prtriage.categories import DEFAULT_CATEGORIES, Category, check_known, make_categories
from prtriage.category_map import LabelMap, check_label_map, parse_label_map, parse_pairs
from prtriage.errors import ConfigError

# The bundled adapter was trained on 512-token examples; on held-out repositories it scored as
# well at 512 as at 2048 and 2.4x faster (docs/model.md), so the default follows it.
DEFAULT_CONTEXT_SIZE = 512
DEFAULT_REASONING_TOKENS = 48


@dataclass(frozen=True)
class Settings:
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    model: str | None = None  # None: the embedded default model
    adapter: str | None = None  # None: the default adapter when the model is the default one
    base: str | None = None
    exclude: tuple[str, ...] = ()
    context_size: int = DEFAULT_CONTEXT_SIZE
    fail_on: tuple[str, ...] = ()
    threads: int | None = None  # None: measured default, see engine.default_threads
    gpu_layers: int | None = None  # None: all layers when the build can offload, else 0
    reasoning_tokens: int = DEFAULT_REASONING_TOKENS
    # Below this probability a result is uncertain: reported as such, never fails or labels.
    min_confidence: float | None = None
    uncertain_label: str | None = None  # with --label: put on uncertain results (off by default)
    scorer: str = "llm"  # "fused": the LLM's category scores mixed with a lexical model's
    lexical: str | None = None  # the fused scorer's lexical model (.npz); None: the shipped one
    labels: LabelMap = ()  # category → label name ("" for none); unmapped: prefix + category
    notes: LabelMap = ()  # category → release-notes heading, in order ("" hides the category)
    config_file: Path | None = field(default=None, compare=False)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)


def _as_str(key: str, value: Any, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: '{key}' must be a non-empty string")
    return value


def _as_number(
    kind: type[int] | type[float], lo: float, hi: float, noun: str, ranged: str
) -> Callable[[str, Any, str], Any]:
    """A number from `lo` to `hi` of `kind`: a TOML number, or a string (environment, flags).

    `noun` names what an unparsable string should have been, `ranged` what any wrong value should.
    A float is refused where `kind` is int, and a bool always (TOML's true is not 1).
    """
    allowed = (int,) if kind is int else (int, float)

    def convert(key: str, value: Any, source: str) -> Any:
        if isinstance(value, str):
            try:
                value = kind(value)
            except ValueError:
                raise ConfigError(f"{source}: '{key}' must be {noun}, not {value!r}") from None
        if not isinstance(value, allowed) or isinstance(value, bool) or not lo <= value <= hi:
            raise ConfigError(f"{source}: '{key}' must be {ranged}, not {value!r}")
        return kind(value)

    return convert


def _as_int(lo: int, hi: int) -> Callable[[str, Any, str], int]:
    return _as_number(int, lo, hi, "an integer", f"an integer from {lo} to {hi}")


_as_probability = _as_number(float, 0.0, 1.0, "a number from 0 to 1", "a number from 0 to 1")


def _as_choice(*choices: str) -> Callable[[str, Any, str], str]:
    def convert(key: str, value: Any, source: str) -> str:
        if value not in choices:
            raise ConfigError(f"{source}: '{key}' must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    return convert


def _as_str_list(key: str, value: Any, source: str) -> tuple[str, ...]:
    if isinstance(value, str):  # environment variables and flags: comma-separated
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{source}: '{key}' must be a list of strings")
    return tuple(value)


def _as_headings(key: str, value: Any, source: str) -> LabelMap:
    """`notes`: category → heading, as a table or `fix=Bug fixes,...`; the order is the notes' order."""
    return parse_pairs(key, value, source, _check_heading)


def _check_heading(key: str, category: str, heading: Any, source: str) -> None:
    if not isinstance(heading, str) or "\n" in heading or heading != heading.strip():
        raise ConfigError(f"{source}: '{key}': the heading of {category!r} must be one line of text")


# Config key → (Settings field, converter). Keys are kebab-case, as flags and Action inputs are;
# a snake_case spelling is an error (with the right spelling as the hint), never a silent alias.
# Environment variables are PRTRIAGE_ + the key upper-cased with `_` for `-` (see _from_env).
_KEYS: dict[str, tuple[str, Callable[[str, Any, str], Any]]] = {
    "model": ("model", _as_str),
    "adapter": ("adapter", _as_str),
    "base": ("base", _as_str),
    "exclude": ("exclude", _as_str_list),
    "context-size": ("context_size", _as_int(256, 131072)),
    "fail-on": ("fail_on", _as_str_list),
    "threads": ("threads", _as_int(1, 512)),
    "gpu-layers": ("gpu_layers", _as_int(-1, 100000)),
    "reasoning-tokens": ("reasoning_tokens", _as_int(0, 512)),
    "min-confidence": ("min_confidence", _as_probability),
    "uncertain-label": ("uncertain_label", _as_str),
    "scorer": ("scorer", _as_choice("llm", "fused")),
    "lexical": ("lexical", _as_str),
    "labels": ("labels", parse_label_map),
    "notes": ("notes", _as_headings),
}
_PATH_KEYS = ("model", "adapter", "lexical")
KNOWN_KEYS = ("categories", *_KEYS)


def find_config_file(start: Path) -> Path | None:
    """The nearest `.prtriage.toml`, or `pyproject.toml` with `[tool.prtriage]`, up to the repository root."""
    for folder in (start, *start.parents):
        dotfile = folder / ".prtriage.toml"
        if dotfile.is_file():
            return dotfile
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "prtriage" in _read_toml(pyproject).get("tool", {}):
            return pyproject
        if (folder / ".git").exists():
            return None
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The prtriage table of a config file, with keys checked and relative paths made absolute."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    data = _read_toml(path)
    table = data.get("tool", {}).get("prtriage", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.prtriage] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}", hint=_key_hint(key))
        if key in _PATH_KEYS and isinstance(value, str) and _is_relative_path(value):
            value = str((path.parent / value).resolve())
        values[key] = value
    return values


def _key_hint(key: str) -> str:
    dashed = key.replace("_", "-")
    if dashed != key and dashed in KNOWN_KEYS:
        return f"config keys are spelled with '-': {dashed!r}"
    return "known keys: " + ", ".join(KNOWN_KEYS)


def _is_relative_path(value: str) -> bool:
    return "://" not in value and not Path(value).is_absolute()


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in KNOWN_KEYS:
        name = "PRTRIAGE_" + key.upper().replace("-", "_")
        if env.get(name):
            values[key] = env[name]
    return values


def resolve_settings(
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge flags > PRTRIAGE_* environment > config file > defaults into one checked Settings.

    `flags` uses config keys (kebab-case); None values mean "not given".
    """
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    config_file = config_file or (Path(env["PRTRIAGE_CONFIG"]) if env.get("PRTRIAGE_CONFIG") else None)
    path = config_file or find_config_file(cwd.resolve())
    layers = [
        (read_config_file(path) if path else {}, str(path)),
        (_from_env(env), "environment"),
        ({k: v for k, v in flags.items() if v is not None and v != ()}, "command line"),
    ]
    fields: dict[str, Any] = {"config_file": path}
    for values, source in layers:
        for key, value in values.items():
            if key == "categories":
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
                fields["categories"] = make_categories(value, source)
                continue
            attr, convert = _KEYS[key]
            fields[attr] = convert(key, value, source)
    settings = Settings(**fields)
    check_known(settings.fail_on, settings.categories, "fail-on")
    check_label_map(settings.labels, settings.categories)
    check_label_map(settings.notes, settings.categories, "notes")
    return settings
