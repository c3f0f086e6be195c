"""What a change does, as a sentence in the present tense, from its title.

"fix crash on empty input" → "Fixes crash on empty input"; a title that is a noun phrase
("config validation") gets its category's verb; an untitled change is said from its category.
The teacher (prtriage/dataset/teacher.py) writes training reasonings with it and classify's
explanation (explain.py) starts with it, so the two say a change the same way.
"""

from __future__ import annotations

import re

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
UNTITLED = {
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
