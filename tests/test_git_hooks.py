"""pre-push and commit-msg hooks: range choice in real repositories, and real runs through pre-commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from git_helpers import GIT_ENV, commit, git, write

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.git_hooks import (
    EMPTY_TREE,
    ZERO_SHA,
    check_type,
    parse_commit_message,
    pre_push_change,
    pre_push_range,
    skip_reason,
)

ROOT = Path(__file__).resolve().parents[1]
NAMES = [c.name for c in DEFAULT_CATEGORIES]


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[Path, Path]:
    """A clone whose main is pushed to a bare remote, with a branch `feature` of two commits."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    git(work, "checkout", "-q", "-b", "main")
    commit(work, "init", {"src/app.py": "def div(a, b):\n    return a / b\n"})
    git(work, "push", "-q", "origin", "main")
    git(work, "checkout", "-q", "-b", "feature")
    write(
        work,
        "src/app.py",
        "def div(a, b):\n    if b == 0:\n        raise ValueError('zero')\n    return a / b\n",
    )
    git(work, "commit", "-q", "-am", "Raise on zero")
    commit(work, "Test it", {"tests/test_app.py": "def test_div():\n    assert True\n"})
    return work, remote


def sha(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


def push_env(work: Path, from_ref: str | None, to_ref: str | None) -> dict[str, str]:
    env = {"PRE_COMMIT_REMOTE_NAME": "origin", "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/feature"}
    if from_ref and to_ref:
        env |= {"PRE_COMMIT_FROM_REF": from_ref, "PRE_COMMIT_TO_REF": to_ref}
    return env


def test_new_branch_diffs_against_the_remote_default_branch(pushed: tuple[Path, Path]) -> None:
    work, _ = pushed
    # pre-commit's FROM for a new remote branch: the parent of the first commit the remote lacks.
    span = pre_push_range(work, push_env(work, sha(work, "main"), sha(work, "feature")))
    assert span is not None
    assert (span.start, span.end) == (sha(work, "main"), sha(work, "feature"))
    assert span.source == "origin/main...refs/heads/feature" or span.source.startswith("origin/main...")
    change = pre_push_change(work, push_env(work, sha(work, "main"), sha(work, "feature")), ())
    assert change is not None
    assert sorted(f.path for f in change.files) == ["src/app.py", "tests/test_app.py"]
    assert change.title == "Raise on zero" and change.body == "- Raise on zero\n- Test it"


def test_merging_main_in_does_not_inflate_the_range(pushed: tuple[Path, Path]) -> None:
    work, _ = pushed
    git(work, "push", "-q", "origin", "feature")
    pushed_feature = sha(work, "feature")
    git(work, "checkout", "-q", "main")
    commit(work, "Guide", {"docs/guide.md": "# main moved on\n"})
    git(work, "push", "-q", "origin", "main")
    git(work, "checkout", "-q", "feature")
    git(work, "merge", "-q", "--no-edit", "main")
    write(
        work,
        "src/app.py",
        "def div(a, b):\n    if not b:\n        raise ValueError('zero')\n    return a / b\n",
    )
    git(work, "commit", "-q", "-am", "Also falsy")
    env = push_env(work, pushed_feature, sha(work, "feature"))
    naive = git(work, "diff", "--name-only", f"{pushed_feature}..feature").split()
    assert "docs/guide.md" in naive  # what FROM..TO alone would classify
    change = pre_push_change(work, env, ())
    assert change is not None
    assert sorted(f.path for f in change.files) == ["src/app.py", "tests/test_app.py"]


def test_fallbacks_without_a_default_branch_and_for_root_pushes(tmp_path: Path) -> None:
    work = tmp_path / "solo"
    work.mkdir()
    git(work, "init", "-q", "-b", "trunk")
    commit(work, "First", {"a.txt": "one\n"}, "-m", "The body.")
    first = sha(work, "HEAD")
    commit(work, "Second", {"b.py": "print(2)\n"})
    # A remote without main/master/HEAD: FROM is used as is.
    span = pre_push_range(work, {"PRE_COMMIT_FROM_REF": first, "PRE_COMMIT_TO_REF": sha(work, "HEAD")})
    assert span is not None and span.start == first
    # A push holding the root commit: pre-commit sets no FROM/TO at all → everything.
    env = {"PRE_COMMIT_REMOTE_NAME": "origin", "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/trunk"}
    span = pre_push_range(work, env)
    assert span is not None and span.start == EMPTY_TREE and span.end == sha(work, "HEAD")
    change = pre_push_change(work, env, ())
    assert change is not None
    assert sorted(f.path for f in change.files) == ["a.txt", "b.py"]
    assert all(f.status == "added" for f in change.files)
    assert change.title == "First" and change.body == "- First\n- Second"
    git(work, "checkout", "-q", "--orphan", "lone")
    git(work, "commit", "-q", "-m", "Only commit", "-m", "Details.")
    lone = pre_push_change(work, {"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/lone"}, ())
    assert lone is not None and (lone.title, lone.body) == ("Only commit", "Details.")


def test_nothing_to_classify(pushed: tuple[Path, Path]) -> None:
    work, _ = pushed
    assert (
        pre_push_range(work, {"PRE_COMMIT_FROM_REF": sha(work, "main"), "PRE_COMMIT_TO_REF": ZERO_SHA})
        is None
    )
    env = {"PRE_COMMIT_FROM_REF": sha(work, "main"), "PRE_COMMIT_TO_REF": sha(work, "main")}
    assert pre_push_change(work, env, ()) is None  # pushing what the default branch already has


def test_remote_head_and_configured_base_choose_the_base(pushed: tuple[Path, Path]) -> None:
    work, _ = pushed
    git(work, "branch", "develop", "feature~1")
    git(work, "push", "-q", "origin", "develop")
    env = push_env(work, sha(work, "main"), sha(work, "feature"))
    git(work, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop")
    span = pre_push_range(work, env)
    assert span is not None and span.start == sha(work, "develop")
    span = pre_push_range(work, env, base="origin/main")  # `base` from config or PRTRIAGE_BASE wins
    assert span is not None and span.start == sha(work, "main")


# --- commit messages ------------------------------------------------------------------------------


def test_commit_message_parsing() -> None:
    text = (
        "\n# Please enter the commit message\nfix(parser)!: handle empty input\n\nLonger text.\n"
        "# comment\n# ------------------------ >8 ------------------------\ndiff --git a/x b/x\n"
    )
    msg = parse_commit_message(text)
    assert msg.title == "fix(parser)!: handle empty input" and msg.body == "Longer text."
    assert msg.expected == "fix" and msg.said == "fix(parser)"
    assert parse_commit_message("chore(deps): bump click to 8.2").expected == "deps"
    assert parse_commit_message("feat: add --github").expected == "feature"
    assert parse_commit_message("Add a flag").subject is None


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("", "empty commit message"),
        ("fixup! feat: x", "autosquash"),
        ("Merge branch 'main' into feature", "merge"),
        ("Add a flag", "no Conventional Commits type"),
        ("wip: stuff", "maps to no configured category"),
        ("feat: x", None),
    ],
)
def test_commit_messages_that_need_no_model(title: str, reason: str | None) -> None:
    found = skip_reason(parse_commit_message(title), NAMES)
    assert (found is None) if reason is None else (found is not None and reason in found)
    assert skip_reason(parse_commit_message("feat: x"), ["fix", "docs"]) is not None  # no feature category


