"""Real git repositories for tests: the identity every commit uses, and small helpers.

A module of its own, not conftest.py: tests/train/ has a conftest too, and `from conftest import`
inside a test resolves to whichever conftest loaded first.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    ).stdout


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(repo: Path, message: str, files: dict[str, str], *more: str) -> None:
    """Write `files`, stage everything and commit; `more` goes to git commit (e.g. "-m", "body")."""
    for path, text in files.items():
        write(repo, path, text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", message, *more)
