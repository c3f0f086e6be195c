"""`prtriage train fit`: LoRA fine-tuning, read from `fit()` down.

Setup, in this order (the seed is set before the data is read and the LoRA weights are drawn):
1. `setup_devices`: devices and precision (accelerate: one process needs no launcher; under
   `torchrun` or `accelerate launch` it is data-parallel, NCCL on GPUs, gloo on CPUs);
2. `setup_output`: the run folder, and the checkpoint to resume from when asked;
3. `setup_data`: rows → prompt segments → ids, labels, weights (prepare.py);
4. `setup_model`: the base (fp32 on CPU, bf16 on GPU), gradient checkpointing, LoRA through peft;
5. `setup_optimizer`: AdamW, warmup then cosine (or linear/constant), gradient accumulation;
6. `setup_resume`: the checkpoint's adapter, optimizer and schedule, and the step to go on from.
Then `train_loop` runs `train_step` (loss on trained positions only, loss.py, averaged over the
tokens of the whole optimizer step across micro-batches and ranks), `evaluate` (eval loss and
category accuracy on the validation split) and `save_checkpoint`; `save_run` writes the final
adapter and run.json, which `prtriage train export` reads.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from prtriage import __version__
from prtriage.core.errors import ConfigError, UsageError
from prtriage.core.jsonl import SHOWN_SKIPPED, report_skipped, skipped_summary
from prtriage.core.progress import ProgressLine
from prtriage.pipeline.prompt import category_segment
from prtriage.train.base import Base, load_model, load_tokenizer, resolve_base
from prtriage.train.batches import collate, epoch_batches, shard
from prtriage.train.config import TrainConfig, config_to_json
from prtriage.train.loss import LossModel
from prtriage.train.masking import Tokenized
from prtriage.train.prepare import Prepared, prepare
from prtriage.train.rundir import ADAPTER_DIR, RUN_FILE, checkpoints, write_json_atomic
from prtriage.train.scoring import candidate_logprobs, continuation_loss, run_prompt
from prtriage.train.tokenizer import HFTokenizer

# Keys that must not change when a run resumes: they define the data, the model or the optimum.
RESUME_FIXED = (
    "base_model", "datasets", "test_datasets", "val_set_size", "max_samples", "categories", "exclude",
    "sequence_len", "context_size", "reasoning_tokens", "train_on_inputs", "prompt_loss_weight",
    "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "peft_layers_to_transform", "lora_init",
    "micro_batch_size",
    "gradient_accumulation_steps", "learning_rate", "lr_scheduler", "seed",
)  # fmt: skip


@dataclass(frozen=True)
class FitResult:
    output_dir: Path
    steps: int
    train_loss: float
    eval: dict[str, float]


@dataclass(frozen=True)
class Devices:
    """This process's place in the run: accelerate's handle, the precision, and where it speaks."""

    accelerator: Any
    bf16: bool  # bf16 weights (autocast alone keeps fp32 weights: accelerator.mixed_precision says)
    console: Console

    @property
    def main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    @property
    def rank(self) -> int:
        return int(self.accelerator.process_index)

    @property
    def world(self) -> int:
        return int(self.accelerator.num_processes)

    def say(self, message: str) -> None:
        """Print on the main process only: one voice for all ranks."""
        if self.main:
            self.console.print(message, markup=False, soft_wrap=True)


@dataclass(frozen=True)
class TrainData:
    base: Base
    tokenizer: HFTokenizer
    prepared: Prepared
    names: list[str]  # the categories, in config order
    candidates: list[list[int]]  # each category's answer tokens, scored as classify scores them


@dataclass(frozen=True)
class Optimization:
    model: Any  # the peft model: what evaluate runs and checkpoints save
    loss_model: Any  # LossModel around it, as accelerate prepared it (data-parallel under a launcher)
    params: list[torch.nn.Parameter]  # the trainable (LoRA) parameters
    optimizer: Any  # AdamW, as accelerate prepared it
    scheduler: Any  # stepped once per optimizer step, by train_step
    total: int  # optimizer steps in the whole run


@dataclass
class TrainState:
    """Where the loop stands; run.json and FitResult report its last values."""

    step: int
    train_loss: float = float("nan")
    last_eval: dict[str, float] = field(default_factory=dict)


def fit(cfg: TrainConfig, resume: bool | Path = False, console: Console | None = None) -> FitResult:
    from accelerate.utils import set_seed

    dev = setup_devices(cfg, console or Console(stderr=True, highlight=False, soft_wrap=True))
    _set_threads(cfg, dev.say)
    set_seed(cfg.seed)
    checkpoint = setup_output(cfg, resume, dev)
    data = setup_data(cfg, dev)
    model = setup_model(cfg, data.base, dev)
    opt = setup_optimizer(cfg, model, data.prepared.train, dev)
    state = TrainState(step=setup_resume(cfg, checkpoint, opt, dev))

    train_loop(cfg, dev, data, opt, state, resumed=checkpoint is not None)

    out = cfg.output_dir
    if dev.main:
        save_run(cfg, data, opt.model, state, opt.total)
        dev.say(
            f"saved the adapter in {out / ADAPTER_DIR}; export it with: prtriage train export --run {out}"
        )
    dev.accelerator.wait_for_everyone()
    return FitResult(out, opt.total, state.train_loss, state.last_eval)


# Setup.


def setup_devices(cfg: TrainConfig, console: Console) -> Devices:
    from accelerate import Accelerator

    bf16 = _use_bf16(cfg)
    autocast = bf16 or cfg.bf16 == "autocast"
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="bf16" if autocast else "no")
    return Devices(accelerator, bf16, console)


def setup_output(cfg: TrainConfig, resume: bool | Path, dev: Devices) -> Path | None:
    """Make the run folder; return the checkpoint to resume from, checked against the config."""
    out = cfg.output_dir
    if cfg.lora_init is not None:  # said now, not after minutes of tokenizing
        from prtriage.train.lora_init import require_file

        require_file(cfg.lora_init)
    if dev.main:
        out.mkdir(parents=True, exist_ok=True)
    checkpoint = _resume_point(cfg, resume)
    if checkpoint is not None:
        _check_resumable(cfg, _read_state(checkpoint), checkpoint)
    elif dev.main and (out / RUN_FILE).exists():
        dev.say(f"note: {out} holds an earlier run; its files will be replaced")
    return checkpoint


def setup_data(cfg: TrainConfig, dev: Devices) -> TrainData:
    base = resolve_base(cfg.base_model)
    tokenizer = load_tokenizer(base)
    dev.say("reading and tokenizing the training data ...")  # minutes for thousands of records
    prepared = prepare(cfg, tokenizer)
    if dev.main:
        _report_data(prepared, cfg.output_dir, dev.say)
    if not prepared.train:
        raise UsageError("no usable training example", hint="see the skipped lines above")
    names = [c.name for c in cfg.categories]
    candidates = [tokenizer.tokenize(category_segment(n).text, False) for n in names]
    return TrainData(base, tokenizer, prepared, names, candidates)


def setup_model(cfg: TrainConfig, base: Base, dev: Devices) -> Any:
    """The base model with LoRA adapters (peft); only the adapters train."""
    from peft import get_peft_model

    model = load_model(base, torch.bfloat16 if dev.bf16 else torch.float32)
    model.config.use_cache = False
    if cfg.gradient_checkpointing:
        # Non-reentrant: works with frozen inputs (LoRA) and under data-parallel wrappers.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    blocks = model.config.num_hidden_layers
    if cfg.peft_layers_to_transform and max(cfg.peft_layers_to_transform) >= blocks:
        raise ConfigError(f"peft_layers_to_transform: the model has blocks 0 to {blocks - 1}")
    model = get_peft_model(model, lora_config(cfg, model))
    if cfg.lora_init is not None:  # a resumed run's checkpoint replaces these weights later
        from prtriage.train.lora_init import load_lora_init

        layers = load_lora_init(model, cfg.lora_init, cfg.lora_alpha)
        dev.say(f"LoRA started from {cfg.lora_init} ({layers} layers)")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    dev.say(f"model: {base.ref} ({base.kind}), LoRA r={cfg.lora_r} alpha={cfg.lora_alpha}: {trainable:,} "
            f"trainable parameters; {_precision(dev)} on {dev.accelerator.device}, "
            f"{dev.world} process(es)")  # fmt: skip
    return model


def setup_optimizer(cfg: TrainConfig, model: Any, train: list[Tokenized], dev: Devices) -> Optimization:
    total = _total_steps(cfg, train, dev)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = _scheduler(cfg, optimizer, total)
    loss_model, optimizer = dev.accelerator.prepare(LossModel(model), optimizer)
    return Optimization(model, loss_model, params, optimizer, scheduler, total)


def setup_resume(cfg: TrainConfig, checkpoint: Path | None, opt: Optimization, dev: Devices) -> int:
    """The step to go on from: 0, or the checkpoint's, whose adapter, optimizer and schedule it loads."""
    from accelerate.utils import set_seed

    start = 0
    if checkpoint is not None:
        start = load_checkpoint(checkpoint, opt)
        rng = checkpoint / "rng.pt"
        if rng.is_file() and dev.accelerator.num_processes == 1:
            torch.set_rng_state(torch.load(rng, weights_only=True))  # the same dropout draws as one run
        else:  # only the main process's state is saved: other ranks draw anew (data order is the same)
            set_seed(cfg.seed + start)
        dev.say(f"resumed from {checkpoint} at step {start}")
    if start >= opt.total:
        raise UsageError(f"the checkpoint is at step {start}, and max_steps is {opt.total}: nothing to do")
    return start


