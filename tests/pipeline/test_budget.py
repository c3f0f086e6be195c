from __future__ import annotations

import pytest
from fake_engine import WordTokenizer

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import BudgetError
from prtriage.pipeline.budget import answer_reserve, fit_change
from prtriage.pipeline.diff import mark_skipped, parse_diff
from prtriage.pipeline.prompt import tokenize_segments


def _file(path: str, n: int, word: str = "value") -> str:
    body = "".join(f"+{word} = {i}  # a line of {path}\n" for i in range(n))
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -0,0 +1,{n} @@\n{body}"


def _files(*chunks: str):
    files = parse_diff("".join(chunks).splitlines(True))
    mark_skipped(files, ("gen/*",), {})
    return files


def test_fits_exactly_and_keeps_every_file_listed(engine) -> None:
    files = _files(
        _file("docs/guide.md", 40, "doc"),
        _file("tests/test_core.py", 30, "check"),
        _file("src/core.py", 400, "code"),
        _file("src/small.py", 3, "tiny"),
        _file("pnpm-lock.yaml", 50, "lock"),
        _file("gen/api.py", 5, "gen"),
    )
    fitted = fit_change("Big change", "Body text.", files, DEFAULT_CATEGORIES, engine, 1024, 48)
    budget = 1024 - answer_reserve(DEFAULT_CATEGORIES, engine, 48)
    assert fitted.budget_tokens == budget
    # Exact: the ids are the per-segment tokenization, and they fit.
    assert list(fitted.ids) == [i for p in tokenize_segments(fitted.segments, engine) for i in p]
    assert len(fitted.ids) <= budget
    assert len(fitted.ids) > budget - 80  # and the room was used
    by_path = {f.path: f for f in fitted.files}
    assert set(by_path) == {f.path for f in files}
    for f in files:  # every file listed with its counts, shown or not
        assert f"{f.path} (+{f.additions} -{f.deletions})" in fitted.change.file_list
    assert fitted.listed == len(files)
    assert by_path["src/small.py"].shown == "full"
    assert by_path["src/core.py"].shown == "partial"
    assert by_path["src/core.py"].reason == "cut to fit the context"
    assert by_path["pnpm-lock.yaml"].reason == "lock file" and by_path["pnpm-lock.yaml"].shown == "none"
    assert by_path["gen/api.py"].reason == "excluded by config"
    # Source comes before tests and docs: the big source file ate the rest of the room.
    assert by_path["docs/guide.md"].shown == "none"
    assert by_path["docs/guide.md"].reason == "no room in the context"
    diff = fitted.change.diff
    assert diff.index("src/small.py") < diff.index("src/core.py")
    assert {f.path for f in fitted.dropped} == {
        "src/core.py",
        "tests/test_core.py",
        "docs/guide.md",
        "pnpm-lock.yaml",
        "gen/api.py",
    }


def test_everything_fits_in_a_large_context(engine) -> None:
    files = _files(_file("src/a.py", 5), _file("tests/test_a.py", 5), _file("README.md", 5))
    fitted = fit_change("t", "", files, DEFAULT_CATEGORIES, engine, 4096, 48)
    assert [f.shown for f in fitted.files] == ["full", "full", "full"]
    assert fitted.dropped == []
    diff = fitted.change.diff
    assert diff.index("src/a.py") < diff.index("tests/test_a.py") < diff.index("README.md")


def test_long_description_is_cut(engine) -> None:
    body = "This sentence explains the change at length. " * 500
    fitted = fit_change("t", body, _files(_file("src/a.py", 5)), DEFAULT_CATEGORIES, engine, 1024, 48)
    assert fitted.body_cut
    assert len(fitted.change.body) < len(body)
    assert fitted.files[0].shown == "full"


def test_context_too_small_is_a_clear_error(engine) -> None:
    with pytest.raises(BudgetError, match="context-size 300"):
        fit_change("t", "", _files(_file("src/a.py", 5)), DEFAULT_CATEGORIES, engine, 300, 48)


