"""Under --github the config comes from the base commit (git or the contents API), never the head."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub, Server
from git_helpers import commit, git

from prtriage.core.errors import ConfigError, GitError
from prtriage.github.actions import PullRequest
from prtriage.github.base_config import config_change_notice, settings_from_base


def pull(base: str, head: str) -> PullRequest:
    return PullRequest("o/r", 7, "t", "", base, head, "o/r")


@pytest.fixture
def two_commits(tmp_path: Path) -> tuple[Path, str, str]:
    """main: a config naming a committed adapter; the head rewrites both; the head is checked out."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    config = 'adapter = "../models/a.gguf"\nmin-confidence = 0.5\n'
    commit(root, "init", {"sub/.prtriage.toml": config, "models/a.gguf": "GGUF base", "sub/x.py": "1\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    commit(root, "head", {"models/a.gguf": "GGUF head", "sub/.prtriage.toml": 'adapter = "/tmp/x.gguf"\n'})
    return root, base, git(root, "rev-parse", "HEAD").strip()


def test_paths_in_the_base_config_are_read_from_the_base_commit(
    two_commits: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, base, head = two_commits
    settings, read = settings_from_base(pull(base, head), root / "sub", {}, None, "git", {})
    assert settings.min_confidence == 0.5 and settings.config_source == (
        f"sub/.prtriage.toml at the base commit {base[:12]}"
    )
    assert settings.adapter is not None and Path(settings.adapter).read_bytes() == b"GGUF base"
    assert not Path(settings.adapter).is_relative_to(root)  # a cached copy, not the head's file
    assert dict(settings.sources)["adapter"] == settings.config_source
    notice = config_change_notice(read, pull(base, head), ["sub/.prtriage.toml"])
    assert notice is not None and "(sub/.prtriage.toml)" in notice
    assert config_change_notice(read, pull(base, head), ["models/a.gguf"]) is None
    # From the repository root there is no config on the way up: defaults, and it says so.
    settings, _ = settings_from_base(pull(base, head), root, {"min-confidence": 0.9}, None, "git", {})
    assert settings.min_confidence == 0.9 and settings.adapter is None
    assert settings.config_source == f"no config file at the base commit {base[:12]}"


def test_what_the_base_config_may_not_name_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    cases = {
        'model = "/opt/m.gguf"': "'model' is an absolute path (/opt/m.gguf)",
        'lexical = "../../x.npz"': "'lexical' points outside the repository",
        'adapter = "added-later.gguf"': "'adapter' names added-later.gguf, which the base commit [0-9a-f]+ does not have",
        "colour = 1": "unknown key 'colour'",
    }
    for config, message in cases.items():
        commit(root, config, {".prtriage.toml": config + "\n"})
        sha = git(root, "rev-parse", "HEAD").strip()
        with pytest.raises(ConfigError, match=message.replace("(/", r"\(/").replace("gguf)", r"gguf\)")):
            settings_from_base(pull(sha, sha), root, {}, None, "git", {})
    with pytest.raises(GitError, match="base commit ffffffffffff is not in this clone"):
        settings_from_base(pull("f" * 40, sha), root, {}, None, "git", {})


def test_an_explicit_config_is_read_at_the_base_unless_it_lies_outside_the_clone(
    two_commits: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, base, head = two_commits
    explicit = Path("sub/.prtriage.toml")
    settings, _ = settings_from_base(pull(base, head), root, {}, explicit, "git", {})
    assert settings.min_confidence == 0.5  # the base's, not the head's
    outside = tmp_path / "workflow.toml"
    outside.write_text("min-confidence = 0.25\n")
    settings, _ = settings_from_base(
        pull(base, head), root, {}, None, "git", {"PRTRIAGE_CONFIG": str(outside)}
    )
    assert settings.min_confidence == 0.25 and settings.config_source == str(outside)
    with pytest.raises(ConfigError, match="outside the repository"):
        settings_from_base(pull(base, head), root, {}, Path("../x.toml"), "git", {})


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeGitHub()
    with Server(state):
        yield state


def test_without_a_clone_the_contents_api_gives_the_base_config(gh: FakeGitHub, tmp_path: Path) -> None:
    base, head = "a" * 40, "b" * 40
    gh.files[(base, "pyproject.toml")] = b"[project]\nname = 'x'\n"  # no [tool.prtriage]: skipped
    gh.files[(base, "sub/.prtriage.toml")] = b"[labels]\nfix = 'bug'\n"  # not on the way up from the root
    gh.files[(base, ".prtriage.toml")] = b'fail-on = ["docs"]\nlexical = "m/lex.npz"\n'
    gh.files[(base, "m/lex.npz")] = b"base lexical model"
    gh.files[(head, ".prtriage.toml")] = b"fail-on = []\n"
    env = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN}
    empty = tmp_path / "workspace"
    empty.mkdir()
    settings, read = settings_from_base(pull(base, head), empty, {}, None, "github", env)
    assert settings.fail_on == ("docs",) and settings.labels == ()
    assert settings.lexical is not None and Path(settings.lexical).read_bytes() == b"base lexical model"
    asked = [(r.path, r.query.get("ref")) for r in gh.requests]
    assert ("/repos/o/r/contents/.prtriage.toml", base) in asked
    assert all(ref == base for _, ref in asked)
    assert config_change_notice(read, pull(base, head), [".prtriage.toml"]) is not None
    assert ("/repos/o/r/contents/.prtriage.toml", head) in [(r.path, r.query.get("ref")) for r in gh.requests]
