"""Plain `classify` (prtriage/commands/classify.py) with a fake engine: git's change in, the result out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_engine import FakeEngine, fake_sha256, run_main, use_fake_engine

from prtriage.commands.classify import ClassifyOptions, run
from prtriage.core.errors import EXIT_FAIL_ON, EXIT_OK
from prtriage.core.settings import Settings
from prtriage.pipeline import git


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    return use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8, "Guards against b == 0."))


def test_json_is_the_fake_answer_on_the_branch_change(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("classify", "-C", str(fix_branch), "--format", "json") == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert (data["category"], data["confidence"], data["scorer"]) == ("fix", 0.8, "llm")
    # Built from the scores, not the model's words: "Guards against b == 0." is too short to stand.
    assert data["reasoning"].endswith("Chosen over feature: the model gives fix 80%, feature 2%.")
    assert data["evidence"]["runner_up"] == "feature" and data["evidence"]["paths"] == ["src/app.py"]
    assert data["model"] == "fake.gguf" and data["uncertain"] is False
    assert [f["path"] for f in data["files"]] == ["src/app.py"] and fake.scored == 1
    assert data["source"].endswith("..HEAD")


def test_json_names_its_schema_version_and_the_models_identity(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("classify", "-C", str(fix_branch), "--format", "json") == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert (data["model"], data["model_sha256"]) == ("fake.gguf", fake_sha256("fake.gguf"))
    assert (data["adapter"], data["adapter_sha256"]) == (None, None)


def test_text_and_markdown(fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main("classify", "-C", str(fix_branch)) == EXIT_OK
    assert "src/app.py" in capsys.readouterr().out
    assert run_main("classify", "-C", str(fix_branch), "--format", "markdown") == EXIT_OK
    assert "**Category:** `fix`" in capsys.readouterr().out


def test_fail_on_exits_1_and_still_prints(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("classify", "-C", str(fix_branch), "--format", "json", "--fail-on", "fix,docs") == 1
    out = capsys.readouterr()
    assert json.loads(out.out)["category"] == "fix" and "category 'fix' is in fail-on" in out.err
    assert run_main("classify", "-C", str(fix_branch), "--fail-on", "docs") == EXIT_OK


def test_an_uncertain_result_disarms_fail_on(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_main("classify", "-C", str(fix_branch), "--fail-on", "fix", "--min-confidence", "0.9")
    assert code == EXIT_OK
    out = capsys.readouterr()
    assert out.out.startswith("uncertain: the most likely category, fix, has ")
    assert "is in fail-on, but the result is uncertain" in out.err


def test_title_and_body_flags_reach_the_change(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = tmp_path / "body.md"
    body.write_text("Explained at length.")
    args = ["-C", str(fix_branch), "--format", "json", "--title", "Zero", "--body-file", str(body)]
    assert run_main("classify", *args) == EXIT_OK
    assert run_main("classify", "-C", str(fix_branch), "--body", "x", "--body-file", str(body)) == 2
    assert "--body and --body-file are exclusive" in capsys.readouterr().err


def test_the_command_function_returns_the_code(fix_branch: Path, fake: FakeEngine) -> None:
    settings = Settings(fail_on=("fix",))
    options = ClassifyOptions(fix_branch, settings, git.DiffSpec(base="main"), fmt="json")
    assert run(options) == EXIT_FAIL_ON
    assert run(ClassifyOptions(fix_branch, Settings(), git.DiffSpec(base="main"))) == EXIT_OK


def test_a_declared_type_is_ignored_checked_or_trusted_as_configured(
    fix_branch: Path, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("classify", "-C", str(fix_branch), "--format", "json", "--title", "feat!: guard the division")
    assert run_main(*args) == EXIT_OK  # the default: a prefix is what an author types to pass a gate
    data = json.loads(capsys.readouterr().out)
    assert (data["category"], data["decided_by"], data["declared"]) == ("fix", "model", None)
    monkeypatch.setenv("PRTRIAGE_DECLARED", "check")
    assert run_main(*args, "--fail-on", "feature") == EXIT_OK
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data["category"] == "fix" and data["declared"] == {
        "type": "feat", "scope": None, "category": "feature", "breaking": True, "agrees": False,
    }  # fmt: skip
    assert "the title's type 'feat' means feature, but the change looks like fix (80%)" in out.err
    assert "feat!:" not in " ".join(fake.words(fake.calls[-1].prompt))  # the model never read the answer
    monkeypatch.setenv("PRTRIAGE_DECLARED", "trust")
    opened = fake.opened
    assert run_main(*args, "--fail-on", "feature") == EXIT_FAIL_ON  # the type is the answer now
    data = json.loads(capsys.readouterr().out)
    assert (data["category"], data["confidence"], data["decided_by"]) == ("feature", 1.0, "declared type")
    assert fake.opened == opened and data["files"][0]["shown"] == "none"  # no model loaded
    assert run_main("classify", "-C", str(fix_branch), "--title", "chore(deps): bump x") == EXIT_OK
    assert "the model did not run" in capsys.readouterr().out and fake.opened == opened


def test_a_file_name_that_looks_like_rich_markup_is_shown_as_written(
    repo: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18, case 1: `docs/[/x].md` ended classify with an internal error (rich read it as markup)."""
    from git_helpers import commit

    commit(repo, "Add odd names", {"docs/[/x].md": "# x\n", "docs/[bold red]y[/].md": "# y\n"})
    assert run_main("classify", "-C", str(repo)) == EXIT_OK
    out = capsys.readouterr().out
    assert "docs/[/x].md" in out and "docs/[bold red]y[/].md" in out


