"""A deterministic, grounded teacher: the reasoning a training record should end with.

No large model is at hand to write reasonings, so they are made from what the record says and
the model will see: what the change does (its title, as a sentence in the present tense:
"fix crash on empty input" → "Fixes crash on empty input") and where (the changed path, or the
folder and kind of files when many change). Nothing the model cannot see goes in.

`augment` then prepares records for training: the reasoning added, a share with the title and
description removed (title dropout: the model must learn to say what a diff does without being
told), and a share with an instruction planted from the `train` half of the phrasing set, the
label unchanged (the model must learn to ignore it).
"""

from __future__ import annotations

import posixpath
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prtriage.dataset.planting import PLACEMENTS, Phrasing, plant
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.diff import FileDiff

MAX_TITLE_WORDS = 24  # with the "where" part, the reasoning stays under the check's 40 words

# Verbs that start titles (the most common first words of the shared data, and their kin).
VERBS = frozenset(
    """accept add adjust align allow apply avoid bring bump call change check clarify clean clear
    close collect configure convert copy correct create default deprecate detect disable display
    document drop emit enable enforce ensure exclude expose extend extract fall fetch fix force
    format generate handle hide ignore implement import improve include increase infer inline
    install introduce keep let limit link load lower make mark mention merge migrate move normalize
    omit optimize output override parse pass patch pin port prefer prepare preserve prevent print
    provide publish read rebuild recognize reduce refactor refine regenerate reject release
    reload remove rename reorder replace report require reset resolve respect restore restrict
    retry return reuse revert rewrite run save send separate set show simplify skip sort speed
    split start stop store strip support switch sync throw tidy track trim tweak unify update
    upgrade use validate verify warn wrap write build bundle cache catch consider dedupe
    deduplicate downgrade explain free get give lint log map match mock note open pick point
    polish propagate raise rely render request reword rework serve specify stabilize standardize
    stub suppress test touch translate treat trigger unpin unset upload wait watch work""".split()  # noqa: SIM905
)
_IRREGULAR = {
    "do": "does", "don't": "does not", "go": "goes", "be": "is", "have": "has", "can't": "cannot",
    "cleanup": "cleans up", "setup": "sets up",
}  # fmt: skip
_LEAD_INS = {  # a title that is a noun phrase ("config validation") gets its category's verb
    "feature": "Adds",
    "fix": "Fixes",
    "docs": "Updates the documentation:",
    "refactor": "Restructures",
    "perf": "Speeds up",
    "test": "Changes tests:",
    "ci": "Changes CI:",
    "build": "Changes the build:",
    "deps": "Updates dependencies:",
    "chore": "Maintenance:",
}
# What an untitled change does, said from its category and files alone (title dropout: the
# model sees no title, so the reasoning must not repeat one it cannot see).
_UNTITLED = {
    "feature": "Adds functionality",
    "fix": "Fixes behaviour",
    "docs": "Updates the documentation",
    "refactor": "Restructures code",
    "perf": "Speeds up code",
    "test": "Changes tests",
    "ci": "Changes the CI configuration",
    "build": "Changes the build",
    "deps": "Updates dependencies",
    "chore": "Does maintenance work",
}
LISTED_FIRST = 3  # `where` names a file among the first ones listed: the prompt may cut the rest
_KIND_WORDS = {"source": "source", "test": "test", "config": "config", "docs": "documentation"}
_ISSUE_REF = re.compile(r"[,;]?\s*\(?\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|refs?)\s+#\d+\)?\s*$", re.I)


