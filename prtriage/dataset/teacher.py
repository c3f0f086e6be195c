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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prtriage.dataset.planting import PLACEMENTS, Phrasing, plant
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.diff import FileDiff
from prtriage.pipeline.summary import UNTITLED, what

LISTED_FIRST = 3  # `where` names a file among the first ones listed: the prompt may cut the rest
_KIND_WORDS = {"source": "source", "test": "test", "config": "config", "docs": "documentation"}


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
        said = UNTITLED.get(category, "Changes code")
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
