"""The rules baseline: changed paths vote first, title keywords second, 'chore' when nothing fires."""

from __future__ import annotations

import pytest

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.evaluation.rules import rule_probabilities, rule_scores
from prtriage.pipeline.diff import FileDiff

NAMES = [c.name for c in DEFAULT_CATEGORIES]
NEUTRAL = "Weekly maintenance"  # no keyword fires on it


def votes(title: str, paths: list[str], names: list[str] = NAMES) -> dict[str, float]:
    """The categories that got a vote, with their votes."""
    scores = rule_scores(title, [FileDiff(p) for p in paths], names)
    return {name: v for name, v in scores.items() if v}


@pytest.mark.parametrize(
    "paths, expected",
    [
        (["docs/guide.md", "README.md"], {"docs": 3}),
        (["tests/test_parse.py", "src/parse_test.go"], {"test": 3}),
        ([".github/workflows/ci.yml", ".circleci/config.yml"], {"ci": 3}),
        (["Dockerfile", "Makefile", "tsconfig.json"], {"build": 1.5}),
        (["web/package.json", "go.mod"], {"deps": 3, "build": 1.5}),  # manifests are config files too
    ],
)
def test_paths_vote_when_every_file_agrees(paths: list[str], expected: dict[str, float]) -> None:
    assert votes(NEUTRAL, paths) == expected


def test_one_file_of_another_kind_silences_a_path_rule() -> None:
    assert votes(NEUTRAL, ["docs/guide.md", "src/app.py"]) == {"chore": 1}
    assert votes(NEUTRAL, ["package.json", "src/app.py"]) == {"chore": 1}
    # A workflow is a config file, but a change that touches CI is not a build change.
    assert votes(NEUTRAL, ["Dockerfile", ".github/workflows/ci.yml"]) == {"chore": 1}


def test_lock_files_count_as_dependency_files_by_their_skip_reason() -> None:
    files = [FileDiff("package.json"), FileDiff("yarn.lock", skip="lock file")]
    assert rule_scores(NEUTRAL, files, NAMES)["deps"] == 3
    generated = [FileDiff("package.json"), FileDiff("yarn.lock", skip="generated")]
    assert rule_scores(NEUTRAL, generated, NAMES)["deps"] == 0


def test_title_keywords_vote_with_earlier_rules_winning_ties() -> None:
    assert votes("Speed up parsing with a cache", ["src/app.py"]) == {"perf": 1.95}
    assert votes("Bump lodash from 4.17.20 to 4.17.21", []) == {"deps": 2}
    # "fix" comes before "docs" in the rules, so it wins when the title names both.
    assert votes("Fix docs typo", ["src/app.py"]) == pytest.approx({"fix": 1.9, "docs": 1.85})
    assert votes("Rename prefix option", ["src/app.py"]) == pytest.approx({"refactor": 1.65, "feature": 1.6})


def test_keywords_match_whole_words_in_any_case() -> None:
    assert "fix" not in votes("Rename prefix option", ["src/app.py"])  # "prefix" is not "fix"
    assert votes("FIX CRASH", []) == {"fix": 1.9}


def test_paths_outweigh_the_title() -> None:
    assert votes("Fix docs typo", ["docs/guide.md"]) == pytest.approx({"fix": 1.9, "docs": 4.85})


def test_categories_outside_the_set_get_no_vote_and_the_fallback_is_the_last() -> None:
    assert votes(NEUTRAL, ["docs/guide.md"], ["fix", "feature"]) == {"feature": 1}
    assert votes("Fix docs typo", ["docs/guide.md"], ["fix", "feature"]) == {"fix": 1.9}


def test_probabilities_follow_the_category_order_and_sum_to_one() -> None:
    probs = rule_probabilities("Fix docs typo", [FileDiff("docs/guide.md")], ["fix", "docs", "chore"])
    assert probs == pytest.approx([1.9 / 6.75, 4.85 / 6.75, 0.0])
    assert sum(probs) == pytest.approx(1.0)
    assert rule_probabilities(NEUTRAL, [], ["fix", "chore", "docs"]) == [0.0, 1.0, 0.0]
