"""The category as a pull request label (with size and path labels beside it); people win.

Only additions and single deletions are used: `PUT .../labels` replaces every label and races with
people labelling the same pull request. Labels count as prtriage's to manage when they are the
prefix followed by a configured category name, a name the label map gives a category, the
uncertain label, a size label or a path rule's label. Even those belong to people once a person
touched them, which the issue's label events tell (read once per run, only when something would
change): a label whose latest `labeled` event is a person's is never taken off, and a label whose
latest `unlabeled` event is a person's is not put back. Without the events (a token that may not
read them) nothing is taken off, since who put it on cannot be known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prtriage.core.errors import UsageError
from prtriage.github.api import GitHubClient, GitHubError, quote

DEFAULT_PREFIX = "prtriage:"
MAX_LABEL_LENGTH = 50  # GitHub's limit for a label name
DEFAULT_COLOR = "ededed"
UNCERTAIN_COLOR = "fbca04"
UNCERTAIN_DEFINITION = "not sure of the category (below min-confidence): needs a human"
PLANTED_COLOR = "b60205"
PLANTED_DEFINITION = "holds text addressed to the classifier: review the category by hand"
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
class Wanted:
    """A label prtriage wants on the pull request, with what it gets if it has to be created."""

    name: str
    color: str = DEFAULT_COLOR
    description: str = ""


@dataclass(frozen=True)
class LabelOutcome:
    number: int
    label: str | None  # None: an uncertain result and no uncertain label configured
    added: bool  # False when the pull request already had it (or a person had taken it off)
    created: bool  # the repository lacked a label and prtriage created it
    removed: tuple[str, ...]  # prtriage's earlier labels taken off
    category: str | None = None  # None: the result is uncertain
    kept: tuple[str, ...] = ()  # stale labels left on: a person added them (or it cannot be known)
    events_unread: bool = False  # the token could not read who added them, so all were kept
    also: tuple[str, ...] = ()  # size and path labels put on in this run
    left_off: tuple[str, ...] = ()  # wanted, but a person took them off: not put back
    withheld: str | None = None  # why the category got no label although it is certain (planted text)

    def describe(self) -> str:
        n = self.number
        if self.label is None and self.withheld:
            done = f"no category label for #{n}: {self.withheld}"
        elif self.label is None and self.category is not None:
            done = f"no label for #{n}: category {self.category!r} is mapped to no label"
        elif self.label is None:
            done = f"no label for #{n}: the result is uncertain"
        elif self.label in self.left_off:
            done = f"left {self.label!r} off #{n}"
        elif self.added:
            done = f"added {self.label!r} to #{n}"
        else:
            done = f"#{n} already has {self.label!r}"
        if self.also:
            done += "; also added " + ", ".join(repr(a) for a in self.also)
        if self.created:
            done += " (label created)"
        if self.removed:
            done += "; removed " + ", ".join(repr(r) for r in self.removed)
        if self.kept:
            why = EVENTS_HINT if self.events_unread else "a person added it"
            done += "; kept " + ", ".join(repr(k) for k in self.kept) + f" ({why})"
        if self.left_off:
            done += "; not put back " + ", ".join(repr(x) for x in self.left_off) + " (a person removed it)"
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


@dataclass(frozen=True)
class LabelHistory:
    """Who last put each label on or took it off, from the issue's events."""

    last: Mapping[str, tuple[str, bool]]  # name → (labeled | unlabeled, done by a bot)
    unread: bool = False  # the token may not read the events: nothing is known

    def ours_to_remove(self, name: str) -> bool:
        """Only a label a bot put on last may come off; unknown (no event, unread) stays."""
        return not self.unread and self.last.get(name) == ("labeled", True)

    def removed_by_person(self, name: str) -> bool:
        return not self.unread and self.last.get(name) == ("unlabeled", False)


def label_history(client: GitHubClient, repository: str, number: int) -> LabelHistory:
    """The latest `labeled`/`unlabeled` event of each label; unread when the token may not look."""
    events = []
    try:
        for event in client.paginate(f"/repos/{repository}/issues/{number}/events"):
            if isinstance(event, dict) and event.get("event") in ("labeled", "unlabeled"):
                events.append(event)
    except GitHubError as e:
        if e.status != 403 or "rate limit" in (e.hint or ""):
            raise
        return LabelHistory({}, unread=True)
    # GitHub lists them oldest first; sort anyway, on time then id, so the last one wins.
    events.sort(key=lambda ev: (str(ev.get("created_at") or ""), int(ev.get("id") or 0)))
    last: dict[str, tuple[str, bool]] = {}
    for event in events:
        name = (event.get("label") or {}).get("name")
        if isinstance(name, str):
            last[name] = (str(event["event"]), (event.get("actor") or {}).get("type") == "Bot")
    return LabelHistory(last)


def _label_exists(client: GitHubClient, repository: str, name: str) -> bool:
    response = client.request("GET", f"/repos/{repository}/labels/{quote(name)}", allow=(404,))
    return response.status != 404


def _create_label(client: GitHubClient, repository: str, wanted: Wanted) -> bool:
    body = {
        "name": wanted.name,
        "color": wanted.color,
        "description": f"prtriage: {wanted.description}"[:100],
    }
    response = client.request("POST", f"/repos/{repository}/labels", body=body, allow=(422,))
    return response.status != 422  # 422 already_exists: another run created it meanwhile


