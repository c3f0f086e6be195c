"""Which labels prtriage itself put on a pull request: a ledger in its own comment.

GitHub's label events say who added a label, but not which program: actions/labeler and every
other workflow on `GITHUB_TOKEN` act as `github-actions[bot]` too, and with a personal token
prtriage acts as a person. So prtriage keeps its own record, in state that only it writes and that
exists whenever it labels: a hidden block in its one pull-request comment (the sticky comment
when `comment` is on; otherwise a one-line note that says what the labels are). The block names,
for each label, the id of the `labeled` event that prtriage's own request made (and of the
`unlabeled` event when prtriage took one off).

A label comes off only while its latest event is the very `labeled` event the ledger names, made
by the account that wrote the comment. Anyone else adding the label (a person, labeler) makes a
new event with another id, so it is theirs from then on. The comment counts as prtriage's only
when its author is the token's own account (`GET /user`; a GitHub App token, such as
`GITHUB_TOKEN`, may not ask, and then only a bot's comment counts): a person cannot write in its
name, and someone able to edit it can remove labels by hand anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prtriage.core.escape import markdown_code
from prtriage.github.api import GitHubClient, GitHubError

MARKER = "<!-- prtriage:comment -->"
_BLOCK = re.compile(r"\n?<!-- prtriage:labels (\{[^<>]*\}) -->")
NOTE_FLAG = "<!-- prtriage:label-note -->"  # a comment that holds only the ledger and a line
MAX_ENTRIES = 200


@dataclass(frozen=True)
class Identity:
    """The account the token acts as: a login, or None for a GitHub App token (a bot)."""

    login: str | None

    def wrote(self, user: Any) -> bool:
        if not isinstance(user, dict):
            return False
        if self.login is not None:
            return user.get("login") == self.login
        return user.get("type") == "Bot"


def whoami(client: GitHubClient) -> Identity:
    """`GET /user`: a personal token's login; an installation token (GITHUB_TOKEN) may not ask."""
    response = client.request("GET", "/user", allow=(401, 403, 404))
    data = response.json() if response.status == 200 else None
    login = data.get("login") if isinstance(data, dict) else None
    return Identity(login if isinstance(login, str) else None)


@dataclass
class Ledger:
    """The labels prtriage put on (name → id of its `labeled` event) and took off (→ `unlabeled`)."""

    on: dict[str, int] = field(default_factory=dict)
    off: dict[str, int] = field(default_factory=dict)
    author: str | None = None  # the login of the comment that holds it: the only actor it speaks for
    comment: dict[str, Any] | None = None  # that comment, None when there is none yet

    def block(self) -> str:
        data = {"on": dict(sorted(self.on.items())), "off": dict(sorted(self.off.items()))}
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        # Nothing in it may end the HTML comment or open a tag: `<`, `>` and `-` as JSON escapes.
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("-", "\\u002d")
        return f"<!-- prtriage:labels {text} -->"


def _ids(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {
        k: v for k, v in list(value.items())[:MAX_ENTRIES]
        if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
    }  # fmt: skip


def parse(body: str) -> tuple[dict[str, int], dict[str, int]]:
    """The ledger block of a comment body; empty (nothing is prtriage's) when missing or malformed."""
    match = _BLOCK.search(body)
    if not match:
        return {}, {}
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}, {}
    if not isinstance(data, dict):
        return {}, {}
    return _ids(data.get("on")), _ids(data.get("off"))


def with_block(body: str, ledger: Ledger) -> str:
    """`body` with its ledger block replaced by (or ending with) `ledger`'s."""
    return _BLOCK.sub("", body).rstrip("\n") + "\n" + ledger.block()


def note_body(ledger: Ledger) -> str:
    """The comment that holds the ledger when the sticky comment is off: one line people can read."""
    names = ", ".join(markdown_code(name) for name in sorted(ledger.on)) or "none now"
    line = (
        f"<sub>prtriage labels: {names}. It takes off only labels it put on itself; "
        "a label anyone else adds stays.</sub>"
    )
    return f"{MARKER}\n{NOTE_FLAG}\n{line}\n{ledger.block()}"


def is_note(comment: Mapping[str, Any]) -> bool:
    return NOTE_FLAG in str(comment.get("body") or "")


def find_own_comment(
    client: GitHubClient, repository: str, number: int, identity: Identity
) -> dict[str, Any] | None:
    """prtriage's comment on the pull request: the marker, written by the token's own account
    (the oldest, should a race have made two). Anyone can paste the marker into their own comment."""
    try:
        for comment in client.paginate(f"/repos/{repository}/issues/{number}/comments"):
            body = str(comment.get("body") or "") if isinstance(comment, dict) else ""
            if MARKER in body and identity.wrote(comment.get("user")):
                found: dict[str, Any] = comment
                return found
    except GitHubError as e:
        if e.status == 404:
            raise GitHubError(f"pull request #{number} not found in {repository}", status=404) from None
        raise
    return None


def read_ledger(client: GitHubClient, repository: str, number: int, identity: Identity) -> Ledger:
    comment = find_own_comment(client, repository, number, identity)
    if comment is None:
        return Ledger()
    on, off = parse(str(comment.get("body") or ""))
    author = (comment.get("user") or {}).get("login")
    return Ledger(on, off, author if isinstance(author, str) else None, comment)


def write_ledger(client: GitHubClient, repository: str, number: int, ledger: Ledger) -> None:
    """The ledger into prtriage's comment (edited in place), or a new note comment holding it."""
    if ledger.comment is None:
        client.request(
            "POST", f"/repos/{repository}/issues/{number}/comments", body={"body": note_body(ledger)}
        )
        return
    old = str(ledger.comment.get("body") or "")
    body = note_body(ledger) if is_note(ledger.comment) else with_block(old, ledger)
    if body != old:
        client.request(
            "PATCH", f"/repos/{repository}/issues/comments/{int(ledger.comment['id'])}", body={"body": body}
        )
