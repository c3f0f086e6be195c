"""A run folder: what `fit` leaves for `export`, `verify` and `--resume`.

run.json              the resolved config, the base, data counts, final metrics
adapter/              the final LoRA (peft format: adapter_config.json + safetensors)
checkpoint-<step>/    adapter, optimizer, scheduler and step, for --resume
metrics.jsonl         one line per logged step and evaluation
skipped.txt           every input line not used, file:line: reason
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage.core.atomic import atomic_path
from prtriage.core.categories import Category, make_categories
from prtriage.core.errors import UsageError
from prtriage.pipeline.prompt import DEFINITIONS, TrainedPrompt
from prtriage.train.base import Base, resolve_base

RUN_FILE = "run.json"
ADAPTER_DIR = "adapter"
CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class Run:
    folder: Path
    info: dict[str, Any]

    @property
    def base(self) -> Base:
        return resolve_base(self.info["base_model"])

    @property
    def adapter(self) -> Path:
        return self.folder / ADAPTER_DIR

    @property
    def categories(self) -> tuple[Category, ...]:
        return make_categories(self.info["config"]["categories"], str(self.folder / RUN_FILE))

    @property
    def trained_prompt(self) -> TrainedPrompt:
        """The prompt the run trained on (runs from before `prompt_format` existed used v1's),
        as the exported files' metadata records it."""
        fmt = str(self.info["config"].get("prompt_format", DEFINITIONS))
        return TrainedPrompt(fmt, tuple(c.name for c in self.categories), self.sequence_len)

    @property
    def sequence_len(self) -> int:
        return int(self.info["config"]["sequence_len"])


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_run(folder: Path) -> Run:
    """A finished run (its run.json and final adapter), or a usage error saying what is missing."""
    path = folder / RUN_FILE
    if not path.is_file():
        raise UsageError(
            f"{folder} is not a finished training run (no {RUN_FILE})",
            hint="pass the output_dir of `prtriage train fit` with --run",
        )
    info = json.loads(path.read_text(encoding="utf-8"))
    run = Run(folder, info)
    if not (run.adapter / "adapter_config.json").is_file():
        raise UsageError(f"{folder} has no final adapter in {ADAPTER_DIR}/ (did the run finish?)")
    return run


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, folder) of each complete checkpoint, oldest first."""
    found = []
    if folder.is_dir():
        for child in folder.iterdir():
            m = CHECKPOINT.match(child.name)
            if m and (child / "state.json").is_file():
                found.append((int(m.group(1)), child))
    return sorted(found)
