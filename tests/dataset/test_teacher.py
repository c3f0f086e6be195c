"""The reasoning teacher and the training augmentation (title dropout, planted instructions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prtriage.dataset.planting import load_phrasings
from prtriage.dataset.teacher import AugmentOptions, augment, teach, where
from prtriage.pipeline.diff import FileDiff, parse_diff
from prtriage.pipeline.reasoning_check import ChangeFacts, check_reasoning
from prtriage.pipeline.summary import third_person, what

NAMES = ("feature", "fix", "docs", "refactor", "perf", "test", "ci", "build", "deps", "chore")


def diff(*paths: str) -> str:
    return "".join(
        f"diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -1 +1,2 @@\n-a\n+b\n+c\n" for p in paths
    )


@pytest.mark.parametrize(
    "verb, said", [("fix", "fixes"), ("add", "adds"), ("apply", "applies"), ("push", "pushes"), ("do", "does"),
                   ("play", "plays"), ("don't", "does not")],
)  # fmt: skip
def test_third_person(verb: str, said: str) -> None:
    assert third_person(verb) == said


@pytest.mark.parametrize(
    "title, category, said",
    [
        ("fix crash on empty input", "fix", "Fixes crash on empty input"),
        ("added a --json flag, closes #4203", "feature", "Adds a --json flag"),
        ("Updating the lockfile.", "deps", "Updates the lockfile"),
        ("simplified the parser", "refactor", "Simplifies the parser"),
        ("don't crash on Windows", "fix", "Does not crash on Windows"),
        ("config validation", "feature", "Adds config validation"),  # a noun phrase: the category's verb
        ("typo", "docs", "Updates the documentation: typo"),
    ],
)
def test_what_the_change_does(title: str, category: str, said: str) -> None:
    assert what(title, category) == said


def test_where_the_change_is() -> None:
    def files(*paths: str) -> list[FileDiff]:
        return parse_diff(diff(*paths).splitlines(True))

    assert where(files("src/app.py")) == "in src/app.py"
    assert where(files("go.mod", "go.sum")) == "in go.mod and go.sum"
    assert (
        where(files("docs/a.md", "docs/guide/b.md", "docs/c.md"))
        == "across 3 documentation files under docs/"
    )
    assert where(files("src/a.py", "README.md", "tests/test_a.py")) == "in src/a.py and 2 other files"


def test_teacher_reasonings_pass_the_reasoning_check() -> None:
    cases = [
        ("fix crash on empty input", diff("src/app.py"), "fix"),
        ("typo", diff("docs/a.md", "docs/b.md", "docs/c.md"), "docs"),
        ("bump vite from 5.0 to 5.1", diff("package.json", "pnpm-lock.yaml"), "deps"),
        ("", diff(".github/workflows/ci.yml"), "ci"),  # no title at all
    ]
    for title, text, category in cases:
        files = parse_diff(text.splitlines(True))
        reasoning = teach(title, files, category)
        facts = ChangeFacts.of(title, [f.path for f in files], text)
        assert check_reasoning(reasoning, category, NAMES, facts) == (), reasoning


def test_augment_is_seeded_and_keeps_the_label_and_reasoning() -> None:
    records = [
        {
            "id": str(i),
            "title": "fix crash",
            "body": "It crashed.",
            "diff": diff("src/app.py"),
            "category": "fix",
        }
        for i in range(200)
    ]
    options = AugmentOptions(title_dropout=0.3, planted=0.5, seed=1)
    out = list(augment(records, NAMES, load_phrasings("train"), options))
    assert out == list(augment(records, NAMES, load_phrasings("train"), options))
    dropped = [r for r in out if "title-dropout" in r.get("augmented", "")]
    # The reasoning says only what the model will see: no title once the title is dropped.
    assert all(r["category"] == "fix" for r in out)
    assert all(r["reasoning"] == "Fixes behaviour in src/app.py." for r in dropped)
    assert all(r["reasoning"] == "Fixes crash in src/app.py." for r in out if r not in dropped)
    planted = [r for r in out if "planted:" in r.get("augmented", "")]
    assert 40 <= len(dropped) <= 80 and 70 <= len(planted) <= 130
    assert all(r["title"] == "" or "planted:title" in r["augmented"] for r in dropped)
    train = {" ".join(p.render(t).split()) for p in load_phrasings("train") for t in NAMES}
    held_out = {" ".join(p.render(t).split()) for p in load_phrasings("eval") for t in NAMES}
    for r in planted:  # the train half, never the eval half (checked where the text stays whole)
        if ":title:" in r["augmented"] or ":description:" in r["augmented"]:
            seen = " ".join((r["title"] + " " + r["body"]).split())
            assert any(t in seen for t in train) and not any(t in seen for t in held_out)
    targets = {r["augmented"].split(":")[2] for r in planted}
    assert "fix" not in targets and len(targets) >= 5


def test_data_teach_command(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    good = {"id": "a", "title": "fix crash", "diff": diff("src/app.py"), "category": "fix"}
    src.write_text(json.dumps(good) + "\n{oops\n" + json.dumps({**good, "category": "shiny"}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "data", "teach", str(src), "-o", str(out), "--title-dropout", "0",
         "--planted", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{**good, "reasoning": "Fixes crash in src/app.py."}]
    assert "wrote 1 records, skipped 2" in proc.stderr


def test_the_main_path_is_one_the_file_list_shows_first() -> None:
    # The most changed file comes last: the prompt's file list may cut it, so it is not named.
    big = (
        "diff --git a/src/z.py b/src/z.py\n--- a/src/z.py\n+++ b/src/z.py\n@@ -1 +1,30 @@\n-a\n" + "+b\n" * 30
    )
    files = parse_diff((diff("src/a.py", "README.md", "tests/t.py", "docs/d.md") + big).splitlines(True))
    assert files[-1].path == "src/z.py" and files[-1].additions == 30
    assert where(files) == "in src/a.py and 4 other files"
