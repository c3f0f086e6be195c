"""Under --github the rules come from the pull request's base commit, never from the pull request.

A pull request's author controls its head: its config file and, under `pull_request`, the tree
that is checked out. So `classify --github` reads the config (categories and their definitions,
fail-on, min-confidence, the label map, the model, adapter and lexical model) from the base
commit: through git in a clone that has it, else through the contents API. A model, adapter or
lexical path in that config is read from the base commit too and copied into the cache; an
absolute path or one outside the repository is refused, so nothing is ever opened from the
head's tree. Flags and PRTRIAGE_* variables still win: the workflow sets them. A pull request
that changes the config is told that its changes take effect after merge.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from prtriage.core.atomic import atomic_path
from prtriage.core.errors import ConfigError, GitError, PrtriageError
from prtriage.core.settings import (
    PATH_KEYS,
    ConfigLayer,
    Settings,
    config_table,
    is_local_path,
    read_config_file,
    resolve_settings,
)
from prtriage.github.actions import PullRequest
from prtriage.github.api import GitHubClient
from prtriage.pipeline import git
from prtriage.pipeline.model_cache import cache_dir

CONFIG_NAMES = (".prtriage.toml", "pyproject.toml")  # in each folder, in this order (as core/settings.py)
FETCH_HINT = "check out with full history: actions/checkout with fetch-depth: 0"
RAW = "application/vnd.github.raw"


@dataclass(frozen=True)
class CommitFiles:
    """The files of one commit, read through git or the contents API; never the working tree."""

    sha: str
    label: str  # "base commit 0123456789ab"
    read: Callable[[str], bytes | None]  # a path from the repository root → its bytes, None if absent


@dataclass(frozen=True)
class FoundConfig:
    """A config file of a commit: where it is and its checked table, paths as written."""

    path: str  # from the repository root
    values: dict[str, Any]


@dataclass(frozen=True)
class BaseConfig:
    """What `settings_from_base` read, kept to tell whether the pull request changes it."""

    found: FoundConfig | None
    folder: PurePosixPath
    explicit: str | None
    repo: Path | None
    client: GitHubClient | None


def commit_files(
    sha: str, what: str, repo: Path | None, client: GitHubClient | None, repository: str
) -> CommitFiles:
    """`sha`'s files: through git when the clone has the commit, else through the API if allowed."""
    label = f"{what} commit {sha[:12]}"
    if repo is not None and git.ref_exists(repo, sha):
        return CommitFiles(sha, label, lambda path: git.read_blob(repo, sha, path))
    if client is None:
        raise GitError(f"the pull request's {what} commit {sha[:12]} is not in this clone", hint=FETCH_HINT)
    return CommitFiles(sha, label, lambda path: read_through_api(client, repository, sha, path))


def read_through_api(client: GitHubClient, repository: str, sha: str, path: str) -> bytes | None:
    """A file of commit `sha` through the contents API (raw); None when absent or a folder."""
    url = f"/repos/{repository}/contents/{urllib.parse.quote(path, safe='/')}"
    response = client.request("GET", url, accept=RAW, allow=(404,), params={"ref": sha})
    if response.status == 404:
        return None
    if response.body.lstrip()[:1] == b"[":  # a folder answers with its listing, whatever was asked
        try:
            if isinstance(json.loads(response.body), list):
                return None
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
    return response.body


