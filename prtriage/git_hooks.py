"""pre-commit hooks: classify what a push sends (pre-push), check a commit's type (commit-msg).

pre-commit passes the pushed range in PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF (variables in a
hook's `args` are not expanded, so they are read here). The diff goes against the merge base with
the remote's default branch: FROM..TO alone would count everything a merge of main brought in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prtriage.core.conventional import DEFAULT_TYPE_MAP, Subject, category_for, clean_body, parse_subject
from prtriage.pipeline import git
from prtriage.pipeline.change import Change, change_from_push, change_from_staged
from prtriage.pipeline.git import EMPTY_TREE

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class PushRange:
    start: str  # a commit, or EMPTY_TREE when the push holds the root commit
    end: str
    source: str  # how it was chosen, for the report


def pre_push_range(repo: Path, env: Mapping[str, str], base: str | None = None) -> PushRange | None:
    """The range a push sends, from pre-commit's environment; None when there is nothing to classify.

    Order of preference: the merge base with `base` (config/--base) or the remote's default
    branch; else PRE_COMMIT_FROM_REF (pre-commit sets it to the parent of the first commit the
    remote lacks); else, for a push that holds the root commit (no FROM/TO at all), everything.
    """
    to_ref = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    if set(to_ref) == {"0"}:
        return None  # deleting a remote branch
    end = git.commit_id(repo, to_ref)
    if end is None:
        raise git.GitError(f"the pushed commit {to_ref} is not in this repository")
    remote = env.get("PRE_COMMIT_REMOTE_NAME") or "origin"
    target = base or git.remote_default_branch(repo, remote)
    if target and git.ref_exists(repo, target):
        start = git.find_merge_base(repo, target, end)
        if start is not None:
            return PushRange(start, end, f"{target}...{to_ref}")
    start = git.commit_id(repo, env.get("PRE_COMMIT_FROM_REF", ""))
    if start is not None:
        return PushRange(start, end, f"{start[:12]}..{to_ref}")
    return PushRange(EMPTY_TREE, end, f"everything up to {to_ref} (the push holds the root commit)")


def pre_push_change(
    cwd: Path, env: Mapping[str, str], exclude: Sequence[str], base: str | None = None,
    title: str | None = None, body: str | None = None,
) -> Change | None:  # fmt: skip
    """The change a push sends, or None when it sends no file changes."""
    repo = git.repo_root(cwd)
    span = pre_push_range(repo, env, base)
    if span is None:
        return None
    return change_from_push(repo, span.start, span.end, span.source, exclude, title, body)


# --- commit-msg -------------------------------------------------------------------------------

_SCISSORS = "------------------------ >8 ------------------------"
_AUTOSQUASH = ("fixup!", "squash!", "amend!")


@dataclass(frozen=True)
class CommitMessage:
    title: str
    body: str
    subject: Subject | None  # the parsed Conventional Commits header, if the title has one

    @property
    def expected(self) -> str | None:
        """The category the type claims (the same map that labels training data from history)."""
        return category_for(self.subject, DEFAULT_TYPE_MAP) if self.subject else None

    @property
    def said(self) -> str:
        s = self.subject
        return f"{s.type}({s.scope})" if s and s.scope else (s.type if s else "")


def parse_commit_message(text: str, comment_char: str = "#") -> CommitMessage:
    """A commit message as git will record it: comments and the `git commit -v` diff removed."""
    lines = []
    for line in text.splitlines():
        if line.startswith(comment_char) and _SCISSORS in line:
            break
        if not line.startswith(comment_char):
            lines.append(line.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    title = lines[0].strip() if lines else ""
    return CommitMessage(title, "\n".join(lines[1:]).strip(), parse_subject(title))


def read_commit_message(path: Path) -> CommitMessage:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise git.GitError(f"cannot read the commit message file {path}: {e.strerror}") from None
    return parse_commit_message(text)


def skip_reason(message: CommitMessage, categories: Sequence[str]) -> str | None:
    """Why a commit message needs no classification, or None when its type can be checked."""
    if not message.title:
        return "empty commit message"
    if message.title.startswith(_AUTOSQUASH) or message.title.startswith(("Merge ", "Revert ")):
        return "merge, revert or autosquash commit"
    if message.subject is None:
        return "no Conventional Commits type in the title"
    if message.expected not in categories:
        return f"type {message.said!r} maps to no configured category"
    return None


def staged_change(cwd: Path, exclude: Sequence[str], message: CommitMessage) -> Change | None:
    """The staged change under the message without its type: the model must not just read the answer."""
    title = message.subject.description if message.subject else message.title
    return change_from_staged(cwd, exclude, title, clean_body(message.body))


@dataclass(frozen=True)
class TypeCheck:
    """The commit-msg hook's answer, from the lexical model and the path-and-keyword rules only."""

    agrees: bool
    text: str
    category: str  # what the change looks like: the lexical model's first choice (else the rules')
    confidence: float
    uncertain: bool = False  # below min-confidence: reported, never blocks


QUICK = "quick check, no LLM (lexical model and path rules; the model runs on pre-push and in CI)"


def check_type(
    message: CommitMessage,
    lexical: Mapping[str, float] | None,
    rule_votes: Mapping[str, float],
    min_confidence: float | None = None,
) -> TypeCheck:
    """Does the change look like what the type says? It agrees when the type's category is the
    lexical model's first or second choice, or what the rules vote for most.

    Measured on the held-out repositories (benchmarks/commit_msg_hook.py, docs/hooks.md): given
    each commit's own type it warns on 20% of commits, given a wrong one it catches 85%; the
    lexical model's first choice alone would warn on 41% and catch 95%.
    """
    expected = message.expected or ""
    top_votes = max(rule_votes.values(), default=0.0)
    # A lone vote of 1 is the rules' fallback when nothing fired ("chore"): no evidence.
    fired = top_votes > 0 and sorted(rule_votes.values())[-2:] != [0.0, 1.0]
    rules = [c for c, v in rule_votes.items() if v == top_votes] if fired else []
    said = f"'{message.said}'"
    rules_said = f"rules: {', '.join(rules) or 'none'}"
    if lexical:
        ranked = sorted(lexical, key=lambda c: -lexical[c])
        category, confidence = ranked[0], lexical[ranked[0]]
        agrees = expected in ranked[:2] or expected in rules
        looks = f"{category} ({confidence:.0%}), then {ranked[1]} ({lexical[ranked[1]]:.0%})"
        means = f"{said} means {expected} ({lexical.get(expected, 0.0):.0%})"
        evidence = f"lexical model: {looks}; {rules_said}"
    else:  # no lexical model for these categories: the rules alone, the type when none fired
        category, confidence = (rules[0], 1.0 / len(rules)) if rules else (expected, 0.0)
        agrees, looks, means = expected in rules or not rules, category, f"{said} means {expected}"
        rules_said += "; no lexical model for these categories"
        evidence = rules_said
    if agrees:
        text = f"{said} agrees with the change ({evidence}) — {QUICK}"
    else:
        text = f"{means}, but the change looks like {looks}; {rules_said} — {QUICK}"
    uncertain = min_confidence is not None and confidence < min_confidence
    return TypeCheck(agrees, text, category, confidence, uncertain)
