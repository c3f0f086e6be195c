"""Change records from history: `data from-git` (Conventional Commits) and `data from-github`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prtriage.core.conventional import (
    category_for,
    clean_body,
    clean_title,
    is_release,
    parse_subject,
)
from prtriage.core.errors import UsageError
from prtriage.dataset.sampling import capped_per_category
from prtriage.pipeline import git

DEFAULT_LABEL_MAP: dict[str, str] = {
    "bug": "fix", "fix": "fix", "bugfix": "fix", "enhancement": "feature", "feature": "feature",
    "documentation": "docs", "docs": "docs", "dependencies": "deps", "deps": "deps",
    "performance": "perf", "perf": "perf", "refactor": "refactor", "refactoring": "refactor",
    "test": "test", "tests": "test", "testing": "test", "ci": "ci", "github_actions": "ci",
    "build": "build", "chore": "chore", "maintenance": "chore",
}  # fmt: skip


@dataclass
class HarvestSummary:
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)


def parse_mapping(pairs: Iterable[str], base: Mapping[str, str], categories: Iterable[str]) -> dict[str, str]:
    """`key=category` overrides on top of a default map; categories are checked."""
    known = set(categories)
    result = dict(base)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"bad mapping {pair!r}", hint="use KEY=CATEGORY, e.g. --map style=refactor")
        if value not in known and value != "skip":
            raise UsageError(
                f"bad mapping {pair!r}: unknown category {value!r}", hint="known: " + ", ".join(sorted(known))
            )
        result[key.lower()] = value
    return {k: v for k, v in result.items() if v in known or v == "skip"}


def from_git(
    repo: Path, type_map: Mapping[str, str], since: str | None, max_per_category: int | None,
    max_diff_bytes: int, seed: int, summary: HarvestSummary,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Records for the first-parent commits whose subject follows Conventional Commits."""
    root = git.repo_root(repo)
    if not git.has_commits(root):
        raise UsageError(f"{root} has no commits")
    name = root.name
    candidates = []
    for entry in git.first_parent_log(root, since):
        subject = parse_subject(entry.subject)
        if subject is None:
            summary.skipped["not Conventional Commits"] += 1
            continue
        if is_release(entry.subject):
            summary.skipped["release commit"] += 1
            continue
        category = category_for(subject, type_map)
        if category is None or category == "skip":
            summary.skipped[f"type {subject.type!r} not mapped"] += 1
            continue
        candidates.append((entry, subject, category))
    records = [
        {
            "id": f"{name}@{e.sha[:12]}",
            "repo": name,
            "sha": e.sha,
            "date": e.date,
            "title": s.description,
            "body": clean_body(e.body),
            "category": c,
            "type": s.type,
            "scope": s.scope,
            "breaking": s.breaking,
        }  # fmt: skip
        for e, s, c in candidates
    ]
    entries = {r["sha"]: e for (e, _, _), r in zip(candidates, records)}
    for record in capped_per_category(records, max_per_category, seed):
        diff, cut = git.commit_diff(root, entries[record["sha"]], max_diff_bytes)
        if not diff.strip():
            summary.skipped["empty diff"] += 1
            continue
        record["diff"], record["diff_truncated"] = diff, cut
        summary.written += 1
        summary.categories[record["category"]] += 1
        yield record


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid JSON ({e})") from None


def from_github(
    export: Path, diffs: Path, label_map: Mapping[str, str], type_map: Mapping[str, str],
    max_diff_bytes: int, summary: HarvestSummary, repo: str = "",
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Records from `gh pr list --json ...` output and a folder of `gh pr diff` files (N.diff).

    `progress(done, total)` is called as each pull request of the export is dealt with.
    """
    prs = _load_json(export)
    if not isinstance(prs, list):
        raise UsageError(f"{export}: expected the JSON array that `gh pr list --json` writes")
    for i, pr in enumerate(prs):
        progress(i, len(prs))
        if (
            not isinstance(pr, dict)
            or not isinstance(pr.get("number"), int)
            or not isinstance(pr.get("title"), str)
        ):
            summary.skipped[f"entry {i}: no number or title"] += 1
            continue
        labels = {str(lbl.get("name", "")).lower() for lbl in pr.get("labels") or [] if isinstance(lbl, dict)}
        mapped = {label_map[lbl] for lbl in labels if lbl in label_map} - {"skip"}
        subject = parse_subject(pr["title"])
        if not mapped and subject is not None:  # no label: a Conventional Commits title still says
            category = category_for(subject, type_map)
            mapped = {category} if category and category != "skip" else set()
        if len(mapped) != 1:
            summary.skipped["no mapped label" if not mapped else "several mapped labels"] += 1
            continue
        diff_path = diffs / f"{pr['number']}.diff"
        if not diff_path.is_file():
            summary.skipped["diff file missing"] += 1
            continue
        raw = diff_path.read_bytes()
        category = mapped.pop()
        summary.written += 1
        summary.categories[category] += 1
        yield {
            "id": f"{repo or export.stem}#{pr['number']}", "repo": repo or export.stem,
            "number": pr["number"], "date": pr.get("mergedAt") or "", "title": clean_title(pr["title"]),
            "body": clean_body(pr.get("body") or ""), "category": category,
            "diff": raw[:max_diff_bytes].decode("utf-8", "replace"), "diff_truncated": len(raw) > max_diff_bytes,
        }  # fmt: skip
    progress(len(prs), len(prs))
