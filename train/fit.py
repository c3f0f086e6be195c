"""`prtriage train fit`: LoRA fine-tuning, one script from top to bottom.

1. devices and precision (accelerate: one process needs no launcher; under `torchrun` or
   `accelerate launch` it is data-parallel, NCCL on GPUs, gloo on CPUs);
2. data: rows → prompt segments → ids, labels, weights (prepare.py);
3. model: the base (fp32 on CPU, bf16 on GPU), gradient checkpointing, LoRA through peft;
4. schedule: AdamW, warmup then cosine (or linear/constant), gradient accumulation;
5. resume from a checkpoint when asked;
6. the loop: loss on trained positions only (loss.py), averaged over the tokens of the whole
   optimizer step across micro-batches and ranks; eval loss and category accuracy on the
   validation split; checkpoints;
7. the final adapter and run.json, which `prtriage train export` reads.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from prtriage import __version__
from prtriage.errors import ConfigError, UsageError
from prtriage.progress import ProgressLine
from prtriage.prompt import category_segment
from prtriage.train.base import load_model, load_tokenizer, resolve_base
from prtriage.train.batches import collate, epoch_batches, shard
from prtriage.train.config import TrainConfig, config_to_json
from prtriage.train.loss import LossModel
from prtriage.train.masking import Tokenized
from prtriage.train.prepare import Prepared, prepare
from prtriage.train.rundir import ADAPTER_DIR, RUN_FILE, checkpoints, write_json_atomic
from prtriage.train.scoring import candidate_logprobs, continuation_loss, run_prompt

# Keys that must not change when a run resumes: they define the data, the model or the optimum.
RESUME_FIXED = (
    "base_model", "datasets", "test_datasets", "val_set_size", "max_samples", "categories", "exclude",
    "sequence_len", "context_size", "reasoning_tokens", "train_on_inputs", "prompt_loss_weight",
    "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "peft_layers_to_transform",
    "micro_batch_size",
    "gradient_accumulation_steps", "learning_rate", "lr_scheduler", "seed",
)  # fmt: skip
SHOWN_SKIPPED = 20  # bad lines printed; skipped.txt in the run folder lists all of them


@dataclass(frozen=True)
class FitResult:
    output_dir: Path
    steps: int
    train_loss: float
    eval: dict[str, float]


def _use_bf16(cfg: TrainConfig) -> bool:
    if cfg.bf16 == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cfg.bf16 == "true"


def _report_data(data: Prepared, out: Path, say: Callable[[str], None]) -> None:
    lines = [str(b) for b in data.skipped.lines]
    (out / "skipped.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    for line in lines[:SHOWN_SKIPPED]:
        say(f"skipped {line}")
    if len(lines) > SHOWN_SKIPPED:
        say(f"... {len(lines) - SHOWN_SKIPPED} more in {out / 'skipped.txt'}")
    say(
        f"data: {len(data.train)} training examples, {len(data.val)} validation ({data.split}); "
        + data.skipped.summary()
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


def _save_checkpoint(folder: Path, step: int, model: Any, optimizer: Any, scheduler: Any,
                     cfg: TrainConfig, limit: int) -> None:  # fmt: skip
    target = folder / f"checkpoint-{step}"
    tmp = folder / f".checkpoint-{step}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, save_embedding_layers=False)  # LoRA only: embeddings are not trained
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    # state.json last: a checkpoint without it is incomplete and never resumed from
    write_json_atomic(tmp / "state.json", {"step": step, "config": config_to_json(cfg)})
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    for _, old in checkpoints(folder)[:-limit] if limit > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


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


def _load_checkpoint(where: Path, model: Any, optimizer: Any, scheduler: Any) -> int:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = json.loads((where / "state.json").read_text(encoding="utf-8"))
    set_peft_model_state_dict(model, load_file(where / "adapter_model.safetensors"))
    optimizer.load_state_dict(torch.load(where / "optimizer.pt", map_location="cpu", weights_only=True))
    scheduler.load_state_dict(torch.load(where / "scheduler.pt", map_location="cpu", weights_only=True))
    return int(state["step"])


def _set_threads(cfg: TrainConfig, say: Callable[[str], None]) -> None:
    """`threads` from the config, else the free cores (prtriage/cpu.py): torch's default takes every
    core, and its threads spin against any other busy process (20x slower steps, measured here).
    Under torchrun/accelerate launch, OMP_NUM_THREADS (set per process) is left to rule."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    elif "OMP_NUM_THREADS" not in os.environ and not torch.cuda.is_available():
        from prtriage.cpu import available_cores, default_threads

        n = default_threads(cap=None)
        torch.set_num_threads(n)
        say(f"torch threads: {n} of {available_cores()} cores (the others are busy; `threads` overrides)"
            if n < available_cores() else f"torch threads: {n}")  # fmt: skip


