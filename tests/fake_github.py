"""A local stand-in for the few GitHub REST endpoints prtriage uses, on 127.0.0.1.

It behaves like GitHub where prtriage depends on it: Link pagination honouring per_page, 404 for
unknown pull requests and labels, 406 too_large from the diff endpoint, 403 "Resource not
accessible by integration" for a read-only token (fork pull requests), adding an unknown label
creates it only with issues: write. Issue comments (list, create, edit their own, delete) and the
issue's `labeled`/`unlabeled` events are kept too (ids and times ascending, as GitHub lists them).

Three actors, as a repository sees them: prtriage, which writes through the token (`actor`:
`github-actions[bot]` for `GITHUB_TOKEN`, or a person's account for a personal token, then
`GET /user` names it; an app token may not ask); another workflow on the same token
(actions/labeler: `WORKFLOW`, the very same account as `BOT`), and a person (`PERSON`). What a
test seeds with `label_by`, `unlabel_by`, `set_labels` or `add_comment` is done by the actor it
names. A fourth: a bot that quotes the pull request's description in a comment of its own (a
welcome or summary bot: `ECHO`, again `github-actions[bot]`, or another app's bot, `APP_BOT`);
`before` lets a test act as someone else just before the token's request is served (a race).
As on GitHub, every label on an issue got there through an event: seed labels through
those helpers, not by writing `issue_labels`. A pull
request's files (`/pulls/N/files`) are listed with GitHub's fields, files of commits
(the contents API) are served as raw bytes, and a commit (`/commits/SHA`) names its author's
account. Every request is recorded for
the tests to check.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token"
READ_ONLY = "Resource not accessible by integration"
BOT = {"login": "github-actions[bot]", "type": "Bot"}  # GITHUB_TOKEN: what prtriage writes as
WORKFLOW = BOT  # another workflow on the same token (actions/labeler): the same account
ECHO = BOT  # a workflow that copies the pull request's description into its own comment
APP_BOT = {"login": "welcome-app[bot]", "type": "Bot"}  # another GitHub App's bot, which may echo too
PERSON = {"login": "octocat", "type": "User"}
MAINTAINER = {"login": "maintainer", "type": "User"}  # the owner of a personal token


@dataclass
class Pull:
    head_sha: str
    head_repo: str = "o/r"
    diff: str | None = None  # None: the diff endpoint answers 406 too_large
    files: list[dict[str, Any]] = field(default_factory=list)  # GitHub's fields: filename, status, ...
    draft: bool = False
    author: dict[str, str] = field(default_factory=lambda: dict(PERSON))
    title: str = ""
    body: str | None = None  # null, as GitHub gives an empty description


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    body: Any
    headers: dict[str, str]  # lower-cased names


@dataclass
class FakeGitHub:
    repository: str = "o/r"
    repo_labels: set[str] = field(default_factory=set)
    issue_labels: dict[int, list[str]] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    can_write: bool = True  # False: the read-only token of a fork's pull_request run
    can_create_labels: bool = True  # issues: write
    can_read_events: bool = True  # False: a private repository's token without issues: read
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue → events, oldest first
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue → comments
    next_comment_id: int = 1000
    next_event_id: int = 5000
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (commit, path) → contents
    # sha → the commit's `author` as GitHub gives it: the account its email belongs to, or None
    # (no account has it); a sha not here is unknown to GitHub (422, as for a commit not pushed).
    commits: dict[str, dict[str, str] | None] = field(default_factory=dict)
    actor: dict[str, str] = field(default_factory=lambda: dict(BOT))  # whom the token acts as
    before: Callable[[Request], None] | None = None  # run just before a request is served

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if r.method != "GET"]

    def record(self, number: int, event: str, name: str, actor: dict[str, str]) -> None:
        """An issue event as GitHub lists it: id, actor, event, label, created_at (ascending)."""
        self.next_event_id += 1
        when = f"2026-01-01T00:{self.next_event_id // 60 % 60:02d}:{self.next_event_id % 60:02d}Z"
        self.events.setdefault(number, []).append(
            {"id": self.next_event_id, "event": event, "actor": actor, "created_at": when,
             "label": {"name": name, "color": "ededed"}}
        )  # fmt: skip

    def label_by(self, number: int, name: str, actor: dict[str, str]) -> None:
        """Put a label on as `actor` would (a person through the web page), with its event."""
        labels = self.issue_labels.setdefault(number, [])
        if name not in labels:
            labels.append(name)
            self.record(number, "labeled", name, actor)

    def unlabel_by(self, number: int, name: str, actor: dict[str, str]) -> None:
        """Take a label off as `actor` would, with its event."""
        self.issue_labels[number].remove(name)
        self.record(number, "unlabeled", name, actor)

    def set_labels(self, number: int, labels: dict[str, dict[str, str]]) -> None:
        """The issue holds exactly `labels` (name → who put it on), each with its event, in order."""
        self.issue_labels[number] = []
        self.events[number] = []
        for name, actor in labels.items():
            self.label_by(number, name, actor)

    def add_comment(self, number: int, body: str, user: dict[str, str]) -> int:
        self.next_comment_id += 1
        self.comments.setdefault(number, []).append({"id": self.next_comment_id, "body": body, "user": user})
        return self.next_comment_id


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _page(self, items: list[Any], query: dict[str, str], path: str) -> None:
            per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
            chunk = items[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(items):
                nxt = urllib.parse.urlencode({**query, "page": page + 1})
                headers["Link"] = f'<{state.url}{path}?{nxt}>; rel="next"'
            self._send(200, chunk, headers)

        def _handle(self, method: str) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Request(method, parsed.path, query, body, headers))
            if state.before is not None:
                state.before(state.requests[-1])
            if self.headers.get("Authorization") not in (f"Bearer {TOKEN}", None):
                return self._send(401, {"message": "Bad credentials"})
            if method != "GET" and self.headers.get("Authorization") is None:
                return self._send(401, {"message": "Requires authentication"})
            if parsed.path == "/user" and method == "GET":  # an installation token may not ask
                if state.actor["type"] == "Bot":
                    return self._send(403, {"message": READ_ONLY})
                return self._send(200, dict(state.actor))
            prefix = f"/repos/{state.repository}/"
            if not parsed.path.startswith(prefix):
                return self._send(404, {"message": "Not Found"})
            parts = [urllib.parse.unquote(p) for p in parsed.path[len(prefix) :].split("/")]
            return self._route(method, parts, query, body, parsed.path)

        def _route(self, method: str, parts: list[str], query: dict[str, str], body: Any, path: str) -> None:
            writing = method != "GET"
            if writing and not state.can_write:
                return self._send(403, {"message": READ_ONLY})
            if parts[:1] == ["labels"]:
                if method == "GET" and len(parts) == 2:
                    found = parts[1] in state.repo_labels
                    return self._send(
                        200 if found else 404, {"name": parts[1]} if found else {"message": "Not Found"}
                    )
                if method == "POST" and len(parts) == 1:
                    if not state.can_create_labels:
                        return self._send(403, {"message": READ_ONLY})
                    if body["name"] in state.repo_labels:
                        return self._send(
                            422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]}
                        )
                    state.repo_labels.add(body["name"])
                    return self._send(201, body)
            if parts[:2] == ["issues", "comments"] and len(parts) == 3:
                return self._comment(method, int(parts[2]), body)
            if parts[:1] == ["issues"] and len(parts) == 3 and parts[2] in ("comments", "events"):
                number = int(parts[1])
                if number not in state.issue_labels:
                    return self._send(404, {"message": "Not Found"})
                if parts[2] == "events" and method == "GET":
                    if not state.can_read_events:
                        return self._send(403, {"message": READ_ONLY})
                    return self._page(state.events.get(number, []), query, path)
                if method == "GET":
                    return self._page(state.comments.get(number, []), query, path)
                if method == "POST":
                    made = state.add_comment(number, body["body"], dict(state.actor))
                    return self._send(201, state.comments[number][-1] | {"id": made})
            if parts[:1] == ["issues"] and len(parts) >= 3 and parts[2] == "labels":
                number = int(parts[1])
                if number not in state.issue_labels:
                    return self._send(404, {"message": "Not Found"})
                labels = state.issue_labels[number]
                if method == "GET" and len(parts) == 3:
                    return self._page([{"name": n} for n in labels], query, path)
                if method == "POST" and len(parts) == 3:
                    new = [n for n in body["labels"] if n not in state.repo_labels]
                    if new and not state.can_create_labels:
                        return self._send(403, {"message": READ_ONLY})
                    state.repo_labels.update(new)
                    for name in body["labels"]:
                        if name not in labels:
                            labels.append(name)
                            state.record(number, "labeled", name, dict(state.actor))
                    return self._send(200, [{"name": n} for n in labels])
                if method == "DELETE" and len(parts) == 4:
                    if parts[3] not in labels:
                        return self._send(404, {"message": "Label does not exist"})
                    labels.remove(parts[3])
                    state.record(number, "unlabeled", parts[3], dict(state.actor))
                    return self._send(200, [{"name": n} for n in labels])
            if parts[:1] == ["commits"] and len(parts) == 2 and method == "GET":
                if parts[1] not in state.commits:
                    return self._send(422, {"message": f"No commit found for SHA: {parts[1]}"})
                return self._send(200, {"sha": parts[1], "author": state.commits[parts[1]]})
            if parts[:1] == ["contents"] and method == "GET":
                return self._contents("/".join(parts[1:]), query.get("ref", ""))
            if parts[:1] == ["pulls"] and method == "GET":
                number = int(parts[1])
                pull = state.pulls.get(number)
                if pull is None:
                    return self._send(404, {"message": "Not Found"})
                if len(parts) == 3 and parts[2] == "files":
                    return self._page(pull.files, query, path)
                if len(parts) == 2 and self.headers.get("Accept") == "application/vnd.github.diff":
                    if pull.diff is None:
                        too_large = {"resource": "PullRequest", "field": "diff", "code": "too_large"}
                        return self._send(406, {"message": "Sorry, the diff exceeded the maximum number of files (300).", "errors": [too_large]})  # fmt: skip
                    return self._send(200, pull.diff.encode(), {"Content-Type": "text/plain"})
                if len(parts) == 2:
                    head = {"sha": pull.head_sha, "repo": {"full_name": pull.head_repo}}
                    return self._send(200, {"number": number, "head": head, "draft": pull.draft,
                                            "user": pull.author, "state": "open", "title": pull.title,
                                            "body": pull.body})  # fmt: skip
            return self._send(404, {"message": "Not Found"})

        def _contents(self, path: str, ref: str) -> None:
            """A file's raw bytes (Accept: raw), a folder's listing as JSON, else 404."""
            if (ref, path) in state.files:
                return self._send(
                    200, state.files[(ref, path)], {"Content-Type": "application/vnd.github.raw"}
                )
            inside = [p for r, p in state.files if r == ref and p.startswith(path + "/")]
            if inside:
                return self._send(
                    200, [{"name": p[len(path) + 1 :].split("/")[0], "path": p} for p in inside]
                )
            return self._send(404, {"message": "Not Found"})

        def _comment(self, method: str, comment_id: int, body: Any) -> None:
            for comments in state.comments.values():
                for i, comment in enumerate(comments):
                    if comment["id"] != comment_id:
                        continue
                    if method == "PATCH":
                        if comment["user"]["login"] != state.actor["login"]:
                            return self._send(403, {"message": "You cannot edit someone else's comment"})
                        comment["body"] = body["body"]
                        return self._send(200, comment)
                    if method == "DELETE":
                        del comments[i]
                        return self._send(204)
                    if method == "GET":
                        return self._send(200, comment)
            return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


class Server:
    """The fake on a free port of 127.0.0.1, served from a thread for the test's duration."""

    def __init__(self, state: FakeGitHub) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        state.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
