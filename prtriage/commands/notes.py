"""`notes A..B`: release notes, every first-parent change in the range classified and grouped."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from prtriage.commands.common import ModelFlags, stderr
from prtriage.core import errors
from prtriage.core.settings import resolve_settings
from prtriage.github.actions import is_repository
from prtriage.pipeline import git

# origin on github.com, over https or ssh: the repository whose API knows these commits.
GITHUB_REMOTE = re.compile(r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
                           r"(?P<repository>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?")  # fmt: skip


@dataclass(frozen=True)
class NotesOptions(ModelFlags):
    range_: str
    fmt: str = "markdown"
    title: str | None = None
    gpu_layers: int | None = None
    min_confidence: float | None = None
    exclude: tuple[str, ...] = ()
    repo: Path = Path(".")


def run(options: NotesOptions) -> int:
    from prtriage import release_notes

    o = options
    flags = {**o.model_settings(), "gpu-layers": o.gpu_layers, "min-confidence": o.min_confidence,
             "exclude": o.exclude}  # fmt: skip
    cwd = o.repo.resolve()
    settings = resolve_settings(flags, cwd=cwd, config_file=o.config)
    root = git.repo_root(cwd)
    login_of = login_lookup(os.environ, root)
    text = release_notes.release_notes(root, o.range_, settings, o.fmt, o.title, stderr(), login_of)
    click.echo(text, nl=False)
    return errors.EXIT_OK


def repository(env: Mapping[str, str], root: Path) -> str | None:
    """owner/name: GITHUB_REPOSITORY (in a workflow), else origin's when it is on github.com."""
    named = env.get("GITHUB_REPOSITORY", "")
    if is_repository(named):
        return named
    if env.get("GITHUB_API_URL"):  # GitHub Enterprise: origin's host is not github.com's API
        return None
    m = GITHUB_REMOTE.fullmatch(git.run_git(root, "remote", "get-url", "origin", check=False).strip())
    return m["repository"] if m else None


def login_lookup(env: Mapping[str, str], root: Path) -> Callable[[str], str | None] | None:
    """A commit → its author's login through the API, when a token and a repository are at hand;
    None otherwise (contributors are names). The first failure (rate limit, bad token) is said
    once on stderr and the rest of the page keeps names: notes never fail for a contributors line."""
    from prtriage.github.api import GitHubClient, GitHubError, token_from_env

    name = repository(env, root) if token_from_env(env) else None
    if name is None:
        return None
    client = GitHubClient.from_env(env, need_token=True)
    failed: list[GitHubError] = []

    def login_of(sha: str) -> str | None:
        if failed:
            return None
        try:
            return client.commit_author_login(name, sha)
        except GitHubError as e:
            failed.append(e)
            stderr().print(f"prtriage: contributors stay names: {e.message}", markup=False, highlight=False)
            return None

    return login_of
