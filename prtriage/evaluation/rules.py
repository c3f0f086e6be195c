"""The path-and-keyword baseline (`--model rules`): what a few lines of heuristics get right.

Every evaluation report puts the model next to these rules on the same records, so a model
that does not beat them is visible at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from prtriage.pipeline.diff import CONFIG, DOCS, TEST, FileDiff

CI_PATH = re.compile(
    r"(^|/)(\.github/workflows/|\.circleci/|\.gitlab-ci|azure-pipelines|\.travis\.yml|Jenkinsfile|\.buildkite/)"
)
BUILD_PATH = re.compile(
    r"(^|/)(Dockerfile|Makefile|CMakeLists\.txt|setup\.py|setup\.cfg|tsconfig[^/]*\.json|"
    r"(vite|rollup|webpack|tsup|esbuild|babel|turbo)\.config\.[a-z]+|build\.(rs|gradle)|\.goreleaser\.ya?ml)$"
)
MANIFEST = re.compile(
    r"(^|/)(package\.json|go\.mod|Cargo\.toml|pyproject\.toml|requirements[^/]*\.txt|Gemfile|pom\.xml)$"
)
KEYWORDS: Sequence[tuple[str, re.Pattern[str]]] = (
    (
        "deps",
        re.compile(
            r"\b(bump|upgrade|update|pin)\b.*\b(to|from)\b\s*v?\d|\bdependenc|\bdeps?\b|\brenovate\b|\bdependabot\b",
            re.I,
        ),
    ),
    ("perf", re.compile(r"\b(perf|performance|faster|speed ?up|optimi[sz]|cache|memory|slow)\b", re.I)),
    (
        "fix",
        re.compile(
            r"\b(fix(es|ed)?|bug|crash|error|issue|broken|wrong|incorrect|regression|prevent|handle|correct)\b",
            re.I,
        ),
    ),
    ("docs", re.compile(r"\b(docs?|documentation|readme|typo|comment|guide|changelog)\b", re.I)),
    ("test", re.compile(r"\b(tests?|testing|spec|coverage|snapshot|e2e|flaky)\b", re.I)),
    ("ci", re.compile(r"\b(ci|workflow|github actions?|pipeline)\b", re.I)),
    ("build", re.compile(r"\b(build|bundle|compile|tsconfig|rollup|webpack|esbuild|docker)\b", re.I)),
    (
        "refactor",
        re.compile(
            r"\b(refactor|rename|clean ?up|simplify|move|extract|restructure|reorganize|remove unused)\b",
            re.I,
        ),
    ),
    (
        "feature",
        re.compile(r"\b(add|adds|added|support|implement|introduce|new|allow|enable|option)\b", re.I),
    ),
    ("chore", re.compile(r"\b(chore|lint|format|release|bump version|config)\b", re.I)),
)


def rule_scores(title: str, files: Sequence[FileDiff], categories: Sequence[str]) -> dict[str, float]:
    """Votes per category from changed paths first, then title keywords; 'chore' when nothing fires."""
    votes = dict.fromkeys(categories, 0.0)

    def vote(name: str, weight: float) -> None:
        if name in votes:
            votes[name] += weight

    paths = [f.path for f in files]
    if paths:
        if all(f.skip == "lock file" or MANIFEST.search(f.path) for f in files):
            vote("deps", 3)
        if all(CI_PATH.search(p) for p in paths):
            vote("ci", 3)
        if all(f.kind == DOCS for f in files):
            vote("docs", 3)
        if all(f.kind == TEST for f in files):
            vote("test", 3)
        if all(BUILD_PATH.search(p) or f.kind == CONFIG for p, f in zip(paths, files)) and not any(
            CI_PATH.search(p) for p in paths
        ):
            vote("build", 1.5)
    for rank, (name, pattern) in enumerate(KEYWORDS):
        if pattern.search(title):
            vote(name, 2 - rank * 0.05)  # earlier rules are more specific: they win ties
    if not any(votes.values()):
        vote("chore" if "chore" in votes else categories[-1], 1)
    return votes


def rule_probabilities(title: str, files: Sequence[FileDiff], categories: Sequence[str]) -> list[float]:
    votes = rule_scores(title, files, categories)
    total = sum(votes.values())
    return [votes[c] / total for c in categories]
