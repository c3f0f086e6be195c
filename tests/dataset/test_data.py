from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from git_helpers import git, write

from prtriage.core.conventional import clean_body, clean_title, is_release, parse_subject


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prtriage", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_titles_and_bodies_lose_what_would_leak_the_label() -> None:
    s = parse_subject("feat(api)!: add streaming responses (#1234)")
    assert (s.type, s.scope, s.breaking, s.description) == ("feat", "api", True, "add streaming responses")
    assert clean_title("fix: handle empty input (#12) (#13)") == "handle empty input"
    body = "* feat(core): add x (#5)\n- fix: y\n1. docs(readme): z\nplain text: kept\n\nCo-authored-by: A <a@b.c>\nSigned-off-by: B <b@c.d>"
    assert clean_body(body) == "* add x\n- y\n1. z\nplain text: kept"
    assert is_release("chore(release): v1.2.3") and is_release("v2.0.0") and is_release("chore: release 2.1")
    assert not is_release("feat: release notes page")
    assert parse_subject("Merge pull request #3 from x/y") is None


@pytest.fixture
def cc_repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commits = [
        ("src/a.py", "a = 1\n", "feat(core): add a (#1)", "- feat(core): add a\n\nCo-authored-by: X <x@y.z>"),
        ("src/a.py", "a = 2\n", "fix: correct a (#2)", "Signed-off-by: Y <y@z.w>"),
        ("README.md", "# p\n", "docs: describe p", ""),
        ("package.json", '{"dependencies": {"x": "2"}}\n', "chore(deps): update x to v2", ""),
        ("CHANGELOG.md", "1.0.0\n", "chore(release): v1.0.0", ""),
        ("notes.txt", "n\n", "Update notes", ""),
        ("src/b.py", "b = 1\n", "feat: add b", ""),
    ]
    for path, text, subject, body in commits:
        write(root, path, text)
        git(root, "add", path)
        git(root, "commit", "-q", "-m", subject, *(["-m", body] if body else []))
    return root


def test_from_git_writes_leak_free_records(cc_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    proc = run(cc_repo, "data", "from-git", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_title = {r["title"]: r for r in records}
    assert set(by_title) == {"add a", "correct a", "describe p", "update x to v2", "add b"}
    assert [by_title[t]["category"] for t in ("add a", "correct a", "describe p", "update x to v2")] == [
        "feature",
        "fix",
        "docs",
        "deps",
    ]
    assert by_title["add a"]["body"] == "- add a"  # prefix and trailer gone
    assert by_title["correct a"]["body"] == ""
    for r in records:
        text = r["title"] + r["body"]
        assert "feat" not in text and "fix:" not in text and "#" not in text and "Co-authored" not in text
        assert r["diff"].startswith("diff --git") and r["repo"] == "proj" and len(r["sha"]) == 40
    assert "skipped 1: release commit" in proc.stderr
    assert "skipped 1: not Conventional Commits" in proc.stderr


def test_from_git_options(cc_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    proc = run(cc_repo, "data", "from-git", "-o", str(out), "--max-per-category", "1", "--map", "docs=skip")
    assert proc.returncode == 0, proc.stderr
    cats = [json.loads(line)["category"] for line in out.read_text().splitlines()]
    assert sorted(cats) == ["deps", "feature", "fix"]
    bad = run(cc_repo, "data", "from-git", "--map", "feat=shiny")
    assert bad.returncode == 2 and "unknown category 'shiny'" in bad.stderr


def test_from_github_export(tmp_path: Path) -> None:
    prs = [
        {
            "number": 7,
            "title": "fix(ui): stop flicker (#7)",
            "body": "Details\nSigned-off-by: A <a@b>",
            "labels": [{"name": "bug"}],
            "mergedAt": "2024-01-02T00:00:00Z",
        },
        {"number": 8, "title": "Add dark mode", "body": None, "labels": [{"name": "enhancement"}]},
        {"number": 9, "title": "Misc", "body": "", "labels": []},
        {"number": 10, "title": "Both", "body": "", "labels": [{"name": "bug"}, {"name": "documentation"}]},
        {"number": 11, "title": "docs: explain", "body": "", "labels": []},
    ]
    export = tmp_path / "prs.json"
    export.write_text(json.dumps(prs))
    diffs = tmp_path / "diffs"
    diffs.mkdir()
    for n in (7, 8, 10, 11):
        (diffs / f"{n}.diff").write_text(
            f"diff --git a/f{n} b/f{n}\n--- a/f{n}\n+++ b/f{n}\n@@ -1 +1 @@\n-a\n+b\n"
        )
    out = tmp_path / "out.jsonl"
    proc = run(
        tmp_path, "data", "from-github", str(export), "--diffs", str(diffs), "--repo", "o/r", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["category"], r["title"]) for r in records] == [
        ("o/r#7", "fix", "stop flicker"),
        ("o/r#8", "feature", "Add dark mode"),
        ("o/r#11", "docs", "explain"),
    ]
    assert records[0]["body"] == "Details"
    assert "skipped 1: no mapped label" in proc.stderr and "skipped 1: several mapped labels" in proc.stderr
    assert "reading pull requests: 0 pull requests, starting" in proc.stderr  # a pipe: plain lines
    assert re.search(r"reading pull requests: (\d+)/\1 pull requests \(100%\)", proc.stderr), proc.stderr


def test_split_by_repo_and_time(tmp_path: Path) -> None:
    src = tmp_path / "all.jsonl"
    rows = [
        {"id": i, "repo": f"r{i % 4}", "date": f"2024-01-{i + 1:02d}", "diff": "", "category": "fix"}
        for i in range(20)
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n{bad\n")
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    proc = run(
        tmp_path,
        "data",
        "split",
        str(src),
        "--test-repos",
        "r1,r3",
        "--train-output",
        str(train),
        "--test-output",
        str(test),
    )
    assert proc.returncode == 0, proc.stderr
    test_repos = {json.loads(line)["repo"] for line in test.read_text().splitlines()}
    train_repos = {json.loads(line)["repo"] for line in train.read_text().splitlines()}
    assert test_repos == {"r1", "r3"} and train_repos == {"r0", "r2"}
    assert "all.jsonl:21: not JSON" in proc.stderr
    proc = run(
        tmp_path,
        "data",
        "split",
        str(src),
        "--by",
        "time",
        "--test-fraction",
        "0.25",
        "--train-output",
        str(train),
        "--test-output",
        str(test),
    )
    dates = sorted(json.loads(line)["date"] for line in test.read_text().splitlines())
    assert dates == [f"2024-01-{d}" for d in range(16, 21)]
    auto = run(tmp_path, "data", "split", str(src), "--train-output", str(train), "--test-output", str(test))
    assert auto.returncode == 0
    sides = [{json.loads(line)["repo"] for line in p.read_text().splitlines()} for p in (train, test)]
    assert sides[0] and sides[1] and not sides[0] & sides[1]