def test_custom_categories_fall_back_to_the_llm_with_one_warning(
    fix_branch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped lexical model knows only the ten defaults: fused scoring falls back, and says so.
    use_fake_engine(monkeypatch, FakeEngine.answering("bug", 0.7), fused=True)
    (fix_branch / ".prtriage.toml").write_text(
        'scorer = "fused"\n[categories]\nbug = "a defect"\nother = "anything else"\n'
    )
    assert run_main("classify", "-C", str(fix_branch), "--format", "json") == EXIT_OK
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["category"] == "bug" and data["scorer"] == "llm" and data["confidence"] == pytest.approx(0.7)
    warnings = [line for line in err.splitlines() if "lexical model" in line]
    assert len(warnings) == 1 and "scoring with the LLM alone" in warnings[0]


def test_a_configured_lexical_model_must_know_the_categories(
    fix_branch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from prtriage.pipeline.lexical_model import DEFAULT_LEXICAL

    use_fake_engine(monkeypatch, FakeEngine.answering("bug", 0.7), fused=True)
    (fix_branch / ".prtriage.toml").write_text(
        f'scorer = "fused"\nlexical = "{DEFAULT_LEXICAL}"\n[categories]\nbug = "a defect"\nother = "anything else"\n'
    )
    assert run_main("classify", "-C", str(fix_branch)) == 3
    assert "trained on other categories" in capsys.readouterr().err


def test_a_change_the_model_saw_little_of_says_so_and_counts_as_uncertain_only_when_asked(
    fix_branch: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    from git_helpers import commit

    big = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(600))
    commit(fix_branch, "Add many helpers", {"src/helpers.py": big})
    args = ("classify", "-C", str(fix_branch), "--format", "json", "--fail-on", "fix")
    assert run_main(*args) == EXIT_FAIL_ON  # said, not acted on: the gate still fires
    data = json.loads(capsys.readouterr().out)
    assert data["saw_little"] is True and data["shown_fraction"] < 0.5 and data["uncertain"] is False
    assert run_main("classify", "-C", str(fix_branch)) == EXIT_OK
    assert "saw little: the model was shown" in capsys.readouterr().out
    (fix_branch / ".prtriage.toml").write_text('saw-little = "uncertain"\n')
    assert run_main(*args) == EXIT_OK  # asked for: uncertain, so no fail-on
    data = json.loads(capsys.readouterr().out)
    assert data["uncertain"] is True and data["saw_little_uncertain"] is True
