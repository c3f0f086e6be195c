"""Shared fixtures: real git repositories in temp folders, and the real embedded model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_helpers import GIT_ENV, commit, git, write
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# The fuzz suite (tests/fuzz/): `ci`, the default, is bounded (the whole suite in well under two
# minutes on two cores); `long` is for local runs: PRTRIAGE_FUZZ=long (docs/development.md).
for _name, _examples in (("ci", 40), ("long", 3000)):
    hypothesis_settings.register_profile(
        _name, max_examples=_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )  # fmt: skip
hypothesis_settings.load_profile(os.environ.get("PRTRIAGE_FUZZ", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The Q8_0 copy of the embedded model is made once per test session, not in the user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    mp.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("PRTRIAGE_", "GITHUB_", "PRE_COMMIT")) and key != "PRTRIAGE_CACHE_DIR":
            monkeypatch.delenv(key)
    # Under a git hook or `rebase -x`, git exports these; the temp repositories would then be
    # made inside the caller's repository (a `git init` there once set core.bare on a checkout).
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit on main and a branch `feature` checked out."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {"src/app.py": "def div(a, b):\n    return a / b\n", "README.md": "# demo\n"})
    git(root, "checkout", "-q", "-b", "feature")
    return root


@pytest.fixture
def fix_branch(repo: Path) -> Path:
    """`repo` with one bug-fix commit on its branch."""
    write(
        repo,
        "src/app.py",
        "def div(a, b):\n    if b == 0:\n        raise ValueError('b is zero')\n    return a / b\n",
    )
    git(
        repo,
        "commit",
        "-q",
        "-am",
        "Raise a clear error on division by zero",
        "-m",
        "It crashed deep in the stack.",
    )
    return repo


@pytest.fixture(scope="session")
def engine() -> Iterator[object]:
    """The real llama.cpp engine on the embedded default model, loaded once per session."""
    from prtriage.core.settings import Settings
    from prtriage.pipeline.engine_factory import open_engine

    yield open_engine(Settings())
