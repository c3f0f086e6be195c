"""Settings from flags, `PRTRIAGE_*` environment variables, config files and defaults, in that order."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prtriage.core.categories import DEFAULT_CATEGORIES, Category, check_known, make_categories
from prtriage.core.category_map import (
    LabelMap,
    check_label_map,
    parse_label_map,
    parse_pairs,
    parse_path_labels,
)
from prtriage.core.errors import ConfigError

# The bundled adapter was trained on 512-token examples; on held-out repositories it scored as
# well at 512 as at 2048 and 2.4x faster (docs/model.md), so the default follows it.
DEFAULT_CONTEXT_SIZE = 512
DEFAULT_REASONING_TOKENS = 48
# The words a model or adapter setting may hold instead of a file, read the same way from flags,
# the environment and config files (never as file names next to the config file).
DEFAULT_REFERENCE = "default"  # model: the embedded model; adapter: the bundled one on it
NO_ADAPTER = "none"
DECLARED = ("trust", "check", "ignore")  # what a Conventional Commits type in the title decides
NOTES_SCOPES = ("bold", "italic", "none")  # Conventional Changelog's `**api:**`, git-cliff's `*(api)*`
# Lower bounds of size/S, size/M, size/L and size/XL in changed lines (kubernetes' sizes).
DEFAULT_SIZE_THRESHOLDS = (10, 30, 100, 500)


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
    # "fused": the LLM's category scores mixed with a lexical model's (docs/model.md: the better
    # scorer on every measurement, so the default); "llm": the LLM's alone.
    scorer: str = "fused"
    # The reasoning line: "evidence" is built from the scores and the change's own files
    # (pipeline/explain.py); "model" is the adapter's own sentence when it passes the same checks.
    reasoning: str = "evidence"
    # A result where the model saw under half of the changed lines, or not the most changed file:
    # "report" says so; "uncertain" also treats it as uncertain (no fail-on, no category label).
    saw_little: str = "report"
    lexical: str | None = None  # the fused scorer's lexical model (.npz); None: the shipped one
    # A result whose change holds text addressed to the classifier: "fail" fails closed (exit 4)
    # with fail-on set and in the hooks; "report" only reports it (docs/security.md).
    planted: str = "fail"
    planted_label: str | None = None  # with --label: put on such results (off by default)
    labels: LabelMap = ()  # category → label name ("" for none); unmapped: prefix + category
    notes: LabelMap = ()  # category → release-notes heading, in order ("" hides the category)
    notes_scope: str = "bold"  # an entry's Conventional Commits scope: `**api:** text`, `*(api)* text`, none
    notes_releases: bool = False  # list release commits (`chore(release): v1.2.3`) instead of counting them
    # A title's Conventional Commits type: trust it, check the model against it, or ignore it.
    # None: the command's own default (notes trust it; classify, the Action and hooks ignore it).
    declared: str | None = None
    # declared = check: the model's category replaces the type's only above this probability. 1.0,
    # never, was measured against five projects' published changelogs (docs/notes.md).
    check_override: float = 1.0
    skip_drafts: bool = True  # --github and label: a draft pull request is not triaged
    skip_authors: tuple[str, ...] = ("*[bot]",)  # nor one opened by these logins (globs)
    size_labels: bool = False  # with --label: size/XS ... size/XL from the changed lines
    size_thresholds: tuple[int, ...] = DEFAULT_SIZE_THRESHOLDS
    path_labels: LabelMap = ()  # (glob, label): the label when a changed file matches
    config_file: Path | None = field(default=None, compare=False)
    # Where the config came from, as reports name it ("" when there was none), and each key's
    # source (flag, environment, the config, default) for `prtriage config`.
    config_source: str = field(default="", compare=False)
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)


def _as_str(key: str, value: Any, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: '{key}' must be a non-empty string")
    return value


def _as_model(key: str, value: Any, source: str) -> str | None:
    """`default` is the embedded model (None), anything else a path or hf:// reference."""
    value = _as_str(key, value, source)
    return None if value == DEFAULT_REFERENCE else value


def _as_adapter(key: str, value: Any, source: str) -> str | None:
    """`default` is the bundled adapter (None), `none` no adapter, else a path or hf:// reference."""
    value = _as_str(key, value, source)
    return None if value == DEFAULT_REFERENCE else value


