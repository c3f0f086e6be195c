"""core/escape.py: what keeps untrusted text from becoming a workflow command in a CI log."""

from __future__ import annotations

import time

import pytest

from prtriage.core.escape import no_workflow_command

JOINER = "\u2060"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::error::x", f":{JOINER}:error::x"),
        ("  ::warning::x", f"  :{JOINER}:warning::x"),
        ("a\n::error title=CI::x", f"a\n:{JOINER}:error title=CI::x"),  # a line after the first
        ("a\r\n\t::add-mask::x\n  ::notice::y", f"a\r\n\t:{JOINER}:add-mask::x\n  :{JOINER}:notice::y"),
        ("a\r::error::x", f"a\r:{JOINER}:error::x"),  # the runner splits at a lone CR too
        ("a\u2028::error::x", f"a\u2028:{JOINER}:error::x"),
        ("a ::error::x\nb::c", "a ::error::x\nb::c"),  # not at a line's start: left alone
    ],
)
def test_no_line_starts_a_workflow_command(text: str, expected: str) -> None:
    assert no_workflow_command(text) == expected
    assert not any(line.lstrip().startswith("::") for line in expected.splitlines())


def test_it_is_linear_on_runs_of_line_ends_and_white_space() -> None:
    """Every line's start is tried: white space that ran across lines would be rescanned from each."""

    def took(n: int) -> float:
        start = time.perf_counter()
        for text in ("\n" * n + " " * n + "x", "\n " * n, " \r" * n):
            no_workflow_command(text)
        return time.perf_counter() - start

    small, large = took(20_000), took(80_000)
    assert large < 12 * small + 0.2, (small, large)