QUICK = "quick check, no LLM (lexical model and path rules; the model runs on pre-push and in CI)"


def test_type_check_wording_and_rule() -> None:
    # The type agrees when its category is the lexical model's first or second choice, or what
    # the path-and-keyword rules vote for most; the rules' fallback vote (nothing fired) is none.
    lexical = {"feature": 0.6, "fix": 0.3, "docs": 0.1}
    nothing = {"feature": 0.0, "fix": 0.0, "docs": 0.0, "chore": 1.0}
    ok = check_type(parse_commit_message("feat(cli): add --x"), lexical, nothing)
    assert ok.agrees and (ok.category, ok.confidence) == ("feature", 0.6)
    assert (
        ok.text
        == f"'feat(cli)' agrees with the change (lexical model: feature (60%), then fix (30%); rules: none) — {QUICK}"
    )
    assert check_type(parse_commit_message("fix: add --x"), lexical, nothing).agrees  # second choice
    bad = check_type(parse_commit_message("docs: add --x"), lexical, nothing)
    assert not bad.agrees
    assert (
        bad.text
        == f"'docs' means docs (10%), but the change looks like feature (60%), then fix (30%); rules: none — {QUICK}"
    )
    by_rules = check_type(
        parse_commit_message("docs: add --x"), lexical, {**nothing, "docs": 3.0, "chore": 0.0}
    )
    assert by_rules.agrees and "rules: docs" in by_rules.text
    assert check_type(parse_commit_message("feat: x"), lexical, nothing, min_confidence=0.7).uncertain
    # Categories the lexical model does not know: the rules answer alone.
    alone = check_type(parse_commit_message("docs: x"), None, {"fix": 2.0, "docs": 0.0})
    assert not alone.agrees and alone.category == "fix" and "looks like fix; rules: fix" in alone.text


# --- for real, through pre-commit -----------------------------------------------------------------


@pytest.fixture
def hook_repo(tmp_path: Path) -> tuple[Path, str]:
    """This project's .pre-commit-hooks.yaml in a local repository pre-commit can clone offline."""
    hooks = tmp_path / "hooks-repo"
    hooks.mkdir()
    git(hooks, "init", "-q", "-b", "main")
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks / ".pre-commit-hooks.yaml")
    git(hooks, "add", ".")
    git(hooks, "commit", "-q", "-m", "hooks")
    return hooks, sha(hooks, "HEAD")