def _as_bool(key: str, value: Any, source: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: '{key}' must be true or false, not {value!r}")
    return value


def _as_thresholds(key: str, value: Any, source: str) -> tuple[int, ...]:
    """Four ascending line counts: where size/S, size/M, size/L and size/XL begin."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    try:
        numbers = tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else ()
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != 4 or numbers[0] < 1 or any(a >= b for a, b in zip(numbers, numbers[1:])):
        raise ConfigError(
            f"{source}: '{key}' must be four ascending line counts (where S, M, L and XL begin), "
            f"not {value!r}", hint="e.g. size-thresholds = [10, 30, 100, 500]",
        )  # fmt: skip
    return numbers


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


def _as_authors(key: str, value: Any, source: str) -> tuple[str, ...]:
    """Login globs; `none` (what an Action input or variable can say) for no one."""
    return () if value == "none" else _as_str_list(key, value, source)


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
    "model": ("model", _as_model),
    "adapter": ("adapter", _as_adapter),
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
    "reasoning": ("reasoning", _as_choice("evidence", "model")),
    "saw-little": ("saw_little", _as_choice("report", "uncertain")),
    "lexical": ("lexical", _as_str),
    "planted": ("planted", _as_choice("fail", "report")),
    "planted-label": ("planted_label", _as_str),
    "labels": ("labels", parse_label_map),
    "notes": ("notes", _as_headings),
    "notes-scope": ("notes_scope", _as_choice(*NOTES_SCOPES)),
    "notes-releases": ("notes_releases", _as_bool),
    "declared": ("declared", _as_choice(*DECLARED)),
    "check-override": ("check_override", _as_probability),
    "skip-drafts": ("skip_drafts", _as_bool),
    "skip-authors": ("skip_authors", _as_authors),
    "size-labels": ("size_labels", _as_bool),
    "size-thresholds": ("size_thresholds", _as_thresholds),
    "path-labels": ("path_labels", parse_path_labels),
}
PATH_KEYS = ("model", "adapter", "lexical")  # settings that name files
KNOWN_KEYS = ("categories", *_KEYS)
# PRTRIAGE_* variables that are not settings, so that a misspelt one can be told apart.
OTHER_VARIABLES = (
    "PRTRIAGE_CONFIG", "PRTRIAGE_DEBUG", "PRTRIAGE_CACHE_DIR",
    "PRTRIAGE_WHEELHOUSE", "PRTRIAGE_TORCH_INDEX",  # scripts/llama_wheel.sh, scripts/test.sh
    "PRTRIAGE_FUZZ",  # tests/conftest.py: the fuzz suite's hypothesis profile
    "PRTRIAGE_ENGINE",  # pipeline/engine_factory.py: an engine factory instead of llama.cpp
)  # fmt: skip


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


@dataclass(frozen=True)
class ConfigLayer:
    """A config file's checked prtriage table and how reports name where it came from."""

    values: dict[str, Any]
    source: str  # the path, or under --github "PATH at base commit SHA"
    path: Path | None = None  # the file on disk, when it was read from disk


def config_table(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    """The prtriage table of a parsed config file named `name`, every key checked."""
    table = data.get("tool", {}).get("prtriage", {}) if name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.prtriage] must be a table")
    for key in table:
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{source}: unknown key {key!r}", hint=_key_hint(key))
    return dict(table)


def read_config_file(path: Path) -> dict[str, Any]:
    """The prtriage table of a config file, with keys checked and relative paths made absolute."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    values = config_table(_read_toml(path), path.name, str(path))
    for key in PATH_KEYS:
        value = values.get(key)
        if isinstance(value, str) and is_local_path(key, value) and not Path(value).is_absolute():
            values[key] = str((path.parent / value).resolve())
    return values


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known name a typo most likely meant (`min-confidense` → `min-confidence`), or None.

    One rule for config keys and PRTRIAGE_ variables, so both say "did you mean" alike.
    """
    found = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return found[0] if found else None


def _key_hint(key: str) -> str:
    dashed = key.replace("_", "-")
    if dashed != key and dashed in KNOWN_KEYS:
        return f"config keys are spelled with '-': {dashed!r}"
    close = closest(dashed, list(KNOWN_KEYS))
    if close:
        return f"did you mean {close!r}? (`prtriage config` lists every key)"
    return "known keys: " + ", ".join(KNOWN_KEYS)


def is_local_path(key: str, value: str) -> bool:
    """A model, adapter or lexical setting that names a file: not hf://, and for the model and
    the adapter not the words `default` or `none`."""
    reserved = value in (DEFAULT_REFERENCE, NO_ADAPTER) and key in ("model", "adapter")
    return "://" not in value and not reserved


def effective(settings: Settings) -> list[tuple[str, object, str]]:
    """(key, value as JSON would hold it, source) for every config key: what `prtriage config` shows."""
    rows: list[tuple[str, object, str]] = []
    sources = dict(settings.sources)
    for key in KNOWN_KEYS:
        value: Any
        if key == "categories":
            value = {c.name: c.definition for c in settings.categories}
        elif key in ("labels", "notes"):
            value = {category: text for category, text in getattr(settings, key)}
        else:
            value = getattr(settings, _KEYS[key][0])
            value = list(value) if isinstance(value, tuple) else value
        rows.append((key, value, sources.get(key, "default")))
    return rows


def env_name(key: str) -> str:
    return "PRTRIAGE_" + key.upper().replace("-", "_")


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    return {key: env[env_name(key)] for key in KNOWN_KEYS if env.get(env_name(key))}


def working_tree_config(
    env: Mapping[str, str], cwd: Path, config_file: Path | None = None
) -> ConfigLayer | None:
    """The config of the working tree: `config_file`, PRTRIAGE_CONFIG, or the nearest one found."""
    config_file = config_file or (Path(env["PRTRIAGE_CONFIG"]) if env.get("PRTRIAGE_CONFIG") else None)
    path = config_file or find_config_file(cwd.resolve())
    return ConfigLayer(read_config_file(path), str(path), path) if path else None


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """One warning per PRTRIAGE_* variable prtriage does not read, naming the closest known one.

    An unknown config key is an error; a variable may be meant for another version or tool, so it
    is a warning, but never silent.
    """
    known = [*(env_name(k) for k in KNOWN_KEYS), *OTHER_VARIABLES]
    warnings = []
    for name in sorted(env):
        if not name.startswith("PRTRIAGE_") or name in known:
            continue
        suffixes = [k.removeprefix("PRTRIAGE_") for k in known]  # the shared prefix would match all
        close = closest(name.removeprefix("PRTRIAGE_"), suffixes)
        hint = f"did you mean PRTRIAGE_{close}?" if close else "see docs/configuration.md"
        warnings.append(f"warning: {name} is not a prtriage variable and is ignored ({hint})")
    return warnings


def resolve_settings(
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_file: Path | None = None,
    layer: ConfigLayer | None = None,
    no_file: str = "",
) -> Settings:
    """Merge flags > PRTRIAGE_* environment > config file > defaults into one checked Settings.

    `flags` uses config keys (kebab-case); None values mean "not given". The config is `layer`
    when given (under --github: the base commit's, read by github/base_config.py), else the
    working tree's; `no_file` says where none was found, for reports.
    """
    env = os.environ if env is None else env
    if layer is None and not no_file:
        layer = working_tree_config(env, cwd or Path.cwd(), config_file)
    env_values = _from_env(env)
    file_source = layer.source if layer else ""
    layers = [
        (layer.values if layer else {}, file_source, lambda key: file_source),
        (env_values, "environment", lambda key: f"environment ({env_name(key)})"),
        ({k: v for k, v in flags.items() if v is not None and v != ()}, "command line", lambda key: "flag"),
    ]
    fields: dict[str, Any] = {"config_file": layer.path if layer else None}
    sources = dict.fromkeys(KNOWN_KEYS, "default")
    for values, source, provenance in layers:
        for key, value in values.items():
            sources[key] = provenance(key)
            if key == "categories":
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
                fields["categories"] = make_categories(value, source)
                continue
            attr, convert = _KEYS[key]
            fields[attr] = convert(key, value, source)
    fields["config_source"] = layer.source if layer else no_file
    fields["sources"] = tuple(sources.items())
    settings = Settings(**fields)
    check_known(settings.fail_on, settings.categories, "fail-on")
    check_label_map(settings.labels, settings.categories)
    check_label_map(settings.notes, settings.categories, "notes")
    return settings
