"""The one fail-on verdict (prtriage/commands/common.py) shared by every classify mode."""

from __future__ import annotations

import io

from rich.console import Console

from prtriage.commands.common import fail_on_code
from prtriage.core.errors import EXIT_FAIL_ON, EXIT_OK
from prtriage.core.settings import Settings

FAILING = Settings(fail_on=("fix", "docs"))


def _said(category: str, uncertain: bool) -> tuple[int, str]:
    out = io.StringIO()
    code = fail_on_code(category, FAILING, Console(file=out, width=200), uncertain)
    return code, out.getvalue().strip()


def test_a_category_in_fail_on_fails_and_says_so() -> None:
    assert _said("fix", uncertain=False) == (EXIT_FAIL_ON, "prtriage: category 'fix' is in fail-on")


def test_an_uncertain_result_never_fails() -> None:
    code, said = _said("docs", uncertain=True)
    assert code == EXIT_OK and said == "prtriage: category 'docs' is in fail-on, but the result is uncertain"


def test_other_categories_pass_silently() -> None:
    assert _said("feature", uncertain=False) == (EXIT_OK, "")
    assert fail_on_code("fix", Settings()) == EXIT_OK  # no fail-on configured


def test_without_a_console_nothing_is_said() -> None:
    assert fail_on_code("fix", FAILING) == EXIT_FAIL_ON  # batch: its summary line is enough
