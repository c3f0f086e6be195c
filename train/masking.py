"""Segments → token ids, labels and loss weights: what the model is trained on, token by token.

Each segment is tokenized on its own (`prompt.tokenize_segments`, as inference does) and the ids
concatenated. Labels follow Hugging Face's convention: aligned with the inputs (the model shifts
them), `-100` where nothing is learned. Three modes:

- default: answer segments (`label: true`) trained, input segments masked (-100, weight 0);
- `train_on_inputs`: every token trained with weight 1 (Axolotl's key; PR details may matter);
- `prompt_loss_weight` W in (0, 1]: every token trained, input tokens weighted W, answer tokens 1 —
  between full masking (0) and none (1); small W helps when inputs are long and answers short.

Overlong examples are cut inside the input — the longest plain-text input segment, the diff for
change records — never in a template segment or the trained answer (Axolotl drops such rows, and
its "truncate" cuts the end, i.e. the answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prtriage.pipeline.prompt import Segment, Tokenizer, tokenize_segments
from prtriage.train.data import Example

IGNORE = -100


@dataclass(frozen=True)
class Masking:
    sequence_len: int
    train_on_inputs: bool = False
    prompt_loss_weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.prompt_loss_weight <= 1.0:
            raise ValueError("prompt_loss_weight must be between 0 and 1")

    @property
    def input_weight(self) -> float:
        return 1.0 if self.train_on_inputs else self.prompt_loss_weight


@dataclass(frozen=True)
class Tokenized:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]  # aligned with input_ids; the model predicts labels[i] from ids[:i]
    weights: tuple[float, ...]  # loss weight of each label (0 where the label is -100)
    prompt_len: int  # ids before the first trained segment: the prompt category scoring starts from
    category: str | None
    path: str
    line: int
    cut_tokens: int  # input tokens cut to fit sequence_len

    def __len__(self) -> int:
        return len(self.input_ids)


def cut_inputs(pieces: list[list[int]], segments: Sequence[Segment], excess: int, has_bos: bool) -> int:
    """Remove `excess` tokens from the ends of the longest plain input segments; returns what is left."""
    cuttable = sorted(
        (i for i, s in enumerate(segments) if not s.label and not s.special),
        key=lambda i: len(pieces[i]),
        reverse=True,
    )
    for i in cuttable:
        if excess <= 0:
            break
        keep_min = 1 if i == 0 and has_bos else 0  # the BOS was put into the first piece
        take = min(excess, len(pieces[i]) - keep_min)
        if take > 0:
            pieces[i] = pieces[i][: len(pieces[i]) - take]
            excess -= take
    return excess


def tokenize_example(example: Example, tokenizer: Tokenizer, masking: Masking) -> Tokenized | str:
    """The example's ids, labels and weights, or why it cannot be trained on."""
    segments = example.segments
    pieces = tokenize_segments(segments, tokenizer)
    total = sum(len(p) for p in pieces)
    cut = 0
    if total > masking.sequence_len:
        left = cut_inputs(pieces, segments, total - masking.sequence_len, tokenizer.bos_id is not None)
        if left > 0:
            return f"longer than sequence_len {masking.sequence_len} even with its input cut ({total} tokens)"
        cut = total - masking.sequence_len
    ids: list[int] = []
    labels: list[int] = []
    weights: list[float] = []
    prompt_len: int | None = None
    for segment, piece in zip(segments, pieces):
        if segment.label and prompt_len is None:
            prompt_len = len(ids)
        weight = 1.0 if segment.label else masking.input_weight
        ids.extend(piece)
        labels.extend(piece if weight > 0 else [IGNORE] * len(piece))
        weights.extend([weight] * len(piece))
    # The first label is never predicted (no token before it): weights past position 0 decide.
    if prompt_len is None or not any(w > 0 for w in weights[1:]):
        return "no trained token"
    return Tokenized(
        tuple(ids),
        tuple(labels),
        tuple(weights),
        prompt_len,
        example.category,
        example.path,
        example.line,
        cut,
    )
