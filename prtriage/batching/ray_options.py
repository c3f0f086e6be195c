"""--ray's options: a module of its own below the command and the Ray job, which both read them
(the command must not import Ray to build them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RayOptions:
    """--ray: where the cluster is (None: RAY_ADDRESS, else a local Ray) and how many actors."""

    address: str | None = None
    actors: int | None = None  # None: as many as the cluster's CPUs allow
