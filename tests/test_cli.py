from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine
from git_helpers import write

from prtriage import __version__, cli

FIX_DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,4 @@\n def div(a, b):\n+    if b == 0:\n+        raise ValueError('b is zero')\n     return a / b\n"
)


def run(
    cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prtriage", *args], cwd=cwd, capture_output=True, text=True,
        input=stdin, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("prtriage: error:") and text in lines[0], proc.stderr
    assert len(lines) <= 2


@pytest.mark.slow
def test_classify_text_json_markdown_and_fail_on(fix_branch: Path) -> None:
    text = run(fix_branch, "classify")
    assert text.returncode == 0, text.stderr
    assert "Categories" in text.stdout and "src/app.py" in text.stdout
    out = run(fix_branch, "classify", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("category", "confidence", "probabilities", "reasoning", "files", "model", "timings"):
        assert key in data
    assert abs(sum(data["probabilities"].values()) - 1) < 1e-4
    assert data["files"][0] == {
        "path": "src/app.py", "old_path": None, "status": "modified", "kind": "source",
        "additions": 2, "deletions": 0, "included": True, "shown": "full", "reason": None, "shown_lines": 2,
    }  # fmt: skip
    assert data["category"] in data["probabilities"]
    md = run(fix_branch, "classify", "--format", "markdown")
    assert f"**Category:** `{data['category']}`" in md.stdout and "| category | probability |" in md.stdout
    failing = run(fix_branch, "classify", "--format", "json", "--fail-on", data["category"])
    assert failing.returncode == 1
    assert json.loads(failing.stdout)["category"] == data["category"]  # still prints the result
    other = next(c for c in data["probabilities"] if c != data["category"])
    assert run(fix_branch, "classify", "--format", "json", "--fail-on", other).returncode == 0


@pytest.mark.slow
def test_inference_never_imports_torch(fix_branch: Path) -> None:
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers', 'peft', 'accelerate', 'llm'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from prtriage.cli import cli\n"
        "cli.main(args=['classify', '--format', 'json'], standalone_mode=False)\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft', 'llm')]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=fix_branch, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "HEAVY []" in proc.stdout


def test_no_path_of_plain_prtriage_imports_ray(fix_branch: Path) -> None:
    """classify (git and --input, sharded, resumed), merge and --help run with Ray unimportable; --ray says
    what to install. The fake engine comes through PRTRIAGE_ENGINE, as in a Ray worker."""
    write(fix_branch, "in.jsonl", json.dumps({"id": "a", "title": "t", "diff": FIX_DIFF}) + "\n")
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('ray', 'pyarrow', 'pandas'):\n"
        "            raise ImportError('blocked: ' + name, name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from prtriage.cli import main\n"
        "def run(*args):\n"
        "    try:\n"
        "        main(list(args))\n"
        "    except SystemExit as e:\n"
        "        print('EXIT', args[0], e.code)\n"
        "run('--help')\n"
        "run('classify', '--format', 'json')\n"
        "run('classify', '--input', 'in.jsonl', '--output', 'a.jsonl', '--shard', '1/1')\n"
        "run('classify', '--input', 'in.jsonl', '--output', 'a.jsonl', '--resume', '--reasoning-tokens', '0')\n"
        "run('merge', '--input', 'in.jsonl', '-o', 'm.jsonl', 'a.jsonl')\n"
        "print('RAY', [m for m in sys.modules if m.split('.')[0] in ('ray', 'pyarrow', 'pandas')])\n"
        "run('classify', '--input', 'in.jsonl', '--output', 'r.jsonl', '--ray')\n"
    )
    env = {**os.environ, "PRTRIAGE_ENGINE": "fake_engine:factory", "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=fix_branch, capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.stdout.count("EXIT") == 6 and "RAY []" in proc.stdout, proc.stdout + proc.stderr[-3000:]
    assert [line for line in proc.stdout.splitlines() if line.startswith("EXIT")][:5] == [
        "EXIT --help 0", "EXIT classify 0", "EXIT classify 0", "EXIT classify 0", "EXIT merge 0",
    ]  # fmt: skip
    assert proc.stdout.splitlines()[-1] == "EXIT classify 2"
    assert "--ray needs Ray, which is not installed (pyarrow)" in proc.stderr  # its first import
    assert "pip install 'prtriage[ray]'" in proc.stderr


@pytest.mark.parametrize(
    "args, code, text",
    [
        (("classify", "--base", "nope"), 3, "unknown base ref: nope"),
        (("classify", "--base", "main", "--staged"), 2, "exclusive"),
        (("classify", "--output", "x.jsonl"), 2, "--output goes with --input"),
        (("classify", "--model", "missing.gguf"), 3, "model file not found"),
        (("classify", "--fail-on", "nope"), 2, "unknown category 'nope'"),
        (("classify", "--context-size", "100"), 2, "'context-size' must be an integer from 256"),
        (("classify", "--input", "missing.jsonl", "--output", "o.jsonl"), 2, "input file not found"),
    ],
)
def test_bad_input_exit_codes(fix_branch: Path, args: tuple[str, ...], code: int, text: str) -> None:
    _one_line_error(run(fix_branch, *args), code, text)


def test_not_a_repo_and_empty_diff(tmp_path: Path, repo: Path) -> None:
    _one_line_error(run(tmp_path, "classify"), 3, "not a git repository")
    _one_line_error(run(repo, "classify"), 3, "empty diff")


def test_bad_config_key(fix_branch: Path) -> None:
    write(fix_branch, ".prtriage.toml", "colour = 'red'\n")
    _one_line_error(run(fix_branch, "classify"), 2, "unknown key 'colour'")


def test_click_usage_error_is_exit_2(fix_branch: Path) -> None:
    proc = run(fix_branch, "classify", "--no-such-flag")
    assert proc.returncode == 2 and "No such option" in proc.stderr


def test_interrupt_is_exit_130(fix_branch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prtriage.pipeline import engine_factory

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.chdir(fix_branch)
    monkeypatch.setattr(engine_factory, "open_engine", interrupted)
    with pytest.raises(SystemExit) as info:
        cli.main(["classify"])
    assert info.value.code == 130


@pytest.mark.slow
def test_batch_skips_bad_lines_and_keeps_the_rest(tmp_path: Path) -> None:
    good = {"id": "a1", "title": "Avoid crash on zero", "body": None, "diff": FIX_DIFF, "category": "fix"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"id": "b2", "title": "no diff here"}),
        "",
        json.dumps({"id": "c3", "title": "Docs", "diff": "", "extra": [1, 2]}),
    ]
    src = tmp_path / "changes.jsonl.gz"
    with gzip.open(src, "wt") as f:
        f.write("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    proc = run(tmp_path, "classify", "--input", str(src), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "changes.jsonl.gz:2: not JSON" in proc.stderr
    assert "changes.jsonl.gz:3: 'diff' missing or not a string" in proc.stderr
    assert "classified 2 records, skipped 2" in proc.stderr
    # The pre-pass that checks ids counts the records, so even a .gz has a total: the 2 good lines
    # (a pipe: plain lines).
    assert "classifying: 0/2 records (0%), starting" in proc.stderr
    assert re.search(r"classifying: 2/2 records \(100%\), [\d.]+ (s per record|records/s)", proc.stderr), (
        proc.stderr
    )
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == ["a1", "c3"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in results)
    assert not (tmp_path / "results.jsonl.partial").exists()


ALL = "feature,fix,docs,refactor,perf,test,ci,build,deps,chore"


@pytest.mark.slow
def test_min_confidence_marks_uncertain_and_disarms_fail_on(fix_branch: Path) -> None:
    # No category reaches probability 1: every result is uncertain, and fail-on must not fire.
    out = run(fix_branch, "classify", "--format", "json", "--min-confidence", "1", "--fail-on", ALL)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["uncertain"] is True and data["category"] in data["probabilities"]
    assert "is in fail-on, but the result is uncertain" in out.stderr
    text = run(fix_branch, "classify", "--min-confidence", "1", env={"PRTRIAGE_FAIL_ON": ALL})
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"uncertain: the most likely category, {data['category']}, has ")
    md = run(fix_branch, "classify", "--format", "markdown", env={"PRTRIAGE_MIN_CONFIDENCE": "1"})
    assert "**Uncertain:**" in md.stdout
    # At 0 nothing is uncertain and fail-on fires as before.
    sure = run(fix_branch, "classify", "--format", "json", "--min-confidence", "0", "--fail-on", ALL)
    assert sure.returncode == 1 and json.loads(sure.stdout)["uncertain"] is False


def test_min_confidence_outside_0_1_is_a_usage_error(fix_branch: Path) -> None:
    _one_line_error(run(fix_branch, "classify", "--min-confidence", "1.5"), 2, "from 0 to 1")
    _one_line_error(
        run(fix_branch, "classify", env={"PRTRIAGE_MIN_CONFIDENCE": "high"}), 2, "'min-confidence' must be"
    )


@pytest.mark.slow
def test_batch_uncertain_results_do_not_fail(tmp_path: Path) -> None:
    record = {"id": "a1", "title": "Avoid crash on zero", "diff": FIX_DIFF, "category": "fix"}
    src = tmp_path / "changes.jsonl"
    src.write_text(json.dumps(record) + "\n")
    out = tmp_path / "results.jsonl"
    proc = run(tmp_path, "classify", "--input", str(src), "--output", str(out), "--fail-on", ALL,
               "--min-confidence", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["uncertain"] is True
    assert "1 results were uncertain (below min-confidence)" in proc.stderr
    assert (
        run(tmp_path, "classify", "--input", str(src), "--output", str(out), "--fail-on", ALL).returncode == 1
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--github", "--pre-push"], "--github and --pre-push and --input are exclusive"),
        (["--staged"], "--base/--staged/--range and --input are exclusive"),
        (["--format", "markdown"], "--format does not apply to --input"),
        (["--title", "x"], "--title does not apply to --input"),
        (["--label"], "--label goes with --github"),
    ],
)
def test_input_mode_refuses_flags_it_would_ignore(tmp_path: Path, args: list[str], message: str) -> None:
    """Issue 12's second bug: --input returned before the mode check and ignored these silently."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "diff": FIX_DIFF}) + "\n")
    proc = run(tmp_path, "classify", "--input", str(src), "--output", str(tmp_path / "out.jsonl"), *args)
    _one_line_error(proc, 2, message)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.slow
def test_custom_categories_with_the_bundled_adapter_warn_once(fix_branch: Path) -> None:
    write(
        fix_branch,
        ".prtriage.toml",
        '[categories]\nsecurity = "fixes a vulnerability"\nother = "anything else"\n',
    )
    proc = run(fix_branch, "classify", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    warnings = [
        ln for ln in proc.stderr.splitlines() if "bundled adapter was trained on the ten default" in ln
    ]
    assert len(warnings) == 1 and warnings[0].startswith("prtriage: warning:")
    assert json.loads(proc.stdout)["category"] in ("security", "other")
    quiet = run(fix_branch, "classify", "--format", "json", "--adapter", "none")  # no bundled adapter
    assert quiet.returncode == 0 and "bundled adapter" not in quiet.stderr


@pytest.mark.slow
def test_the_default_fused_scorer_mixes_the_shipped_lexical_model(fix_branch: Path) -> None:
    llm = json.loads(run(fix_branch, "classify", "--format", "json", "--scorer", "llm").stdout)
    proc = run(fix_branch, "classify", "--format", "json")  # a bare classify: the fused default
    assert proc.returncode == 0, proc.stderr
    fused = json.loads(proc.stdout)
    assert llm["scorer"] == "llm" and fused["scorer"] == "fused"
    assert abs(sum(fused["probabilities"].values()) - 1) < 1e-4
    assert fused["probabilities"] != llm["probabilities"]
    assert fused["category"] == max(fused["probabilities"], key=fused["probabilities"].get)


def test_fused_scorer_needs_a_lexical_model_for_the_categories(
    fix_branch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The missing lexical model is found after the model has scored: the fake engine stands in.
    use_fake_engine(monkeypatch, FakeEngine.answering(), fused=True)
    (fix_branch / ".prtriage.toml").write_text('scorer = "fused"\nlexical = "missing.npz"\n')
    assert run_main("classify", "-C", str(fix_branch)) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("prtriage: error: cannot read the lexical model") and len(lines) <= 2, lines
    (fix_branch / ".prtriage.toml").write_text('scorer = "best"\n')
    _one_line_error(run(fix_branch, "classify"), 2, "'scorer' must be one of llm, fused")


def _closed_pipe_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`prtriage ARGS | head -0`, with the fake engine: stdout's reader is gone before anything is written."""
    tests = Path(__file__).parent
    code = (
        f"import sys; sys.path.insert(0, {str(tests)!r})\n"
        "from fake_engine import FakeEngine, use_fake_engine\n"
        "import pytest\n"
        "use_fake_engine(pytest.MonkeyPatch(), FakeEngine.answering('fix', 0.9))\n"
        "from prtriage.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    read, write = os.pipe()
    os.close(read)  # the reader went away
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, stdout=write, stderr=subprocess.PIPE,
                              timeout=120)  # fmt: skip
    finally:
        os.close(write)
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", proc.stderr)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_closed_pipe_exits_quietly_with_its_own_status(fix_branch: Path, fmt: str) -> None:
    proc = _closed_pipe_run(fix_branch, "classify", "--format", fmt, "--fail-on", "fix")
    assert proc.returncode == 141, proc.stderr  # not 1, which means "category in fail-on"
    assert proc.stderr == b""


def test_misspelt_variables_warn_on_stderr(tmp_path: Path) -> None:
    proc = run(tmp_path, "notes", "v1..v2", env={"PRTRIAGE_FAILON": "chore"})
    assert proc.stderr.splitlines()[0] == (
        "prtriage: warning: PRTRIAGE_FAILON is not a prtriage variable and is ignored "
        "(did you mean PRTRIAGE_FAIL_ON?)"
    )


def test_an_internal_error_writes_its_traceback_to_a_log_file(
    fix_branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18, case 7: a bug printed one line and lost the traceback unless PRTRIAGE_DEBUG was set."""
    from prtriage.pipeline import change

    def broken(*args: object) -> None:
        raise ZeroDivisionError("a bug in here")

    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(change, "change_from_git", broken)
    with pytest.raises(SystemExit) as info:
        cli.main(["classify", "-C", str(fix_branch)])
    assert info.value.code == 3
    err = capsys.readouterr().err
    (logs,) = list((tmp_path / "cache" / "logs").glob("*.log"))
    assert "internal error: ZeroDivisionError: a bug in here" in err and str(logs) in err
    assert "Traceback" not in err
    log = logs.read_text()
    assert f"prtriage {__version__}" in log and "classify -C" in log
    assert "Traceback (most recent call last)" in log and "def broken" not in log
    assert 'raise ZeroDivisionError("a bug in here")' in log


def test_an_internal_error_in_github_actions_prints_the_traceback_in_a_group(
    fix_branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from prtriage.pipeline import change

    def broken(*args: object) -> None:
        raise ZeroDivisionError("::error::spoofed\nsecond line")

    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setattr(change, "change_from_git", broken)
    with pytest.raises(SystemExit):
        cli.main(["classify", "-C", str(fix_branch)])
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    start = out.index("::group::prtriage: internal error traceback")
    assert out[start + 1].startswith("::stop-commands::")
    token = out[start + 1].removeprefix("::stop-commands::")
    end = out.index(f"::{token}::")
    assert any("Traceback (most recent call last)" in line for line in out[start:end])
    assert any("::error::spoofed" in line for line in out[start:end]) and out[end + 1] == "::endgroup::"
    # The one-line message stays one line: `second line` cannot start a line of its own.
    assert "second line" in captured.err and not any(
        line.startswith(("second", "::")) for line in captured.err.splitlines()
    )


def test_version_loads_no_command_module_and_the_formats_are_the_renderers() -> None:
    # `prtriage --version` is the commit-msg hook's yardstick (benchmarks/commit_msg_hook.py): each
    # command's module loads when that command runs.
    from prtriage.pipeline.render import FORMATS

    assert cli.FORMATS == FORMATS
    code = (
        "import sys\nfrom prtriage import cli\n"
        "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('prtriage.')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(proc.stdout.splitlines()[-1].split())
    commands = {m for m in loaded if m.startswith("prtriage.commands.")}
    assert commands == {"prtriage.commands.common"}, commands  # the stderr console
    assert "prtriage.pipeline.render" not in loaded