# The step and the loop.


def train_step(opt: Optimization, group: list[dict[str, torch.Tensor]], dev: Devices,
               max_grad_norm: float) -> tuple[float, float]:  # fmt: skip
    """One optimizer step over a group of micro-batches: (loss, gradient norm before clipping).

    The loss is a mean over all the step's weighted tokens, on every rank together, so that
    accumulation and data parallelism both give the gradient of one large batch."""
    accelerator = dev.accelerator
    weight = torch.tensor(sum(float(b["weights"][:, 1:].sum()) for b in group), device=accelerator.device)
    weight = accelerator.reduce(weight, reduction="sum")
    loss_total = torch.zeros((), dtype=torch.float64, device=accelerator.device)
    for i, batch in enumerate(group):
        sync = i == len(group) - 1  # gradients are exchanged once per optimizer step
        with nullcontext() if sync else accelerator.no_sync(opt.loss_model), accelerator.autocast():
            loss_sum, _ = opt.loss_model(**_to(batch, accelerator.device))
            accelerator.backward(loss_sum * dev.world / weight)
        loss_total += loss_sum.detach().double()
    grad_norm = accelerator.clip_grad_norm_(opt.params, max_grad_norm)
    opt.optimizer.step()
    opt.scheduler.step()
    opt.optimizer.zero_grad(set_to_none=True)
    return float(accelerator.reduce(loss_total, reduction="sum") / weight), float(grad_norm)


