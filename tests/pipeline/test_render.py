"""What people read: text, markdown and JSON of a result, certain or uncertain."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from rich.console import Console

from prtriage.pipeline.render import MARKDOWN_FILE_ROWS, print_text, to_json, to_markdown
from prtriage.pipeline.result import NO_ROOM, FileEntry, Result


def result(confidence: float, min_confidence: float | None) -> Result:
    rest = (1 - confidence) / 2
    return Result(
        category="fix", confidence=confidence,
        probabilities={"fix": confidence, "feature": rest, "docs": rest},
        reasoning="Raises a clear error when dividing by zero in src/app.py.",
        files=(FileEntry("src/app.py", None, "modified", "source", 2, 0, "full", None),),
        model="m.gguf", adapter=None, prompt_tokens=300, body_cut=False, source="x",
        min_confidence=min_confidence,
    )  # fmt: skip


def text_of(r: Result) -> str:
    out = io.StringIO()
    print_text(r, Console(file=out, width=100, highlight=False), show_timings=False)
    return out.getvalue()


def test_uncertain_result_says_so_first_and_keeps_the_argmax() -> None:
    r = result(0.36, 0.5)
    assert r.uncertain
    text = text_of(r)
    assert text.splitlines()[0] == (
        "uncertain: the most likely category, fix, has 36%, below min-confidence 50%: "
        "no fail-on, no category label"
    )
    md = to_markdown(r)
    assert md.splitlines()[2].startswith("**Uncertain:** the most likely category, fix, has 36%")
    assert md.index("**Uncertain:**") < md.index("**Category:** `fix` (36%)")
    data = json.loads(to_json(r))
    assert data["category"] == "fix" and data["uncertain"] is True and data["min_confidence"] == 0.5


def test_certain_result_has_no_uncertain_note() -> None:
    for r in (result(0.8, 0.5), result(0.2, None), result(0.5, 0.5)):  # at the threshold counts
        assert not r.uncertain
        assert "uncertain" not in text_of(r) and "Uncertain" not in to_markdown(r)
        assert json.loads(to_json(r))["uncertain"] is False


ADAPTER = "/home/someone/.venv/lib/python3.11/site-packages/prtriage/bundled/default-adapter.gguf"


def test_text_footer_keeps_the_adapter_path_whole_on_a_narrow_console() -> None:
    entry = FileEntry("src/app.py", None, "modified", "source", 2, 0, "full", None)
    r = Result(
        category="fix", confidence=0.8, probabilities={"fix": 0.8, "feature": 0.2}, reasoning="fix",
        files=(entry,), model="SmolLM2-135M-Instruct (embedded)", adapter=ADAPTER, prompt_tokens=123,
        body_cut=False, source="a..b", timings={"budget_s": 0.01, "prompt_s": 0.5, "total_s": 0.7},
    )  # fmt: skip
    out = io.StringIO()
    print_text(r, Console(file=out, width=60, highlight=False, color_system=None))
    text = out.getvalue()
    assert ADAPTER in text  # not folded mid-word across lines
    footer = next(line for line in text.splitlines() if "prompt tokens" in line)
    assert footer.startswith("SmolLM2-135M-Instruct (embedded) + ") and footer.endswith("total 0.70s")


FILES = (
    FileEntry("src/a|b.py", None, "modified", "source", 2, 1, "full", None),
    FileEntry("src/big.py", None, "modified", "source", 300, 0, "partial", "cut to fit"),
    FileEntry("yarn.lock", None, "modified", "config", 10, 10, "none", "lock file"),
)


# Probabilities out of rank order, a reasoning with markdown's special characters, three files.
MIXED = Result(
    category="fix", confidence=0.7, probabilities={"docs": 0.1, "fix": 0.7, "feature": 0.2},
    reasoning="Handles <None> | empty\ninput — café", files=FILES, model="m.gguf", adapter="a.gguf",
    prompt_tokens=321, body_cut=True, source="x", timings={"prompt_s": 0.5, "total_s": 0.75, "tokens": 3.0},
)  # fmt: skip


def plain_text(r: Result, show_timings: bool = True) -> list[str]:
    out = io.StringIO()
    print_text(r, Console(file=out, width=100, highlight=False, color_system=None), show_timings)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_markdown_lists_categories_by_probability_and_escapes_what_would_break_the_table() -> None:
    lines = to_markdown(MIXED, heading="## triage").splitlines()
    assert lines[:7] == [
        "## triage",
        "",
        "**Category:** `fix` (70%)",
        "",
        "**Saw little:** the model was shown 1% of the changed lines.",
        "",
        "**Why:** Handles &lt;None&gt; \\| empty input — café",
    ]
    start = lines.index("| category | probability |")
    assert lines[start + 2 : start + 5] == ["| fix | 70.0% |", "| feature | 20.0% |", "| docs | 10.0% |"]
    assert lines[-1] == "<sub>m.gguf + adapter `a.gguf` · 321 prompt tokens</sub>"


def test_markdown_files_say_how_much_of_each_the_model_saw() -> None:
    md = to_markdown(MIXED)
    assert "<details><summary>3 files changed, 2 not fully shown to the model</summary>" in md
    assert "| `src/a\\|b.py` | 2 | 1 | shown |" in md
    assert "| `src/big.py` | 300 | 0 | partly shown (cut to fit) |" in md
    assert "| `yarn.lock` | 10 | 10 | not shown (lock file) |" in md
    assert md.endswith("</sub>\n")


def test_markdown_keeps_a_long_file_list_to_its_first_rows() -> None:
    many = tuple(
        FileEntry(f"f{i}.py", None, "added", "source", 1, 0, "full", None)
        for i in range(MARKDOWN_FILE_ROWS + 7)
    )
    md = to_markdown(replace(MIXED, files=many, reasoning=""))
    assert f"{MARKDOWN_FILE_ROWS + 7} files changed, 0 not fully shown" in md
    assert f"| `f{MARKDOWN_FILE_ROWS - 1}.py` |" in md and f"`f{MARKDOWN_FILE_ROWS}.py`" not in md
    assert "| … and 7 more | | | |" in md
    assert "> " not in md  # no reasoning, no quote


def test_text_shows_the_ranking_the_files_the_cut_and_the_timings() -> None:
    lines = plain_text(MIXED)
    assert lines[0] == "fix  70% ██████████████······"
    table = lines.index("category  probability")
    assert [line.split()[:2] for line in lines[table + 1 : table + 4]] == [
        ["fix", "70.0%"], ["feature", "20.0%"], ["docs", "10.0%"]
    ]  # fmt: skip
    assert "src/big.py  300   0  partly shown (cut to fit)" in lines
    assert "yarn.lock    10  10  not shown (lock file)" in lines
    assert "The description was cut to fit the context." in lines
    # Only the *_s timings are durations; the footer names the adapter beside the model.
    assert lines[-1] == "m.gguf + a.gguf · 321 prompt tokens · prompt 0.50s · total 0.75s"
    assert not any("prompt tokens" in line for line in plain_text(MIXED, show_timings=False))


def test_json_keeps_text_as_written_and_lists_the_files_not_fully_shown() -> None:
    data = json.loads(out := to_json(MIXED))
    assert "café" in out and "—" in out  # not \u-escaped
    assert data["reasoning"] == "Handles <None> | empty\ninput — café"
    assert data["dropped"] == ["src/big.py", "yarn.lock"]
    assert data["description_cut"] is True and data["adapter"] == "a.gguf"
    assert [f["included"] for f in data["files"]] == [True, True, False]


def test_text_labels_the_reasoning_and_keeps_it_one_line_off_a_terminal() -> None:
    r = replace(result(0.8, None), reasoning="Raises a clear error in src/app.py. " * 4)
    out = io.StringIO()
    print_text(r, Console(file=out, width=40, highlight=False), show_timings=False)
    why = [line for line in out.getvalue().splitlines() if line.startswith("why: ")]
    assert why == ["why: " + r.reasoning.strip()]  # labelled, and never folded into a new line


def _seen(shown: tuple[tuple[int, str, int | None], ...]) -> Result:
    files = tuple(
        FileEntry(
            f"src/f{i}.py",
            None,
            "modified",
            "source",
            lines,
            0,
            state,
            NO_ROOM if state == "none" else None,
            seen,
        )
        for i, (lines, state, seen) in enumerate(shown)
    )
    return replace(result(0.8, 0.5), files=files)


def test_a_result_says_when_the_model_saw_under_half_or_not_the_biggest_file() -> None:
    enough = _seen(((10, "full", None), (8, "partial", 4)))
    assert not enough.saw_little and enough.shown_fraction == 14 / 18
    assert "saw little" not in text_of(enough) and "Saw little" not in to_markdown(enough)
    little = _seen(((10, "full", None), (30, "partial", 5)))
    assert little.saw_little and little.shown_fraction == 15 / 40
    assert "saw little: the model was shown 38% of the changed lines" in text_of(little)
    assert "**Saw little:** the model was shown 38% of the changed lines." in to_markdown(little)
    biggest = _seen(((10, "full", None), (12, "none", None), (1, "full", None)))
    assert biggest.saw_little and biggest.biggest_unseen is not None
    assert "not src/f1.py, the most changed file" in text_of(biggest)
    data = json.loads(to_json(little))
    assert data["saw_little"] is True and data["shown_fraction"] == 0.375 and data["uncertain"] is False


def test_seeing_little_counts_as_uncertain_only_when_asked() -> None:
    little = _seen(((10, "full", None), (30, "none", None)))
    assert not little.uncertain  # said, never acted on silently
    asked = replace(little, saw_little_uncertain=True)
    assert asked.uncertain and not asked.below_min_confidence
    assert text_of(asked).splitlines()[0].startswith("uncertain: the model saw little of the change")
    assert json.loads(to_json(asked))["uncertain"] is True


def test_files_left_out_by_design_do_not_count_as_unseen() -> None:
    lock = FileEntry("yarn.lock", None, "modified", "config", 900, 300, "none", "lock file")
    r = replace(result(0.8, None), files=(*result(0.8, None).files, lock))
    assert r.shown_fraction == 1.0 and not r.saw_little