def third_person(verb: str) -> str:
    """`fix` → `fixes`, `apply` → `applies`, `add` → `adds` (lower case in, lower case out)."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(verb) > 2 and verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _base_verb(word: str) -> str | None:
    """The verb a title's first word stands for, in any common form (add, adds, added, adding)."""
    w = word.lower()
    if w in VERBS or w in _IRREGULAR:
        return w
    candidates = []
    if w.endswith("ied"):
        candidates.append(w[:-3] + "y")
    if w.endswith("ed"):
        candidates += [w[:-2], w[:-1], w[:-3]]  # fixed, updated, dropped
    if w.endswith("ing"):
        candidates += [w[:-3], w[:-3] + "e", w[:-4]]  # adding, using, running
    if w.endswith("ies"):
        candidates.append(w[:-3] + "y")
    if w.endswith("es"):
        candidates.append(w[:-2])
    if w.endswith("s"):
        candidates.append(w[:-1])
    return next((c for c in candidates if c in VERBS), None)


def what(title: str, category: str) -> str:
    """The title as a present-tense sentence without its final full stop."""
    text = _ISSUE_REF.sub("", " ".join(title.split())).rstrip(" .")
    words = text.split()[:MAX_TITLE_WORDS]
    if not words:
        return ""
    verb = _base_verb(words[0])
    if verb is not None:
        return " ".join([third_person(verb).capitalize(), *words[1:]])
    lead = _LEAD_INS.get(category, "Changes")
    return " ".join([lead, *words])


def _common_folder(paths: Sequence[str]) -> str:
    try:
        folder = posixpath.commonpath([posixpath.dirname(p) or "." for p in paths]) if paths else ""
    except ValueError:  # absolute and relative paths mixed (a malformed diff header)
        return ""
    return "" if folder in ("", ".") else folder


def where(files: Sequence[FileDiff]) -> str:
    """Where the change is: its one path, its two paths, or its main path or folder and kind.

    The main path is the most changed of the first files listed, which the prompt's file list
    shows whatever it cuts: a path the model cannot see would teach it to invent paths.
    """
    if not files:
        return ""
    paths = [f.path for f in files]
    if len(files) == 1:
        return f"in {paths[0]}"
    if len(files) == 2:
        return f"in {paths[0]} and {paths[1]}"
    kinds = {f.kind for f in files}
    folder = _common_folder(paths)
    if len(kinds) == 1 and folder:
        return f"across {len(files)} {_KIND_WORDS[kinds.pop()]} files under {folder}/"
    main = max(files[:LISTED_FIRST], key=lambda f: f.additions + f.deletions).path
    return f"in {main} and {len(files) - 1} other files"


def teach(title: str, files: Sequence[FileDiff], category: str) -> str:
    """The reasoning for a change: what it does, then where."""
    said, place = what(title, category), where(files)
    if not said:
        said = _UNTITLED.get(category, "Changes code")
    return f"{said} {place}." if place else f"{said}."


@dataclass(frozen=True)
class AugmentOptions:
    title_dropout: float = 0.3  # share of records shown without title and description
    planted: float = 0.3  # share of records with an instruction planted (train phrasings)
    seed: int = 0


def augment(
    records: Iterable[dict[str, Any]], categories: Sequence[str], phrasings: Sequence[Phrasing],
    options: AugmentOptions,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Records with a `reasoning`; some without title and body, some with an instruction planted.

    The reasoning and the label always describe the real change, so the model learns both to
    summarise a diff without a title and to ignore instructions inside the change. `augmented`
    says what was done to a record, for reading the data back.
    """
    rng = random.Random(options.seed)
    for record in records:
        change = change_from_record(record, ())
        out = {**record, "reasoning": teach(change.title, change.files, record["category"])}
        done = []
        if rng.random() < options.title_dropout:
            out["title"], out["body"] = "", ""
            out["reasoning"] = teach("", change.files, record["category"])  # only what stays visible
            done.append("title-dropout")
        if phrasings and rng.random() < options.planted:
            placement = rng.choice(PLACEMENTS)
            target = rng.choice([c for c in categories if c != record["category"]] or list(categories))
            out = plant(out, placement, rng.choice(phrasings).render(target))
            done.append(f"planted:{placement}:{target}")
        if done:
            out["augmented"] = ",".join(done)
        yield out
