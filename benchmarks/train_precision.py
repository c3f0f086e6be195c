"""Training cost on the CPU, side by side in one run: precision (fp32, bf16 autocast, bf16 weights)
and sequence length (512, 768, 1024), with the loss curve of each and, optionally, export parity.

Every cell is a real `prtriage train fit` in its own process on the same records: SmolLM2-135M
(the embedded GGUF, dequantized), LoRA r 16 on the top 8 blocks, micro-batch 1, accumulation 4,
the masked loss (model v3's recipe). A step's time is the median of the step-to-step times after
the first step; cells are interleaved round by round so other load on the machine hits them
alike. Prints the CPU flags that matter (avx2, avx512f, avx512_bf16, amx_bf16): ratios carry
between machines with the same flags, seconds do not.

    python benchmarks/train_precision.py --data runs/v3/data/val.jsonl \
        [--cells fp32@512,autocast@512,bf16@512,bf16@768,bf16@1024] [--steps 8] [--rounds 1] \
        [--export] [--out runs/bench-precision]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from prtriage.pipeline.cpu import speed_flags

HERE = Path(__file__).resolve().parent
PRECISION = {"fp32": "false", "autocast": "autocast", "bf16": "true"}
RECIPE = dict(
    base_model="embedded", val_set_size=0, micro_batch_size=1, gradient_accumulation_steps=4,
    lora_r=16, lora_alpha=32, lora_dropout=0.05, peft_layers_to_transform=list(range(22, 30)),
    learning_rate=5e-4, lr_scheduler="constant", warmup_steps=0, group_by_length=False,
    prompt_loss_weight=0.0, reasoning_tokens=48, seed=3, save_steps=10_000, threads=2,
)  # fmt: skip


def sample(data: Path, out: Path, n: int) -> Path:
    """The first n records of every 7th line: spread over the file, the same for every cell."""
    from prtriage.core.jsonl import BadLine, read_jsonl, write_jsonl

    picked = [obj for i, obj in read_jsonl(data) if i % 7 == 0 and not isinstance(obj, BadLine)][:n]
    path = out / "records.jsonl"
    write_jsonl(path, picked)
    return path


def run_cell(cell: str, records: Path, out: Path, steps: int) -> dict[str, object]:
    precision, length = cell.split("@")
    folder = out / cell.replace("@", "-")
    config = {**RECIPE, "datasets": [{"path": str(records), "type": "changes"}], "sequence_len": int(length),
              "bf16": PRECISION[precision], "max_steps": steps, "output_dir": str(folder)}  # fmt: skip
    path = out / f"{folder.name}.json"
    path.write_text(json.dumps(config))  # JSON is YAML
    subprocess.run([sys.executable, "-m", "prtriage", "train", "fit", "--config", str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    times = [b["elapsed_s"] - a["elapsed_s"] for a, b in zip(rows, rows[1:])]
    return {"step_s": statistics.median(times), "losses": [r["loss"] for r in rows], "folder": str(folder)}


def export_parity(folder: str) -> str:
    adapter = Path(folder) / "adapter.gguf"
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", "train", "export", "--run", folder, "--type", "f16",
         "--adapter-output", str(adapter)], capture_output=True, text=True,
    )  # fmt: skip
    lines = [line for line in proc.stderr.splitlines() if "parity" in line.lower()]
    return ("ok: " if proc.returncode == 0 else "FAILED: ") + " | ".join(lines)[-300:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="change records (JSONL)")
    parser.add_argument("--cells", default="fp32@512,autocast@512,bf16@512,bf16@768,bf16@1024")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--export", action="store_true", help="export each run and check parity")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-precision"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    records = sample(args.data, args.out, args.steps * 4 + 8)
    cells = args.cells.split(",")
    results: dict[str, list[dict[str, object]]] = {c: [] for c in cells}
    for _ in range(args.rounds):
        for cell in cells:
            results[cell].append(run_cell(cell, records, args.out, args.steps))
    print(
        f"CPU flags: {speed_flags()}; {args.steps} steps of 4 examples, median step time, {args.rounds} round(s)"
    )
    first = statistics.median(float(r["step_s"]) for r in results[cells[0]])  # type: ignore[arg-type]
    print(f"{'cell':<14} {'s/step':>7} {'s/example':>9} {'vs ' + cells[0]:>12}  losses (round 1)")
    for cell in cells:
        step = statistics.median(float(r["step_s"]) for r in results[cell])  # type: ignore[arg-type]
        losses = " ".join(f"{x:.3f}" for x in results[cell][0]["losses"])  # type: ignore[attr-defined]
        print(f"{cell:<14} {step:7.2f} {step / 4:9.2f} {first / step:11.2f}x  {losses}")
    if args.export:
        for cell in cells:
            print(f"{cell:<14} export parity {export_parity(str(results[cell][0]['folder']))}")


if __name__ == "__main__":
    main()
