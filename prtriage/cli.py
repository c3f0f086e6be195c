"""The command line. The only module that knows click and exit codes."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from prtriage import __version__, errors, git
from prtriage.config import DEFAULT_CONTEXT_SIZE, Settings, resolve_settings
from prtriage.report import FORMATS, print_text, to_json, to_markdown, uncertain_note


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class _LazyGroup(click.Group):
    """Subcommands whose modules load only when used: `train` needs torch, `classify` does not."""

    lazy = {
        "train": "prtriage.train.cli:train",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attr = self.lazy[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prtriage")
def cli() -> None:
    """Triage pull requests locally with a small LLM: feature, fix, docs, refactor, ..."""


def _settings(ctx_flags: dict[str, Any], config: Path | None, cwd: Path) -> Settings:
    return resolve_settings(ctx_flags, cwd=cwd, config_file=config)


def _diff_spec(base_flag: str | None, staged: bool, range_: str | None, settings: Settings) -> git.DiffSpec:
    if sum(bool(x) for x in (base_flag, staged, range_)) > 1:
        raise errors.UsageError("--base, --staged and --range are exclusive: pick one")
    if staged or range_:
        return git.DiffSpec(range=range_, staged=staged)
    return git.DiffSpec(base=settings.base)  # from the flag, PRTRIAGE_BASE or the config file


def _read_body(body: str | None, body_file: Path | None) -> str | None:
    if body is not None and body_file is not None:
        raise errors.UsageError("--body and --body-file are exclusive: pick one")
    if body_file is None:
        return body
    try:
        return sys.stdin.read() if str(body_file) == "-" else body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise errors.UsageError(f"cannot read --body-file {body_file}: {e}") from None


# Options that mean the same in every command that loads the model: declared once.
_model_option = click.option("--model", help="A .gguf path, hf://owner/repo/file.gguf[@rev], or 'default'.")
_adapter_option = click.option(
    "--adapter", help="A LoRA adapter .gguf on top of the model ('none' for no adapter)."
)
_context_size_option = click.option(
    "--context-size", type=int, help=f"Model context in tokens (default {DEFAULT_CONTEXT_SIZE})."
)
_threads_option = click.option(
    "--threads", type=int, help="CPU threads (default: the cores not busy at start, at most 4)."
)
_gpu_layers_option = click.option(
    "--gpu-layers",
    type=int,
    help="Layers to offload to the GPU (-1 all; default: all when the build supports it).",
)
_exclude_option = click.option(
    "--exclude", multiple=True, help="Glob of files whose diff the model never sees (repeatable)."
)


@cli.command()
@click.option(
    "--base", help="Diff against the merge base with this ref (default: origin/HEAD, main or master)."
)
@click.option("--staged", is_flag=True, help="Classify the staged changes instead of the branch.")
@click.option("--range", "range_", metavar="A..B", help="Classify an explicit range (A..B or A...B).")
@click.option("--title", help="Pull request title (default: from the branch's commits).")
@click.option("--body", help="Pull request description (default: from the branch's commits).")
@click.option("--body-file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
              help="Read the description from a file ('-' for stdin).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@_model_option
@_adapter_option
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: nearest .prtriage.toml or pyproject.toml [tool.prtriage]).")  # fmt: skip
@_context_size_option
@_threads_option
@_gpu_layers_option
@click.option("--fail-on", help="Exit 1 when the category is one of these (comma-separated).")
@click.option("--scorer", type=click.Choice(["llm", "fused"]),
              help="llm: the model's category scores; fused: mixed with a lexical model's [llm].")  # fmt: skip
@click.option("--min-confidence", type=float, metavar="P",
              help="Below this probability (0 to 1) the result is uncertain: said so, no fail-on, no label.")  # fmt: skip
@_exclude_option
@click.option("--input", "input_", type=click.Path(path_type=Path, dir_okay=False),
              help="Classify JSONL change records (id, title, body, diff; .gz ok) instead of git.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where --input results go (JSONL).")  # fmt: skip
@click.option("-C", "--repo", type=click.Path(path_type=Path, file_okay=False), default=".",
              help="Run as if started in this folder.")  # fmt: skip
@click.option("--github", is_flag=True,
              help="Classify this GitHub Actions run's pull request; write outputs, summary, annotations.")  # fmt: skip
@click.option("--diff-from", type=click.Choice(["git", "github"]), default="git", show_default=True,
              help="With --github: diff the local clone, or fetch the diff through the API (no checkout).")  # fmt: skip
@click.option("--label", "label_", is_flag=True, help="With --github: label the pull request with its category.")  # fmt: skip
@click.option("--label-prefix", help="Labels are PREFIX+category; only such labels are ever removed [prtriage:].")  # fmt: skip
@click.option("--create-labels", is_flag=True, help="Create a missing label (the token needs issues: write).")
@click.option("--uncertain-label", metavar="NAME",
              help="With --label: put this label on uncertain results (default: no label).")  # fmt: skip
@click.option("--label-map", metavar="CAT=LABEL,...",
              help="With --label: labels for categories, e.g. fix=bug,feature=enhancement ('' for none).")  # fmt: skip
@click.option("--comment", is_flag=True,
              help="With --github: keep one pull-request comment with the result (edited each run).")  # fmt: skip
@click.option("--pre-push", is_flag=True, help="Classify what is being pushed (pre-commit pre-push hook).")
@click.option("--commit-msg", is_flag=True,
              help="Check MESSAGE_FILE's Conventional Commits type against the staged change.")  # fmt: skip
@click.option("--fail-on-mismatch", is_flag=True, help="With --commit-msg: exit 1 when the type disagrees.")
@click.argument("message_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
def classify(
    base: str | None, staged: bool, range_: str | None, title: str | None, body: str | None,
    body_file: Path | None, fmt: str, model: str | None, adapter: str | None, config: Path | None,
    context_size: int | None, threads: int | None, gpu_layers: int | None, fail_on: str | None,
    scorer: str | None, min_confidence: float | None, exclude: tuple[str, ...], input_: Path | None, output: Path | None,
    repo: Path, github: bool, diff_from: str, label_: bool, label_prefix: str | None, create_labels: bool,
    uncertain_label: str | None, label_map: str | None, comment: bool, pre_push: bool, commit_msg: bool,
    fail_on_mismatch: bool, message_file: Path | None,
) -> None:  # fmt: skip
    """Classify the current branch's change (or --staged, --range, --input records).

    In CI and hooks: --github (a pull request in GitHub Actions), --pre-push, --commit-msg FILE.
    """
    from prtriage import triage  # keeps `prtriage --help` fast

    flags = {
        "base": base, "model": model, "adapter": adapter, "context-size": context_size,
        "threads": threads, "gpu-layers": gpu_layers, "fail-on": fail_on, "exclude": exclude,
        "min-confidence": min_confidence, "uncertain-label": uncertain_label, "scorer": scorer,
        "labels": label_map,
    }  # fmt: skip
    cwd = repo.resolve()
    settings = _settings(flags, config, cwd)
    stderr = _stderr()
    if output is not None and input_ is None:
        raise errors.UsageError("--output goes with --input")
    _check_hook_flags(github, diff_from, label_, label_prefix, create_labels, pre_push, commit_msg,
                      fail_on_mismatch, message_file, base or staged or range_, uncertain_label,
                      input_)  # fmt: skip
    if label_map is not None and not label_:
        raise errors.UsageError("--label-map goes with --label")
    if comment and not github:
        raise errors.UsageError("--comment goes with --github")
    if input_ is not None:
        _check_batch_flags(fmt, title, body, body_file)
        _classify_batch(input_, output, settings, stderr)
        return
    if github:
        labels = _label_options(label_, label_prefix, create_labels)
        _classify_github(
            cwd, settings, fmt, title, _read_body(body, body_file), diff_from, labels, stderr, comment
        )
        return
    if commit_msg:
        assert message_file is not None
        _check_commit_msg(cwd, settings, message_file, fail_on_mismatch, stderr)
        return
    if pre_push:
        from prtriage import hooks

        found = hooks.pre_push_change(
            cwd, os.environ, settings.exclude, settings.base, title, _read_body(body, body_file)
        )
        if found is None:
            stderr.print("prtriage: this push sends no file changes: nothing to classify")
            return
        change = found
    else:
        spec = _diff_spec(base, staged, range_, settings)
        change = triage.change_from_git(cwd, spec, settings.exclude, title, _read_body(body, body_file))
    result = _classify_and_print(change, settings, fmt, stderr)
    _exit_if_fail_on(result, settings, stderr)


def _exit_if_fail_on(result: Any, settings: Settings, stderr: Console) -> None:
    """Exit 1 when the category is in fail-on, unless the result is uncertain (--min-confidence)."""
    if result.category not in settings.fail_on:
        return
    if result.uncertain:
        stderr.print(f"prtriage: category {result.category!r} is in fail-on, but the result is uncertain")
        return
    stderr.print(f"prtriage: category {result.category!r} is in fail-on")
    raise SystemExit(errors.EXIT_FAIL_ON)


def _check_hook_flags(
    github: bool, diff_from: str, label_: bool, label_prefix: str | None, create_labels: bool,
    pre_push: bool, commit_msg: bool, fail_on_mismatch: bool, message_file: Path | None, git_spec: object,
    uncertain_label: str | None = None, input_: Path | None = None,
) -> None:  # fmt: skip
    modes = {"--github": github, "--pre-push": pre_push, "--commit-msg": commit_msg,
             "--base/--staged/--range": bool(git_spec), "--input": input_ is not None}  # fmt: skip
    given = [name for name, on in modes.items() if on]
    if len(given) > 1:
        raise errors.UsageError(f"{' and '.join(given)} are exclusive: pick one")
    github_only = {"--label": label_, "--label-prefix": label_prefix is not None,
                   "--create-labels": create_labels, "--diff-from github": diff_from != "git"}  # fmt: skip
    for flag, on in github_only.items():
        if on and not github:
            raise errors.UsageError(f"{flag} goes with --github")
    if uncertain_label is not None and not label_:
        raise errors.UsageError("--uncertain-label goes with --label")
    if fail_on_mismatch and not commit_msg:
        raise errors.UsageError("--fail-on-mismatch goes with --commit-msg")
    if commit_msg and message_file is None:
        raise errors.UsageError("--commit-msg needs the commit message file (pre-commit passes it)")
    if message_file is not None and not commit_msg:
        hint = "a file argument goes with --commit-msg"
        raise errors.UsageError(f"unexpected argument {message_file}", hint=hint)


def _check_batch_flags(fmt: str, title: str | None, body: str | None, body_file: Path | None) -> None:
    """--input reads title, body and diff from each record and writes JSONL: these flags cannot apply."""
    if fmt != "text":
        raise errors.UsageError("--format does not apply to --input: every result is a JSON line in --output")
    given = [
        f for f, v in (("--title", title), ("--body", body), ("--body-file", body_file)) if v is not None
    ]
    if given:
        raise errors.UsageError(f"{given[0]} does not apply to --input: each record has its own")


def _label_options(enabled: bool, prefix: str | None, create: bool) -> Any:
    from prtriage.github_run import LabelOptions
    from prtriage.labels import DEFAULT_PREFIX

    return LabelOptions(enabled, DEFAULT_PREFIX if prefix is None else prefix, create)


def _open_engine(settings: Settings, stderr: Console) -> Any:
    """The model, with a one-line warning when the settings make its results doubtful."""
    from prtriage import triage

    engine = triage.open_engine(settings)
    warning = triage.adapter_warning(settings, engine.files)
    if warning:
        stderr.print(f"prtriage: {warning}", markup=False)
    return engine


def _classify_and_print(change: Any, settings: Settings, fmt: str, stderr: Console) -> Any:
    from prtriage import triage

    with stderr.status("loading the model"):
        engine = _open_engine(settings, stderr)
    with stderr.status(f"classifying {len(change.files)} changed files"):
        result = triage.classify(change, engine, settings)
    if fmt == "json":
        click.echo(to_json(result))
    elif fmt == "markdown":
        click.echo(to_markdown(result), nl=False)
    else:
        print_text(result, Console(highlight=False))
    return result


def _classify_github(
    cwd: Path, settings: Settings, fmt: str, title: str | None, body: str | None, diff_from: str,
    labels: Any, stderr: Console, comment: bool = False,
) -> None:  # fmt: skip
    from prtriage import github, github_run

    with github_run.errors_as_annotations():
        pr = github.read_pull_request(os.environ)
        change = github_run.pull_request_change(pr, cwd, settings, diff_from, os.environ, title, body)
        # File names and model output are the pull request author's text: no workflow commands in it.
        with github.commands_stopped(sys.stdout) if fmt != "json" else contextlib.nullcontext():
            result = _classify_and_print(change, settings, fmt, stderr)
        github_run.publish(result, pr, settings, os.environ, sys.stdout)
        if labels.enabled:
            outcome = github_run.apply_label(result, pr, settings, labels, os.environ)
            stderr.print(f"prtriage: {outcome.describe()}", markup=False)
        if comment:
            said = github_run.apply_comment(result, pr, os.environ)
            stderr.print(f"prtriage: {said.describe()}", markup=False)
    _exit_if_fail_on(result, settings, stderr)


def _check_commit_msg(
    cwd: Path, settings: Settings, message_file: Path, strict: bool, stderr: Console
) -> None:
    from prtriage import hooks, triage

    message = hooks.read_commit_message(message_file)
    skip = hooks.skip_reason(message, settings.category_names)
    change = None if skip else hooks.staged_change(cwd, settings.exclude, message)
    if skip or change is None:
        stderr.print(f"prtriage: nothing to check ({skip or 'no staged changes'})", markup=False)
        return
    with stderr.status("classifying the staged change"):
        result = triage.classify(change, _open_engine(settings, stderr), settings)
    check = hooks.check_type(message, result)
    stderr.print(f"prtriage: {check.text}", markup=False)
    if result.uncertain:
        stderr.print(f"prtriage: {uncertain_note(result)}", markup=False)
    if not check.agrees and strict and not result.uncertain:
        raise SystemExit(errors.EXIT_FAIL_ON)
    _exit_if_fail_on(result, settings, stderr)


@cli.command()
@click.option("--from", "from_", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The `json` output of classify --github, e.g. from another run's artifact.")  # fmt: skip
@click.option("--label-prefix", help="Labels are PREFIX+category; only such labels are ever removed [prtriage:].")  # fmt: skip
@click.option("--create-labels", is_flag=True, help="Create a missing label (the token needs issues: write).")
@click.option("--uncertain-label", metavar="NAME",
              help="Put this label on a result marked uncertain (default: no label).")  # fmt: skip
@click.option("--label-map", metavar="CAT=LABEL,...",
              help="Labels for categories, e.g. fix=bug,feature=enhancement ('' for none).")  # fmt: skip
@click.option("--comment", is_flag=True, help="Also keep one pull-request comment with the result.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (for its categories and label map).")  # fmt: skip
def label(
    from_: Path,
    label_prefix: str | None,
    create_labels: bool,
    uncertain_label: str | None,
    label_map: str | None,
    comment: bool,
    config: Path | None,
) -> None:
    """Label a pull request from a classify --github result (the trusted job of the fork-safe recipe).

    Checks the result (a configured category, this repository, the pull request's current head
    commit and, under workflow_run, the triggering run's head) before writing anything.
    """
    from prtriage import github_run

    settings = _settings({"uncertain-label": uncertain_label, "labels": label_map}, config, Path.cwd())
    with github_run.errors_as_annotations():
        done = github_run.label_from_result(
            from_, settings, _label_options(True, label_prefix, create_labels), os.environ, comment
        )
    for line in done:
        _stderr().print(f"prtriage: {line}", markup=False)


@cli.command()
@click.argument("range_", metavar="A..B")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.option("--title", help="A first-level heading for the notes (e.g. the release's name).")
@_model_option
@_adapter_option
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (categories, and the `notes` table of headings).")  # fmt: skip
@_context_size_option
@_threads_option
@_gpu_layers_option
@click.option("--min-confidence", type=float, metavar="P",
              help="Below this probability a change goes under a last, unsorted heading.")  # fmt: skip
@_exclude_option
@click.option("-C", "--repo", type=click.Path(path_type=Path, file_okay=False), default=".",
              help="Run as if started in this folder.")  # fmt: skip
def notes(
    range_: str, fmt: str, title: str | None, model: str | None, adapter: str | None, config: Path | None,
    context_size: int | None, threads: int | None, gpu_layers: int | None, min_confidence: float | None,
    exclude: tuple[str, ...], repo: Path,
) -> None:  # fmt: skip
    """Release notes for A..B: every merged pull request (or commit) classified, grouped by category.

    One entry per first-parent commit: merge commits and squash commits keep their (#123). A
    Conventional Commits type is shown only where it disagrees with the model.
    """
    from prtriage import notes as release_notes

    flags = {
        "model": model, "adapter": adapter, "context-size": context_size, "threads": threads,
        "gpu-layers": gpu_layers, "min-confidence": min_confidence, "exclude": exclude,
    }  # fmt: skip
    cwd = repo.resolve()
    settings = _settings(flags, config, cwd)
    text = release_notes.release_notes(git.repo_root(cwd), range_, settings, fmt, title, _stderr())
    click.echo(text, nl=False)


def _classify_batch(input_: Path, output: Path | None, settings: Settings, stderr: Console) -> None:
    from prtriage import batch

    if output is None:
        raise errors.UsageError("--input needs --output FILE.jsonl")
    if not input_.is_file():
        raise errors.UsageError(f"input file not found: {input_}")
    engine = _open_engine(settings, stderr)
    summary = batch.classify_file(input_, output, engine, settings, stderr)
    for bad in summary.bad:
        stderr.print(f"skipped {bad}", markup=False)
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    stderr.print(f"classified {summary.classified} records, skipped {len(summary.bad)}; {counts}")
    if summary.classified == 0 and summary.bad:
        raise errors.UsageError(f"no record in {input_} could be classified")
    if summary.uncertain:
        stderr.print(f"{summary.uncertain} results were uncertain (below min-confidence)", markup=False)
    if any(c in settings.fail_on for c in summary.failing):
        raise SystemExit(errors.EXIT_FAIL_ON)


@cli.group()
def data() -> None:
    """Build labeled change records (JSONL) from history, and split them for evaluation."""


def _write_jsonl(records: Any, output: Path | None) -> None:
    import json

    from prtriage.records import atomic_output

    if output is None:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    with atomic_output(output) as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _harvest_report(summary: Any, stderr: Console) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    stderr.print(f"wrote {summary.written} records ({counts or 'none'})", markup=False)
    for reason, n in summary.skipped.most_common():
        stderr.print(f"skipped {n}: {reason}", markup=False)


_output_option = click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="JSONL file (default: stdout)."
)
_map_option = click.option(
    "--map", "mapping", multiple=True, metavar="TYPE=CATEGORY",
    help="Override the Conventional Commits type map (repeatable; CATEGORY 'skip' drops the type).",
)  # fmt: skip


@data.command("from-git")
@click.argument("repo", type=click.Path(path_type=Path, file_okay=False), default=".")
@_output_option
@_map_option
@click.option("--since", help="Only commits after this date (anything git log --since takes).")
@click.option(
    "--max-per-category",
    type=click.IntRange(min=1),
    help="Keep at most N records per category (seeded sample).",
)
@click.option("--max-diff-bytes", type=click.IntRange(min=1000), default=48_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def data_from_git(
    repo: Path, output: Path | None, mapping: tuple[str, ...], since: str | None,
    max_per_category: int | None, max_diff_bytes: int, seed: int,
) -> None:  # fmt: skip
    """Records from first-parent commits whose subjects follow Conventional Commits."""
    from prtriage.conventional import DEFAULT_TYPE_MAP
    from prtriage.harvest import HarvestSummary, from_git, parse_mapping

    settings = resolve_settings({}, cwd=repo.resolve())
    type_map = parse_mapping(mapping, DEFAULT_TYPE_MAP, settings.category_names)
    summary = HarvestSummary()
    _write_jsonl(
        from_git(repo.resolve(), type_map, since, max_per_category, max_diff_bytes, seed, summary), output
    )
    _harvest_report(summary, _stderr())


@data.command("from-github")
@click.argument("export", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--diffs", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder of N.diff files written by `gh pr diff N`.")  # fmt: skip
@click.option(
    "--label", "labels", multiple=True, metavar="LABEL=CATEGORY", help="Override the label map (repeatable)."
)
@_map_option
@click.option("--repo", "repo_name", default="", help="Repository name for the records' ids.")
@click.option("--max-diff-bytes", type=click.IntRange(min=1000), default=48_000, show_default=True)
@_output_option
def data_from_github(
    export: Path, diffs: Path, labels: tuple[str, ...], mapping: tuple[str, ...], repo_name: str,
    max_diff_bytes: int, output: Path | None,
) -> None:  # fmt: skip
    """Records from a `gh pr list --json` export and the PRs' diffs (see README)."""
    from prtriage.conventional import DEFAULT_TYPE_MAP
    from prtriage.harvest import DEFAULT_LABEL_MAP, HarvestSummary, from_github, parse_mapping
    from prtriage.progress import ProgressLine

    names = resolve_settings({}).category_names
    label_map = parse_mapping(labels, DEFAULT_LABEL_MAP, names)
    type_map = parse_mapping(mapping, DEFAULT_TYPE_MAP, names)
    summary = HarvestSummary()
    stderr = _stderr()
    with ProgressLine(stderr, "reading pull requests", None, "pull requests") as progress:
        records = from_github(export, diffs, label_map, type_map, max_diff_bytes, summary, repo_name,
                              lambda done, total: progress.update(done, total))  # fmt: skip
        _write_jsonl(records, output)
    _harvest_report(summary, stderr)


@data.command("split")
@click.argument("input_", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--by", "mode", type=click.Choice(["repo", "time", "random"]), default="repo", show_default=True,
              help="repo: whole repositories on each side; time: the newest changes are the test set.")  # fmt: skip
@click.option(
    "--test-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
)
@click.option("--test-repos", help="Comma-separated repositories for the test side (with --by repo).")
@click.option("--train-output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--test-output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
def data_split(
    input_: Path, mode: str, test_fraction: float, test_repos: str | None, train_output: Path,
    test_output: Path, seed: int,
) -> None:  # fmt: skip
    """Split records into train and test files, keeping each repository (or period) on one side."""
    from prtriage.split import choose_test, load_records, write_records

    bad: list[Any] = []
    records = load_records(input_, bad)
    repos = [r.strip() for r in (test_repos or "").split(",") if r.strip()]
    if repos and mode != "repo":
        raise errors.UsageError("--test-repos goes with --by repo")
    sides = choose_test(records, mode, test_fraction, repos, seed)
    write_records(train_output, [r for r, t in zip(records, sides) if not t])
    write_records(test_output, [r for r, t in zip(records, sides) if t])
    stderr = _stderr()
    for b in bad:
        stderr.print(f"skipped {b}", markup=False)
    n_test = sum(sides)
    stderr.print(f"train {len(records) - n_test}, test {n_test}, skipped {len(bad)}", markup=False)


@data.command("teach")
@click.argument("input_", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@_output_option
@click.option("--title-dropout", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of records shown without title and description (the reasoning stays).")  # fmt: skip
@click.option("--planted", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of records with an instruction planted from the train phrasings (label unchanged).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
def data_teach(input_: Path, output: Path | None, title_dropout: float, planted: float, seed: int) -> None:
    """Training records with a grounded `reasoning`, title dropout and planted instructions."""
    from prtriage.attack import load_phrasings
    from prtriage.evaluate import load_eval_records
    from prtriage.teacher import AugmentOptions, augment

    settings = resolve_settings({})
    bad: list[Any] = []
    records = load_eval_records(input_, settings.category_names, bad, None, seed)
    if not records:
        raise errors.UsageError(f"no usable labeled records in {input_}")
    options = AugmentOptions(title_dropout, planted, seed)
    _write_jsonl(augment(records, settings.category_names, load_phrasings("train"), options), output)
    stderr = _stderr()
    for b in bad[:20]:
        stderr.print(f"skipped {b}", markup=False)
    stderr.print(f"wrote {len(records)} records, skipped {len(bad)}", markup=False)


@cli.command("eval")
@click.option("--input", "input_", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Labeled records (id, title, body, diff, category; .gz ok).")  # fmt: skip
@click.option("--model", help="'rules' for the path-and-keyword baseline, else as for classify.")
@click.option("--adapter", help="A LoRA adapter .gguf on top of the model ('none' for no adapter).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--context-size", type=int)
@click.option("--threads", type=int)
@click.option("--scorer", type=click.Choice(["llm", "fused"]), help="As for classify [llm].")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Evaluate a seeded sample of N records, balanced by category."
)
@click.option("--repos", help="Only records of these repositories (comma-separated).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the JSON report here.",
)
@click.option(
    "--predictions",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one JSON line per record here.",
)
@click.option(
    "--plot", type=click.Path(path_type=Path, dir_okay=False),
    help="PNG of the confusion matrix and the reliability diagram (needs matplotlib).",
)  # fmt: skip
@click.option("--attack", is_flag=True,
              help="Also classify each record with an instruction planted, once per placement: flip and hit rates.")  # fmt: skip
@click.option("--placements", metavar="LIST",
              help="With --attack: description,title,diff-comment,markdown-file (default: all).")  # fmt: skip
@click.option("--phrasings", type=click.Choice(["eval", "train"]), default="eval", show_default=True,
              help="With --attack: which half of the planted-instruction set (train is for augmentation).")  # fmt: skip
@click.option("--show-reasoning", type=click.IntRange(min=0), default=0, metavar="N",
              help="Print N predictions (chosen by --seed) with their reasoning and its flags.")  # fmt: skip
def eval_(
    input_: Path, model: str | None, adapter: str | None, config: Path | None, context_size: int | None,
    threads: int | None, scorer: str | None, limit: int | None, repos: str | None, seed: int, report_path: Path | None,
    predictions: Path | None, plot: Path | None, attack: bool, placements: str | None, phrasings: str,
    show_reasoning: int,
) -> None:  # fmt: skip
    """Score a model on labeled records: F1, confusion, reasoning checks, calibration.

    Accuracy, macro-F1 and per-category scores, the confusion matrix, the reasoning pass rate,
    expected calibration error; with --attack, how often a planted instruction changes the answer.
    """
    import json
    from dataclasses import asdict

    from prtriage import attack as planting
    from prtriage import evaluate
    from prtriage.progress import ProgressLine
    from prtriage.records import atomic_output

    if not attack and (placements is not None or phrasings != "eval"):
        raise errors.UsageError("--placements and --phrasings go with --attack")
    chosen = planting.parse_placements(placements) if attack else ()
    use_rules = model == "rules"
    flags = {
        "model": None if use_rules else model,
        "adapter": adapter,
        "context-size": context_size,
        "threads": threads,
        "scorer": scorer,
    }
    settings = _settings(flags, config, Path.cwd())
    names = settings.category_names
    bad: list[Any] = []
    repo_list = [r.strip() for r in (repos or "").split(",") if r.strip()]
    records = evaluate.load_eval_records(input_, names, bad, limit, seed, repo_list)
    stderr = _stderr()
    for b in bad[:20]:
        stderr.print(f"skipped {b}", markup=False)
    if len(bad) > 20:
        stderr.print(f"... and {len(bad) - 20} more bad lines", markup=False)
    if not records:
        raise errors.UsageError(f"no usable labeled records in {input_}")
    name, predict = _predictor(use_rules, settings, stderr)
    phrasing_set = planting.load_phrasings(phrasings) if attack else []
    cases = planting.planted_cases(records, chosen, names, phrasing_set, seed)
    with ProgressLine(stderr, f"evaluating {name}", len(records) + len(cases), "records") as progress:
        report, preds = evaluate.run_eval(records, predict(records), names, lambda p: progress.advance())
        attacked = []
        for p in evaluate.predict_planted(cases, predict):
            attacked.append(p)
            progress.advance()
    report = {"model": name, "input": str(input_), "skipped_lines": len(bad), **report}
    if attack:
        report["attack"] = evaluate.attack_report(preds, attacked)
        report["attack_phrasings"] = phrasings
    out = Console(highlight=False)
    evaluate.print_report(report, out)
    if show_reasoning:
        evaluate.print_reasonings(evaluate.sample_reasonings(preds, show_reasoning, seed), out)
    if report_path is not None:
        with atomic_output(report_path) as written:
            written.write(json.dumps(report, indent=2) + "\n")
    if predictions is not None:
        with atomic_output(predictions) as lines:
            for p in [*preds, *attacked]:
                lines.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    if plot is not None and not evaluate.plot_confusion(report, plot):
        stderr.print("no plot: matplotlib is not installed", markup=False)


def _predictor(use_rules: bool, settings: Settings, stderr: Console) -> tuple[str, Any]:
    """The evaluated model's name and a function from records to its predictions."""
    from prtriage import evaluate

    if use_rules:
        return "rules", lambda records: evaluate.predict_rules(records, settings)
    engine = _open_engine(settings, stderr)
    name = engine.name + (" + lexical (fused)" if settings.scorer == "fused" else "")
    return name, lambda records: evaluate.predict_model(records, engine, settings)


def _report_error(message: str, hint: str | None) -> None:
    stderr = _stderr()
    stderr.print(Text("prtriage: error: ", style="bold red") + Text(message))
    if hint:
        stderr.print(Text(f"hint: {hint}"))


def main(argv: list[str] | None = None) -> None:
    """Entry point: every exception becomes a one-line cause, a hint and an exit code."""
    try:
        cli.main(args=argv, prog_name="prtriage", standalone_mode=False)
    except errors.PrtriageError as e:
        _report_error(e.message, e.hint)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        _stderr().print("prtriage: interrupted")
        sys.exit(errors.EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(errors.EXIT_USAGE)
    except KeyboardInterrupt:
        _stderr().print("prtriage: interrupted")
        sys.exit(errors.EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing left to say
        sys.exit(errors.EXIT_OK)
    except Exception as e:  # a bug: still no traceback unless asked for
        if os.environ.get("PRTRIAGE_DEBUG"):
            traceback.print_exc()
        _report_error(
            f"internal error: {type(e).__name__}: {e}",
            "set PRTRIAGE_DEBUG=1 for the traceback, and report it",
        )
        sys.exit(errors.EXIT_CANNOT_TRIAGE)
    sys.exit(errors.EXIT_OK)
