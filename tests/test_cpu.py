from __future__ import annotations

import subprocess
import sys
import time

import pytest

from prtriage import cpu


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


def test_busy_cores_sees_a_process_that_just_started() -> None:
    # The load average would take a minute to notice it; /proc/stat sampling sees it at once.
    spin = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.3)
        assert cpu.busy_cores(0.3) >= 0.7
    finally:
        spin.kill()
        spin.wait()
