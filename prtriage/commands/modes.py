"""`classify`'s modes: which one the flags ask for, every conflict refused here, and the dispatch.

Plain (git), --input (batch), --github, --pre-push and --commit-msg share one set of flags; a
flag that a mode would ignore is a usage error, never silently dropped (issue 12's second bug).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from prtriage.commands.common import ModelFlags
from prtriage.core import errors
from prtriage.core.settings import Settings, resolve_settings
from prtriage.pipeline import git

if TYPE_CHECKING:
    from prtriage.commands import batch

# Each mode's module loads when its mode runs: the commit-msg hook must start as fast as
# `prtriage --version` (benchmarks/commit_msg_hook.py), without the batch and GitHub code.

Mode = Literal["git", "input", "github", "pre-push", "commit-msg"]


@dataclass(frozen=True)
class ClassifyFlags(ModelFlags):
    """Every `classify` flag as given on the command line (None: not given)."""

    base: str | None = None
    staged: bool = False
    range_: str | None = None
    title: str | None = None
    body: str | None = None
    body_file: Path | None = None
    fmt: str = "text"
    gpu_layers: int | None = None
    fail_on: str | None = None
    scorer: str | None = None
    min_confidence: float | None = None
    exclude: tuple[str, ...] = ()
    input_: Path | None = None
    output: Path | None = None
    repo: Path = Path(".")
    github: bool = False
    diff_from: str = "git"
    label_: bool = False
    label_prefix: str | None = None
    create_labels: bool = False
    uncertain_label: str | None = None
    label_map: str | None = None
    planted_label: str | None = None
    planted: str | None = None
    comment: bool = False
    pre_push: bool = False
    commit_msg: bool = False
    fail_on_mismatch: bool = False
    message_file: Path | None = None
    reasoning_tokens: int | None = None
    shard: str | None = None
    resume: bool = False
    ray: bool = False
    ray_address: str | None = None
    ray_actors: int | None = None

    def settings_flags(self) -> dict[str, Any]:
        """The flags that override the config file, under their config-key names."""
        return {
            **self.model_settings(), "base": self.base, "gpu-layers": self.gpu_layers,
            "fail-on": self.fail_on, "exclude": self.exclude, "min-confidence": self.min_confidence,
            "uncertain-label": self.uncertain_label, "scorer": self.scorer, "labels": self.label_map,
            "planted": self.planted, "planted-label": self.planted_label,
            "reasoning-tokens": self.reasoning_tokens,
        }  # fmt: skip


def check(flags: ClassifyFlags) -> Mode:
    """The mode the flags ask for; a UsageError for any flag the mode cannot honour."""
    f = flags
    if f.output is not None and f.input_ is None:
        raise errors.UsageError("--output goes with --input")
    modes = {"--github": f.github, "--pre-push": f.pre_push, "--commit-msg": f.commit_msg,
             "--base/--staged/--range": bool(f.base or f.staged or f.range_),
             "--input": f.input_ is not None}  # fmt: skip
    given = [name for name, on in modes.items() if on]
    if len(given) > 1:
        raise errors.UsageError(f"{' and '.join(given)} are exclusive: pick one")
    github_only = {"--label": f.label_, "--label-prefix": f.label_prefix is not None,
                   "--create-labels": f.create_labels, "--diff-from github": f.diff_from != "git"}  # fmt: skip
    for flag, on in github_only.items():
        if on and not f.github:
            raise errors.UsageError(f"{flag} goes with --github")
    if f.uncertain_label is not None and not f.label_:
        raise errors.UsageError("--uncertain-label goes with --label")
    if f.planted_label is not None and not f.label_:
        raise errors.UsageError("--planted-label goes with --label")
    if f.fail_on_mismatch and not f.commit_msg:
        raise errors.UsageError("--fail-on-mismatch goes with --commit-msg")
    if f.commit_msg and f.message_file is None:
        raise errors.UsageError("--commit-msg needs the commit message file (pre-commit passes it)")
    if f.message_file is not None and not f.commit_msg:
        hint = "a file argument goes with --commit-msg"
        raise errors.UsageError(f"unexpected argument {f.message_file}", hint=hint)
    if f.label_map is not None and not f.label_:
        raise errors.UsageError("--label-map goes with --label")
    if f.comment and not f.github:
        raise errors.UsageError("--comment goes with --github")
    _check_batch_flags(f)
    mode = _mode(f)
    if mode == "input":
        _check_input(f)
    if sum(bool(x) for x in (f.base, f.staged, f.range_)) > 1:
        raise errors.UsageError("--base, --staged and --range are exclusive: pick one")
    # --commit-msg takes title and description from the message file; it has never read these.
    if mode != "commit-msg" and f.body is not None and f.body_file is not None:
        raise errors.UsageError("--body and --body-file are exclusive: pick one")
    return mode


def _mode(f: ClassifyFlags) -> Mode:
    if f.input_ is not None:
        return "input"
    if f.github:
        return "github"
    if f.commit_msg:
        return "commit-msg"
    return "pre-push" if f.pre_push else "git"


def _check_input(f: ClassifyFlags) -> None:
    """--input reads title, body and diff from each record and writes JSONL: these flags cannot apply."""
    if f.fmt != "text":
        raise errors.UsageError("--format does not apply to --input: every result is a JSON line in --output")
    given = [
        name for name, v in (("--title", f.title), ("--body", f.body), ("--body-file", f.body_file))
        if v is not None
    ]  # fmt: skip
    if given:
        raise errors.UsageError(f"{given[0]} does not apply to --input: each record has its own")
    if f.output is None:
        raise errors.UsageError("--input needs --output FILE.jsonl")
    if f.shard is not None:
        from prtriage.batching.shard import ShardSpec

        ShardSpec.parse(f.shard)


def _check_batch_flags(f: ClassifyFlags) -> None:
    """--shard, --resume and --ray shape a batch; the --ray-* flags shape the Ray job."""
    for flag, on in (("--shard", f.shard is not None), ("--resume", f.resume), ("--ray", f.ray)):
        if on and f.input_ is None:
            raise errors.UsageError(f"{flag} goes with --input")
    for flag, on in (
        ("--ray-address", f.ray_address is not None),
        ("--ray-actors", f.ray_actors is not None),
    ):
        if on and not f.ray:
            raise errors.UsageError(f"{flag} goes with --ray")


def run(flags: ClassifyFlags) -> int:
    """Settings first (a bad config is reported before a bad flag), then the check, then the mode.

    Under --github the working tree is the pull request's: its config is never read; the mode
    reads the base commit's (github/base_config.py).
    """
    cwd = flags.repo.resolve()
    if flags.github:
        from prtriage.commands import github_mode

        check(flags)
        labels = github_mode.label_options(flags.label_, flags.label_prefix, flags.create_labels)
        body = read_body(flags.body, flags.body_file)
        return github_mode.run(
            github_mode.GitHubOptions(
                cwd, flags.settings_flags(), flags.config, flags.fmt, flags.title, body, flags.diff_from,
                labels, flags.comment,
            )
        )  # fmt: skip
    settings = resolve_settings(flags.settings_flags(), cwd=cwd, config_file=flags.config)
    mode = check(flags)
    if mode == "input":
        from prtriage.commands import batch

        return batch.run(batch_options(flags, settings))
    from prtriage.commands import classify, hooks

    if mode == "commit-msg":
        assert flags.message_file is not None
        options = hooks.CommitMsgOptions(cwd, settings, flags.message_file, flags.fail_on_mismatch)
        return hooks.commit_msg(options)
    body = read_body(flags.body, flags.body_file)
    if mode == "pre-push":
        return hooks.pre_push(hooks.PrePushOptions(cwd, settings, flags.fmt, flags.title, body))
    spec = diff_spec(flags.staged, flags.range_, settings)
    return classify.run(classify.ClassifyOptions(cwd, settings, spec, flags.fmt, flags.title, body))


def batch_options(flags: ClassifyFlags, settings: Settings) -> batch.BatchOptions:
    from prtriage.batching.ray_options import RayOptions
    from prtriage.batching.shard import ShardSpec
    from prtriage.commands import batch

    assert flags.input_ is not None and flags.output is not None  # check() made sure
    shard = ShardSpec.parse(flags.shard) if flags.shard is not None else None
    ray = RayOptions(flags.ray_address, flags.ray_actors) if flags.ray else None
    return batch.BatchOptions(flags.input_, flags.output, settings, shard, flags.resume, ray)


def read_body(body: str | None, body_file: Path | None) -> str | None:
    """--body, or the text of --body-file ('-' for stdin); check() refused both at once."""
    if body_file is None:
        return body
    try:
        return sys.stdin.read() if str(body_file) == "-" else body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise errors.UsageError(f"cannot read --body-file {body_file}: {e}") from None


def diff_spec(staged: bool, range_: str | None, settings: Settings) -> git.DiffSpec:
    """What to diff: --staged, --range, or the merge base with settings.base (flag, env or config)."""
    if staged or range_:
        return git.DiffSpec(range=range_, staged=staged)
    return git.DiffSpec(base=settings.base)
