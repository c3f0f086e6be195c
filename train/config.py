"""Training configuration: a YAML file with Axolotl-like keys, then command-line overrides.

Unknown keys are errors (a typo must not silently train with a default), and so are Axolotl keys
prtriage does not implement, with the reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prtriage.core.categories import DEFAULT_CATEGORIES, Category, make_categories
from prtriage.core.errors import ConfigError
from prtriage.core.settings import DEFAULT_REASONING_TOKENS
from prtriage.pipeline.prompt import NAMES, PROMPT_FORMATS
from prtriage.train.data import DATASET_TYPES

# Axolotl keys that mean something prtriage does not do, and what to do instead.
UNSUPPORTED = {
    "sample_packing": "batches are length-grouped instead (group_by_length)",
    "load_in_8bit": "quantized training is not supported; the base is trained in fp32/bf16",
    "load_in_4bit": "quantized training is not supported; the base is trained in fp32/bf16",
    "chat_template": "the prompt format is prtriage's own (prtriage.pipeline.prompt)",
    "peft_use_dora": "llama.cpp adapters do not understand DoRA",
    "peft_use_rslora": "llama.cpp adapters do not understand rsLoRA scaling",
    "deepspeed": "use accelerate launch or torchrun (data parallel)",
    "fsdp": "use accelerate launch or torchrun (data parallel)",
}
LR_SCHEDULERS = ("cosine", "linear", "constant")


BF16_MODES = ("auto", "true", "false", "autocast")


@dataclass(frozen=True)
class Dataset:
    path: Path
    type: str = "auto"  # input_output | changes | auto (per line)
    parse_special: bool = (
        False  # Axolotl parses control tokens in every segment; prtriage only in `special` ones
    )


@dataclass(frozen=True)
class TrainConfig:
    base_model: str = "embedded"
    datasets: tuple[Dataset, ...] = ()
    test_datasets: tuple[Dataset, ...] = ()  # explicit validation data (else val_set_size of datasets)
    val_set_size: float = 0.05  # below 1: a fraction; from 1: a number of rows
    max_samples: int | None = None  # train on at most this many rows (a seeded choice)
    eval_max_samples: int = 64  # validation rows evaluated (loss and category accuracy)
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    exclude: tuple[str, ...] = ()  # file globs the model never sees, as `classify --exclude`
    sequence_len: int = 1024
    context_size: int | None = None  # the diff budget of change records; default sequence_len
    reasoning_tokens: int = DEFAULT_REASONING_TOKENS  # room the budget leaves for the answer
    # The instructions the adapter learns to read (prompt.py): "names" (a task line and the
    # category names: most of the context left to the change) or "definitions" (v1's prompt).
    # Written into the exported GGUF, so classify builds the same prompt.
    prompt_format: str = NAMES
    train_on_inputs: bool = False
    prompt_loss_weight: float = 0.0
    adapter: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] | None = None  # None: every linear layer of the blocks
    lora_init: Path | None = None  # start the LoRA from this exported adapter .gguf (train/lora_init.py)
    # Blocks that get LoRA (Axolotl's name); None: all. Top blocks only skip the backward pass
    # through the frozen lower ones, which roughly halves a CPU step.
    peft_layers_to_transform: tuple[int, ...] | None = None
    micro_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    num_epochs: float = 1.0
    max_steps: int | None = None  # optimizer steps; overrides num_epochs
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_steps: int | None = None
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = False  # as Axolotl; on CPU it costs ~35% more time (benchmarks)
    group_by_length: bool = True
    # auto: bf16 on a GPU that supports it, fp32 otherwise (and always on CPU); true: bf16 weights
    # and autocast; autocast: fp32 weights, bf16 autocast (docs/training.md compares them on CPU)
    bf16: str = "auto"
    seed: int = 42
    logging_steps: int = 1
    eval_steps: int = 50
    save_steps: int = 100
    save_total_limit: int = 2
    output_dir: Path = Path("runs/prtriage")
    threads: int | None = None  # torch CPU threads; None: the free cores (prtriage/pipeline/cpu.py)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # the YAML as read, for run.json

    @property
    def budget_context(self) -> int:
        return self.context_size or self.sequence_len


def _want(cond: bool, key: str, what: str) -> None:
    if not cond:
        raise ConfigError(f"config: '{key}' must be {what}")


def _datasets(key: str, value: Any) -> tuple[Dataset, ...]:
    if isinstance(value, (str, Path)):
        value = [{"path": str(value)}]
    _want(isinstance(value, list), key, "a list of {path, type}")
    out = []
    for item in value:
        if isinstance(item, str):
            item = {"path": item}
        _want(isinstance(item, dict) and isinstance(item.get("path"), str), key, "a list of {path, type}")
        unknown = set(item) - {"path", "type", "parse_special"}
        if unknown:
            raise ConfigError(f"config: unknown key {sorted(unknown)[0]!r} in {key}")
        kind = item.get("type", "auto")
        _want(kind in DATASET_TYPES, f"{key}.type", "one of " + ", ".join(DATASET_TYPES))
        parse_special = item.get("parse_special", False)
        _want(isinstance(parse_special, bool), f"{key}.parse_special", "true or false")
        # Relative paths are relative to the working directory, as in Axolotl.
        out.append(Dataset(Path(item["path"]).expanduser(), kind, parse_special))
    return tuple(out)


def _coerce(name: str, value: Any, annotation: str) -> Any:
    """Check a scalar key against its field's type (YAML already parsed numbers and booleans)."""
    if value is None and "None" in annotation:
        return None
    if annotation.startswith("bool"):
        _want(isinstance(value, bool), name, "true or false")
    elif annotation.startswith("int"):
        _want(isinstance(value, int) and not isinstance(value, bool), name, "an integer")
    elif annotation.startswith("float"):
        _want(isinstance(value, (int, float)) and not isinstance(value, bool), name, "a number")
        value = float(value)
    elif annotation.startswith("str"):
        _want(isinstance(value, str), name, "a string")
    elif annotation.startswith("Path"):
        _want(isinstance(value, str), name, "a path")
        value = Path(value).expanduser()
    elif annotation.startswith("tuple[str"):
        if isinstance(value, str):
            value = [value]
        _want(isinstance(value, list) and all(isinstance(v, str) for v in value), name, "a list of strings")
        value = tuple(value)
    elif annotation.startswith("tuple[int"):
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        _want(ok and bool(value) and min(value) >= 0, name, "a list of block numbers (0 = the first)")
        value = tuple(sorted(set(value)))
    return value


