"""GitHubClient.commit_author_login against the fake GitHub: whose account a commit is credited to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_github import TOKEN, FakeGitHub, Server

from prtriage.github.api import GitHubClient, GitHubError

SHA = "a" * 40


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeGitHub(commits={SHA: {"login": "octocat", "type": "User"}, "b" * 40: None, "c" * 40: {}})
    with Server(state):
        yield state


def test_the_login_of_a_commit_none_when_no_account_or_unknown(gh: FakeGitHub) -> None:
    client = GitHubClient(gh.url, TOKEN)
    assert client.commit_author_login("o/r", SHA) == "octocat"
    assert client.commit_author_login("o/r", "b" * 40) is None  # no account has the commit's email
    assert client.commit_author_login("o/r", "c" * 40) is None  # an author without a login
    assert client.commit_author_login("o/r", "d" * 40) is None  # not pushed: GitHub answers 422
    assert [r.path for r in gh.requests] == [f"/repos/o/r/commits/{c * 40}" for c in "abcd"]
    with pytest.raises(GitHubError, match="401"):
        GitHubClient(gh.url, "expired").commit_author_login("o/r", SHA)
