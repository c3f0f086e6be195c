"""Config → tokenized train and validation examples, and every line skipped on the way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prtriage.dataset.sampling import seeded_subset
from prtriage.prompt import Tokenizer
from prtriage.records import BadLine
from prtriage.train.config import TrainConfig
from prtriage.train.data import (
    Example,
    PromptBudget,
    Row,
    build_examples,
    read_rows,
    split_rows,
)
from prtriage.train.masking import Masking, Tokenized, tokenize_example


@dataclass
class Prepared:
    train: list[Tokenized]
    val: list[Tokenized]  # answer-only labels whatever the training mode: eval loss stays comparable
    skipped: list[BadLine]  # every line not used, in the order found
    split: str  # how validation was chosen


def read_all(cfg: TrainConfig) -> tuple[list[Row], list[Row], list[BadLine], str]:
    """Train and validation rows (validated, split, sampled) and the lines skipped."""
    skipped: list[BadLine] = []
    rows: list[Row] = []
    for ds in cfg.datasets:
        found, bad = read_rows(ds.path, ds.type, cfg.categories, ds.parse_special)
        rows.extend(found)
        skipped.extend(bad)
    if cfg.test_datasets:
        val: list[Row] = []
        for ds in cfg.test_datasets:
            found, bad = read_rows(ds.path, ds.type, cfg.categories, ds.parse_special)
            val.extend(found)
            skipped.extend(bad)
        train, split = rows, "test_datasets"
    else:
        train, val, split = split_rows(rows, cfg.val_set_size, cfg.seed)
    # Sampled before the prompt is built: building is the costly part on large files.
    return (
        seeded_subset(train, cfg.max_samples, cfg.seed),
        seeded_subset(val, cfg.eval_max_samples, cfg.seed),
        skipped,
        split,
    )


def prompt_budget(cfg: TrainConfig) -> PromptBudget:
    return PromptBudget(cfg.categories, cfg.budget_context, cfg.reasoning_tokens, cfg.exclude)


def tokenize_all(
    examples: Sequence[Example], tokenizer: Tokenizer, masking: Masking
) -> tuple[list[Tokenized], list[BadLine]]:
    out: list[Tokenized] = []
    skipped: list[BadLine] = []
    for ex in examples:
        t = tokenize_example(ex, tokenizer, masking)
        if isinstance(t, str):
            skipped.append(BadLine(ex.path, ex.line, t))
        else:
            out.append(t)
    return out, skipped


def prepare(cfg: TrainConfig, tokenizer: Tokenizer) -> Prepared:
    train_rows, val_rows, skipped, split = read_all(cfg)
    budget = prompt_budget(cfg)
    masking = Masking(cfg.sequence_len, cfg.train_on_inputs, cfg.prompt_loss_weight)
    train_ex, bad = build_examples(train_rows, tokenizer, budget)
    skipped.extend(bad)
    train, bad = tokenize_all(train_ex, tokenizer, masking)
    skipped.extend(bad)
    val_ex, bad = build_examples(val_rows, tokenizer, budget)
    skipped.extend(bad)
    val, bad = tokenize_all(val_ex, tokenizer, Masking(cfg.sequence_len))
    skipped.extend(bad)
    return Prepared(train, val, skipped, split)
