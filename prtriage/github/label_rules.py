"""The labels beside the category's: a size from the changed lines, and path rules' labels.

Both read only the list of changed files: from the diff the run classified, or, in the trusted job
of the fork-safe recipe, from the pull request's files as the API lists them (never from the
result file the untrusted run wrote). Which pull requests get no labels at all (drafts, bots) is
decided here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prtriage.core.globs import compile_glob
from prtriage.core.settings import Settings
from prtriage.github.api import GitHubClient, GitHubError
from prtriage.github.labels import Wanted
from prtriage.pipeline.diff import FileDiff, skip_reason

SIZES = ("XS", "S", "M", "L", "XL")
SIZE_PREFIX = "size/"
SIZE_COLORS = dict(zip(SIZES, ("3cbf00", "5d9801", "7f7203", "a14c05", "c32607")))
PATH_COLOR = "c2e0c6"
UNCOUNTED = ("lock file", "generated", "vendored")  # lines that say nothing of a change's size


@dataclass(frozen=True)
class ChangedFile:
    path: str
    old_path: str | None  # a renamed file's earlier path (path rules match either)
    lines: int  # added + deleted
    counted: bool  # False for lock, generated and vendored files: left out of the size


def from_diffs(files: Iterable[FileDiff]) -> list[ChangedFile]:
    return [
        ChangedFile(f.path, f.old_path, f.additions + f.deletions, f.skip not in UNCOUNTED) for f in files
    ]


def list_pull_files(client: GitHubClient, repository: str, number: int) -> list[ChangedFile]:
    """The pull request's changed files as GitHub lists them (paginated, up to 3,000)."""
    found = []
    for item in client.paginate(f"/repos/{repository}/pulls/{number}/files"):
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            raise GitHubError("GitHub's file listing has an entry without a filename")
        path, old = item["filename"], item.get("previous_filename")
        lines = int(item.get("additions") or 0) + int(item.get("deletions") or 0)
        counted = skip_reason(path, False, (), set()) not in UNCOUNTED
        found.append(ChangedFile(path, old if isinstance(old, str) else None, lines, counted))
    return found


def size_name(lines: int, thresholds: Sequence[int]) -> str:
    """size/XS below the first threshold, size/XL from the last one on."""
    index = sum(lines >= t for t in thresholds)
    return SIZE_PREFIX + SIZES[index]


def size_label(files: Sequence[ChangedFile], thresholds: Sequence[int]) -> Wanted:
    lines = sum(f.lines for f in files if f.counted)
    name = size_name(lines, thresholds)
    index = SIZES.index(name.removeprefix(SIZE_PREFIX))
    low = thresholds[index - 1] if index else 0
    span = f"{low}-{thresholds[index] - 1}" if index < len(thresholds) else f"{low} or more"
    what = f"{span} changed lines, lock and generated files not counted"
    return Wanted(name, SIZE_COLORS[name.removeprefix(SIZE_PREFIX)], what)


def path_labels(files: Sequence[ChangedFile], rules: Sequence[tuple[str, str]]) -> list[Wanted]:
    """The label of every rule whose glob matches a changed file (old or new path), in rule order."""
    paths = [p for f in files for p in (f.path, f.old_path) if p]
    wanted: dict[str, Wanted] = {}
    for glob, label in rules:
        pattern = compile_glob(glob)
        if label not in wanted and any(pattern.match(p) for p in paths):
            wanted[label] = Wanted(label, PATH_COLOR, f"changes files matching {glob}")
    return list(wanted.values())


def extra_labels(files: Sequence[ChangedFile], settings: Settings) -> tuple[list[Wanted], set[str]]:
    """The size and path labels this change gets, and every name they may have (so stale ones
    come off: a size that changed on `synchronize`, a path no longer touched)."""
    wanted: list[Wanted] = []
    ours: set[str] = set()
    if settings.size_labels:
        wanted.append(size_label(files, settings.size_thresholds))
        ours |= {SIZE_PREFIX + s for s in SIZES}
    wanted += path_labels(files, settings.path_labels)
    ours |= {label for _, label in settings.path_labels}
    return wanted, ours


def login_matches(login: str, pattern: str) -> bool:
    """`*` is the only wildcard (a login's `[bot]` is literal); logins compare case-insensitively."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, login, re.IGNORECASE) is not None


def skipped_because(draft: bool, author: str, settings: Settings) -> str | None:
    """Why a pull request gets neither classification nor labels (skip-drafts, skip-authors)."""
    if draft and settings.skip_drafts:
        return "it is a draft (skip-drafts: false to triage drafts)"
    match = next((g for g in settings.skip_authors if author and login_matches(author, g)), None)
    if match:
        return (
            f"{author} opened it (skip-authors matches {match!r}; skip-authors: none to triage every author)"
        )
    return None
