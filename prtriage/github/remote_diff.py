"""A pull request's diff fetched as data through the API: nothing from the pull request is checked out.

The diff endpoint answers 406 for very large pull requests (over 300 files or 20,000 lines); then
the files endpoint gives each file's patch, paginated, up to 3,000 files, without a patch for
binary or very large files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from prtriage.core.escape import valid_text
from prtriage.github.api import DIFF, GitHubClient, GitHubError
from prtriage.pipeline.diff import FileDiff, mark_skipped, parse_diff

NO_PATCH = "diff not sent by GitHub"
_STATUS = {"added": "added", "removed": "deleted", "renamed": "renamed", "copied": "renamed"}


def fetch_pull_files(
    client: GitHubClient, repository: str, number: int, exclude: Sequence[str]
) -> list[FileDiff]:
    """The changed files of pull request `number`, as `git diff` parsing would give them."""
    path = f"/repos/{repository}/pulls/{number}"
    response = client.request("GET", path, accept=DIFF, allow=(406, 422))
    if response.status == 200:
        files = parse_diff(response.body.decode("utf-8", "replace").splitlines(keepends=True))
        mark_skipped(files, exclude, {})
        return files
    return files_from_listing(client.paginate(f"{path}/files"), exclude)


def _as_diff(item: dict[str, Any]) -> Iterator[str]:
    """One file of the files endpoint written as the unified diff git would print."""
    path = str(item["filename"])
    old = str(item.get("previous_filename") or path)
    status = _STATUS.get(str(item.get("status")), "modified")
    yield f"diff --git a/{old} b/{path}\n"
    if status == "renamed":
        yield f"rename from {old}\nrename to {path}\n"
    yield "--- /dev/null\n" if status == "added" else f"--- a/{old}\n"
    yield "+++ /dev/null\n" if status == "deleted" else f"+++ b/{path}\n"
    patch = item["patch"]
    yield from (line + "\n" for line in patch.split("\n"))


def files_from_listing(items: Iterator[Any], exclude: Sequence[str]) -> list[FileDiff]:
    files: list[FileDiff] = []
    unsent: list[FileDiff] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            raise GitHubError("GitHub's file listing has an entry without a filename")
        if isinstance(item.get("patch"), str):
            files.extend(parse_diff(_as_diff(item)))
            continue
        # No patch: binary (no line counts) or too large to send; keep the counts GitHub gives.
        additions, deletions = int(item.get("additions") or 0), int(item.get("deletions") or 0)
        status = _STATUS.get(str(item.get("status")), "modified")
        old = item.get("previous_filename")
        f = FileDiff(
            path=valid_text(item["filename"]),
            old_path=valid_text(old) if isinstance(old, str) else None,
            status=status,
            binary=additions == 0 and deletions == 0 and status != "renamed",
            additions=additions,
            deletions=deletions,
            cut=True,
        )
        files.append(f)
        if not f.binary:
            unsent.append(f)
    mark_skipped(files, exclude, {})
    for f in unsent:
        f.skip = f.skip or NO_PATCH
    return files
