"""Record keys and `--shard K/N` (prtriage/batching/shard.py): stable, and every record in exactly one shard."""

from __future__ import annotations

import pytest

from prtriage.batching.shard import ShardSpec, check_id, digest, record_id
from prtriage.core.errors import UsageError


def test_the_digest_is_pinned_so_shards_stay_stable_across_versions_and_machines() -> None:
    # BLAKE2b-64 of the id's JSON: a job on another machine, Python or prtriage release splits alike.
    assert digest("a") == 1616797661514831016
    assert digest(7) == 16667848380713045890
    assert digest("7") == 17816287334004866103  # the string "7" is another record than 7
    assert digest("é") == 13243893533763790158


def test_n_shards_take_every_id_exactly_once_and_about_evenly() -> None:
    ids = [f"org/repo#{i}" for i in range(4000)]
    shards = [ShardSpec(k, 4) for k in range(1, 5)]
    owners = [[s for s in shards if s.takes(digest(i))] for i in ids]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o[0] == s for o in owners) for s in shards]
    assert all(900 < n < 1100 for n in sizes), sizes


def test_a_record_without_id_is_known_by_its_line() -> None:
    assert record_id({"diff": ""}, 12) == 12
    assert record_id({"id": None, "diff": ""}, 12) == 12
    assert record_id({"id": "x"}, 12) == "x"


@pytest.mark.parametrize("value", [1.5, True, ["a"], {"a": 1}])
def test_an_id_that_is_not_a_string_or_integer_is_a_bad_line(value: object) -> None:
    bad = check_id({"id": value}, "in.jsonl", 3)
    assert bad is not None and bad.line == 3 and "'id' is not a string or an integer" in bad.reason
    assert check_id({"id": "x"}, "in.jsonl", 3) is None and check_id({"id": 3}, "in.jsonl", 3) is None


def test_parse() -> None:
    assert ShardSpec.parse("2/8") == ShardSpec(2, 8) and str(ShardSpec.parse(" 1 / 1 ")) == "1/1"
    for text in ("0/4", "5/4", "2", "a/b", "1/0", "-1/4"):
        with pytest.raises(UsageError, match="--shard"):
            ShardSpec.parse(text)
