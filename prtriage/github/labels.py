"""The category as a pull request label: add it, remove prtriage's earlier ones, never a human's.

Only additions and single deletions are used: `PUT .../labels` replaces every label and races with
people labelling the same pull request. Labels count as prtriage's own when they are the prefix
followed by a configured category name, a name the label map gives a category, or the uncertain
label. A mapped name is shared with people (a team's own `bug`), so it comes off only when the
issue's events show that a bot, not a person, put it on last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prtriage.errors import UsageError
from prtriage.github.api import GitHubClient, GitHubError, quote

DEFAULT_PREFIX = "prtriage:"
MAX_LABEL_LENGTH = 50  # GitHub's limit for a label name
DEFAULT_COLOR = "ededed"
UNCERTAIN_COLOR = "fbca04"
UNCERTAIN_DEFINITION = "not sure of the category (below min-confidence): needs a human"
COLORS = {
    "feature": "a2eeef", "fix": "d73a4a", "docs": "0075ca", "refactor": "cfd3d7", "perf": "fbca04",
    "test": "bfd4f2", "ci": "5319e7", "build": "c5def5", "deps": "0366d6", "chore": "fef2c0",
}  # fmt: skip
FORK_HINT = (
    "a pull request from a fork gets a read-only token under pull_request: classify there and "
    "label from a workflow_run job (README: GitHub Action, forks)"
)
EVENTS_HINT = "the token cannot read who added it: give the job `issues: read`"
PERMISSION_HINT = "give the job `permissions: pull-requests: write` (and `issues: write` to create labels)"


@dataclass(frozen=True)
class LabelOutcome:
    number: int
    label: str | None  # None: an uncertain result and no uncertain label configured
    added: bool  # False when the pull request already had it
    created: bool  # the repository lacked the label and prtriage created it
    removed: tuple[str, ...]  # prtriage's earlier labels taken off
    category: str | None = None  # None: the result is uncertain
    kept: tuple[str, ...] = ()  # mapped names that would be stale, left on: a person added them
    events_unread: bool = False  # the token could not read who added them, so all were kept

    def describe(self) -> str:
        n = self.number
        if self.label is None and self.category is not None:
            done = f"no label for #{n}: category {self.category!r} is mapped to no label"
        elif self.label is None:
            done = f"no label for #{n}: the result is uncertain"
        elif self.added:
            done = f"added {self.label!r} to #{n}"
        else:
            done = f"#{n} already has {self.label!r}"
        if self.created:
            done += " (label created)"
        if self.removed:
            done += "; removed " + ", ".join(repr(r) for r in self.removed)
        if self.kept:
            why = EVENTS_HINT if self.events_unread else "a person added it"
            done += "; kept " + ", ".join(repr(k) for k in self.kept) + f" ({why})"
        return done


def label_name(prefix: str, category: str) -> str:
    name = prefix + category
    if len(name) > MAX_LABEL_LENGTH or "," in name or not name.strip():
        raise UsageError(
            f"label {name!r} is not usable (at most {MAX_LABEL_LENGTH} characters, no comma)",
            hint="pick a shorter --label-prefix",
        )
    return name


def refused(e: GitHubError, what: str, fork: bool) -> GitHubError:
    """A write the token may not do: say why in the terms of this job."""
    if e.status == 403 and e.hint and "rate limit" in e.hint:
        return e
    if e.status == 403:
        return GitHubError(f"{what}: {e.message}", hint=FORK_HINT if fork else PERMISSION_HINT, status=403)
    return e


def _labels_on(client: GitHubClient, repository: str, number: int) -> list[str]:
    try:
        items = list(client.paginate(f"/repos/{repository}/issues/{number}/labels"))
    except GitHubError as e:
        if e.status == 404:
            raise GitHubError(
                f"pull request #{number} not found in {repository}",
                hint="check GITHUB_REPOSITORY, and that the token can read this repository",
                status=404,
            ) from None
        raise
    return [str(item.get("name")) for item in items if isinstance(item, dict)]


def _added_by_people(
    client: GitHubClient, repository: str, number: int, names: Iterable[str]
) -> tuple[set[str], bool]:
    """Those of `names` whose latest `labeled` event is a person's (or unknown): they must stay.

    The second value is True when the token may not read the events: then every name stays.
    """
    wanted = set(names)
    if not wanted:
        return set(), False
    last: dict[str, str] = {}
    try:
        for event in client.paginate(f"/repos/{repository}/issues/{number}/events"):  # oldest first
            if isinstance(event, dict) and event.get("event") == "labeled":
                name = (event.get("label") or {}).get("name")
                if name in wanted:
                    last[name] = str((event.get("actor") or {}).get("type", ""))
    except GitHubError as e:
        if e.status != 403 or "rate limit" in (e.hint or ""):
            raise
        return wanted, True  # not knowing who added a shared label, leave it on
    return {name for name in wanted if last.get(name) != "Bot"}, False


def _label_exists(client: GitHubClient, repository: str, name: str) -> bool:
    response = client.request("GET", f"/repos/{repository}/labels/{quote(name)}", allow=(404,))
    return response.status != 404


def _create_label(client: GitHubClient, repository: str, name: str, color: str, definition: str) -> bool:
    body = {"name": name, "color": color, "description": f"prtriage: {definition}"[:100]}
    response = client.request("POST", f"/repos/{repository}/labels", body=body, allow=(422,))
    return response.status != 422  # 422 already_exists: another run created it meanwhile


def sync_label(
    client: GitHubClient, repository: str, number: int, category: str | None,
    categories: Sequence[tuple[str, str]], prefix: str, create: bool, fork: bool = False,
    uncertain_label: str | None = None, label_map: Mapping[str, str] | None = None,
) -> LabelOutcome:  # fmt: skip
    """Give pull request `number` the label of `category`; take off prtriage's labels for other ones.

    `categories` are (name, definition) pairs: the configured categories, which define which labels
    are prtriage's own (with the names of `label_map` and `uncertain_label`). `category` None means
    the result is uncertain: no category label, `uncertain_label` if given. The new label goes on
    before old ones come off, so a failure leaves the pull request with its earlier label rather
    than none.
    """
    names = [name for name, _ in categories]
    label_map = label_map or {}
    if category is not None and category not in names:
        raise UsageError(f"unknown category {category!r}", hint="known categories: " + ", ".join(names))
    prefixed = {label_name(prefix, name) for name in names}
    mapped = {label_name("", n) for n in label_map.values() if n} - prefixed  # shared with people
    ours = prefixed | mapped
    if uncertain_label:
        ours.add(label_name("", uncertain_label))
    if category is None:  # uncertain: earlier category labels come off, since they may be wrong
        wanted = label_name("", uncertain_label) if uncertain_label else None
        color, definition = UNCERTAIN_COLOR, UNCERTAIN_DEFINITION
    else:
        mapped_to = label_map.get(category)
        wanted = label_name(prefix, category) if mapped_to is None else (mapped_to or None)
        color, definition = COLORS.get(category, DEFAULT_COLOR), dict(categories)[category]
    current = _labels_on(client, repository, number)
    stale = [name for name in current if name in ours and name != wanted]
    kept, unread = _added_by_people(client, repository, number, [n for n in stale if n in mapped])
    stale = [name for name in stale if name not in kept]
    created = added = False
    if wanted is not None and wanted not in current:
        if not _label_exists(client, repository, wanted):
            if not create:
                raise GitHubError(
                    f"label {wanted!r} does not exist in {repository}",
                    hint="create it once, or let prtriage create labels (--create-labels, action "
                    "input create-labels: true; needs issues: write)",
                )
            try:
                created = _create_label(client, repository, wanted, color, definition)
            except GitHubError as e:
                raise refused(e, f"cannot create label {wanted!r} in {repository}", fork) from None
        try:
            client.request("POST", f"/repos/{repository}/issues/{number}/labels", body={"labels": [wanted]})
        except GitHubError as e:
            raise refused(e, f"cannot label pull request #{number}", fork) from None
        added = True
    for name in stale:
        try:  # 404: someone took it off meanwhile, which is what we wanted
            client.request(
                "DELETE", f"/repos/{repository}/issues/{number}/labels/{quote(name)}", allow=(404,)
            )
        except GitHubError as e:
            raise refused(e, f"cannot remove label {name!r} from #{number}", fork) from None
    return LabelOutcome(
        number=number, label=wanted, added=added, created=created, removed=tuple(stale),
        category=category, kept=tuple(sorted(kept)), events_unread=unread,
    )  # fmt: skip
