"""The label step: the code that holds a write token. It runs no model and loads no native
code; it writes from a `Result` or from a result file it checks (classify_step.py reads the pull
request).

`apply_label`, `apply_planted_label` and `apply_comment` write what `classify --github` found in
the same job; `label --from` (`label_from_result`) is the trusted half of the fork-safe recipe:
it checks a result file that an untrusted run wrote, field by field, before anything is written,
and runs the planted-text detector (pure Python rules, no model) on the change it fetches itself:
the file can make the outcome more careful (planted, uncertain), never less.

A change that holds planted text gets no category label (its category may have been steered):
the planted label if one is configured, else none, unless `planted = "report"`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prtriage.core.errors import UsageError
from prtriage.core.settings import Settings
from prtriage.github.actions import PullRequest, is_repository, is_sha, load_event
from prtriage.github.api import GitHubClient, GitHubError
from prtriage.github.comment import CommentOutcome, planted_from_json, result_from_json, sync_comment
from prtriage.github.label_rules import ChangedFile, extra_labels, from_diffs, skipped_because
from prtriage.github.labels import LabelOutcome, add_planted_label, label_name, sync_label
from prtriage.github.remote_diff import files_from_listing
from prtriage.pipeline.planted_text import MAX_SPANS, PlantedSpan, find_planted
from prtriage.pipeline.result import Result

WITHHELD = "the change holds text addressed to the classifier, so its category may have been steered"


@dataclass(frozen=True)
class LabelOptions:
    enabled: bool = False
    prefix: str = "prtriage:"
    create: bool = False


def withholds_category(planted: bool, settings: Settings) -> bool:
    """Planted text: no category label (fail closed), unless the config says `planted = "report"`."""
    return planted and settings.planted != "report"


def apply_label(
    result: Result, pr: PullRequest, settings: Settings, options: LabelOptions, env: Mapping[str, str],
    files: Sequence[ChangedFile] = (),
) -> LabelOutcome:  # fmt: skip
    """The category's label (for an uncertain result none, or the configured uncertain label; for
    planted text none), and the size and path labels of the changed `files`."""
    client = GitHubClient.from_env(env, need_token=True, why="labeling")
    categories = [(c.name, c.definition) for c in settings.categories]
    withheld = withholds_category(bool(result.planted), settings)
    category = None if result.uncertain or withheld else result.category
    extra, extra_ours = extra_labels(files, settings)
    outcome = sync_label(
        client, pr.repository, pr.number, category, categories, options.prefix, options.create,
        pr.is_fork, None if withheld else settings.uncertain_label, dict(settings.labels), extra,
        extra_ours,
    )  # fmt: skip
    return replace(outcome, withheld=WITHHELD if withheld else None)


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


def apply_comment(
    result: Result, pr: PullRequest, env: Mapping[str, str], withheld: bool = False
) -> CommentOutcome:
    """prtriage's one comment on the pull request, created or edited (marked outdated if uncertain);
    `withheld`: it says that the category got no label, and why."""
    client = GitHubClient.from_env(env, need_token=True, why="commenting")
    return sync_comment(client, pr.repository, pr.number, result, pr.is_fork, WITHHELD if withheld else None)


# --- label --from: the trusted half of the fork-safe recipe -------------------------------------


@dataclass(frozen=True)
class LabelRequest:
    repository: str
    number: int
    head_sha: str
    category: str
    uncertain: bool = False  # below min-confidence (this run's or the file's): no category label
    data: dict[str, Any] | None = None  # the whole result, for --comment
    planted: tuple[PlantedSpan, ...] = ()  # what the untrusted run reported (only ever added to)


def read_result_file(path: Path, settings: Settings, env: Mapping[str, str]) -> LabelRequest:
    """A result written by `classify --github` in another (untrusted) run, checked field by field.

    The repository is this run's own; the category must be a configured one; the number and head
    commit are checked against the API before anything is written. `uncertain` is this run's own
    reading of the confidence against its min-confidence, or the file's when it says so.
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
    confidence = data.get("confidence")
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0 <= confidence <= 1:
        raise UsageError(f"{path}: 'confidence' must be a number from 0 to 1")
    low = settings.min_confidence is not None and confidence < settings.min_confidence
    uncertain = low or data.get("uncertain") is True
    return LabelRequest(
        repository, number, str(head), str(category), uncertain, data, planted_from_json(data)
    )


def _merged(own: Sequence[PlantedSpan], reported: Sequence[PlantedSpan]) -> tuple[PlantedSpan, ...]:
    """The spans this run found, then those the untrusted run reported that it did not."""
    return tuple(dict.fromkeys([*own, *reported]))[:MAX_SPANS]


def _triggering_head(env: Mapping[str, str]) -> str | None:
    """The head commit this run was triggered for: the `workflow_run` event's run, or the pull
    request of a `pull_request(_target)` event (the second job of the pull_request_target recipe)."""
    event = env.get("GITHUB_EVENT_NAME")
    if event not in ("workflow_run", "pull_request", "pull_request_target"):
        return None
    _, data = load_event(env)
    holder = data.get("workflow_run" if event == "workflow_run" else "pull_request")
    holder = holder if isinstance(holder, dict) else {}
    head = holder.get("head_sha") if event == "workflow_run" else (holder.get("head") or {}).get("sha")
    if not is_sha(head):
        raise UsageError(f"the {event} event has no head commit")
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
        if result.uncertain != (request.data.get("uncertain") is True):
            raise UsageError(f"{path}: 'uncertain' does not match its confidence and min_confidence")
        if request.uncertain and not result.uncertain:  # this run's min-confidence is higher
            result = replace(result, min_confidence=settings.min_confidence)
    run_head = _triggering_head(env)
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
    # The files GitHub lists for the pull request, never the result file's (the untrusted run wrote
    # it): they give the size and path labels, and with the live title and description they are
    # what this run looks for planted text in, itself.
    listing = client.paginate(f"/repos/{request.repository}/pulls/{request.number}/files")
    files = files_from_listing(listing, settings.exclude)
    title, body = str(live.get("title") or ""), str(live.get("body") or "")
    planted = _merged(find_planted(title, body, files, settings.category_names), request.planted)
    withheld = withholds_category(bool(planted), settings)
    category = None if request.uncertain or withheld else request.category
    extra, extra_ours = extra_labels(from_diffs(files), settings)
    outcome = sync_label(
        client, request.repository, request.number, category, categories,
        options.prefix, options.create, fork, None if withheld else settings.uncertain_label,
        dict(settings.labels), extra, extra_ours,
    )  # fmt: skip
    done = [replace(outcome, withheld=WITHHELD if withheld else None).describe()]
    if planted and settings.planted_label:
        done.append(
            add_planted_label(
                client, request.repository, request.number, settings.planted_label, options.create, fork
            )
        )
    if result is not None:
        result = replace(result, planted=planted)
        said = sync_comment(
            client, request.repository, request.number, result, fork, WITHHELD if withheld else None
        )
        done.append(said.describe())
    return done
