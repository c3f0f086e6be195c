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
new event with another id, so it is theirs from then on.

Which comment is prtriage's: its author must be the token's own account (`GET /user`; a GitHub
App token such as `GITHUB_TOKEN` may not ask, and then any bot passes: labeler, a welcome bot
that quotes the pull request's description), its first line must be exactly the marker, its last
line the ledger block, and that block must name the comment's own id. prtriage learns the id
from its own POST and writes it in with the edit that follows, so a comment some other program
made by copying text the pull request's author wrote cannot name itself: that author wrote the
text before the comment, and its id, existed. When more than one comment passes, prtriage
cannot tell which is its own and fails closed: it takes no label off and writes no comment.
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
_BLOCK_LINE = re.compile(r"<!-- prtriage:labels (\{[^<>]*\}) -->")
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
    doubt: str | None = None  # why prtriage cannot tell which comment is its own: it writes none

    def block(self) -> str:
        data: dict[str, Any] = {"on": dict(sorted(self.on.items())), "off": dict(sorted(self.off.items()))}
        if self.comment is not None:  # the comment's own id: what makes it prtriage's (see above)
            data = {"id": int(self.comment["id"]), **data}
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


def _block_data(body: str) -> dict[str, Any]:
    """The JSON of the ledger block on the body's last line (prtriage writes it last); {} if none."""
    match = _BLOCK_LINE.fullmatch(body.rsplit("\n", 1)[-1])
    if not match:
        return {}
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def parse(body: str) -> tuple[dict[str, int], dict[str, int]]:
    """The ledger block of a comment body; empty (nothing is prtriage's) when missing or malformed."""
    data = _block_data(body)
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


def names_itself(comment: Any) -> bool:
    """The comment reads as prtriage wrote it: the marker as its first line, and a ledger block,
    its last line, that names the comment's own id (known only once the comment exists)."""
    if not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
        return False
    body = str(comment.get("body") or "")
    own = _block_data(body).get("id")
    return body.startswith(MARKER + "\n") and isinstance(own, int) and own == comment["id"]


def own_comments(
    client: GitHubClient, repository: str, number: int, identity: Identity
) -> list[dict[str, Any]]:
    """The comments on the pull request that the token's own account wrote and that name
    themselves. Anyone can paste the marker, and a bot can copy a forged ledger from the
    description, but no one can name a comment's id before the comment exists."""
    try:
        return [
            comment for comment in client.paginate(f"/repos/{repository}/issues/{number}/comments")
            if names_itself(comment) and identity.wrote(comment.get("user"))
        ]  # fmt: skip
    except GitHubError as e:
        if e.status == 404:
            raise GitHubError(f"pull request #{number} not found in {repository}", status=404) from None
        raise


def _login(comment: Mapping[str, Any]) -> str | None:
    login = (comment.get("user") or {}).get("login")
    return login if isinstance(login, str) else None


def read_ledger(client: GitHubClient, repository: str, number: int, identity: Identity) -> Ledger:
    """prtriage's ledger from its own comment; empty when there is none yet. Two or more comments
    that pass as its own leave it unable to tell: the ledger is empty and says why (`doubt`)."""
    found = own_comments(client, repository, number, identity)
    if not found:
        return Ledger()
    if len(found) > 1:
        ids = ", ".join(str(c["id"]) for c in found)
        who = _login(found[0]) or "the token's account"
        return Ledger(
            doubt=f"{len(found)} comments by {who} read as prtriage's own (ids {ids}) and it cannot "
            "tell which is: delete the ones prtriage did not write"
        )
    on, off = parse(str(found[0].get("body") or ""))
    return Ledger(on, off, _login(found[0]), found[0])


def create_comment(client: GitHubClient, repository: str, number: int, body: str) -> dict[str, Any]:
    """POST a comment; its id and author come back, and the author is the token's own account."""
    made = client.request("POST", f"/repos/{repository}/issues/{number}/comments", body={"body": body}).json()
    if not isinstance(made, dict) or not isinstance(made.get("id"), int):
        raise GitHubError(f"GitHub did not say which comment it made on #{number}")
    return made


def start_note(client: GitHubClient, repository: str, number: int, ledger: Ledger) -> None:
    """A new note comment for the ledger (before anything is recorded in it): the ledger learns
    its comment and, from GitHub's answer, the account the token acts as."""
    ledger.comment = create_comment(client, repository, number, note_body(ledger))
    ledger.author = _login(ledger.comment)


def write_ledger(client: GitHubClient, repository: str, number: int, ledger: Ledger) -> None:
    """The ledger into prtriage's comment, edited in place (`start_note` makes one first)."""
    if ledger.comment is None:
        start_note(client, repository, number, ledger)
    comment = ledger.comment
    assert comment is not None
    old = str(comment.get("body") or "")
    body = note_body(ledger) if is_note(comment) else with_block(old, ledger)
    if body != old:
        client.request(
            "PATCH", f"/repos/{repository}/issues/comments/{int(comment['id'])}", body={"body": body}
        )
