"""The GitHub Actions runner's interface: the event payload, step outputs, job summary, annotations.

Everything here is plain files and text: no network (that is `github_api.py`), no model.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from prtriage.core.errors import PrtriageError, UsageError
from prtriage.core.escape import valid_text, workflow_data, workflow_property

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
MAX_SUMMARY_BYTES = 1024 * 1024  # GitHub's limit per step
# Matched with fullmatch, never `^...$`: `$` also matches before a trailing newline.
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256 object names
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class PullRequest:
    """What prtriage needs from a `pull_request` (or `pull_request_target`) event payload."""

    repository: str  # owner/name of the base repository
    number: int
    title: str
    body: str
    base_sha: str
    head_sha: str
    head_repository: str  # owner/name the head branch lives in ("" when the fork was deleted)
    draft: bool = False
    author: str = ""  # the login that opened it (`dependabot[bot]` for a bot)

    @property
    def is_fork(self) -> bool:
        return self.head_repository != self.repository

    def to_json(self) -> dict[str, object]:
        return {
            "repository": self.repository,
            "number": self.number,
            "base_sha": self.base_sha,
            "head_sha": self.head_sha,
            "fork": self.is_fork,
        }


def _field(obj: Any, path: str) -> Any:
    for key in path.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def load_event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The event name and its JSON payload, from GITHUB_EVENT_NAME and GITHUB_EVENT_PATH."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise UsageError(
            "GITHUB_EVENT_PATH is not set: this is not a GitHub Actions run",
            hint="use --github inside a workflow triggered by pull_request",
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read the event payload {path}: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the event payload {path} is not a JSON object")
    return env.get("GITHUB_EVENT_NAME", ""), data


def read_pull_request(env: Mapping[str, str]) -> PullRequest:
    """The pull request of this workflow run's event (title and body as they were at event time)."""
    event, data = load_event(env)
    pr = data.get("pull_request")
    if not isinstance(pr, dict):
        raise UsageError(
            f"the {event or 'triggering'} event has no pull request",
            hint="trigger the workflow on pull_request (or pull_request_target)",
        )
    number, base, head = pr.get("number"), _field(pr, "base.sha"), _field(pr, "head.sha")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise UsageError("the event payload has no valid pull_request.number")
    for name, sha in (("base", base), ("head", head)):
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise UsageError(f"the event payload has no valid pull_request.{name}.sha")
    repository = _field(data, "repository.full_name") or env.get("GITHUB_REPOSITORY") or ""
    repository = repository or _field(pr, "base.repo.full_name") or ""
    if not _REPOSITORY.fullmatch(repository):
        raise UsageError("cannot tell the repository (no repository.full_name or GITHUB_REPOSITORY)")
    head_repo = _field(pr, "head.repo.full_name")
    return PullRequest(
        repository=repository,
        number=number,
        title=str(pr.get("title") or ""),
        body=str(pr.get("body") or ""),  # null when the description is empty
        base_sha=base,
        head_sha=head,
        head_repository=head_repo if isinstance(head_repo, str) else "",
        draft=bool(pr.get("draft")),
        author=str(_field(pr, "user.login") or ""),
    )


def is_sha(value: object) -> bool:
    return isinstance(value, str) and bool(_SHA.fullmatch(value))


def is_repository(value: object) -> bool:
    return isinstance(value, str) and bool(_REPOSITORY.fullmatch(value))


def _delimiter(value: str) -> str:
    """A heredoc delimiter that cannot occur in the value (model output is untrusted text)."""
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


def format_outputs(values: Mapping[str, str]) -> str:
    """`name<<DELIM ... DELIM` records for $GITHUB_OUTPUT, one random delimiter per value.

    A value is written as valid UTF-8 with `\n` line ends: the runner reads the file by lines, and
    a lone CR would end one there.
    """
    records = []
    for name, value in values.items():
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"bad output name {name!r}")
        value = valid_text(value).replace("\r\n", "\n").replace("\r", "\n")
        delimiter = _delimiter(value)
        records.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(records)


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(format_outputs(values))


def append_summary(path: Path, markdown: str) -> None:
    """Add markdown to the job summary, cut to GitHub's 1 MiB per step."""
    data = valid_text(markdown).encode("utf-8")
    if len(data) > MAX_SUMMARY_BYTES:
        note = b"\n\n*(summary cut to GitHub's 1 MiB limit)*\n"
        data = data[: MAX_SUMMARY_BYTES - len(note)].decode("utf-8", "ignore").encode() + note
    with path.open("ab") as f:
        f.write(data)


def annotation(level: str, message: str, title: str | None = None) -> str:
    """A `::notice`/`::warning`/`::error` workflow command; one line whatever the message holds."""
    if level not in ("notice", "warning", "error"):
        raise ValueError(f"bad annotation level {level!r}")
    props = f" title={workflow_property(title)}" if title else ""
    return f"::{level}{props}::{workflow_data(message)}"


@contextmanager
def commands_stopped(out: TextIO) -> Iterator[None]:
    """Untrusted text printed inside (file names, model output) cannot issue workflow commands."""
    token = secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n")
    out.flush()
    try:
        yield
    finally:
        out.flush()
        out.write(f"::{token}::\n")
        out.flush()


TITLE = "prtriage"  # the title of every annotation prtriage writes


@contextmanager
def errors_as_annotations(out: Any = None) -> Iterator[None]:
    """A failure also becomes an `::error` annotation on the run, not just a line in the log."""
    try:
        yield
    except PrtriageError as e:
        text = e.message + (f" (hint: {e.hint})" if e.hint else "")
        print(annotation("error", text, TITLE), file=out or sys.stdout, flush=True)
        raise
