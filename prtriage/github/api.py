"""A small GitHub REST client on urllib: JSON requests, Link pagination, errors people can act on.

`GITHUB_API_URL` is honoured (GitHub Enterprise, and tests against a server on 127.0.0.1).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from prtriage import __version__
from prtriage.core.errors import PrtriageError, UsageError

DEFAULT_API_URL = "https://api.github.com"
JSON = "application/vnd.github+json"
DIFF = "application/vnd.github.diff"
API_VERSION = "2022-11-28"
TIMEOUT_S = 30.0
MAX_PAGES = 30  # 3,000 items at 100 a page: GitHub's own cap for a pull request's files
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class GitHubError(PrtriageError):
    """The GitHub API refused a request or could not be reached."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise GitHubError(f"GitHub answered {self.status} with a body that is not JSON") from None

    @property
    def message(self) -> str:
        """GitHub's `message` field of an error body, if any."""
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return ""
        return str(data.get("message", "")) if isinstance(data, dict) else ""


def token_from_env(env: Mapping[str, str]) -> str | None:
    return env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None


def quote(part: str) -> str:
    """One URL path segment (label names hold spaces, colons, slashes...)."""
    return urllib.parse.quote(part, safe="")


class GitHubClient:
    def __init__(self, api_url: str = DEFAULT_API_URL, token: str | None = None) -> None:
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"GITHUB_API_URL is not an http(s) URL: {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self.token = token
        self._origin = (parsed.scheme, parsed.netloc)

    @classmethod
    def from_env(cls, env: Mapping[str, str], need_token: bool, why: str = "") -> GitHubClient:
        token = token_from_env(env)
        if need_token and not token:
            raise UsageError(
                f"{why or 'this'} needs a GitHub token in GITHUB_TOKEN",
                hint="in a workflow: env: GITHUB_TOKEN: ${{ github.token }} (the action does this)",
            )
        return cls(env.get("GITHUB_API_URL") or DEFAULT_API_URL, token)

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        url = path if "://" in path else self.api_url + path
        return url + ("?" + urllib.parse.urlencode(params) if params else "")

    def request(
        self, method: str, path: str, *, body: object = None, accept: str = JSON,
        allow: tuple[int, ...] = (), params: Mapping[str, str | int] | None = None,
    ) -> Response:  # fmt: skip
        """One request; a status outside 2xx and `allow` raises GitHubError with a readable cause."""
        url = self.url(path, params)
        if urllib.parse.urlsplit(url)[:2] != self._origin:
            raise GitHubError(f"refusing to send the token to another host: {url}")
        headers = {
            "Accept": accept,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"prtriage/{__version__}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                response = Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            response = Response(e.code, e.headers, e.read())
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise GitHubError(
                f"cannot reach the GitHub API at {self.api_url}: {reason}",
                hint="check the network and GITHUB_API_URL",
            ) from None
        if 200 <= response.status < 300 or response.status in allow:
            return response
        raise failure(method, path, response)

    def paginate(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Items of a list endpoint, following `Link: rel="next"` (100 a page, at most MAX_PAGES)."""
        url: str | None = self.url(path, {"per_page": 100, **(params or {})})
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self.request("GET", url)
            items = response.json()
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered GET {path} with something other than a list")
            yield from items
            match = _NEXT.search(response.headers.get("Link", "") or "")
            url = match.group(1) if match else None

    def commit_author_login(self, repository: str, sha: str) -> str | None:
        """The login of the account GitHub credits with a commit (it matches the commit's email
        to an account); None when no account has that email, or GitHub does not know the commit."""
        response = self.request("GET", f"/repos/{repository}/commits/{quote(sha)}", allow=(404, 422))
        if response.status in (404, 422):  # not pushed (yet), or not this repository's
            return None
        data = response.json()
        author = data.get("author") if isinstance(data, dict) else None
        login = author.get("login") if isinstance(author, dict) else None
        return login if isinstance(login, str) else None


def failure(method: str, path: str, response: Response) -> GitHubError:
    """The error for an unexpected status, with a hint for the usual causes."""
    status, message = response.status, response.message
    what = f"GitHub API {method} {urllib.parse.urlsplit(path).path or path}: {status}"
    text = f"{what} {message}".strip()
    hint = None
    if status == 401:
        hint = "the token is missing, expired or invalid (github-token input / GITHUB_TOKEN)"
    elif status in (403, 429) and (
        response.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()
    ):
        hint = "the API rate limit is exhausted: wait, or use a token with a higher limit"
    elif status == 403:
        hint = "the token lacks a permission (see docs/action.md: permissions)"
    elif status == 404:
        hint = "not found, or the token cannot see it (private repository?)"
    return GitHubError(text, hint=hint, status=status)
