"""Config → tokenized train and validation examples, and every line skipped on the way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prtriage.core.jsonl import BadLine, partition_bad
from prtriage.dataset.sampling import seeded_subset
from prtriage.pipeline.prompt import Tokenizer
from prtriage.train.config import Dataset, TrainConfig
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


def _read_datasets(datasets: Sequence[Dataset], cfg: TrainConfig, skipped: list[BadLine]) -> list[Row]:
    """The rows of every dataset in turn; their bad lines are added to `skipped`."""
    rows: list[Row] = []
    for ds in datasets:
        found, bad = read_rows(ds.path, ds.type, cfg.categories, ds.parse_special)
        rows.extend(found)
        skipped.extend(bad)
    return rows


def read_all(cfg: TrainConfig) -> tuple[list[Row], list[Row], list[BadLine], str]:
    """Train and validation rows (validated, split, sampled) and the lines skipped."""
    skipped: list[BadLine] = []
    rows = _read_datasets(cfg.datasets, cfg, skipped)
    if cfg.test_datasets:
        val = _read_datasets(cfg.test_datasets, cfg, skipped)
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
    return PromptBudget(
        cfg.categories, cfg.budget_context, cfg.reasoning_tokens, cfg.exclude, cfg.prompt_format
    )


def tokenize_all(
    examples: Sequence[Example], tokenizer: Tokenizer, masking: Masking
) -> tuple[list[Tokenized], list[BadLine]]:
    """Each example as ids, labels and loss weights; one that cannot be trained on is a skipped line."""

    def tokenized(ex: Example) -> Tokenized | BadLine:
        t = tokenize_example(ex, tokenizer, masking)
        return BadLine(ex.path, ex.line, t) if isinstance(t, str) else t

    return partition_bad(map(tokenized, examples))


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
