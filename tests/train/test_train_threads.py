from __future__ import annotations

import pytest
import torch

from prtriage.train import fit
from prtriage.train.config import build_config

pytestmark = pytest.mark.train


@pytest.mark.parametrize("threads, omp, expected", [(None, None, 3), (2, None, 2), (None, "1", 1)])
def test_fit_threads_follow_the_config_then_the_free_cores(
    monkeypatch: pytest.MonkeyPatch, threads: int | None, omp: str | None, expected: int
) -> None:
    import prtriage.pipeline.cpu

    before = torch.get_num_threads()
    monkeypatch.setattr(prtriage.pipeline.cpu, "default_threads", lambda cap=None: 3)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
        torch.set_num_threads(int(omp))  # what the launcher's variable does at start-up
    said: list[str] = []
    try:
        raw = {"datasets": [{"path": "x.jsonl"}], **({"threads": threads} if threads else {})}
        fit._set_threads(build_config(raw, "test"), said.append)
        assert torch.get_num_threads() == expected
        assert bool(said) == (threads is None and omp is None)
    finally:
        torch.set_num_threads(before)