def fit(cfg: TrainConfig, resume: bool | Path = False, console: Console | None = None) -> FitResult:
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from peft import get_peft_model

    # 1. Devices and precision.
    bf16 = _use_bf16(cfg)
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="bf16" if bf16 else "no")
    main = accelerator.is_main_process
    console = console or Console(stderr=True, highlight=False, soft_wrap=True)
    say: Callable[[str], None] = (
        (lambda m: console.print(m, markup=False, soft_wrap=True)) if main else (lambda m: None)
    )
    _set_threads(cfg, say)
    set_seed(cfg.seed)
    out = cfg.output_dir
    if main:
        out.mkdir(parents=True, exist_ok=True)
    checkpoint = _resume_point(cfg, resume)
    if checkpoint is not None:
        _check_resumable(cfg, json.loads((checkpoint / "state.json").read_text(encoding="utf-8")), checkpoint)
    elif main and (out / RUN_FILE).exists():
        say(f"note: {out} holds an earlier run; its files will be replaced")

    # 2. Data.
    base = resolve_base(cfg.base_model)
    tokenizer = load_tokenizer(base)
    say("reading and tokenizing the training data ...")  # minutes for thousands of records
    data = prepare(cfg, tokenizer)
    if main:
        _report_data(data, out, say)
    if not data.train:
        raise UsageError("no usable training example", hint="see the skipped lines above")
    names = [c.name for c in cfg.categories]
    candidates = [tokenizer.tokenize(category_segment(n).text, False) for n in names]

    # 3. Model.
    model = load_model(base, torch.bfloat16 if bf16 else torch.float32)
    model.config.use_cache = False
    if cfg.gradient_checkpointing:
        # Non-reentrant: works with frozen inputs (LoRA) and under data-parallel wrappers.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    blocks = model.config.num_hidden_layers
    if cfg.peft_layers_to_transform and max(cfg.peft_layers_to_transform) >= blocks:
        raise ConfigError(f"peft_layers_to_transform: the model has blocks 0 to {blocks - 1}")
    model = get_peft_model(model, lora_config(cfg, model))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    say(f"model: {base.ref} ({base.kind}), LoRA r={cfg.lora_r} alpha={cfg.lora_alpha}: {trainable:,} "
        f"trainable parameters; {'bf16' if bf16 else 'fp32'} on {accelerator.device}, "
        f"{accelerator.num_processes} process(es)")  # fmt: skip

    # 4. Schedule.
    world, rank = accelerator.num_processes, accelerator.process_index
    per_epoch = len(shard(epoch_batches([len(t) for t in data.train], cfg.micro_batch_size, cfg.seed, 0,
                                        cfg.group_by_length), rank, world))  # fmt: skip
    accum = cfg.gradient_accumulation_steps
    total = cfg.max_steps or max(1, math.ceil(cfg.num_epochs * per_epoch / accum))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = _scheduler(cfg, optimizer, total)  # stepped once per optimizer step, by us
    loss_model, optimizer = accelerator.prepare(LossModel(model), optimizer)

    # 5. Resume.
    start = 0
    if checkpoint is not None:
        start = _load_checkpoint(checkpoint, model, optimizer, scheduler)
        set_seed(cfg.seed + start)  # dropout draws differ from an uninterrupted run; data order does not
        say(f"resumed from {checkpoint} at step {start}")
    if start >= total:
        raise UsageError(f"the checkpoint is at step {start}, and max_steps is {total}: nothing to do")

    # 6. The loop.
    batches = _micro_batches(data.train, cfg, rank, world, skip=start * accum)
    metrics = (out / "metrics.jsonl").open("a" if checkpoint else "w", encoding="utf-8") if main else None
    last_eval: dict[str, float] = {}
    train_loss = float("nan")
    started = time.perf_counter()
    # A bar on a terminal; in a log, a line per `logging_steps` and every 30 s, with rate and ETA.
    progress = ProgressLine(console, "training", total, "steps", every=cfg.logging_steps, done=start,
                            transient=False) if main else None  # fmt: skip
    with progress or nullcontext():
        for step in range(start + 1, total + 1):
            group = [collate(next(batches), tokenizer.pad_id) for _ in range(accum)]
            # The step's loss is a mean over all its weighted tokens, on every rank together.
            weight = torch.tensor(
                sum(float(b["weights"][:, 1:].sum()) for b in group), device=accelerator.device
            )
            weight = accelerator.reduce(weight, reduction="sum")
            loss_total = torch.zeros((), dtype=torch.float64, device=accelerator.device)
            for i, batch in enumerate(group):
                sync = i == len(group) - 1  # gradients are exchanged once per optimizer step
                with nullcontext() if sync else accelerator.no_sync(loss_model), accelerator.autocast():
                    loss_sum, _ = loss_model(**_to(batch, accelerator.device))
                    accelerator.backward(loss_sum * world / weight)
                loss_total += loss_sum.detach().double()
            grad_norm = accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            train_loss = float(accelerator.reduce(loss_total, reduction="sum") / weight)
            record: dict[str, Any] = {"step": step, "loss": round(train_loss, 6),
                                      "lr": scheduler.get_last_lr()[0], "grad_norm": float(grad_norm),
                                      "elapsed_s": round(time.perf_counter() - started, 2)}  # fmt: skip
            if data.val and (step % cfg.eval_steps == 0 or step == total):
                last_eval = evaluate(model, data.val, candidates, names, accelerator)
                record.update(last_eval)
                acc = f", accuracy {last_eval['eval_accuracy']:.3f}" if "eval_accuracy" in last_eval else ""
                say(f"step {step}: eval loss {last_eval['eval_loss']:.4f}{acc}")
            if metrics and (step % cfg.logging_steps == 0 or step == total or "eval_loss" in record):
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
            if progress:
                progress.update(step, info=f"loss {train_loss:.4f}, lr {record['lr']:.3g}")
            if main and step % cfg.save_steps == 0 and step < total:
                _save_checkpoint(out, step, model, optimizer, scheduler, cfg, cfg.save_total_limit)
            accelerator.wait_for_everyone()

    # 7. The final adapter and run.json.
    if metrics:
        metrics.close()
    if main:
        shutil.rmtree(out / ADAPTER_DIR, ignore_errors=True)
        model.save_pretrained(out / ADAPTER_DIR, save_embedding_layers=False)
        write_json_atomic(out / RUN_FILE, {
            "prtriage_version": __version__,
            "base_model": base.portable_ref,  # absolute: export may run from another folder
            "base": {"kind": base.kind, "gguf": str(base.gguf) if base.gguf else None, "source": base.source},
            "add_bos": tokenizer.bos_id is not None,
            "config": config_to_json(cfg),
            "steps": total,
            "train_loss": train_loss,
            "eval": last_eval,
            "data": {"train": len(data.train), "val": len(data.val), "skipped": len(data.skipped.lines),
                     "split": data.split},
        })  # fmt: skip
        say(f"saved the adapter in {out / ADAPTER_DIR}; export it with: prtriage train export --run {out}")
    accelerator.wait_for_everyone()
    return FitResult(out, total, train_loss, last_eval)
