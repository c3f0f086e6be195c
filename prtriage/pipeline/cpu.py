"""How many CPU threads to use: the cores this process may run on, less the ones busy right now.

llama.cpp's and torch's worker threads wait for each other at every layer by spinning. When one
of them shares a core with another busy process, every layer waits for the thread that lost its
core: measured here, 2 threads on 2 cores beside one busy process ran a prompt 4x slower than
1 thread (docs/benchmarks.md). So the default leaves busy cores alone.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

SAMPLE_S = 0.1  # long enough for ~10 scheduler ticks per core, short next to a classification
LLAMA_MAX_THREADS = 4  # more do not pay on a 135M model (docs/benchmarks.md)
PROC_STAT = Path("/proc/stat")  # a module constant so tests can feed it fixed samples


def available_cores() -> int:
    """Cores this process may use (CPU affinity, as taskset and containers set it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _cpu_times(allowed: set[int]) -> tuple[float, float] | None:
    """(busy, total) clock ticks summed over the allowed cores, from /proc/stat."""
    try:
        lines = PROC_STAT.read_text().splitlines()
    except OSError:
        return None
    busy = total = 0.0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in allowed:
            continue
        ticks = [float(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
        total += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]  # steal counts as busy: another guest has the core
    return (busy, total) if total else None


def busy_cores(sample_s: float = SAMPLE_S) -> float:
    """How many of our cores other work keeps busy now (this process sleeps while it looks).

    Linux: CPU time of the allowed cores over `sample_s` (no lag, unlike the load average, which
    takes a minute to notice a process that just started). Elsewhere: the 1-minute load average.
    """
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:
        allowed = set()
    before = _cpu_times(allowed) if allowed else None
    if before is None:
        try:
            return max(0.0, os.getloadavg()[0])
        except OSError:
            return 0.0
    time.sleep(sample_s)
    after = _cpu_times(allowed)
    if after is None or after[1] <= before[1]:
        return 0.0
    share = (after[0] - before[0]) / (after[1] - before[1])
    return share * len(allowed)


def default_threads(cap: int | None = LLAMA_MAX_THREADS, busy: float | None = None) -> int:
    """Free cores (available minus busy, a half-busy core counting as busy), at most `cap`, at least 1."""
    free = available_cores() - math.floor((busy_cores() if busy is None else busy) + 0.5)
    return max(1, min(free, cap) if cap else free)


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (avx2, avx512f, amx_tile, ...); empty elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


# The flags that change llama.cpp's and torch's speed several-fold (quant kernels, bf16 training):
# every benchmark prints them beside its timings, so a ratio says which machine it came from.
SPEED_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)


def speed_flags() -> str:
    """The SPEED_FLAGS this CPU has, space-separated ("none" when it has none or says nothing)."""
    have = cpu_flags()
    return " ".join(f for f in SPEED_FLAGS if f in have) or "none"


def has_amx() -> bool:
    """Whether this CPU has Intel AMX tiles (Sapphire Rapids and later)."""
    return "amx_tile" in cpu_flags()
