from __future__ import annotations

import os
from pathlib import Path

import pytest

from prtriage.pipeline import cpu


@pytest.mark.parametrize(
    "cores, busy, cap, expected",
    [(2, 0.0, 4, 2), (2, 0.3, 4, 2), (2, 0.6, 4, 1), (2, 1.0, 4, 1), (2, 5.0, 4, 1), (8, 0.0, 4, 4),
     (8, 0.0, None, 8), (8, 3.2, None, 5), (1, 0.0, 4, 1)],
)  # fmt: skip
def test_default_threads_leave_busy_cores_alone(
    monkeypatch: pytest.MonkeyPatch, cores: int, busy: float, cap: int | None, expected: int
) -> None:
    monkeypatch.setattr(cpu, "available_cores", lambda: cores)
    assert cpu.default_threads(cap=cap, busy=busy) == expected


def _stat(cores: dict[int, tuple[int, ...]]) -> str:
    """/proc/stat text: the all-cores line, one line per core (user nice system idle iowait irq
    softirq steal guest guest_nice), and the lines after them that are not cores."""
    total = [sum(col) for col in zip(*cores.values())]
    lines = [f"cpu  {' '.join(map(str, total))}"]
    lines += [f"cpu{n} {' '.join(map(str, ticks))}" for n, ticks in cores.items()]
    return "\n".join([*lines, "intr 12345 0 0", "ctxt 999", "btime 1700000000", "procs_running 3", ""])


BEFORE = {
    0: (1000, 10, 200, 5000, 40, 0, 5, 0, 7, 0),
    1: (900, 0, 100, 6000, 0, 0, 0, 0, 0, 0),
    2: (500, 0, 100, 7000, 10, 0, 0, 3, 0, 0),
    3: (800, 0, 100, 6500, 0, 0, 0, 0, 0, 0),
}
# Over the sample, of 100 ticks each: core 0 runs 30 user + 5 nice + 5 system (idle 50, iowait 10,
# which is idle too); core 2 is idle 80 and stolen 20 (another guest has it: busy); cores 1 and 3
# are fully busy but not ours. The guest columns are already in user and must not count twice.
AFTER = {
    0: (1030, 15, 205, 5050, 50, 0, 5, 0, 57, 0),
    1: (1000, 0, 100, 6000, 0, 0, 0, 0, 0, 0),
    2: (500, 0, 100, 7080, 10, 0, 0, 23, 0, 0),
    3: (900, 0, 100, 6500, 0, 0, 0, 0, 0, 0),
}


def _feed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, samples: list[str], allowed: set[int]
) -> list[float]:
    """/proc/stat reads `samples[0]`, then `samples[1]` after busy_cores sleeps; the sleeps, returned."""
    stat = tmp_path / "stat"
    stat.write_text(samples[0])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        stat.write_text(samples[1])

    monkeypatch.setattr(cpu, "PROC_STAT", stat)
    monkeypatch.setattr(cpu.time, "sleep", sleep)
    monkeypatch.setattr(cpu.os, "sched_getaffinity", lambda pid: allowed)
    return slept


def test_busy_cores_counts_only_our_cores_and_treats_iowait_as_idle_and_steal_as_busy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    slept = _feed(monkeypatch, tmp_path, [_stat(BEFORE), _stat(AFTER)], {0, 2})
    # (40 + 20) busy ticks of 200 on our two cores: 0.3 of them, 0.6 cores.
    assert cpu.busy_cores(0.25) == pytest.approx(0.6)
    assert slept == [0.25]


def test_busy_cores_scales_the_share_by_the_cores_we_may_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _feed(monkeypatch, tmp_path, [_stat(BEFORE), _stat(AFTER)], {0, 1, 2, 3})
    # Every core: 40 + 100 + 20 + 100 busy of 400, times 4 cores.
    assert cpu.busy_cores() == pytest.approx(2.6)


def test_busy_cores_is_zero_when_no_tick_passed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _feed(monkeypatch, tmp_path, [_stat(BEFORE), _stat(BEFORE)], {0, 2})
    assert cpu.busy_cores() == 0.0


def test_without_proc_stat_busy_cores_is_the_load_average(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cpu, "PROC_STAT", tmp_path / "absent")
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (1.75, 0.5, 0.25))
    monkeypatch.setattr(cpu.time, "sleep", lambda s: pytest.fail("nothing to sample, nothing to wait for"))
    assert cpu.busy_cores() == 1.75


def test_default_threads_use_the_sampled_busy_cores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _feed(monkeypatch, tmp_path, [_stat(BEFORE), _stat(AFTER)], {0, 1, 2, 3})
    assert cpu.default_threads(cap=None) == 4 - 3  # 2.6 busy cores round to 3


def test_the_real_proc_stat_parses() -> None:
    if not Path("/proc/stat").is_file():
        pytest.skip("no /proc/stat here")
    times = cpu._cpu_times(os.sched_getaffinity(0))
    assert times is not None and 0 <= times[0] <= times[1]


def test_speed_flags_name_what_changes_speed_in_a_fixed_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from prtriage.pipeline import cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: {"sse2", "amx_tile", "avx512_bf16", "avx2"})
    assert cpu.speed_flags() == "avx2 avx512_bf16 amx_tile"  # benchmarks print it beside every timing
    monkeypatch.setattr(cpu, "cpu_flags", set)
    assert cpu.speed_flags() == "none"
