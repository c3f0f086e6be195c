"""Reading training data: every bad line named by file:line and reason, records built as inference builds prompts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from train_helpers import change_records, write_jsonl

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.jsonl import reason_counts, skipped_summary
from prtriage.dataset.sampling import seeded_subset
from prtriage.pipeline.budget import fit_change
from prtriage.pipeline.change import change_from_diff
from prtriage.pipeline.prompt import answer_segments, tokenize_segments
from prtriage.train.data import (
    PromptBudget,
    build_example,
    example_to_json,
    read_rows,
    split_rows,
)
from prtriage.train.masking import Masking, tokenize_example
from prtriage.train.tokenizer import HFTokenizer

pytestmark = pytest.mark.train

GOOD_ROW = {"segments": [{"label": False, "text": "Q: 1+1?\n"}, {"label": True, "text": "A: 2"}]}


def test_every_bad_line_is_reported_with_its_reason(tmp_path: Path) -> None:
    record = change_records()[0]
    lines = [
        GOOD_ROW,  # 1
        "not json",  # 2
        "[1, 2]",  # 3
        {"segments": []},  # 4
        {"segments": [{"label": True, "text": 5}]},  # 5
        {"segments": [{"label": False, "text": "only input"}]},  # 6
        {"segments": [{"label": "yes", "text": "a"}]},  # 7
        {"segments": [{"label": True, "text": 'fix"'}], "category": "nope"},  # 8
        {**record, "category": "bugfix"},  # 9
        {"title": "no diff", "category": "fix"},  # 10
        record,  # 11
        {**record, "reasoning": 3},  # 12
        {"segments": ["text"]},  # 13
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    rows, skipped = read_rows(path, "auto", DEFAULT_CATEGORIES)
    assert [(r.line, r.record is not None) for r in rows] == [(1, False), (11, True)]
    assert [(b.line, b.reason) for b in skipped] == [
        (2, "not JSON (Expecting value)"),
        (3, "not a JSON object"),
        (4, "no 'segments' list (or an empty one)"),
        (5, "segment 0: 'text' missing or not a string"),
        (6, "no trainable segment (no segment has label true)"),
        (7, "segment 0: 'label' missing or not true/false"),
        (8, "unknown category 'nope'"),
        (9, "unknown category 'bugfix'"),
        (10, "neither 'segments' (input_output row) nor 'diff' (change record)"),
        (12, "'reasoning' is not a string"),
        (13, "segment 0: not an object"),
    ]
    assert all(str(b).startswith(f"{path}:{b.line}: ") for b in skipped)
    assert reason_counts(skipped) == {
        "not JSON": 1, "not a JSON object": 1, "no 'segments' list": 1, "segment 'text' missing or not a string": 1,
        "no trainable segment": 1, "segment 'label' missing or not true/false": 1, "unknown category": 2,
        "neither 'segments' (input_output row) nor 'diff'": 1, "'reasoning' is not a string": 1,
        "segment not an object": 1,
    }  # fmt: skip
    assert skipped_summary(skipped).startswith("skipped 11 lines: 2 unknown category, 1 not JSON, ")


def test_declared_type_is_enforced(tmp_path: Path) -> None:
    no_category = {k: v for k, v in change_records()[0].items() if k != "category"}
    path = write_jsonl(tmp_path / "rows.jsonl", [GOOD_ROW, no_category])
    rows, skipped = read_rows(path, "changes", DEFAULT_CATEGORIES)
    assert rows == []
    assert [b.reason for b in skipped] == [
        "'diff' missing or not a string",
        "'category' missing or not a string",
    ]


def test_gzip_and_special_segments(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl.gz"
    row = {
        "segments": [
            {"label": False, "text": "<|im_start|>user\n", "special": True},
            {"label": True, "text": "x"},
        ]
    }
    with gzip.open(path, "wt") as f:
        f.write(json.dumps(row) + "\n")
    rows, _ = read_rows(path, "input_output", DEFAULT_CATEGORIES)
    assert [s.special for s in rows[0].segments or ()] == [True, False]
    # Axolotl's behaviour (control tokens parsed everywhere) is a dataset option.
    plain = {"segments": [{"label": False, "text": "<|im_start|>"}, {"label": True, "text": "x"}]}
    rows, _ = read_rows(
        write_jsonl(tmp_path / "a.jsonl", [plain]), "input_output", DEFAULT_CATEGORIES, parse_special=True
    )
    assert rows[0].segments is not None and rows[0].segments[0].special


def test_a_record_becomes_the_inference_prompt_plus_its_answer(
    tmp_path: Path, smollm_tokenizer: HFTokenizer
) -> None:
    record = {**change_records()[0], "body": "It crashed.\n<|im_end|>", "reasoning": 'Adds a "guard".'}
    rows, _ = read_rows(write_jsonl(tmp_path / "r.jsonl", [record]), "changes", DEFAULT_CATEGORIES)
    budget = PromptBudget(DEFAULT_CATEGORIES, context_size=512, reasoning_tokens=48)
    example = build_example(rows[0], smollm_tokenizer, budget)
    assert not hasattr(example, "reason")
    change = change_from_diff(record["title"], record["body"], record["diff"].splitlines(True), ())
    fitted = fit_change(
        change.title, change.body, change.files, DEFAULT_CATEGORIES, smollm_tokenizer, 512, 48
    )
    assert example.segments == (*fitted.segments, *answer_segments("fix", 'Adds a "guard".'))
    tokenized = tokenize_example(example, smollm_tokenizer, Masking(512))
    assert not isinstance(tokenized, str)
    # The model trains on exactly the ids classify will score after.
    assert tokenized.input_ids[: tokenized.prompt_len] == fitted.ids
    answer = tokenize_segments(answer_segments("fix", 'Adds a "guard".'), smollm_tokenizer)
    assert tokenized.input_ids[tokenized.prompt_len :] == tuple(i for p in answer for i in p)
    assert example.category == "fix"
    assert example_to_json(example)["segments"][0]["special"] is True
    # Written as an input_output row (build-data) and read back, it is the same example.
    rows, _ = read_rows(
        write_jsonl(tmp_path / "rows.jsonl", [example_to_json(example)]), "input_output", DEFAULT_CATEGORIES
    )
    again = build_example(rows[0], smollm_tokenizer, budget)
    assert again.segments == example.segments and again.category == "fix"  # type: ignore[union-attr]


def test_records_that_cannot_fit_are_reported(tmp_path: Path, smollm_tokenizer: HFTokenizer) -> None:
    rows, _ = read_rows(
        write_jsonl(tmp_path / "r.jsonl", change_records()[:1]), "changes", DEFAULT_CATEGORIES
    )
    tiny = PromptBudget(DEFAULT_CATEGORIES, context_size=300, reasoning_tokens=48)
    bad = build_example(rows[0], smollm_tokenizer, tiny)
    assert bad.line == 1 and "leaves no room for the change" in bad.reason  # type: ignore[union-attr]


def test_split_by_repository_keeps_repositories_apart(tmp_path: Path) -> None:
    records = change_records(("a/x", "b/y", "c/z", "d/w"))
    rows, _ = read_rows(write_jsonl(tmp_path / "r.jsonl", records), "changes", DEFAULT_CATEGORIES)
    train, val, how = split_rows(rows, 0.25, seed=1)
    assert how.startswith("by repository: ")
    assert {r.group for r in train}.isdisjoint({r.group for r in val})
    assert len(val) == 2 and len(train) == 6
    assert split_rows(rows, 0.25, seed=1)[1] == val  # deterministic


def test_split_without_repositories_is_random_rows(tmp_path: Path) -> None:
    rows, _ = read_rows(
        write_jsonl(tmp_path / "r.jsonl", [GOOD_ROW] * 10), "input_output", DEFAULT_CATEGORIES
    )
    train, val, how = split_rows(rows, 3, seed=0)
    assert how == "random rows" and len(val) == 3 and len(train) == 7
    assert split_rows(rows, 0, seed=0)[1] == []
    assert len(seeded_subset(rows, 4, seed=0)) == 4 and seeded_subset(rows, None, seed=0) == rows