def _ensure_exists(client: GitHubClient, repository: str, wanted: Wanted, create: bool, fork: bool) -> bool:
    """True when prtriage created the label; an error when it is missing and may not be created."""
    if _label_exists(client, repository, wanted.name):
        return False
    if not create:
        raise GitHubError(
            f"label {wanted.name!r} does not exist in {repository}",
            hint="create it once, or let prtriage create labels (--create-labels, action "
            "input create-labels: true; needs issues: write)",
        )
    try:
        return _create_label(client, repository, wanted)
    except GitHubError as e:
        raise refused(e, f"cannot create label {wanted.name!r} in {repository}", fork) from None


def category_label(
    category: str | None, categories: Sequence[tuple[str, str]], prefix: str,
    uncertain_label: str | None, label_map: Mapping[str, str],
) -> tuple[Wanted | None, set[str]]:  # fmt: skip
    """The label `category` gets (None: none), and every name the category labels may have."""
    names = [name for name, _ in categories]
    if category is not None and category not in names:
        raise UsageError(f"unknown category {category!r}", hint="known categories: " + ", ".join(names))
    ours = {label_name(prefix, name) for name in names}
    ours |= {label_name("", n) for n in label_map.values() if n}
    if uncertain_label:
        ours.add(label_name("", uncertain_label))
    if category is None:  # uncertain: earlier category labels come off, since they may be wrong
        if not uncertain_label:
            return None, ours
        return Wanted(label_name("", uncertain_label), UNCERTAIN_COLOR, UNCERTAIN_DEFINITION), ours
    mapped_to = label_map.get(category)
    name = label_name(prefix, category) if mapped_to is None else (mapped_to or None)
    if name is None:
        return None, ours
    return Wanted(name, COLORS.get(category, DEFAULT_COLOR), dict(categories)[category]), ours


def add_planted_label(
    client: GitHubClient, repository: str, number: int, name: str, create: bool, fork: bool
) -> str:
    """The review label of a result whose change holds planted text. prtriage only ever adds it
    (it is not one of its labels to manage: a person takes it off once they have looked), and does
    not put it back once a person took it off."""
    name = label_name("", name)
    if name in _labels_on(client, repository, number):
        return f"#{number} already has {name!r}: it holds text addressed to the classifier"
    if label_history(client, repository, number).removed_by_person(name):
        return f"left {name!r} off #{number}: a person took it off"
    created = _ensure_exists(
        client, repository, Wanted(name, PLANTED_COLOR, PLANTED_DEFINITION), create, fork
    )
    try:
        client.request("POST", f"/repos/{repository}/issues/{number}/labels", body={"labels": [name]})
    except GitHubError as e:
        raise refused(e, f"cannot label pull request #{number}", fork) from None
    return f"added {name!r} to #{number}: it holds text addressed to the classifier" + (
        " (label created)" if created else ""
    )


def sync_label(
    client: GitHubClient, repository: str, number: int, category: str | None,
    categories: Sequence[tuple[str, str]], prefix: str, create: bool, fork: bool = False,
    uncertain_label: str | None = None, label_map: Mapping[str, str] | None = None,
    extra: Sequence[Wanted] = (), extra_ours: Iterable[str] = (),
) -> LabelOutcome:  # fmt: skip
    """Give pull request `number` the label of `category` (and `extra`: size and path labels);
    take off prtriage's labels that no longer apply, unless a person put them on.

    `categories` are (name, definition) pairs: the configured categories, which define which labels
    are prtriage's own (with the names of `label_map`, `uncertain_label` and `extra_ours`, every
    size and path label). `category` None means the result is uncertain: no category label,
    `uncertain_label` if given. New labels go on before old ones come off, so a failure leaves the
    pull request with its earlier label rather than none.
    """
    wanted, ours = category_label(category, categories, prefix, uncertain_label, label_map or {})
    ours |= set(extra_ours) | {w.name for w in extra}
    wanted_all: list[Wanted] = []
    for w in [*([wanted] if wanted else []), *extra]:  # one of each name, the category's first
        if w.name not in {x.name for x in wanted_all}:
            wanted_all.append(w)
    names = {w.name for w in wanted_all}
    current = _labels_on(client, repository, number)
    stale = [name for name in current if name in ours and name not in names]
    missing = [w for w in wanted_all if w.name not in current]
    history = label_history(client, repository, number) if stale or missing else LabelHistory({})
    left_off = tuple(w.name for w in missing if history.removed_by_person(w.name))
    to_add = [w for w in missing if w.name not in left_off]
    kept = tuple(sorted(name for name in stale if not history.ours_to_remove(name)))
    stale = [name for name in stale if name not in kept]
    created = False
    for w in to_add:
        created = _ensure_exists(client, repository, w, create, fork) or created
    if to_add:
        try:
            body = {"labels": [w.name for w in to_add]}
            client.request("POST", f"/repos/{repository}/issues/{number}/labels", body=body)
        except GitHubError as e:
            raise refused(e, f"cannot label pull request #{number}", fork) from None
    for name in stale:
        try:  # 404: someone took it off meanwhile, which is what we wanted
            client.request(
                "DELETE", f"/repos/{repository}/issues/{number}/labels/{quote(name)}", allow=(404,)
            )
        except GitHubError as e:
            raise refused(e, f"cannot remove label {name!r} from #{number}", fork) from None
    added_names = {w.name for w in to_add}
    return LabelOutcome(
        number=number, label=wanted.name if wanted else None,
        added=wanted is not None and wanted.name in added_names, created=created,
        removed=tuple(stale), category=category, kept=kept, events_unread=history.unread,
        also=tuple(w.name for w in to_add if wanted is None or w.name != wanted.name),
        left_off=left_off,
    )  # fmt: skip
