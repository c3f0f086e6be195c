"""Conventional Commits titles: the trailing pull request number comes off, in linear time."""

from __future__ import annotations

import time

from prtriage.core.conventional import clean_body, clean_title


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