def train_loop(cfg: TrainConfig, dev: Devices, data: TrainData, opt: Optimization, state: TrainState,
               resumed: bool) -> None:  # fmt: skip
    """Steps state.step + 1 to opt.total, each logged to metrics.jsonl; eval and checkpoints between."""
    accum = cfg.gradient_accumulation_steps
    batches = _micro_batches(data.prepared.train, cfg, dev.rank, dev.world, skip=state.step * accum)
    log = cfg.output_dir / "metrics.jsonl"  # appended to on resume: steps go on where they stopped
    metrics = log.open("a" if resumed else "w", encoding="utf-8") if dev.main else None
    started = time.perf_counter()
    # A bar on a terminal; in a log, a line per `logging_steps` and every 30 s, with rate and ETA.
    progress = ProgressLine(dev.console, "training", opt.total, "steps", every=cfg.logging_steps,
                            done=state.step, transient=False) if dev.main else None  # fmt: skip
    with progress or nullcontext(), metrics or nullcontext():
        for step in range(state.step + 1, opt.total + 1):
            group = [collate(next(batches), data.tokenizer.pad_id) for _ in range(accum)]
            state.train_loss, grad_norm = train_step(opt, group, dev, cfg.max_grad_norm)
            state.step = step
            record: dict[str, Any] = {"step": step, "loss": round(state.train_loss, 6),
                                      "lr": opt.scheduler.get_last_lr()[0], "grad_norm": grad_norm,
                                      "elapsed_s": round(time.perf_counter() - started, 2)}  # fmt: skip
            if data.prepared.val and (step % cfg.eval_steps == 0 or step == opt.total):
                state.last_eval = evaluate(opt.model, data.prepared.val, data.candidates, data.names,
                                           dev.accelerator)  # fmt: skip
                record.update(state.last_eval)
                dev.say(_eval_line(step, state.last_eval))
            if metrics and (step % cfg.logging_steps == 0 or step == opt.total or "eval_loss" in record):
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
            if progress:
                progress.update(step, info=f"loss {state.train_loss:.4f}, lr {record['lr']:.3g}")
            if dev.main and step % cfg.save_steps == 0 and step < opt.total:
                save_checkpoint(cfg.output_dir, step, opt, cfg)
            dev.accelerator.wait_for_everyone()


