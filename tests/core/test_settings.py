from __future__ import annotations

import re
from pathlib import Path

import pytest

from prtriage.core.errors import ConfigError
from prtriage.core.settings import Settings, resolve_settings, unknown_variables


def test_defaults(tmp_path: Path) -> None:
    s = resolve_settings({}, env={}, cwd=tmp_path)
    assert s == Settings()
    assert s.category_names == (
        "feature",
        "fix",
        "docs",
        "refactor",
        "perf",
        "test",
        "ci",
        "build",
        "deps",
        "chore",
    )


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.prtriage]\ncontext-size = 1024\nthreads = 3\nfail-on = ["docs"]\nmodel = "models/m.gguf"\n'
    )
    sub = tmp_path / "pkg"
    sub.mkdir()
    env = {"PRTRIAGE_THREADS": "2", "PRTRIAGE_FAIL_ON": "ci, build"}
    s = resolve_settings({"threads": 1}, env=env, cwd=sub)
    assert (s.context_size, s.threads, s.fail_on) == (1024, 1, ("ci", "build"))
    assert s.model == str((tmp_path / "models/m.gguf").resolve())  # relative to the config file
    assert s.config_file == tmp_path / "pyproject.toml"


def test_dotfile_wins_over_pyproject_and_categories_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.prtriage]\nthreads = 3\n")
    (tmp_path / ".prtriage.toml").write_text(
        'fail-on = ["security"]\n[categories]\nsecurity = "fixes a vulnerability"\nother = "anything else"\n'
    )
    s = resolve_settings({}, env={}, cwd=tmp_path)
    assert s.threads is None
    assert s.category_names == ("security", "other")
    assert s.fail_on == ("security",)


def test_categories_as_names_from_env(tmp_path: Path) -> None:
    s = resolve_settings({}, env={"PRTRIAGE_CATEGORIES": "fix,feature,docs"}, cwd=tmp_path)
    assert s.category_names == ("fix", "feature", "docs")


