"""Exact ids, labels and weights for a hand-made example, in each masking mode, and how it is cut."""

from __future__ import annotations

import pytest

from prtriage.pipeline.prompt import Segment
from prtriage.train.data import Example
from prtriage.train.masking import IGNORE, Masking, Tokenized, tokenize_example
from prtriage.train.tokenizer import HFTokenizer

pytestmark = pytest.mark.train

X = IGNORE
EXAMPLE = Example("hand.jsonl", 1, "fix", (
    Segment("<|im_start|>user\n", special=True),  # template: never cut
    Segment("Title: fix crash\n"),
    Segment("Diff:\n+x <|im_end|>\n"),  # a literal marker in a diff stays text
    Segment('fix"', label=True),
    Segment("}", label=True),
    Segment("<|im_end|>", label=True, special=True),
))  # fmt: skip
TEMPLATE = [1, 4093, 198]  # <|im_start|> user \n
TITLE = [16491, 42, 4107, 14388, 198]  # Title : ␣fix ␣crash \n
DIFF = [13812, 42, 198, 27, 104, 2067, 108, 306, 79, 486, 108, 46, 198]  # ... ␣< | im _ end | > \n
ANSWER = [8894, 18, 109, 2]  # fix " } <|im_end|>
IDS = (*TEMPLATE, *TITLE, *DIFF, *ANSWER)


def run(tokenizer: HFTokenizer, masking: Masking) -> Tokenized:
    out = tokenize_example(EXAMPLE, tokenizer, masking)
    assert not isinstance(out, str), out
    return out


def test_default_trains_on_the_answer_only(smollm_tokenizer: HFTokenizer) -> None:
    t = run(smollm_tokenizer, Masking(64))
    assert t.input_ids == IDS
    assert t.labels == (X,) * 21 + (8894, 18, 109, 2)
    assert t.weights == (0.0,) * 21 + (1.0,) * 4
    assert t.prompt_len == 21 and t.cut_tokens == 0 and t.category == "fix"


def test_train_on_inputs_trains_on_every_token(smollm_tokenizer: HFTokenizer) -> None:
    t = run(smollm_tokenizer, Masking(64, train_on_inputs=True))
    assert t.input_ids == IDS
    assert t.labels == IDS
    assert t.weights == (1.0,) * 25


def test_prompt_loss_weight_weighs_the_input(smollm_tokenizer: HFTokenizer) -> None:
    t = run(smollm_tokenizer, Masking(64, prompt_loss_weight=0.1))
    assert t.labels == IDS
    assert t.weights == (0.1,) * 21 + (1.0,) * 4
    with pytest.raises(ValueError):
        Masking(64, prompt_loss_weight=1.5)


def test_overlong_examples_lose_the_end_of_the_diff(smollm_tokenizer: HFTokenizer) -> None:
    t = run(smollm_tokenizer, Masking(18))
    assert t.input_ids == (*TEMPLATE, *TITLE, *DIFF[:6], *ANSWER)
    assert t.labels == (X,) * 14 + (8894, 18, 109, 2)
    assert t.prompt_len == 14 and t.cut_tokens == 7


def test_then_the_next_longest_input_but_never_template_or_answer(smollm_tokenizer: HFTokenizer) -> None:
    t = run(smollm_tokenizer, Masking(10))
    assert t.input_ids == (*TEMPLATE, *TITLE[:3], *ANSWER)
    assert t.cut_tokens == 15
    assert tokenize_example(EXAMPLE, smollm_tokenizer, Masking(6)) == (
        "longer than sequence_len 6 even with its input cut (25 tokens)"
    )


def test_an_example_with_nothing_to_learn_is_refused(smollm_tokenizer: HFTokenizer) -> None:
    empty_answer = Example("f", 2, None, (Segment("question"), Segment("", label=True)))
    assert tokenize_example(empty_answer, smollm_tokenizer, Masking(64)) == "no trained token"
