"""Size and path labels, and which pull requests are left alone (prtriage/github/label_rules.py),
through sync_label, `label --from` and `classify --github` against the fake GitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine
from fake_github import BOT, PERSON, TOKEN, FakeGitHub, Pull, Server
from git_helpers import git, write
from test_labels import CATEGORIES, HEAD, _label_cli, _result, client

from prtriage.core.settings import Settings
from prtriage.github import label_rules as rules
from prtriage.github.label_rules import ChangedFile, extra_labels, from_diffs, path_labels
from prtriage.github.labels import sync_label
from prtriage.pipeline.diff import FileDiff, mark_skipped

RULES = (("docs/**", "documentation"), ("**/*.{yml,yaml}", "config"), ("src/api/**", "api"))


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeGitHub(repo_labels={"prtriage:fix", "prtriage:feature"}, pulls={7: Pull(HEAD)})
    state.set_labels(7, {"needs review": PERSON})
    with Server(state):
        yield state


def test_sizes_count_changed_lines_but_not_lock_or_generated_files() -> None:
    assert [rules.size_name(n, (10, 30, 100, 500)) for n in (0, 9, 10, 29, 30, 99, 100, 499, 500, 10**6)] == [
        "size/XS", "size/XS", "size/S", "size/S", "size/M", "size/M", "size/L", "size/L", "size/XL", "size/XL",
    ]  # fmt: skip
    files = [FileDiff("src/app.py", additions=20, deletions=5), FileDiff("package-lock.json", additions=4000),
             FileDiff("dist/app.min.js", additions=900), FileDiff("docs/a.md", additions=5)]  # fmt: skip
    mark_skipped(files, ("docs/*",), {})  # excluded from the prompt still counts: it changed
    changed = from_diffs(files)
    assert [f.counted for f in changed] == [True, False, False, True]
    wanted, ours = extra_labels(changed, Settings(size_labels=True))
    assert [w.name for w in wanted] == ["size/M"] and wanted[0].description.startswith("30-99 changed lines")
    assert ours == {"size/XS", "size/S", "size/M", "size/L", "size/XL"}
    assert extra_labels(changed, Settings()) == ([], set())  # opt-in


def test_path_rules_match_as_actions_labeler_globs_do() -> None:
    changed = [ChangedFile("docs/guide/intro.md", None, 3, True), ChangedFile(".github/ci.yml", None, 1, True),
               ChangedFile("src/api/v2/routes.py", "src/api/routes.py", 9, True)]  # fmt: skip
    assert [w.name for w in path_labels(changed, RULES)] == ["documentation", "config", "api"]
    assert [w.name for w in path_labels([ChangedFile("README.md", None, 1, True)], RULES)] == []
    moved_out = [ChangedFile("lib/routes.py", "src/api/routes.py", 0, True)]  # a rename out still touches it
    assert [w.name for w in path_labels(moved_out, RULES)] == ["api"]


def test_drafts_and_bots_are_left_alone_unless_configured() -> None:
    assert rules.login_matches("dependabot[bot]", "*[bot]") and not rules.login_matches("robot", "*[bot]")
    assert rules.login_matches("Renovate[bot]", "renovate*")
    assert (
        rules.skipped_because(True, "octocat", Settings())
        == "it is a draft (skip-drafts: false to triage drafts)"
    )
    assert "dependabot[bot] opened it" in (rules.skipped_because(False, "dependabot[bot]", Settings()) or "")
    assert rules.skipped_because(False, "octocat", Settings()) is None
    assert (
        rules.skipped_because(True, "dependabot[bot]", Settings(skip_drafts=False, skip_authors=())) is None
    )


def test_the_size_label_follows_the_pushes_and_people_win(gh: FakeGitHub) -> None:
    settings = Settings(size_labels=True, path_labels=RULES)
    small = [ChangedFile("docs/a.md", None, 12, True)]
    extra, ours = extra_labels(small, settings)
    outcome = sync_label(
        client(gh), "o/r", 7, "docs", CATEGORIES, "prtriage:", True, extra=extra, extra_ours=ours
    )
    assert gh.issue_labels[7] == ["needs review", "prtriage:docs", "size/S", "documentation"]
    assert (
        outcome.describe()
        == "added 'prtriage:docs' to #7; also added 'size/S', 'documentation' (label created)"
    )
    bigger = [ChangedFile("src/app.py", None, 150, True)]  # a push (synchronize): bigger, no docs any more
    extra, ours = extra_labels(bigger, settings)
    outcome = sync_label(
        client(gh), "o/r", 7, "fix", CATEGORIES, "prtriage:", True, extra=extra, extra_ours=ours
    )
    assert gh.issue_labels[7] == ["needs review", "prtriage:fix", "size/L"]
    assert outcome.removed == ("prtriage:docs", "size/S", "documentation")
    gh.label_by(7, "documentation", PERSON)  # a person says it is documentation after all
    gh.unlabel_by(7, "size/L", PERSON)  # and wants no size on it
    sync_label(client(gh), "o/r", 7, "fix", CATEGORIES, "prtriage:", True, extra=extra, extra_ours=ours)
    assert gh.issue_labels[7] == ["needs review", "prtriage:fix", "documentation"]


def test_label_from_takes_sizes_and_paths_from_the_api_not_the_result_file(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    gh.pulls[7].files = [
        {"filename": "docs/guide.md", "status": "modified", "additions": 40, "deletions": 2, "changes": 42},
        {"filename": "yarn.lock", "status": "modified", "additions": 3000, "deletions": 2000, "changes": 5000},
    ]  # fmt: skip
    (tmp_path / "prtriage.toml").write_text(
        'size-labels = true\n[path-labels]\n"docs/**" = "documentation"\n'
    )
    lying = {**_result(), "files": [{"path": "src/huge.py", "additions": 99999, "deletions": 0}]}
    proc = _label_cli(gh, tmp_path, lying, "--config", str(tmp_path / "prtriage.toml"), "--create-labels")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert gh.issue_labels[7] == ["needs review", "prtriage:fix", "size/M", "documentation"]
    assert ("GET", "/repos/o/r/pulls/7/files") in [(r.method, r.path) for r in gh.requests]


def test_label_from_leaves_drafts_and_bots_alone(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.pulls[7].draft = True
    proc = _label_cli(gh, tmp_path, _result())
    assert proc.returncode == 0 and "#7 not labeled: it is a draft" in proc.stderr and gh.writes() == []
    gh.pulls[7].draft, gh.pulls[7].author = False, dict(BOT, login="dependabot[bot]")
    proc = _label_cli(gh, tmp_path, _result())
    assert "#7 not labeled: dependabot[bot] opened it" in proc.stderr and gh.writes() == []
    (tmp_path / "prtriage.toml").write_text("skip-authors = []\n")
    proc = _label_cli(gh, tmp_path, _result(), "--config", str(tmp_path / "prtriage.toml"))
    assert proc.returncode == 0 and "added 'prtriage:fix' to #7" in proc.stderr


@pytest.fixture
def pr_event(fix_branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gh: FakeGitHub) -> Path:
    """A pull_request event for fix_branch (main ← feature) with a docs change too, and the fake API."""
    write(fix_branch, "docs/usage.md", "# Usage\n\nDivide with care.\n")
    git(fix_branch, "add", ".")
    git(fix_branch, "commit", "-q", "-m", "Document division")
    base, head = (git(fix_branch, "rev-parse", ref).strip() for ref in ("main", "HEAD"))
    side = {"repo": {"full_name": "o/r"}}
    pr = {"number": 7, "title": "Raise on zero", "body": "", "draft": False, "user": {"login": "octocat"},
          "base": {"sha": base, **side}, "head": {"sha": head, **side}}  # fmt: skip
    (tmp_path / "event.json").write_text(json.dumps({"repository": {"full_name": "o/r"}, "pull_request": pr}))
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
           "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return fix_branch


def test_classify_github_labels_size_and_paths_from_the_diff(
    pr_event: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    monkeypatch.setenv("PRTRIAGE_SIZE_LABELS", "true")
    monkeypatch.setenv("PRTRIAGE_PATH_LABELS", "docs/**=documentation")
    assert run_main("classify", "-C", str(pr_event), "--github", "--label", "--create-labels") == 0
    assert gh.issue_labels[7] == ["needs review", "prtriage:fix", "size/XS", "documentation"]  # 2 + 3 lines
    assert "also added 'size/XS', 'documentation'" in capsys.readouterr().err


def test_classify_github_leaves_a_draft_alone(
    pr_event: Path, tmp_path: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fake = use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    event = json.loads((tmp_path / "event.json").read_text())
    event["pull_request"]["draft"] = True
    (tmp_path / "event.json").write_text(json.dumps(event))
    assert run_main("classify", "-C", str(pr_event), "--github", "--label", "--fail-on", "fix") == 0
    assert "::notice title=prtriage::#7 not triaged: it is a draft" in capsys.readouterr().out
    assert fake.opened == 0 and gh.requests == []
    monkeypatch.setenv("PRTRIAGE_SKIP_DRAFTS", "false")
    assert run_main("classify", "-C", str(pr_event), "--github", "--fail-on", "fix") == 1
