"""Category names from config: short identifiers, matched in full."""

from __future__ import annotations

import pytest

from prtriage.core.categories import make_categories
from prtriage.core.errors import ConfigError


def test_a_name_with_a_trailing_newline_is_refused() -> None:
    # `^...$` let "docs\n" through: `$` also matches before a final newline.
    with pytest.raises(ConfigError, match="bad category name"):
        make_categories({"docs\n": "documentation", "fix": "a bug fixed"}, "prtriage.toml")


def test_good_names_are_kept() -> None:
    names = [c.name for c in make_categories({"docs": "documentation", "fix-up": "a bug"}, "x")]
    assert names == ["docs", "fix-up"]
