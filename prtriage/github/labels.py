"""The category as a pull request label (with size and path labels beside it); a label anyone
else added, a person or another workflow, never comes off.

Only additions and single deletions are used: `PUT .../labels` replaces every label and races with
people labelling the same pull request. Labels count as prtriage's kinds when they are the prefix
followed by a configured category name, a name the label map gives a category, the uncertain
label, a size label or a path rule's label. Even of those, prtriage takes off only a label it put
on itself: its ledger (label_ledger.py, in its own comment) names the `labeled` event its request
made, and the label comes off only while that event is the label's latest. The actor of an event
cannot tell: actions/labeler on `GITHUB_TOKEN` is `github-actions[bot]` as prtriage is, and with a
personal token prtriage is a person. A label someone else took off (its latest `unlabeled` event
is not one the ledger names) is not put back. The events are read once per run, only when
something would change; without them (a token that may not read them) nothing is taken off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from prtriage.core.errors import UsageError
from prtriage.github.api import GitHubClient, GitHubError, quote
from prtriage.github.label_ledger import Ledger, read_ledger, start_note, whoami, write_ledger

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
    "label from a workflow_run job (docs/action.md: pull requests from forks)"
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
    kept: tuple[str, ...] = ()  # stale labels left on: prtriage did not put them on (or cannot know)
    events_unread: bool = False  # the token could not read who added them, so all were kept
    also: tuple[str, ...] = ()  # size and path labels put on in this run
    left_off: tuple[str, ...] = ()  # wanted, but someone else took them off: not put back
    withheld: str | None = None  # why the category got no label although it is certain (planted text)
    doubt: str | None = None  # why prtriage cannot tell its own comment: nothing came off

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
            why = EVENTS_HINT if self.events_unread else "prtriage did not put it on"
            why = "prtriage cannot tell which comment is its own" if self.doubt else why
            done += "; kept " + ", ".join(repr(k) for k in self.kept) + f" ({why})"
        if self.left_off:
            done += (
                "; not put back " + ", ".join(repr(x) for x in self.left_off) + " (someone else removed it)"
            )
        if self.doubt:
            done += f"; nothing taken off and no ledger kept: {self.doubt}"
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


Event = tuple[str, int, str]  # (labeled | unlabeled, event id, the actor's login)


@dataclass(frozen=True)
class LabelHistory:
    """The latest event of each label, and prtriage's ledger of the events its own requests made."""

    last: Mapping[str, Event]
    unread: bool = False  # the token may not read the events: nothing is known
    ledger: Ledger = field(default_factory=Ledger)

    def ours_to_remove(self, name: str) -> bool:
        """Only a label whose latest event is the `labeled` one prtriage's ledger names may come
        off; anyone else's, and unknown (no event, unread), stays."""
        on = self.ledger.on.get(name)
        if self.unread or self.ledger.doubt or on is None or self.ledger.author is None:
            return False
        return self.last.get(name) == ("labeled", on, self.ledger.author)

    def removed_by_someone_else(self, name: str) -> bool:
        """Its latest event is an `unlabeled` one that prtriage's ledger does not name."""
        event = self.last.get(name)
        if self.unread or event is None or event[0] != "unlabeled":
            return False
        return event != ("unlabeled", self.ledger.off.get(name), self.ledger.author)


def label_events(client: GitHubClient, repository: str, number: int) -> dict[str, Event] | None:
    """The latest `labeled`/`unlabeled` event of each label; None when the token may not look."""
    events = []
    try:
        for event in client.paginate(f"/repos/{repository}/issues/{number}/events"):
            if isinstance(event, dict) and event.get("event") in ("labeled", "unlabeled"):
                events.append(event)
    except GitHubError as e:
        if e.status != 403 or "rate limit" in (e.hint or ""):
            raise
        return None
    # GitHub lists them oldest first; sort anyway, on time then id, so the last one wins.
    events.sort(key=lambda ev: (str(ev.get("created_at") or ""), int(ev.get("id") or 0)))
    last: dict[str, Event] = {}
    for event in events:
        name = (event.get("label") or {}).get("name")
        if isinstance(name, str):
            actor = (event.get("actor") or {}).get("login")
            last[name] = (str(event["event"]), int(event.get("id") or 0), str(actor or ""))
    return last


def label_history(client: GitHubClient, repository: str, number: int) -> LabelHistory:
    """The label events and prtriage's ledger; unread when the token may not read the events."""
    last = label_events(client, repository, number)
    if last is None:
        return LabelHistory({}, unread=True)
    return LabelHistory(last, ledger=read_ledger(client, repository, number, whoami(client)))


def _made_by(event: Event | None, kind: str, login: str | None, before: Event | None) -> bool:
    """`event` is a `kind` event that `login` (the token's own account) made since `before`."""
    return event is not None and event[0] == kind and event[2] == login and event != before


def record_own(
    client: GitHubClient, repository: str, number: int, history: LabelHistory,
    added: Iterable[str], removed: Iterable[str], fork: bool,
) -> None:  # fmt: skip
    """Write into the ledger the events that this run's own requests just made: the latest event
    of each label, when the token's own account made it and it is newer than what this run read
    before writing. Someone adding the same label in that moment is not prtriage, unless they act
    as the same account (under GITHUB_TOKEN every workflow does: docs/security.md, promise 5)."""
    added, removed = list(added), list(removed)
    ledger = history.ledger
    if history.unread or ledger.doubt or not (added or removed):
        return
    try:
        if ledger.comment is None:  # first the comment: GitHub's answer names the token's account
            start_note(client, repository, number, ledger)
        last = label_events(client, repository, number) or {}
        for name in added:
            ledger.off.pop(name, None)
            event = last.get(name)
            if event and _made_by(event, "labeled", ledger.author, history.last.get(name)):
                ledger.on[name] = event[1]
        for name in removed:
            ledger.on.pop(name, None)
            event = last.get(name)
            if event and _made_by(event, "unlabeled", ledger.author, history.last.get(name)):
                ledger.off[name] = event[1]
        write_ledger(client, repository, number, ledger)
    except GitHubError as e:
        raise refused(e, f"cannot keep prtriage's comment on #{number}", fork) from None


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
    not put it back once someone took it off."""
    name = label_name("", name)
    if name in _labels_on(client, repository, number):
        return f"#{number} already has {name!r}: it holds text addressed to the classifier"
    last = label_events(client, repository, number) or {}
    if last.get(name, ("",))[0] == "unlabeled":  # prtriage never takes it off: someone else did
        return f"left {name!r} off #{number}: someone took it off"
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
    take off the labels prtriage put on itself that no longer apply (its ledger says which).

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
    left_off = tuple(w.name for w in missing if history.removed_by_someone_else(w.name))
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
    record_own(client, repository, number, history, added_names, stale, fork)
    return LabelOutcome(
        number=number, label=wanted.name if wanted else None,
        added=wanted is not None and wanted.name in added_names, created=created,
        removed=tuple(stale), category=category, kept=kept, events_unread=history.unread,
        also=tuple(w.name for w in to_add if wanted is None or w.name != wanted.name),
        left_off=left_off, doubt=history.ledger.doubt,
    )  # fmt: skip
