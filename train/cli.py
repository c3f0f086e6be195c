"""`prtriage train ...`: imports nothing heavy at module level (torch loads inside commands)."""

from __future__ import annotations

import click


@click.group()
def train() -> None:
    """Fine-tune a model on labeled changes and export it as GGUF (needs the train extra)."""
