"""commands/notes.py: which repository's API names the contributors, and when it is asked at all."""

from __future__ import annotations

from pathlib import Path

from git_helpers import commit, git

from prtriage.commands import notes as notes_command


def test_the_repository_comes_from_github_repository_or_origin(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "init", {"a.txt": "a\n"})
    assert notes_command.repository({}, tmp_path) is None  # no origin
    git(tmp_path, "remote", "add", "origin", "git@github.com:unjs/nitro.git")
    assert notes_command.repository({}, tmp_path) == "unjs/nitro"
    git(tmp_path, "remote", "set-url", "origin", "https://github.com/unjs/h3")
    assert notes_command.repository({}, tmp_path) == "unjs/h3"
    assert notes_command.repository({"GITHUB_REPOSITORY": "o/r"}, tmp_path) == "o/r"
    # GitHub Enterprise: origin's host is not the API's, so only GITHUB_REPOSITORY names it
    assert notes_command.repository({"GITHUB_API_URL": "https://ghe.example.com/api/v3"}, tmp_path) is None
    git(tmp_path, "remote", "set-url", "origin", "https://gitlab.com/unjs/h3")
    assert notes_command.repository({}, tmp_path) is None
    assert notes_command.repository({"GITHUB_REPOSITORY": "not a repository"}, tmp_path) is None
    assert notes_command.repository({"GITHUB_REPOSITORY": "o/r\n"}, tmp_path) is None  # matched in full


def test_no_token_no_lookup(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    assert notes_command.login_lookup({"GITHUB_REPOSITORY": "o/r"}, tmp_path) is None  # names
    assert notes_command.login_lookup({"GITHUB_TOKEN": "t"}, tmp_path) is None  # no repository
    assert notes_command.login_lookup({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r"}, tmp_path) is not None