def build_config(raw: dict[str, Any], source: str) -> TrainConfig:
    """A checked TrainConfig from parsed YAML (and overrides merged into it)."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig) if f.name != "extra"}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in UNSUPPORTED:
            raise ConfigError(f"{source}: '{key}' is not supported: {UNSUPPORTED[key]}")
        if key not in fields:
            raise ConfigError(
                f"{source}: unknown key {key!r}", hint="known keys: " + ", ".join(sorted(fields))
            )
        if key in ("datasets", "test_datasets"):
            values[key] = _datasets(key, value)
        elif key == "categories":
            values[key] = DEFAULT_CATEGORIES if value is None else make_categories(value, source)
        else:
            f = fields[key]
            values[key] = _coerce(key, value, str(f.type))
    cfg = TrainConfig(**values, extra=dict(raw))
    _check(cfg, source)
    return cfg


def _check(cfg: TrainConfig, source: str) -> None:
    def need(cond: bool, message: str) -> None:
        if not cond:
            raise ConfigError(f"{source}: {message}")

    need(
        bool(cfg.datasets), "no datasets: add `datasets: [{path: FILE.jsonl, type: changes}]` or pass --data"
    )
    need(cfg.adapter == "lora", "adapter must be 'lora' (full fine-tuning is not supported)")
    need(0.0 <= cfg.prompt_loss_weight <= 1.0, "prompt_loss_weight must be between 0 and 1")
    need(cfg.sequence_len >= 128, "sequence_len must be at least 128")
    need(cfg.lora_r >= 1 and cfg.lora_alpha > 0, "lora_r and lora_alpha must be positive")
    need(0.0 <= cfg.lora_dropout < 1.0, "lora_dropout must be in [0, 1)")
    need(cfg.micro_batch_size >= 1 and cfg.gradient_accumulation_steps >= 1, "batch sizes must be positive")
    need(cfg.max_steps is None or cfg.max_steps >= 1, "max_steps must be at least 1")
    need(cfg.num_epochs > 0, "num_epochs must be positive")
    need(cfg.learning_rate > 0, "learning_rate must be positive")
    need(cfg.lr_scheduler in LR_SCHEDULERS, "lr_scheduler must be one of " + ", ".join(LR_SCHEDULERS))
    need(cfg.bf16 in BF16_MODES, "bf16 must be one of " + ", ".join(BF16_MODES))
    need(cfg.prompt_format in PROMPT_FORMATS, "prompt_format must be one of " + ", ".join(PROMPT_FORMATS))
    need(cfg.val_set_size >= 0, "val_set_size must not be negative")
    need(cfg.eval_steps >= 1 and cfg.save_steps >= 1 and cfg.logging_steps >= 1, "*_steps must be positive")
    need(cfg.budget_context <= cfg.sequence_len, "context_size must not exceed sequence_len")


def read_config(path: Path, overrides: dict[str, Any]) -> TrainConfig:
    """The YAML file's keys, then `overrides` (from the command line) on top."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    # bf16 may be written as a YAML boolean
    if isinstance(raw.get("bf16"), bool):
        raw["bf16"] = "true" if raw["bf16"] else "false"
    raw.update(overrides)
    return build_config(raw, str(path))


def parse_override(item: str) -> tuple[str, Any]:
    """`key=value` from --set; the value is parsed as YAML (numbers, booleans, lists)."""
    import yaml

    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: use KEY=VALUE")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if key.strip() == "bf16" and isinstance(parsed, bool):
        parsed = "true" if parsed else "false"
    return key.strip(), parsed


def config_to_json(cfg: TrainConfig) -> dict[str, Any]:
    """The resolved config, JSON-ready (run.json keeps it for export, verify and --resume)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if f.name == "extra":
            continue
        value = getattr(cfg, f.name)
        if f.name in ("datasets", "test_datasets"):
            value = [{"path": str(d.path), "type": d.type, "parse_special": d.parse_special} for d in value]
        elif f.name == "categories":
            value = {c.name: c.definition for c in value}
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out
