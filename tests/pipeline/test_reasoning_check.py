"""Each reasoning flag on hand-made cases, good and bad."""

from __future__ import annotations

import pytest

from prtriage.pipeline.reasoning_check import ChangeFacts, check_reasoning, invented_paths, summarise

NAMES = ("feature", "fix", "docs", "refactor", "perf", "test", "ci", "build", "deps", "chore")
DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,4 @@\n def div(a, b):\n+    if b == 0:\n+        raise ValueError('b is zero')\n     return a / b\n"
)
FACTS = ChangeFacts.of("Raise a clear error on division by zero", ["src/app.py"], DIFF)


def flags(reasoning: str, answer: str = "fix", facts: ChangeFacts = FACTS) -> tuple[str, ...]:
    return check_reasoning(reasoning, answer, NAMES, facts)


@pytest.mark.parametrize(
    "reasoning",
    [
        "Raises a ValueError in src/app.py when the divisor is zero instead of crashing later.",
        "Adds a guard to div so that dividing by zero fails with a clear error.",  # title words
        "Checks the divisor in app.py before dividing and raises when it is zero.",  # file name
        "Fixes a crash: div now raises ValueError when b is zero, with a test-friendly message.",
    ],
)
def test_good_reasonings_pass(reasoning: str) -> None:
    assert flags(reasoning) == ()


def test_length() -> None:
    assert "length" in flags("Raises ValueError in src/app.py.")  # 4 words
    long = "Raises a ValueError in src/app.py " + "and then it goes on " * 10
    assert "length" in flags(long)
    assert "length" not in flags("Raises a ValueError in src/app.py now.")  # 6 words


def test_bare_category_name() -> None:
    assert flags("fix") == ("length", "bare-category", "cites-nothing")
    assert "bare-category" in flags("Docs.", answer="docs")
    assert "bare-category" not in flags("Fixes the division by zero in src/app.py today.")


def test_names_another_category_as_what_the_change_is() -> None:
    assert "other-category" in flags("test", answer="feature")  # the example
    assert "other-category" in flags("This is a docs change to src/app.py about division by zero.")
    assert "other-category" in flags("docs: explain division by zero handling in src/app.py for users")
    assert "other-category" in flags("The change looks like a refactor of div in src/app.py overall.")
    # Using a category's word for something else is not calling the change that category.
    assert "other-category" not in flags("Raises a clear error in div and adds a test for zero divisors.")
    assert "other-category" not in flags("This is a fix for division by zero in src/app.py today.")


def test_verbatim_copy_of_the_title() -> None:
    assert "copies-title" in flags("Raise a clear error on division by zero")
    assert "copies-title" in flags("raise a clear error on division by zero.")
    assert "copies-title" not in flags("Raises a clear error on division by zero in src/app.py.")


def test_cites_nothing_from_the_change() -> None:
    generic = "Adds new functionality or a new capability for users of the product."
    assert flags(generic, answer="feature") == ("cites-nothing",)
    assert "cites-nothing" not in flags("Guards against a zero divisor with ValueError before returning.")
    # Stop words and generic verbs in the title do not count as citing it.
    facts = ChangeFacts.of("Update the code", ["x/y.go"], "")
    assert "cites-nothing" in flags("This change updates the code and makes some changes to it.", facts=facts)


def test_summary_rates() -> None:
    s = summarise([(), ("length",), ("length", "cites-nothing"), ()])
    assert s["pass_rate"] == 0.5
    assert s["flag_rates"]["length"] == 0.5 and s["flag_rates"]["cites-nothing"] == 0.25
    assert s["flag_rates"]["copies-title"] == 0.0
    assert summarise([])["pass_rate"] is None


def test_a_path_not_in_the_change_is_invented() -> None:
    facts = ChangeFacts.of(
        "fix the pool",
        ["packages/vitest/src/node/pool.ts", "docs/guide/a.md"],
        '+import x from "./utils/x.ts"\n',
    )

    def flags(text: str) -> tuple[str, ...]:
        return check_reasoning(text, "fix", NAMES, facts)

    for grounded in (
        "Fixes the worker count in packages/vitest/src/node/pool.ts.",  # a changed path
        "Fixes the worker count in pool.ts, and nothing else.",  # its file name
        "Rewrites the pages under docs/guide/ about workers.",  # a folder of one
        "Moves the helper it imports to utils/x.ts for the pool.",  # a path the diff mentions
        "Fixes the pool for Node.js workers and/or threads.",  # prose, not paths
    ):
        assert "invented-path" not in flags(grounded), grounded
    for invented in (
        "Fixes the worker count in packages/vitest/src/index.ts.",
        "Fixes the pool and updates package.json for it.",
    ):
        assert "invented-path" in flags(invented), invented


def test_a_piece_of_a_real_path_is_no_invention_but_a_lookalike_is() -> None:
    facts = ChangeFacts.of("Rename", ["a.py.new", "src/lib/util.ts"], "")
    for said in ("Renames a.py.new.", "Changes src/lib/util.ts and lib/util.ts.", "Changes src/lib/."):
        assert invented_paths(said, facts) == [], said
    for said in ("Changes b.py.", "Changes lib/util.js.", "Changes ib/util.ts."):
        assert invented_paths(said, facts) != [], said