def precommit_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "PRTRIAGE_", "GITHUB_"))}
    venv_bin = str(Path(sys.executable).parent)
    return env | GIT_ENV | {
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": venv_bin + os.pathsep + env.get("PATH", ""),  # the `-system` hooks call this prtriage
        "PRTRIAGE_CACHE_DIR": os.environ.get("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache")),
        "PRE_COMMIT_COLOR": "never",
    }  # fmt: skip


def use_hooks(work: Path, hook_repo: tuple[Path, str], hooks: list[dict[str, object]]) -> None:
    config = {"repos": [{"repo": str(hook_repo[0]), "rev": hook_repo[1], "hooks": hooks}]}
    (work / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(work, "add", ".pre-commit-config.yaml")
    git(work, "commit", "-q", "--no-verify", "-m", "pre-commit config")


def run(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)


def test_manifest_is_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"prtriage", "prtriage-commit-msg", "prtriage-system", "prtriage-commit-msg-system"}
    for name in ("prtriage", "prtriage-commit-msg"):
        own, system = hooks[name], hooks[f"{name}-system"]
        assert own["language"] == "python" and system["language"] in ("system", "unsupported")
        assert (own["entry"], own["stages"]) == (system["entry"], system["stages"])
        assert own["verbose"] and own["always_run"] and own["require_serial"]
    assert hooks["prtriage"]["stages"] == ["pre-push"] and not hooks["prtriage"]["pass_filenames"]
    assert (
        hooks["prtriage-commit-msg"]["stages"] == ["commit-msg"]
        and hooks["prtriage-commit-msg"]["pass_filenames"]
    )


@pytest.mark.slow
def test_pre_push_hook_through_pre_commit(
    pushed: tuple[Path, Path], hook_repo: tuple[Path, str], tmp_path: Path
) -> None:
    work, remote = pushed
    env = precommit_env(tmp_path)
    use_hooks(work, hook_repo, [{"id": "prtriage-system", "args": ["--exclude", ".pre-commit-config.yaml"]}])
    install = run(work, env, sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push")
    assert install.returncode == 0, install.stderr
    push = run(work, env, "git", "push", "-u", "origin", "feature")
    log = push.stdout + push.stderr
    assert push.returncode == 0, log
    assert re.search(r"prtriage \(classify the pushed branch\)\.+Passed", log), log
    category = re.search(r"^(\w+)\s+\d+% [█·]+$", log, re.MULTILINE)
    assert category is not None and category[1] in NAMES, log
    assert "src/app.py" in log and "tests/test_app.py" in log
    assert git(remote, "rev-parse", "feature").strip() == sha(work, "feature")
    # Blocking: every category in fail-on (through PRTRIAGE_FAIL_ON, which the hook inherits).
    write(work, "src/app.py", "def div(a, b):\n    return a / b if b else 0\n")
    git(work, "commit", "-q", "-am", "Return 0 instead")
    blocked = run(work, env | {"PRTRIAGE_FAIL_ON": ",".join(NAMES)}, "git", "push", "origin", "feature")
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "is in fail-on" in blocked.stdout + blocked.stderr
    assert git(remote, "rev-parse", "feature").strip() != sha(work, "feature")  # not pushed


@pytest.mark.slow
def test_commit_msg_hook_through_pre_commit(
    pushed: tuple[Path, Path], hook_repo: tuple[Path, str], tmp_path: Path
) -> None:
    work, _ = pushed
    env = precommit_env(tmp_path)
    use_hooks(work, hook_repo, [{"id": "prtriage-commit-msg-system"}])
    install = run(work, env, sys.executable, "-m", "pre_commit", "install", "--hook-type", "commit-msg")
    assert install.returncode == 0, install.stderr
    no_type = run(work, env, "git", "commit", "-q", "--allow-empty", "-m", "Tidy things")
    assert no_type.returncode == 0 and "nothing to check (no Conventional Commits type" in no_type.stderr
    write(work, "src/app.py", "def div(a, b):\n    return a // b\n")
    git(work, "add", ".")
    warned = run(work, env, "git", "commit", "-m", "docs: integer division")
    log = warned.stdout + warned.stderr
    assert warned.returncode == 0, log  # informational by default
    verdict = re.search(
        r"prtriage: 'docs' (agrees with the change|means docs \(\d+%\), but the change looks like (\w+))", log
    )
    assert verdict is not None, log
    predicted = verdict[2] or "docs"
    # Same staged change, a type that disagrees with the prediction, and blocking on: rejected.
    git(work, "reset", "-q", "HEAD~1")
    use_hooks(work, hook_repo, [{"id": "prtriage-commit-msg-system", "args": ["--fail-on-mismatch"]}])
    git(work, "add", "src/app.py")
    other = "fix" if predicted != "fix" else "docs"
    before = sha(work, "HEAD")
    blocked = run(work, env, "git", "commit", "-m", f"{other}: integer division")
    log = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, log
    assert f"'{other}' means {other}" in log and f"looks like {predicted}" in log
    assert sha(work, "HEAD") == before  # no commit was made