@torch.no_grad()
def evaluate(model: Any, val: list[Tokenized], candidates: list[list[int]], names: list[str],
             accelerator: Any) -> dict[str, float]:  # fmt: skip
    """Answer-token loss and category accuracy (scored as classify scores) on this rank's share.

    Each prompt runs once: the answer's loss and the candidates' scores both continue from its cache.
    """
    was_training = model.training
    model.eval()
    mine = val[accelerator.process_index :: accelerator.num_processes]
    sums = torch.zeros(4, dtype=torch.float64, device=accelerator.device)  # loss, weight, correct, scored
    for t in mine:
        with accelerator.autocast():
            state = run_prompt(model, t.input_ids[: t.prompt_len])
            loss, weight = continuation_loss(
                model, state, t.input_ids[t.prompt_len :], t.weights[t.prompt_len :]
            )
            sums[0] += loss
            sums[1] += weight
            if t.category is not None:
                scores = candidate_logprobs(model, state, candidates)
                best = max(range(len(names)), key=lambda i: scores[i])
                sums[2] += float(names[best] == t.category)
                sums[3] += 1
    sums = accelerator.reduce(sums, reduction="sum")
    model.train(was_training)
    out = {"eval_loss": float(sums[0] / sums[1]) if sums[1] > 0 else float("nan")}
    if sums[3] > 0:
        out["eval_accuracy"] = float(sums[2] / sums[3])
        out["eval_scored"] = float(sums[3])
    return out


def _eval_line(step: int, result: dict[str, float]) -> str:
    acc = f", accuracy {result['eval_accuracy']:.3f}" if "eval_accuracy" in result else ""
    return f"step {step}: eval loss {result['eval_loss']:.4f}{acc}"


# Checkpoints and the finished run.


def save_checkpoint(folder: Path, step: int, opt: Optimization, cfg: TrainConfig) -> None:
    """checkpoint-{step}/ (adapter, optimizer.pt, scheduler.pt, state.json), written under a
    temporary name then renamed; only the newest `save_total_limit` stay."""
    target = folder / f"checkpoint-{step}"
    tmp = folder / f".checkpoint-{step}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    opt.model.save_pretrained(tmp, save_embedding_layers=False)  # LoRA only: embeddings are not trained
    torch.save(opt.optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(opt.scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save(torch.get_rng_state(), tmp / "rng.pt")  # dropout's draws, so a resume follows the same curve
    # state.json last: a checkpoint without it is incomplete and never resumed from
    write_json_atomic(tmp / "state.json", {"step": step, "config": config_to_json(cfg)})
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    limit = cfg.save_total_limit
    for _, old in checkpoints(folder)[:-limit] if limit > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(where: Path, opt: Optimization) -> int:
    """Load a checkpoint's adapter, optimizer and scheduler state; return its step."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(opt.model, load_file(where / "adapter_model.safetensors"))
    opt.optimizer.load_state_dict(torch.load(where / "optimizer.pt", map_location="cpu", weights_only=True))
    opt.scheduler.load_state_dict(torch.load(where / "scheduler.pt", map_location="cpu", weights_only=True))
    return int(_read_state(where)["step"])


def _read_state(checkpoint: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    return state


def save_run(cfg: TrainConfig, data: TrainData, model: Any, state: TrainState, total: int) -> None:
    """The final adapter and run.json, which `prtriage train export` reads."""
    out, base, prepared = cfg.output_dir, data.base, data.prepared
    shutil.rmtree(out / ADAPTER_DIR, ignore_errors=True)
    model.save_pretrained(out / ADAPTER_DIR, save_embedding_layers=False)
    write_json_atomic(out / RUN_FILE, {
        "prtriage_version": __version__,
        "base_model": base.portable_ref,  # absolute: export may run from another folder
        "base": {"kind": base.kind, "gguf": str(base.gguf) if base.gguf else None, "source": base.source},
        "add_bos": data.tokenizer.bos_id is not None,
        "config": config_to_json(cfg),
        "steps": total,
        "train_loss": state.train_loss,
        "eval": state.last_eval,
        "data": {"train": len(prepared.train), "val": len(prepared.val), "skipped": len(prepared.skipped),
                 "split": prepared.split},
    })  # fmt: skip


# Small parts.


def _resume_point(cfg: TrainConfig, resume: bool | Path) -> Path | None:
    if resume is False:
        return None
    if isinstance(resume, Path):
        if not (resume / "state.json").is_file():
            raise UsageError(f"{resume} is not a complete checkpoint (no state.json)")
        return resume
    found = checkpoints(cfg.output_dir)
    if not found:
        raise UsageError(f"--resume: no checkpoint in {cfg.output_dir}")
    return found[-1][1]


def _check_resumable(cfg: TrainConfig, state: dict[str, Any], where: Path) -> None:
    now = config_to_json(cfg)
    changed = [k for k in RESUME_FIXED if state["config"].get(k) != now.get(k)]
    if changed:
        raise ConfigError(
            f"cannot resume from {where}: the config changed ({', '.join(changed)})",
            hint="resume with the config the run started with (max_steps, eval and save steps may change)",
        )


def _set_threads(cfg: TrainConfig, say: Callable[[str], None]) -> None:
    """`threads` from the config, else the free cores (prtriage/pipeline/cpu.py): torch's default takes every
    core, and its threads spin against any other busy process (20x slower steps, measured here).
    Under torchrun/accelerate launch, OMP_NUM_THREADS (set per process) is left to rule."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    elif "OMP_NUM_THREADS" not in os.environ and not torch.cuda.is_available():
        from prtriage.pipeline.cpu import available_cores, default_threads

        n = default_threads(cap=None)
        torch.set_num_threads(n)
        say(f"torch threads: {n} of {available_cores()} cores (the others are busy; `threads` overrides)"
            if n < available_cores() else f"torch threads: {n}")  # fmt: skip


def _precision(dev: Devices) -> str:
    if dev.bf16:
        return "bf16"
    return "fp32 with bf16 autocast" if dev.accelerator.mixed_precision == "bf16" else "fp32"


def _use_bf16(cfg: TrainConfig) -> bool:
    if cfg.bf16 == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cfg.bf16 == "true"


def _report_data(data: Prepared, out: Path, say: Callable[[str], None]) -> None:
    listed = out / "skipped.txt"
    listed.write_text("".join(f"{b}\n" for b in data.skipped), encoding="utf-8")
    report_skipped(data.skipped, say, SHOWN_SKIPPED, listed)
    say(
        f"data: {len(data.train)} training examples, {len(data.val)} validation ({data.split}); "
        + skipped_summary(data.skipped)
    )


def _block_linears(model: torch.nn.Module) -> list[str]:
    """Short names of the linear layers inside the transformer blocks (q_proj, ..., down_proj)."""
    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and ".layers." in n}  # fmt: skip
    return sorted(names)


def lora_config(cfg: TrainConfig, model: torch.nn.Module) -> Any:
    from peft import LoraConfig

    # "all-linear": every linear layer of the blocks, never the LM head or embeddings — the
    # sensible default for Llama, Qwen2 and Gemma alike, and what llama.cpp adapters can hold.
    # peft accepts a block selection only with named modules, so spell "all-linear" out then.
    targets: Any = list(cfg.lora_target_modules) if cfg.lora_target_modules else "all-linear"
    if cfg.peft_layers_to_transform and targets == "all-linear":
        targets = _block_linears(model)
    return LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
        target_modules=targets, bias="none", task_type="CAUSAL_LM",
        layers_to_transform=list(cfg.peft_layers_to_transform) if cfg.peft_layers_to_transform else None,
    )  # fmt: skip