def _parse(data: bytes, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from None


def find_config(commit: CommitFiles, folder: PurePosixPath, explicit: str | None) -> FoundConfig | None:
    """The commit's config: `explicit`, else the nearest `.prtriage.toml` or `pyproject.toml` with
    `[tool.prtriage]` from `folder` up to the repository root (as config.find_config_file does)."""
    if explicit is not None:
        data = commit.read(explicit)
        if data is None:
            raise ConfigError(f"config file not found at the {commit.label}: {explicit}")
        source = f"{explicit} at the {commit.label}"
        return FoundConfig(explicit, config_table(_parse(data, source), posixpath.basename(explicit), source))
    for where in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            path = (where / name).as_posix()
            data = commit.read(path)
            if data is None:
                continue
            source = f"{path} at the {commit.label}"
            parsed = _parse(data, source)
            if name == "pyproject.toml" and "prtriage" not in parsed.get("tool", {}):
                continue
            return FoundConfig(path, config_table(parsed, name, source))
    return None


def _materialized(commit: CommitFiles, found: FoundConfig, source: str) -> dict[str, Any]:
    """The table with each model, adapter or lexical path replaced by a cached copy of the commit's file."""
    values = dict(found.values)
    for key in PATH_KEYS:
        value = values.get(key)
        if not isinstance(value, str) or not is_local_path(key, value):
            continue  # hf://, default, none, or a bad type that resolve_settings reports
        if value.startswith(("/", "~")) or PurePosixPath(value).is_absolute():
            raise ConfigError(
                f"{source}: '{key}' is an absolute path ({value}): under --github only files of the "
                "base commit are read",
                hint=f"commit the file and give its path relative to the config, or set {key} in the workflow",
            )
        path = posixpath.normpath(posixpath.join(posixpath.dirname(found.path), value))
        if path == ".." or path.startswith("../"):
            raise ConfigError(f"{source}: '{key}' points outside the repository ({value})")
        data = commit.read(path)
        if data is None:
            raise ConfigError(
                f"{source}: '{key}' names {path}, which the {commit.label} does not have",
                hint="a file that the pull request adds is used once it is merged",
            )
        values[key] = str(_cached_copy(data, path))
    return values


def _cached_copy(data: bytes, path: str) -> Path:
    """The bytes under the cache, named by their digest: the same file is written once."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    target = cache_dir() / "base-files" / digest / posixpath.basename(path)
    if target.is_file() and target.stat().st_size == len(data):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, per_process=True) as tmp:
        tmp.write_bytes(data)
    return target


def _where(cwd: Path, repo: Path | None, config_file: Path | None, env: Mapping[str, str]) -> tuple[
    PurePosixPath, str | None, Path | None
]:  # fmt: skip
    """The folder to search from (from the repository root), the explicit config's path in the
    repository, or a config file outside the repository (the workflow's, read from disk)."""
    root = repo or (Path(env["GITHUB_WORKSPACE"]) if env.get("GITHUB_WORKSPACE") else None)
    folder = PurePosixPath(".")
    if root is not None and _inside(cwd, root):
        folder = PurePosixPath(Path(os.path.abspath(cwd)).relative_to(os.path.abspath(root)).as_posix())
    if config_file is None:
        return folder, None, None
    if config_file.is_absolute():
        if root is None or not _inside(config_file, root):
            return folder, None, config_file
        inner = Path(os.path.abspath(config_file)).relative_to(os.path.abspath(root)).as_posix()
    else:
        inner = posixpath.normpath((folder / config_file.as_posix()).as_posix())
    if inner == ".." or inner.startswith("../"):
        raise ConfigError(f"config file {config_file} is outside the repository")
    return folder, inner, None


def _inside(path: Path, root: Path) -> bool:
    """Whether `path` is `root` or below it, without following links (the head may have made them)."""
    absolute, top = os.path.abspath(path), os.path.abspath(root)
    return absolute == top or absolute.startswith(top.rstrip(os.sep) + os.sep)


def settings_from_base(
    pr: PullRequest, cwd: Path, flags: Mapping[str, Any], config_file: Path | None, diff_from: str,
    env: Mapping[str, str],
) -> tuple[Settings, BaseConfig]:  # fmt: skip
    """Settings as classify --github uses them: flags > PRTRIAGE_* > the base commit's config > defaults."""
    try:
        repo: Path | None = git.repo_root(cwd)
    except GitError:
        repo = None
    client = GitHubClient.from_env(env, need_token=False) if diff_from == "github" else None
    config_file = config_file or (Path(env["PRTRIAGE_CONFIG"]) if env.get("PRTRIAGE_CONFIG") else None)
    folder, explicit, outside = _where(cwd, repo, config_file, env)
    state = BaseConfig(None, folder, explicit, repo, client)
    if outside is not None:  # the workflow's own file, not the pull request's
        layer = ConfigLayer(read_config_file(outside), str(outside), outside)
        return resolve_settings(flags, env, layer=layer), state
    base = commit_files(pr.base_sha, "base", repo, client, pr.repository)
    found = find_config(base, folder, explicit)
    state = replace(state, found=found)
    if found is None:
        return resolve_settings(flags, env, no_file=f"no config file at the {base.label}"), state
    source = f"{found.path} at the {base.label}"
    layer = ConfigLayer(_materialized(base, found, source), source)
    return resolve_settings(flags, env, layer=layer), state


def config_change_notice(state: BaseConfig, pr: PullRequest, changed: list[str]) -> str | None:
    """One line when the pull request changes the config it is judged by (read from its head as
    data only), else None."""
    names = {p for p in changed if posixpath.basename(p) in CONFIG_NAMES or p == state.explicit}
    if not names:
        return None
    try:
        head = commit_files(pr.head_sha, "head", state.repo, state.client, pr.repository)
        theirs = find_config(head, state.folder, state.explicit)
    except PrtriageError:
        theirs = FoundConfig("?", {})  # a config the head broke is a change too
    ours = state.found
    changed_config = theirs or ours
    if theirs == ours or changed_config is None:
        return None
    path = changed_config.path if changed_config.path != "?" else "its config file"
    return (
        f"this pull request changes prtriage's config ({path}): it is judged by the base commit's "
        "config, and its changes take effect after merge"
    )
