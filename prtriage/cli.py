"""The command line. The only module that knows click and exit codes."""

from __future__ import annotations

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
from prtriage.config import Settings, resolve_settings
from prtriage.report import FORMATS, print_text, to_json, to_markdown


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
@click.option("--model", help="A .gguf path, hf://owner/repo/file.gguf[@rev], or 'default'.")
@click.option("--adapter", help="A LoRA adapter .gguf on top of the model ('none' for no adapter).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: nearest .prtriage.toml or pyproject.toml [tool.prtriage]).")  # fmt: skip
@click.option("--context-size", type=int, help="Model context in tokens (default 2048).")
@click.option("--threads", type=int, help="CPU threads (default: available cores, at most 4).")
@click.option(
    "--gpu-layers",
    type=int,
    help="Layers to offload to the GPU (-1 all; default: all when the build supports it).",
)
@click.option("--fail-on", help="Exit 1 when the category is one of these (comma-separated).")
@click.option("--exclude", multiple=True, help="Glob of files whose diff the model never sees (repeatable).")
@click.option("--input", "input_", type=click.Path(path_type=Path, dir_okay=False),
              help="Classify JSONL change records (id, title, body, diff; .gz ok) instead of git.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where --input results go (JSONL).")  # fmt: skip
@click.option("-C", "--repo", type=click.Path(path_type=Path, file_okay=False), default=".",
              help="Run as if started in this folder.")  # fmt: skip
def classify(
    base: str | None, staged: bool, range_: str | None, title: str | None, body: str | None,
    body_file: Path | None, fmt: str, model: str | None, adapter: str | None, config: Path | None,
    context_size: int | None, threads: int | None, gpu_layers: int | None, fail_on: str | None,
    exclude: tuple[str, ...], input_: Path | None, output: Path | None, repo: Path,
) -> None:  # fmt: skip
    """Classify the current branch's change (or --staged, --range, --input records)."""
    from prtriage import triage  # keeps `prtriage --help` fast

    flags = {
        "base": base, "model": model, "adapter": adapter, "context-size": context_size,
        "threads": threads, "gpu-layers": gpu_layers, "fail-on": fail_on, "exclude": exclude,
    }  # fmt: skip
    cwd = repo.resolve()
    settings = _settings(flags, config, cwd)
    stderr = _stderr()
    if input_ is not None:
        _classify_batch(input_, output, settings, stderr)
        return
    if output is not None:
        raise errors.UsageError("--output goes with --input")
    spec = _diff_spec(base, staged, range_, settings)
    change = triage.change_from_git(cwd, spec, settings.exclude, title, _read_body(body, body_file))
    with stderr.status("loading the model"):
        engine = triage.open_engine(settings)
    with stderr.status(f"classifying {len(change.files)} changed files"):
        result = triage.classify(change, engine, settings)
    if fmt == "json":
        click.echo(to_json(result))
    elif fmt == "markdown":
        click.echo(to_markdown(result), nl=False)
    else:
        print_text(result, Console(highlight=False))
    if result.category in settings.fail_on:
        stderr.print(f"prtriage: category {result.category!r} is in fail-on")
        raise SystemExit(errors.EXIT_FAIL_ON)


def _classify_batch(input_: Path, output: Path | None, settings: Settings, stderr: Console) -> None:
    from prtriage import batch, triage

    if output is None:
        raise errors.UsageError("--input needs --output FILE.jsonl")
    if not input_.is_file():
        raise errors.UsageError(f"input file not found: {input_}")
    engine = triage.open_engine(settings)
    summary = batch.classify_file(input_, output, engine, settings, stderr)
    for bad in summary.bad:
        stderr.print(f"skipped {bad}", markup=False)
    counts = ", ".join(f"{k} {v}" for k, v in summary.categories.most_common())
    stderr.print(f"classified {summary.classified} records, skipped {len(summary.bad)}; {counts}")
    if summary.classified == 0 and summary.bad:
        raise errors.UsageError(f"no record in {input_} could be classified")
    if any(c in settings.fail_on for c in summary.categories):
        raise SystemExit(errors.EXIT_FAIL_ON)


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
