"""A change to classify, and the one place a `Change` is built: from git (a branch, a range, the
staged files, a push), from a pull request (its clone or the GitHub API's files), from a change
record, or from a diff's text.

Every source marks its files the same way (excluded, generated, binary: diff.mark_skipped), so
classify, batch, eval, the teacher, the hooks and the training data see one kind of change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prtriage.core.errors import GitError
from prtriage.pipeline import git
from prtriage.pipeline.diff import LINGUIST_ATTRS, FileDiff, mark_skipped, parse_diff


@dataclass(frozen=True)
class Change:
    """A change to classify, before the budget: what git (or a record) gave us."""

    title: str
    body: str
    files: list[FileDiff]
    source: str = ""  # where it came from, e.g. "origin/main...HEAD"


def change_from_git(
    cwd: Path,
    spec: git.DiffSpec,
    exclude: Sequence[str],
    title: str | None = None,
    body: str | None = None,
    source: str | None = None,
) -> Change:
    """The change git describes: diff, files, and a title/description from flags or commits.

    `source` names where it came from in reports; by default the commits' range.
    """
    repo = git.repo_root(cwd)
    span = git.resolve_range(repo, spec)
    files = parse_diff(git.stream_diff(repo, span))
    where = "staged changes" if span is None else f"{span[0][:12]}..{span[1]}"
    if not files:
        hint = "stage changes with git add" if span is None else "commit your changes, or pick another --base"
        raise GitError(f"empty diff: no changes in {where}", hint=hint)
    # The base's attributes (HEAD's for staged changes): the head's own cannot hide its files.
    attrs = git.check_attrs(
        repo, [f.path for f in files], LINGUIST_ATTRS, "HEAD" if span is None else span[0]
    )
    mark_skipped(files, exclude, attrs)
    if title is None or body is None:
        found_title, found_body = git.title_and_body(repo, span)
        title = found_title if title is None else title
        body = found_body if body is None else body
    return Change(title=title, body=body, files=files, source=where if source is None else source)


def change_from_pull_request(
    cwd: Path, number: int, base_sha: str, head_sha: str, exclude: Sequence[str], title: str, body: str
) -> Change:
    """A pull request's change in its clone: `git diff base...head`, titled as the pull request."""
    change = change_from_git(cwd, git.DiffSpec(range=f"{base_sha}...{head_sha}"), exclude, title, body)
    return replace(change, source=f"#{number} {change.source}")


def change_from_pull_files(
    title: str, body: str, files: list[FileDiff], repository: str, number: int
) -> Change:
    """A pull request's change from the files the GitHub API lists (github/remote_diff.py)."""
    if not files:
        raise GitError(f"pull request #{number} changes no files")
    return Change(title, body, files, f"{repository}#{number} (GitHub API)")


def change_from_push(
    cwd: Path, start: str, end: str, source: str, exclude: Sequence[str],
    title: str | None = None, body: str | None = None,
) -> Change | None:  # fmt: skip
    """What a push sends, start..end (start may be git's empty tree: the push holds the root
    commit); None when it sends no file changes."""
    repo = git.repo_root(cwd)
    paths = git.changed_paths(repo, start, end)
    if not paths:
        return None
    if start != git.EMPTY_TREE:
        return change_from_git(repo, git.DiffSpec(range=f"{start}..{end}"), exclude, title, body, source)
    found_title, found_body = git.summarize(git.commits(repo, end))  # the whole history
    return change_from_diff(
        found_title if title is None else title, found_body if body is None else body,
        git.stream_diff(repo, (start, end)), exclude, source, git.check_attrs(repo, paths, LINGUIST_ATTRS, None),
    )  # fmt: skip


def change_from_staged(cwd: Path, exclude: Sequence[str], title: str, body: str) -> Change | None:
    """The staged change under a commit message being written; None when nothing is staged."""
    repo = git.repo_root(cwd)
    if not git.has_staged_changes(repo):
        return None  # --allow-empty, or a message-only amend
    return change_from_git(repo, git.DiffSpec(staged=True), exclude, title, body)


def change_from_diff(
    title: str, body: str, diff_lines: Iterable[str], exclude: Sequence[str], source: str = "",
    attrs: dict[str, set[str]] | None = None,
) -> Change:  # fmt: skip
    """A change from a unified diff's text (`attrs`: git's attributes of its paths, if known)."""
    files = parse_diff(diff_lines)
    mark_skipped(files, exclude, attrs or {})
    return Change(title=title, body=body, files=files, source=source)


def change_from_record(record: Mapping[str, Any], exclude: Sequence[str], source: str = "") -> Change:
    """A change record (`title`, `body`, `diff`; checked by `jsonl.check_change_record`) as a Change.

    A missing or null title or body is empty, as classify sees a commit without one.
    """
    return change_from_diff(
        record.get("title") or "", record.get("body") or "", record["diff"].splitlines(True), exclude, source
    )
