"""The command line: click declarations only. Each command builds its options object and calls
prtriage/commands/; `main` turns returned codes and exceptions into the exit code."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from prtriage import __version__
from prtriage.commands.common import stderr
from prtriage.core import errors
from prtriage.core.escape import one_line
from prtriage.core.settings import DEFAULT_CONTEXT_SIZE, unknown_variables

# The output formats of classify (pipeline/render.py's FORMATS, which a test keeps equal): named
# here so that declaring the flags imports no renderer. Every command's module loads only when the
# command runs: `prtriage --version` and the commit-msg hook start without them.
FORMATS = ("text", "json", "markdown")


class _PipeClosed(Exception):
    """stdout's reader went away. Not an OSError, so click's own broken-pipe handling (exit 1,
    which is fail-on's code here) never sees it and `main` decides."""


class _LazyGroup(click.Group):
    """Subcommands whose modules load only when used: `train` needs torch, `classify` does not."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as e:
            raise _PipeClosed() from e

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


_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _options(*options: _Decorator) -> _Decorator:
    """Several options as one decorator, listed in --help in the order given."""

    def declare(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):  # click lists the last-applied option first
            command = option(command)
        return command

    return declare


def _model_options(
    config_help: str | None, model: _Decorator = _model_option, gpu_layers: bool = True
) -> _Decorator:
    """The flags of ModelFlags (commands/common.py) for classify, notes and eval, in one order.

    `config_help` says what the command reads from its config file; eval has its own --model
    (the rules baseline) and no --gpu-layers.
    """
    config = click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help=config_help)
    return _options(model, _adapter_option, config, _context_size_option, _threads_option,
                    *([_gpu_layers_option] if gpu_layers else []))  # fmt: skip


_repo_option = click.option(
    "-C", "--repo", type=click.Path(path_type=Path, file_okay=False), default=".",
    help="Run as if started in this folder.",
)  # fmt: skip


def _label_options(condition: str) -> _Decorator:
    """The labelling flags of `classify --github --label` and of `label`, in that order.

    `condition` starts the help of the flags that need another one ('With --label: '); empty where
    they always apply.
    """

    def when(text: str) -> str:
        return condition + text if condition else text[0].upper() + text[1:]

    return _options(
        click.option("--label-prefix", help="Labels are PREFIX+category; only labels prtriage put on itself are removed [prtriage:]."),
        click.option("--create-labels", is_flag=True, help="Create a missing label (the token needs issues: write)."),
        click.option("--uncertain-label", metavar="NAME",
                     help=when("put this label on uncertain results (default: no label).")),
        click.option("--label-map", metavar="CAT=LABEL,...",
                     help=when("labels for categories, e.g. fix=bug,feature=enhancement ('' for none).")),
        click.option("--planted-label", metavar="NAME",
                     help=when("add this label when the change holds text addressed to the classifier.")),
    )  # fmt: skip


@cli.command()
@click.option(
    "--base", help="Diff against the merge base with this ref (default: origin/HEAD, main or master)."
)
@click.option("--staged", is_flag=True, help="Classify the staged changes instead of the branch.")
@click.option("--range", "range_", metavar="A..B",
              help="Classify the commits of B not in A, as git log A..B lists them: B against its merge "
              "base with A (A...B means the same).")  # fmt: skip
@click.option("--title", help="Pull request title (default: from the branch's commits).")
@click.option("--body", help="Pull request description (default: from the branch's commits).")
@click.option("--body-file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
              help="Read the description from a file ('-' for stdin).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@_model_options("Config file (default: nearest .prtriage.toml or pyproject.toml [tool.prtriage]).")
@click.option("--fail-on", help="Exit 1 when the category is one of these (comma-separated).")
@click.option("--scorer", type=click.Choice(["llm", "fused"]),
              help="fused: the model's category scores mixed with a lexical model's; llm: the model's alone [fused].")  # fmt: skip
@click.option("--min-confidence", type=float, metavar="P",
              help="Below this probability (0 to 1) the result is uncertain: said so, no fail-on, no label.")  # fmt: skip
@_exclude_option
@click.option("--input", "input_", type=click.Path(path_type=Path, dir_okay=False),
              help="Classify JSONL change records (id, title, body, diff; .gz ok) instead of git.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where --input results go (JSONL).")  # fmt: skip
@click.option("--shard", metavar="K/N",
              help="With --input: classify only part K of N, split by a hash of each record's id.")  # fmt: skip
@click.option("--resume", is_flag=True,
              help="With --input: continue from OUTPUT.partial (or retry what OUTPUT lacks).")  # fmt: skip
@click.option(
    "--ray", is_flag=True, help="With --input: run on Ray (pip install 'prtriage[ray]'; docs/scale.md)."
)
@click.option("--ray-address", metavar="ADDR",
              help="With --ray: an existing cluster (default: RAY_ADDRESS, else a local Ray).")  # fmt: skip
@click.option("--ray-actors", type=click.IntRange(min=1),
              help="With --ray: actors, each loading the model once with --threads CPUs [1] (default: all CPUs).")  # fmt: skip
@click.option("--reasoning-tokens", type=int,
              help="With reasoning = \"model\" in the config: at most this many tokens of the adapter's own "
              "reasoning (0: none). The default reasoning is built from the scores, not generated [48].")  # fmt: skip
@_repo_option
@click.option("--github", is_flag=True,
              help="Classify this GitHub Actions run's pull request; write outputs, summary, annotations.")  # fmt: skip
@click.option("--diff-from", type=click.Choice(["git", "github"]), default="git", show_default=True,
              help="With --github: diff the local clone, or fetch the diff through the API (no checkout).")  # fmt: skip
@click.option("--label", "label_", is_flag=True, help="With --github: label the pull request with its category.")  # fmt: skip
@_label_options("With --label: ")
@click.option("--planted", type=click.Choice(["fail", "report"]),
              help="Text addressed to the classifier: fail closed (exit 4) with fail-on and in hooks, or only report it [fail].")  # fmt: skip
@click.option("--comment", is_flag=True,
              help="With --github: keep one pull-request comment with the result (edited each run).")  # fmt: skip
@click.option("--pre-push", is_flag=True, help="Classify what is being pushed (pre-commit pre-push hook).")
@click.option("--commit-msg", is_flag=True,
              help="Check MESSAGE_FILE's Conventional Commits type against the staged change.")  # fmt: skip
@click.option("--fail-on-mismatch", is_flag=True, help="With --commit-msg: exit 1 when the type disagrees.")
@click.argument("message_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
def classify(**flags: Any) -> int:
    """Classify the current branch's change (or --staged, --range, --input records).

    In CI and hooks: --github (a pull request in GitHub Actions), --pre-push, --commit-msg FILE.
    """
    from prtriage.commands import modes

    return modes.run(modes.ClassifyFlags(**flags))


@cli.command()
@click.option("--from", "from_", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The `json` output of classify --github, e.g. from another run's artifact.")  # fmt: skip
@_label_options("")
@click.option("--comment", is_flag=True, help="Also keep one pull-request comment with the result.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (for its categories and label map).")  # fmt: skip
def label(**flags: Any) -> int:
    """Label a pull request from a classify --github result (the trusted job of the fork-safe recipe).

    Checks the result (a configured category, this repository, the pull request's current head
    commit and, under workflow_run, the triggering run's head) before writing anything.
    """
    from prtriage.commands import label as label_command

    return label_command.run(label_command.LabelCommandOptions(**flags))


@cli.command()
@click.argument("range_", metavar="A..B")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.option("--title", help="A first-level heading for the notes (e.g. the release's name).")
@_model_options("Config file (categories, and the `notes` table of headings).")
@click.option("--min-confidence", type=float, metavar="P",
              help="Below this probability a change goes under a last, unsorted heading.")  # fmt: skip
@_exclude_option
@_repo_option
def notes(**flags: Any) -> int:
    """Release notes for A..B: every merged pull request (or commit) classified, grouped by category.

    A..B is what git log A..B lists: the changes of B not in A (A...B means the same; A alone is
    A..HEAD).

    One entry per first-parent commit: merge commits and squash commits keep their (#123). A
    Conventional Commits type is shown only where it disagrees with the model.
    """
    from prtriage.commands import notes as notes_command

    return notes_command.run(notes_command.NotesOptions(**flags))


@cli.command("config")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: nearest .prtriage.toml or pyproject.toml [tool.prtriage]).")  # fmt: skip
@_repo_option
@click.option("--github", is_flag=True,
              help="As classify --github resolves them: from the pull request's base commit.")  # fmt: skip
@click.option("--diff-from", type=click.Choice(["git", "github"]), default="git", show_default=True,
              help="With --github: read the base commit from the clone, or through the API.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config(**flags: Any) -> int:
    """Print the effective settings and where each came from: flag, environment, which config
    file (at which commit, under --github), or the default."""
    from prtriage.commands import config as config_command

    return config_command.run(config_command.ConfigOptions(**flags))


@cli.group()
def cache() -> None:
    """prtriage's cache folder (PRTRIAGE_CACHE_DIR, default ~/.cache/prtriage): the default model's
    faster Q8_0 copy, one per model content, and remembered file hashes."""


@cache.command("info")
def cache_info() -> int:
    """List the cache folder's files and sizes, and where the default model's weights are."""
    from prtriage.commands import cache as cache_command

    return cache_command.info()


@cache.command("clean")
@click.option("--all", "everything", is_flag=True,
              help="Also remove what is not prtriage's to remake: the llama.cpp wheelhouse (wheels/) "
              "and crash logs (logs/).")  # fmt: skip
def cache_clean(everything: bool) -> int:
    """Remove the model copies and remembered hashes (remade when needed; installed weights and the
    llama.cpp wheelhouse that scripts/llama_wheel.sh keeps here are left alone)."""
    from prtriage.commands import cache as cache_command

    return cache_command.clean(everything)


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--input", "input_", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The records the results are of: the --input of the shard runs.")  # fmt: skip
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The merged JSONL, in input order.")  # fmt: skip
def merge(**flags: Any) -> int:
    """Join the outputs of `classify --input --shard K/N` runs into one file, in input order.

    Refuses a record in two files (overlapping shards), a result that is not a record of the
    input, and a record in none of the files (a missing or unfinished shard): each record once.
    """
    from prtriage.commands import merge as merge_command

    return merge_command.run(merge_command.MergeOptions(**flags))


@cli.group()
def data() -> None:
    """Build labeled change records (JSONL) from history, and split them for evaluation."""


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
def data_from_git(**flags: Any) -> int:
    """Records from first-parent commits whose subjects follow Conventional Commits."""
    from prtriage.commands import data as data_command

    return data_command.from_git(data_command.FromGitOptions(**flags))


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
def data_from_github(**flags: Any) -> int:
    """Records from a `gh pr list --json` export and the PRs' diffs (see docs/evaluation.md)."""
    from prtriage.commands import data as data_command

    return data_command.from_github(data_command.FromGitHubOptions(**flags))


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
def data_split(**flags: Any) -> int:
    """Split records into train and test files, keeping each repository (or period) on one side."""
    from prtriage.commands import data as data_command

    return data_command.split(data_command.SplitOptions(**flags))


@data.command("teach")
@click.argument("input_", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@_output_option
@click.option("--title-dropout", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of records shown without title and description (the reasoning stays).")  # fmt: skip
@click.option("--planted", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of records with an instruction planted from the train phrasings (label unchanged).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
def data_teach(**flags: Any) -> int:
    """Training records with a grounded `reasoning`, title dropout and planted instructions."""
    from prtriage.commands import data as data_command

    return data_command.teach(data_command.TeachOptions(**flags))


@cli.command("eval")
@click.option("--input", "input_", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Labeled records (id, title, body, diff, category; .gz ok).")  # fmt: skip
@_model_options(
    None,
    click.option("--model", help="'rules' for the path-and-keyword baseline, else as for classify."),
    gpu_layers=False,
)
@click.option("--scorer", type=click.Choice(["llm", "fused"]), help="As for classify [fused].")
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
def eval_(**flags: Any) -> int:
    """Score a model on labeled records: F1, confusion, reasoning checks, calibration.

    Accuracy, macro-F1 and per-category scores, the confusion matrix, the reasoning pass rate,
    expected calibration error; with --attack, how often a planted instruction changes the answer.
    """
    from prtriage.commands import eval as eval_command

    return eval_command.run(eval_command.EvalOptions(**flags))


def _report_error(message: str, hint: str | None) -> None:
    from rich.text import Text

    err = stderr()
    # One line each, whatever the message quotes: under Actions a line of its own could be a command.
    err.print(Text("prtriage: error: ", style="bold red") + Text(one_line(message)))
    if hint:
        err.print(Text(f"hint: {one_line(hint)}"))


def _report_internal_error(error: Exception, argv: list[str]) -> None:
    from prtriage.commands import internal_error

    text = internal_error.report_text(error, argv)
    if os.environ.get("PRTRIAGE_DEBUG"):
        import traceback

        traceback.print_exception(error)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        internal_error.print_group(text, sys.stdout)
    log = internal_error.write_log(text)
    hint = (
        f"the traceback is in {log}: please report it"
        if log
        else "set PRTRIAGE_DEBUG=1 for the traceback, and report it"
    )
    _report_error(f"internal error: {type(error).__name__}: {error}", hint)


def _pipe_closed() -> None:
    """The reader of stdout went away (`prtriage classify | head -1`): exit quietly, with the
    status a shell gives a program its closed pipe ended (128 + SIGPIPE)."""
    # What is still buffered can go nowhere: stdout points at /dev/null so the exit stays quiet.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(errors.EXIT_PIPE_CLOSED)


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place exit codes are made.

    A command returns its code (fail-on: 1); every exception becomes a one-line cause, a hint and
    its code.
    """
    for warning in unknown_variables(os.environ):
        stderr().print(f"prtriage: {warning}", markup=False)
    try:
        code = cli.main(args=argv, prog_name="prtriage", standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here at the latest, not at interpreter exit
    except (_PipeClosed, BrokenPipeError):
        _pipe_closed()
    except errors.PrtriageError as e:
        _report_error(e.message, e.hint)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        stderr().print("prtriage: interrupted")
        sys.exit(errors.EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(errors.EXIT_USAGE)
    except KeyboardInterrupt:
        stderr().print("prtriage: interrupted")
        sys.exit(errors.EXIT_INTERRUPTED)
    except Exception as e:  # a bug: one line for the user, the traceback in a log file
        _report_internal_error(e, sys.argv[1:] if argv is None else argv)
        sys.exit(errors.EXIT_CANNOT_TRIAGE)
    sys.exit(code if isinstance(code, int) else errors.EXIT_OK)  # `train` commands return None