def test_cut_to_tokens_with_tokens_longer_than_16_characters() -> None:
    """Issue 12's bug: a fixed 16-characters-a-token window kept a fraction and said nothing was cut."""
    from prtriage.pipeline.budget import cut_to_tokens

    def count(text: str) -> int:  # every 81 characters one token, as a run of `#` in SmolLM2's vocabulary
        return -(-len(text) // 81)

    text = ("#" * 80 + "\n") * 400  # 400 tokens
    kept, cut = cut_to_tokens(text, 100, count)
    assert cut and 95 <= count(kept) <= 100
    assert cut_to_tokens(text[: 81 * 50], 100, count) == (text[: 81 * 50], False)
    assert cut_to_tokens("", 100, count) == ("", False) and cut_to_tokens("abc", 0, count) == ("", True)


def test_long_token_description_is_cut_and_says_so(engine) -> None:
    body = ("#" * 80 + "\n") * 400
    count = len(engine.tokenize(body, False))
    assert count >= 400
    files = _files(_file("src/a.py", 3))
    fitted = fit_change("Title", body, files, DEFAULT_CATEGORIES, engine, 512, 48)
    assert fitted.body_cut


# With a fake engine (one token per word): exact counts, no model to load.


def test_fake_engine_fit_is_exact_and_orders_hunks_by_kind() -> None:
    engine = WordTokenizer()
    files = _files(
        _file("docs/guide.md", 40, "doc"), _file("src/core.py", 150, "code"), _file("src/small.py", 3)
    )
    fitted = fit_change("Big change", "Body text.", files, DEFAULT_CATEGORIES, engine, 1024, 48)
    assert fitted.budget_tokens == 1024 - answer_reserve(DEFAULT_CATEGORIES, engine, 48)
    assert list(fitted.ids) == [i for p in tokenize_segments(fitted.segments, engine) for i in p]
    assert len(fitted.ids) <= fitted.budget_tokens
    assert fitted.shared_prefix == len(engine.tokenize(fitted.segments[0].text, fitted.segments[0].special))
    shown = {f.path: f.shown for f in fitted.files}
    assert shown == {"src/small.py": "full", "src/core.py": "partial", "docs/guide.md": "none"}
    assert fitted.change.diff.index("src/small.py") < fitted.change.diff.index("src/core.py")


def test_fake_engine_a_long_description_is_cut_at_a_line_and_says_so() -> None:
    engine = WordTokenizer()
    body = "".join(f"line {i} of a long description\n" for i in range(200))  # 1200 words
    fitted = fit_change("t", body, _files(_file("src/a.py", 3)), DEFAULT_CATEGORIES, engine, 1024, 48)
    assert fitted.body_cut and fitted.change.body.endswith("description\n")
    assert body.startswith(fitted.change.body)
    assert fitted.files[0].shown == "full"


def test_fake_engine_file_list_is_capped_with_a_count_of_the_rest() -> None:
    engine = WordTokenizer()
    files = _files(*(_file(f"src/m{i}.py", 1) for i in range(300)))
    fitted = fit_change("t", "", files, DEFAULT_CATEGORIES, engine, 1024, 48)
    assert fitted.change.file_list.endswith("more files")
    assert len(fitted.files) == 300  # every file is still in the result
    # How many it names (the first ones): the planted-text detector reads those paths whole.
    named = fitted.change.file_list.splitlines()[:-1]
    assert fitted.listed == len(named) and named[-1].split()[1] == f"src/m{len(named) - 1}.py"
    assert fitted.change.file_list.endswith(f"... and {300 - len(named)} more files")


def test_fake_engine_context_too_small() -> None:
    with pytest.raises(BudgetError, match="leaves no room for the change"):
        fit_change("t", "", _files(_file("src/a.py", 5)), DEFAULT_CATEGORIES, WordTokenizer(), 200, 48)
