"""classify's mode check (prtriage/commands/modes.py): one place refuses every conflicting flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine

from prtriage.commands.modes import ClassifyFlags, check
from prtriage.core.errors import UsageError

IN, OUT, MSG = Path("in.jsonl"), Path("out.jsonl"), Path("COMMIT_EDITMSG")


@pytest.mark.parametrize(
    "flags, mode",
    [
        (ClassifyFlags(), "git"),
        (ClassifyFlags(staged=True, title="t", body="b"), "git"),
        (ClassifyFlags(input_=IN, output=OUT), "input"),
        (ClassifyFlags(github=True, label_=True, comment=True, diff_from="github"), "github"),
        (ClassifyFlags(pre_push=True, fmt="json"), "pre-push"),
        (ClassifyFlags(commit_msg=True, message_file=MSG, fail_on_mismatch=True), "commit-msg"),
        # --commit-msg reads title and description from the message: it has always ignored these.
        (ClassifyFlags(commit_msg=True, message_file=MSG, body="b", body_file=Path("f")), "commit-msg"),
    ],
)
def test_each_mode_is_chosen_by_its_flag(flags: ClassifyFlags, mode: str) -> None:
    assert check(flags) == mode


@pytest.mark.parametrize(
    "flags, message",
    [
        (ClassifyFlags(output=OUT), "--output goes with --input"),
        (ClassifyFlags(github=True, pre_push=True), "--github and --pre-push are exclusive"),
        (ClassifyFlags(commit_msg=True, message_file=MSG, range_="a..b"),
         "--commit-msg and --base/--staged/--range are exclusive"),
        (ClassifyFlags(input_=IN, output=OUT, github=True, pre_push=True, staged=True, fmt="markdown"),
         "--github and --pre-push and --base/--staged/--range and --input are exclusive"),
        (ClassifyFlags(label_=True), "--label goes with --github"),
        (ClassifyFlags(label_prefix="x:"), "--label-prefix goes with --github"),
        (ClassifyFlags(create_labels=True), "--create-labels goes with --github"),
        (ClassifyFlags(diff_from="github"), "--diff-from github goes with --github"),
        (ClassifyFlags(github=True, uncertain_label="unsure"), "--uncertain-label goes with --label"),
        (ClassifyFlags(fail_on_mismatch=True), "--fail-on-mismatch goes with --commit-msg"),
        (ClassifyFlags(commit_msg=True), "--commit-msg needs the commit message file"),
        (ClassifyFlags(message_file=MSG), "unexpected argument COMMIT_EDITMSG"),
        (ClassifyFlags(github=True, label_map="fix=bug"), "--label-map goes with --label"),
        (ClassifyFlags(pre_push=True, comment=True), "--comment goes with --github"),
        (ClassifyFlags(input_=IN, output=OUT, fmt="json"), "--format does not apply to --input"),
        (ClassifyFlags(input_=IN, output=OUT, title="t"), "--title does not apply to --input"),
        (ClassifyFlags(input_=IN, output=OUT, body_file=Path("-")), "--body-file does not apply to --input"),
        (ClassifyFlags(input_=IN), "--input needs --output FILE.jsonl"),
        (ClassifyFlags(base="main", staged=True), "--base, --staged and --range are exclusive"),
        (ClassifyFlags(body="b", body_file=Path("f")), "--body and --body-file are exclusive"),
        (ClassifyFlags(github=True, body="b", body_file=Path("f")), "--body and --body-file are exclusive"),
    ],
)  # fmt: skip
def test_conflicting_flags_are_usage_errors(flags: ClassifyFlags, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace(".", r"\.")):
        check(flags)


def test_the_input_mode_refuses_ignored_flags_before_loading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12's second bug, end to end: it used to exit 0 and ignore all of these."""
    engine = use_fake_engine(monkeypatch, FakeEngine.answering())
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "diff": ""}) + "\n")
    args = ["--github", "--pre-push", "--staged", "--format", "markdown"]
    code = run_main("classify", "-C", str(tmp_path), "--input", str(src), "--output", str(out), *args)
    assert code == 2
    assert (
        "--github and --pre-push and --base/--staged/--range and --input are exclusive"
        in capsys.readouterr().err
    )
    assert not out.exists() and engine.opened == 0
