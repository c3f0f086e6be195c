"""`classify --github`, the untrusted step: the pull request's change read (attacker bytes: its
title, description and diff), then outputs, the job summary and annotations. Nothing here writes
to the pull request or needs a write token; labels and the comment are label_step.py's.

prtriage/commands/github_mode.py calls these in order: `check_diff_source` → `skipped` →
`pull_request_change` → (classify) → `publish`, then label_step's `apply_label` → `apply_comment`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prtriage.core.errors import GitError, UsageError
from prtriage.core.escape import markdown_text
from prtriage.core.settings import Settings
from prtriage.github.actions import TITLE, PullRequest, annotation, append_summary, write_outputs
from prtriage.github.api import GitHubClient
from prtriage.github.base_config import FETCH_HINT
from prtriage.github.label_rules import skipped_because
from prtriage.github.remote_diff import fetch_pull_files
from prtriage.pipeline import git
from prtriage.pipeline.change import Change, change_from_pull_files, change_from_pull_request
from prtriage.pipeline.render import planted_note, to_markdown, uncertain_note
from prtriage.pipeline.result import Result

DIFF_SOURCES = ("git", "github")


def pull_request_change(
    pr: PullRequest, cwd: Path, settings: Settings, diff_from: str, env: Mapping[str, str],
    title: str | None = None, body: str | None = None,
) -> Change:  # fmt: skip
    """The pull request's change: `git diff base...head` in the clone, or the diff from the API
    (`check_diff_source` first)."""
    title = pr.title if title is None else title
    body = pr.body if body is None else body
    if diff_from == "github":
        client = GitHubClient.from_env(env, need_token=False)
        files = fetch_pull_files(client, pr.repository, pr.number, settings.exclude)
        return change_from_pull_files(title, body, files, pr.repository, pr.number)
    repo = git.repo_root(cwd)
    for what, sha in (("base", pr.base_sha), ("head", pr.head_sha)):
        if not git.ref_exists(repo, sha):
            raise GitError(
                f"the pull request's {what} commit {sha[:12]} is not in this clone", hint=FETCH_HINT
            )
    return change_from_pull_request(repo, pr.number, pr.base_sha, pr.head_sha, settings.exclude, title, body)


def check_diff_source(diff_from: str, env: Mapping[str, str]) -> None:
    """`git` or `github`; never `git` under pull_request_target (a write token and secrets)."""
    if diff_from not in DIFF_SOURCES:
        raise UsageError(f"--diff-from must be one of {', '.join(DIFF_SOURCES)}")
    if diff_from == "git" and env.get("GITHUB_EVENT_NAME") == "pull_request_target":
        raise UsageError(
            "under pull_request_target, --diff-from git would diff a checkout of the pull request "
            "under a write token",
            hint="use --diff-from github (action input diff-from: github): the diff is fetched as data",
        )


def result_json(result: Result, pr: PullRequest) -> dict[str, object]:
    """`--format json`'s object plus the pull request it is about (what a labeling job needs)."""
    return {**result.to_json(), "pull_request": pr.to_json()}


def publish(
    result: Result, pr: PullRequest, settings: Settings, env: Mapping[str, str], out: Any,
    config_notice: str | None = None,
) -> None:  # fmt: skip
    """Step outputs, the job summary (which says where the config came from), and one annotation
    (an error when the category is in fail-on); a notice when the pull request changes the config."""
    if env.get("GITHUB_OUTPUT"):
        write_outputs(
            Path(env["GITHUB_OUTPUT"]),
            {
                "category": result.category,
                "confidence": f"{result.confidence:.4f}",
                "reasoning": result.reasoning,
                "json": json.dumps(result_json(result, pr), ensure_ascii=False),
            },
        )
    if env.get("GITHUB_STEP_SUMMARY"):
        heading = f"### prtriage: pull request #{pr.number}"
        config = f"<sub>config: {markdown_text(settings.config_source or 'none')}</sub>\n"
        if config_notice:
            config += f"\n**Config:** {markdown_text(config_notice)}.\n"
        append_summary(Path(env["GITHUB_STEP_SUMMARY"]), to_markdown(result, heading=heading) + config + "\n")
    if config_notice:
        print(annotation("notice", config_notice, TITLE), file=out, flush=True)
    said = f"#{pr.number} looks like {result.category} ({result.confidence:.0%})"
    said += f": {result.reasoning}" if result.reasoning else ""
    if result.uncertain:
        said = f"#{pr.number}: {uncertain_note(result)}"
        print(annotation("notice", said, TITLE), file=out, flush=True)
    elif result.category in settings.fail_on:
        print(annotation("error", f"{said}. '{result.category}' is in fail-on.", TITLE), file=out, flush=True)
    else:
        print(annotation("notice", said, TITLE), file=out, flush=True)
    if result.planted:
        closed = bool(settings.fail_on) and settings.planted == "fail"
        quoted = "; ".join(span.describe() for span in result.planted)
        text = (
            f"#{pr.number}: {planted_note(result)}" + (": failing closed" if closed else "") + f". {quoted}"
        )
        print(annotation("error" if closed else "warning", text, TITLE), file=out, flush=True)


def skipped(pr: PullRequest, settings: Settings, out: Any) -> str | None:
    """Why this pull request is not triaged (a draft, a bot's), said as a notice; None to go on."""
    why = skipped_because(pr.draft, pr.author, settings)
    if why:
        print(annotation("notice", f"#{pr.number} not triaged: {why}", TITLE), file=out, flush=True)
    return why
