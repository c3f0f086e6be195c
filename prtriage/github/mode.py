"""`classify --github` and `label`: a pull request's change in, outputs, summary, annotations, label out.

prtriage/commands/github.py calls these in order: `pull_request_change` → (classify) → `publish` →
`apply_label` → `apply_comment`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage import git
from prtriage.change import Change, Result
from prtriage.config import Settings
from prtriage.errors import GitError, PrtriageError, UsageError
from prtriage.escape import markdown_text
from prtriage.github.actions import (
    PullRequest,
    annotation,
    append_summary,
    is_repository,
    is_sha,
    load_event,
    write_outputs,
)
from prtriage.github.api import GitHubClient, GitHubError
from prtriage.github.base_config import FETCH_HINT
from prtriage.github.comment import CommentOutcome, planted_from_json, result_from_json, sync_comment
from prtriage.github.label_rules import ChangedFile, extra_labels, list_pull_files, skipped_because
from prtriage.github.labels import LabelOutcome, add_planted_label, label_name, sync_label
from prtriage.github.remote_diff import fetch_pull_files
from prtriage.report import planted_note, to_markdown, uncertain_note
from prtriage.triage import change_from_git

DIFF_SOURCES = ("git", "github")
TITLE = "prtriage"


@dataclass(frozen=True)
class LabelOptions:
    enabled: bool = False
    prefix: str = "prtriage:"
    create: bool = False


@contextmanager
def errors_as_annotations(out: Any = None) -> Iterator[None]:
    """A failure also becomes an `::error` annotation on the run, not just a line in the log."""
    try:
        yield
    except PrtriageError as e:
        text = e.message + (f" (hint: {e.hint})" if e.hint else "")
        print(annotation("error", text, TITLE), file=out or sys.stdout, flush=True)
        raise


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
        if not files:
            raise GitError(f"pull request #{pr.number} changes no files")
        return Change(title, body, files, f"{pr.repository}#{pr.number} (GitHub API)")
    repo = git.repo_root(cwd)
    for what, sha in (("base", pr.base_sha), ("head", pr.head_sha)):
        if not git.ref_exists(repo, sha):
            raise GitError(
                f"the pull request's {what} commit {sha[:12]} is not in this clone", hint=FETCH_HINT
            )
    change = change_from_git(
        repo, git.DiffSpec(range=f"{pr.base_sha}...{pr.head_sha}"), settings.exclude, title, body
    )
    return Change(change.title, change.body, change.files, f"#{pr.number} {change.source}")


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


def apply_label(
    result: Result, pr: PullRequest, settings: Settings, options: LabelOptions, env: Mapping[str, str],
    files: Sequence[ChangedFile] = (),
) -> LabelOutcome:  # fmt: skip
    """The category's label (for an uncertain result none, or the configured uncertain label),
    and the size and path labels of the changed `files`."""
    client = GitHubClient.from_env(env, need_token=True, why="labeling")
    categories = [(c.name, c.definition) for c in settings.categories]
    category = None if result.uncertain else result.category
    extra, extra_ours = extra_labels(files, settings)
    return sync_label(
        client, pr.repository, pr.number, category, categories, options.prefix, options.create,
        pr.is_fork, settings.uncertain_label, dict(settings.labels), extra, extra_ours,
    )  # fmt: skip


def apply_planted_label(
    result: Result, pr: PullRequest, settings: Settings, options: LabelOptions, env: Mapping[str, str]
) -> str | None:
    """With `planted-label` set and planted text found: that label, added (never removed)."""
    if not result.planted or not settings.planted_label:
        return None
    client = GitHubClient.from_env(env, need_token=True, why="labeling")
    return add_planted_label(
        client, pr.repository, pr.number, settings.planted_label, options.create, pr.is_fork
    )


def apply_comment(result: Result, pr: PullRequest, env: Mapping[str, str]) -> CommentOutcome:
    """prtriage's one comment on the pull request, created or edited (marked outdated if uncertain)."""
    client = GitHubClient.from_env(env, need_token=True, why="commenting")
    return sync_comment(client, pr.repository, pr.number, result, pr.is_fork)


# --- label --from: the trusted half of the fork-safe recipe -------------------------------------


@dataclass(frozen=True)
class LabelRequest:
    repository: str
    number: int
    head_sha: str
    category: str
    uncertain: bool = False  # below the classifying run's min-confidence: no category label
    data: dict[str, Any] | None = None  # the whole result, for --comment
    planted: bool = False  # the change holds text addressed to the classifier