@pytest.mark.parametrize(
    "toml, message",
    [
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("context-size = 'big'\n", "'context-size' must be an integer"),
        ("context-size = 10\n", "from 256"),
        ("fail-on = ['nope']\n", "unknown category 'nope'"),
        ("categories = ['feature', 'wat']\n", "category 'wat' has no built-in definition"),
        ("[categories]\n'Bad Name' = 'x'\nok = 'y'\n", "bad category name"),
        ("exclude = 'a'\nexclude = 'b'\n", "not valid TOML"),
        ("min-confidence = 1.5\n", "'min-confidence' must be a number from 0 to 1"),
        ("min-confidence = -0.1\n", "'min-confidence' must be a number from 0 to 1"),
        ("min-confidence = 'sure'\n", "'min-confidence' must be a number from 0 to 1"),
        ("uncertain-label = ''\n", "'uncertain-label' must be a non-empty string"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / ".prtriage.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message) as info:
        resolve_settings({}, env={}, cwd=tmp_path)
    if "TOML" not in message and "category" not in message:
        assert ".prtriage.toml" in info.value.message


def test_bad_env_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment: 'threads'"):
        resolve_settings({}, env={"PRTRIAGE_THREADS": "many"}, cwd=tmp_path)


def test_explicit_config_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        resolve_settings({}, env={}, cwd=tmp_path, config_file=tmp_path / "nope.toml")


def test_min_confidence_from_file_env_and_flag(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text("min-confidence = 0.5\nuncertain-label = 'needs-triage'\n")
    assert resolve_settings({}, env={}, cwd=tmp_path).min_confidence == 0.5
    assert resolve_settings({}, env={}, cwd=tmp_path).uncertain_label == "needs-triage"
    from_env = resolve_settings({}, env={"PRTRIAGE_MIN_CONFIDENCE": "0.7"}, cwd=tmp_path)
    assert from_env.min_confidence == 0.7
    assert resolve_settings({"min-confidence": 1}, env={}, cwd=tmp_path).min_confidence == 1.0
    with pytest.raises(ConfigError, match="environment: 'min-confidence' must be a number from 0 to 1"):
        resolve_settings({}, env={"PRTRIAGE_MIN_CONFIDENCE": "nan"}, cwd=tmp_path)


@pytest.mark.parametrize("key", ["fail_on", "context_size", "min_confidence", "uncertain_label"])
def test_snake_case_keys_are_errors_that_name_the_kebab_spelling(tmp_path: Path, key: str) -> None:
    # One spelling everywhere, as for flags and Action inputs: `fail_on` and `fail-on` together
    # must not silently override each other.
    (tmp_path / ".prtriage.toml").write_text(f"{key} = 1\n")
    with pytest.raises(ConfigError, match=f"unknown key '{key}'") as info:
        resolve_settings({}, env={}, cwd=tmp_path)
    assert info.value.hint == f"config keys are spelled with '-': '{key.replace('_', '-')}'"


@pytest.mark.parametrize(
    "key, meant", [("min-confidense", "min-confidence"), ("failon", "fail-on"), ("modle", "model")]
)
def test_a_misspelt_key_gets_the_did_you_mean_a_variable_gets(tmp_path: Path, key: str, meant: str) -> None:
    # One rule for both: the key's closest known name, not the list of all 24.
    (tmp_path / ".prtriage.toml").write_text(f"{key} = 1\n")
    with pytest.raises(ConfigError, match=f"unknown key '{key}'") as info:
        resolve_settings({}, env={}, cwd=tmp_path)
    assert info.value.hint == f"did you mean '{meant}'? (`prtriage config` lists every key)"
    variable = "PRTRIAGE_" + key.upper().replace("-", "_")
    assert (
        f"did you mean PRTRIAGE_{meant.upper().replace('-', '_')}?" in unknown_variables({variable: "1"})[0]
    )
    (tmp_path / ".prtriage.toml").write_text("colour = 1\n")  # nothing close: every key, as before
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={}, cwd=tmp_path)
    assert (info.value.hint or "").startswith("known keys: categories, model")


def test_environment_names_use_underscores(tmp_path: Path) -> None:
    env = {"PRTRIAGE_FAIL_ON": "docs", "PRTRIAGE_CONTEXT_SIZE": "1024", "PRTRIAGE_REASONING_TOKENS": "0"}
    s = resolve_settings({}, env=env, cwd=tmp_path)
    assert (s.fail_on, s.context_size, s.reasoning_tokens) == (("docs",), 1024, 0)


def test_label_map_from_table_env_and_flag(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.prtriage]\nfail-on = ["chore"]\n[tool.prtriage.labels]\nfix = "bug"\nchore = ""\n'
    )
    assert resolve_settings({}, env={}, cwd=tmp_path).labels == (("fix", "bug"), ("chore", ""))
    env = {"PRTRIAGE_LABELS": "fix=bug, perf=bug ,docs=documentation"}
    assert resolve_settings({}, env=env, cwd=tmp_path).labels == (
        ("fix", "bug"), ("perf", "bug"), ("docs", "documentation"),
    )  # fmt: skip
    flag = resolve_settings({"labels": "feature=enhancement"}, env=env, cwd=tmp_path)
    assert flag.labels == (("feature", "enhancement"),)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bugfix=bug", "labels: unknown category 'bugfix'"),
        ("=bug", "'labels' has an empty category name"),
        ("fix", "item 'fix' is not CATEGORY=LABEL"),
        ("fix=bug,fix=defect", "maps category 'fix' twice"),
        ("fix=" + "b" * 51, "is longer than 50 characters"),
    ],
)
def test_bad_label_maps_name_the_problem(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_settings({}, env={"PRTRIAGE_LABELS": value}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[labels]\nfix = "bug, defect"\n', "holds a comma"),
        ("[labels]\nfix = 3\n", "the label of 'fix' must be a string"),
        ('[labels]\nfix = " bug"\n', "surrounding spaces"),
        ('labels = "fix=bug"\n[notes]\nfix = "Fixes\\nmore"\n', "heading of 'fix' must be one line"),
        ('[notes]\nwat = "Wat"\n', "notes: unknown category 'wat'"),
    ],
)
def test_bad_label_map_and_notes_tables(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / ".prtriage.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        resolve_settings({}, env={}, cwd=tmp_path)


def test_notes_headings_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text('[notes]\nfix = "Bug fixes"\nfeature = "New"\nchore = ""\n')
    settings = resolve_settings({}, env={}, cwd=tmp_path)
    assert settings.notes == (("fix", "Bug fixes"), ("feature", "New"), ("chore", ""))


def test_default_model_and_no_adapter_are_words_not_file_names(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text('model = "default"\nadapter = "none"\n')
    s = resolve_settings({}, env={}, cwd=tmp_path)
    assert (s.model, s.adapter) == (None, "none")  # as --model default --adapter none say
    assert resolve_settings({"model": "default", "adapter": "none"}, env={}, cwd=tmp_path / "..") == Settings(
        adapter="none", config_file=None
    )
    (tmp_path / ".prtriage.toml").write_text('model = "m.gguf"\nadapter = "default"\n')
    s = resolve_settings({}, env={"PRTRIAGE_MODEL": "default"}, cwd=tmp_path)
    assert (s.model, s.adapter) == (None, None)  # the variable restores the embedded model
    assert resolve_settings({}, env={}, cwd=tmp_path).model == str(tmp_path / "m.gguf")


def test_misspelt_variables_are_named_with_the_closest_known_one() -> None:
    env = {"PRTRIAGE_FAILON": "chore", "PRTRIAGE_MODLE": "x.gguf", "PRTRIAGE_CACHE_DIR": "/c",
           "PRTRIAGE_DEBUG": "1", "PRTRIAGE_FAIL_ON": "deps", "PRTRIAGE_ZZZ": "1", "OTHER": "x"}  # fmt: skip
    assert unknown_variables(env) == [
        "warning: PRTRIAGE_FAILON is not a prtriage variable and is ignored (did you mean PRTRIAGE_FAIL_ON?)",
        "warning: PRTRIAGE_MODLE is not a prtriage variable and is ignored (did you mean PRTRIAGE_MODEL?)",
        "warning: PRTRIAGE_ZZZ is not a prtriage variable and is ignored (see docs/configuration.md)",
    ]


def test_label_rule_settings(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text(
        "size-labels = true\nsize-thresholds = [5, 50, 200, 1000]\nskip-drafts = false\nskip-authors = []\n"
        'declared = "check"\n[path-labels]\n"docs/**" = "documentation"\n"**/*.{ts,tsx}" = "typescript"\n'
    )
    s = resolve_settings({}, env={"PRTRIAGE_SKIP_DRAFTS": "true"}, cwd=tmp_path)
    assert (s.size_labels, s.size_thresholds, s.skip_drafts, s.skip_authors, s.declared) == (
        True, (5, 50, 200, 1000), True, (), "check",
    )  # fmt: skip
    assert s.path_labels == (("docs/**", "documentation"), ("**/*.{ts,tsx}", "typescript"))
    assert resolve_settings({}, env={"PRTRIAGE_SKIP_AUTHORS": "none"}, cwd=tmp_path / "..").skip_authors == ()
    env = {"PRTRIAGE_PATH_LABELS": "docs/**=documentation"}
    assert resolve_settings({}, env=env, cwd=tmp_path).path_labels == (("docs/**", "documentation"),)


@pytest.mark.parametrize(
    "toml, message",
    [
        ("size-thresholds = [10, 5, 100, 500]", "'size-thresholds' must be four ascending line counts"),
        ('size-labels = "maybe"', "'size-labels' must be true or false"),
        ('declared = "always"', "'declared' must be one of trust, check, ignore"),
        ('[path-labels]\n"!docs/**" = "documentation"', "glob '!docs/**' has a negated pattern"),
        ('[path-labels]\n"docs/[ab" = "documentation"', "glob 'docs/[ab' has an unclosed '['"),
        ('[path-labels]\n"docs/**" = "a,b"', "label 'a,b' of 'docs/**' holds a comma"),
        ('[path-labels]\n"docs/**" = ""', "glob 'docs/**' needs a label"),
    ],
)
def test_bad_label_rules_name_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / ".prtriage.toml").write_text(toml + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve_settings({}, env={}, cwd=tmp_path)
