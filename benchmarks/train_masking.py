"""Training step cost of three losses on the same data, at SmolLM2-135M dimensions (issue 3, item 9).

    (a) Hugging Face's standard causal-LM loss: logits at every position, prompt labels -100;
    (b) prtriage's trained-positions loss: the LM head only where a label is trained (loss.py);
    (c) --prompt-loss-weight 0.1: every position trained, the prompt's tokens weighted 0.1.

One example per step: a prompt of L-8 tokens and an 8-token answer (a pull request and its
category), LoRA r=16 on every linear layer, gradient checkpointing, AdamW; fp32 on CPU, bf16 on a
GPU. Each (length, loss) runs in a fresh process, so that peak memory is its own:
- CUDA: torch.cuda.max_memory_allocated() above what was allocated before the step;
- CPU: peak resident memory above the resident memory before the step, sampled every millisecond,
  with glibc told to return large blocks to the system at once (MALLOC_MMAP_THRESHOLD_), so
  resident memory follows live tensors.
Step time is the fastest of --steps timed steps after one warm-up step; rounds are interleaved
(a, b, c, a, b, c, ...) so that other load on the machine hits every loss alike. Only the ratios
are comparable across machines.

    python benchmarks/train_masking.py [--lengths 512,1024,2048] [--steps 2] [--rounds 1] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

ANSWER_TOKENS = 8
LOSSES = {"a": "HF full-logits, labels -100", "b": "trained positions only", "c": "prompt-loss-weight 0.1"}


def smollm2_config() -> Any:
    from transformers import LlamaConfig

    # SmolLM2-135M's shape (the embedded model's GGUF metadata); random weights cost the same.
    return LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
        rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True,
    )  # fmt: skip


class PeakRSS:
    """Highest resident set size seen while running, sampled from /proc every millisecond."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.001)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def one(
    length: int, loss: str, steps: int, threads: int | None, checkpointing: bool, measure: str
) -> dict[str, Any]:
    """Run in a child process: the step time or the peak memory of a training step with one loss."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from prtriage.train.batches import collate
    from prtriage.train.loss import LossModel, full_logits_loss
    from prtriage.train.masking import IGNORE, Tokenized

    if threads:
        torch.set_num_threads(threads)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    dtype = torch.bfloat16 if cuda else torch.float32
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(smollm2_config(), dtype=dtype).to(device)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    ids = torch.randint(100, 49000, (length,), generator=torch.Generator().manual_seed(length)).tolist()
    prompt = length - ANSWER_TOKENS
    weight = 0.1 if loss == "c" else 0.0
    labels = [t if (i >= prompt or weight > 0) else IGNORE for i, t in enumerate(ids)]
    weights = [1.0 if i >= prompt else weight for i in range(length)]
    item = Tokenized(tuple(ids), tuple(labels), tuple(weights), prompt, None, "bench", 1, 0)
    batch = {k: v.to(device) for k, v in collate([item], pad_id=0).items()}
    scorer = LossModel(model)

    def step() -> None:
        if loss == "a":
            out = full_logits_loss(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
        else:
            total, n = scorer(**batch)
            out = total / n
        out.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up: allocator pools, optimizer state
    times, peak = [], 0.0
    for _ in range(steps):
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            start = time.perf_counter()
            step()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            peak = max(peak, torch.cuda.max_memory_allocated() - before)
        elif measure == "memory":
            with PeakRSS() as rss:
                before = rss.rss()
                step()
            peak = max(peak, rss.peak - before)
        else:
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return {"time_s": min(times) if times else 0.0, "peak_mb": peak / 2**20, "device": device}


def child(
    length: int, loss: str, steps: int, threads: int | None, checkpointing: bool, measure: str
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if measure == "memory":
        # Large blocks straight from and back to the system: resident memory follows live tensors.
        # It slows every allocation down (page faults), so time is measured in another process.
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    args = [sys.executable, __file__, "--child", f"{length}:{loss}:{measure}", "--steps", str(steps)]
    args += ["--threads", str(threads)] if threads else []
    args += ["--checkpointing"] if checkpointing else []
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"length {length}, loss {loss} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", default="512,1024,2048")
    parser.add_argument("--steps", type=int, default=2, help="timed steps per run (after one warm-up)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="timing runs per (length, loss); the fastest counts"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--checkpointing", action="store_true", help="gradient checkpointing on (default off)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        length, loss, measure = args.child.split(":")
        print(json.dumps(one(int(length), loss, args.steps, args.threads, args.checkpointing, measure)))
        return
    lengths = [int(x) for x in args.lengths.split(",")]
    print(f"SmolLM2-135M shape, LoRA r=16 all-linear, fp32/bf16, batch 1, answer {ANSWER_TOKENS} tokens, "
          f"gradient checkpointing {'on' if args.checkpointing else 'off'}")  # fmt: skip
    print(f"{'tokens':>6}  {'loss':<32} {'step s':>8} {'peak MB':>9} {'time/a':>7} {'mem/a':>6}")
    device = "?"
    for length in lengths:
        memory = {loss: child(length, loss, 1, args.threads, args.checkpointing, "memory") for loss in LOSSES}
        times: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved: load on the machine hits every loss alike
            for loss in LOSSES:
                r = child(length, loss, args.steps, args.threads, args.checkpointing, "time")
                times[loss] = min(times.get(loss, r["time_s"]), r["time_s"])
                device = r["device"]
        for loss, label in LOSSES.items():
            mem = memory[loss]["peak_mb"]
            print(f"{length:>6}  ({loss}) {label:<28} {times[loss]:>8.2f} {mem:>9.0f} "
                  f"{times[loss] / times['a']:>7.2f} {mem / memory['a']['peak_mb']:>6.2f}")  # fmt: skip
        sys.stdout.flush()
    print(f"device: {device}; targets at 2048: (b) time/a <= 0.85, mem/a <= 0.6")


if __name__ == "__main__":
    main()