def read_result_file(path: Path, settings: Settings, env: Mapping[str, str]) -> LabelRequest:
    """A result written by `classify --github` in another (untrusted) run, checked field by field.

    The repository is this run's own; the category must be a configured one; the number and head
    commit are checked against the API before anything is written.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read the result file {path}: {e}") from None
    pr = data.get("pull_request") if isinstance(data, dict) else None
    if not isinstance(pr, dict):
        raise UsageError(f"{path}: not a `classify --github` result (no pull_request)")
    category, number, head = data.get("category"), pr.get("number"), pr.get("head_sha")
    if category not in settings.category_names:
        raise UsageError(f"{path}: category {category!r} is not a configured category")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise UsageError(f"{path}: bad pull request number {number!r}")
    if not is_sha(head):
        raise UsageError(f"{path}: bad head commit {head!r}")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not is_repository(repository):
        raise UsageError("GITHUB_REPOSITORY is not set: cannot tell which repository to label in")
    if pr.get("repository") != repository:
        raise UsageError(f"{path}: the result is about {pr.get('repository')!r}, not {repository}")
    planted = bool(planted_from_json(data))
    return LabelRequest(
        repository, number, str(head), str(category), data.get("uncertain") is True, data, planted
    )


def _workflow_run_head(env: Mapping[str, str]) -> str | None:
    """The head commit of the run that triggered this `workflow_run` event, if that is the event."""
    if env.get("GITHUB_EVENT_NAME") != "workflow_run":
        return None
    _, data = load_event(env)
    head = (
        data.get("workflow_run", {}).get("head_sha") if isinstance(data.get("workflow_run"), dict) else None
    )
    if not is_sha(head):
        raise UsageError("the workflow_run event has no head_sha")
    return str(head)


def label_from_result(
    path: Path, settings: Settings, options: LabelOptions, env: Mapping[str, str], comment: bool = False
) -> list[str]:
    """Label (and with `comment`, comment on) the pull request a result file names; one line per act."""
    request = read_result_file(path, settings, env)
    label_name(options.prefix, request.category)  # a bad prefix fails before any request
    result = None
    if comment:
        assert request.data is not None
        result = result_from_json(request.data, settings.category_names)
        if result.uncertain != request.uncertain:
            raise UsageError(f"{path}: 'uncertain' does not match its confidence and min_confidence")
    run_head = _workflow_run_head(env)
    if run_head is not None and run_head != request.head_sha:
        raise UsageError(
            f"{path}: the result is for commit {request.head_sha[:12]}, the run was for {run_head[:12]}"
        )
    client = GitHubClient.from_env(env, need_token=True, why="labeling")
    try:
        live = client.request("GET", f"/repos/{request.repository}/pulls/{request.number}").json()
    except GitHubError as e:
        if e.status == 404:
            raise GitHubError(
                f"pull request #{request.number} not found in {request.repository}", status=404
            ) from None
        raise
    live_head = live.get("head", {}).get("sha") if isinstance(live, dict) else None
    if live_head != request.head_sha:
        return [f"#{request.number} has new commits since this result: left for the newer run"]
    why = skipped_because(
        live.get("draft") is True, str((live.get("user") or {}).get("login") or ""), settings
    )
    if why:
        return [f"#{request.number} not labeled: {why}"]
    fork = (live.get("head", {}).get("repo") or {}).get("full_name") != request.repository
    categories = [(c.name, c.definition) for c in settings.categories]
    category = None if request.uncertain else request.category
    # Size and path labels from the files GitHub lists for the pull request, never from the result
    # file, which the untrusted run wrote.
    needed = settings.size_labels or settings.path_labels
    files = list_pull_files(client, request.repository, request.number) if needed else []
    extra, extra_ours = extra_labels(files, settings)
    outcome = sync_label(
        client, request.repository, request.number, category, categories,
        options.prefix, options.create, fork, settings.uncertain_label, dict(settings.labels),
        extra, extra_ours,
    )  # fmt: skip
    done = [outcome.describe()]
    if request.planted and settings.planted_label:
        done.append(
            add_planted_label(
                client, request.repository, request.number, settings.planted_label, options.create, fork
            )
        )
    if result is not None:
        done.append(sync_comment(client, request.repository, request.number, result, fork).describe())
    return done
