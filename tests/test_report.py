"""What people read: text, markdown and JSON of a result, certain or uncertain."""

from __future__ import annotations

import io
import json

from rich.console import Console

from prtriage.budget import FileEntry
from prtriage.report import print_text, to_json, to_markdown
from prtriage.triage import Result


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


ADAPTER = "/home/someone/.venv/lib/python3.11/site-packages/prtriage/data/default-adapter.gguf"


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
