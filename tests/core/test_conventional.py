"""Conventional Commits titles: the trailing pull request number comes off, in linear time."""

from __future__ import annotations

import time

from prtriage.core.conventional import category_for, clean_body, clean_title


def test_a_trailing_pull_request_number_comes_off() -> None:
    assert clean_title("Add retries (#12)") == "Add retries"
    assert clean_title("Add retries  (#12) (#13)") == "Add retries"
    assert clean_title("(#12)") == ""
    assert clean_title("Add (#12) retries") == "Add (#12) retries"
    assert clean_body("- feat: one (#3)\n- two") == "- one\n- two"


def test_a_title_full_of_spaces_is_cleaned_in_linear_time() -> None:
    """Whoever opens the pull request writes its title and description: a long run of spaces
    before a last word costs about what ordinary text of that size does."""

    def took(text: str) -> float:
        start = time.perf_counter()
        clean_title(text)
        clean_body(text)
        return time.perf_counter() - start

    n = 40_000
    hostile, benign = "x" + " " * n + "y", "x " * (n // 2) + "yy"
    assert took(hostile) < 20 * took(benign) + 0.05


def test_release_and_dependency_subjects_are_read_in_linear_time() -> None:
    """A release word then a run of spaces (`\\s*:?\\s*` split it both ways), a long word with no
    `@` (each start scanned it for `pkg@1.2`), a run of bump verbs (each scanned to the end), a run
    of `(#1)` (each scanned the rest): four times the text takes about four times as long."""
    from prtriage.core.conventional import Subject, is_release

    def took(n: int) -> float:
        start = time.perf_counter()
        is_release("release" + " " * n + "x")
        is_release("chore(release): " + "a" * n)
        category_for(Subject("chore", None, False, "bump " * (n // 5)), {"chore": "chore"})
        clean_title("x" + "(#1)" * (n // 4) + "y")
        return time.perf_counter() - start

    small, large = took(4_000), took(16_000)
    assert large < 12 * small + 0.05, (small, large)


def test_release_and_dependency_subjects_still_read_as_before() -> None:
    from prtriage.core.conventional import is_release, parse_subject

    for subject in ("release 1.2.3", "release pkg@1.2.3", "release: @scope/pkg@1.2.3", "v2.0.0", "publish",
                    "chore(release): prepare pkg@1.2.0", "Version Packages"):  # fmt: skip
        assert is_release(subject), subject
    for subject in ("release notes page", "chore: bump version of eslint", "build(release): fix signing"):
        assert not is_release(subject), subject
    deps = parse_subject("chore: bump a and bump b to 3")
    assert deps is not None and category_for(deps, {"chore": "chore"}) == "deps"
    assert clean_title("Add (#1)(#2)") == "Add" and clean_title("x (#1)(#2) (#3)") == "x"