def _scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, total: int) -> Any:
    from transformers import get_scheduler

    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else round(cfg.warmup_ratio * total)
    name = "constant_with_warmup" if cfg.lr_scheduler == "constant" else cfg.lr_scheduler
    return get_scheduler(name, optimizer, num_warmup_steps=min(warmup, total), num_training_steps=total)


def _total_steps(cfg: TrainConfig, train: list[Tokenized], dev: Devices) -> int:
    """max_steps, else the optimizer steps in num_epochs of this rank's micro-batches."""
    lengths = [len(t) for t in train]
    per_epoch = len(shard(epoch_batches(lengths, cfg.micro_batch_size, cfg.seed, 0, cfg.group_by_length),
                          dev.rank, dev.world))  # fmt: skip
    return cfg.max_steps or max(1, math.ceil(cfg.num_epochs * per_epoch / cfg.gradient_accumulation_steps))


def _micro_batches(
    data: list[Tokenized], cfg: TrainConfig, rank: int, world: int, skip: int
) -> Iterator[list[Tokenized]]:
    """This rank's micro-batches, epoch after epoch, from micro-batch number `skip` on."""
    lengths = [len(t) for t in data]
    epoch = 0
    seen = 0
    while True:
        mine = shard(
            epoch_batches(lengths, cfg.micro_batch_size, cfg.seed, epoch, cfg.group_by_length), rank, world
        )
        if not mine:
            raise UsageError("too few training examples for this many processes")
        for batch in mine:
            if seen >= skip:
                yield [data[i] for i in batch]
            seen += 1
        epoch += 1


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device) for k, v in batch.items()}
