"""Which record is which, and which shard takes it: a record's key, its stable digest, `--shard K/N`.

A record is known by its `id` (a string or an integer); a record without one by its line number,
which is also the `id` its output line carries. The key is that id as JSON (`"7"` and `7` are two
records), and the digest is the first 8 bytes of BLAKE2b over the key's UTF-8: the same on every
machine and Python version, unlike `hash()`. Shard K of N takes the records whose digest is K-1
modulo N, so N jobs cover every record exactly once whatever the order of the input.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from prtriage.core.errors import UsageError
from prtriage.core.jsonl import BadLine

RecordId = str | int


def record_id(obj: dict[str, Any], number: int) -> RecordId:
    """The record's `id`, or its line number when it has none (missing or null)."""
    value = obj.get("id")
    return number if value is None else value  # type: ignore[no-any-return]


def check_id(obj: dict[str, Any], path: str, number: int) -> BadLine | None:
    """An id must be a string or an integer: a float or an object has no stable key."""
    value = obj.get("id")
    if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
        return None
    return BadLine(path, number, "'id' is not a string or an integer")


def digest(rid: RecordId) -> int:
    """The 64-bit BLAKE2b digest of the id's JSON: the record's key in every index, and its shard."""
    key = json.dumps(rid, ensure_ascii=False).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class ShardSpec:
    """`--shard K/N`: the K-th of N parts (1 ≤ K ≤ N), as GitHub matrices and test runners count."""

    k: int
    n: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise UsageError(f"--shard must be K/N (e.g. 2/8), not {text!r}")
        k, n = int(match[1]), int(match[2])
        if not 1 <= k <= n:
            raise UsageError(
                f"--shard {text}: K must be from 1 to N", hint="shards count from 1: 1/4 ... 4/4"
            )
        return cls(k, n)

    def takes(self, key_digest: int) -> bool:
        return key_digest % self.n == self.k - 1

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"
