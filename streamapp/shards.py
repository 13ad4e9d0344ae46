"""Ingest shards (`LOGS_SHARDS`): which Redis stream a source writes to, and the line ids of
shards other than the first.

One inbound bridge forwards a stream at a time (a lease keeps the lines' order), so a single
stream caps the whole cluster's ingest at one process. With N shards, a source writes to `logs`
(shard 0, the contract's stream) or `logs:{k}`, chosen by a stable hash of the source, and each
shard has its own consumer group and its own bridge leader: a source's lines stay in one stream,
in order, and N bridges forward in parallel. N=1 is the single `logs` stream.

On Redis Cluster the `{k}` is a hash tag: shard k's stream lives on the slot of `k`, so shards
spread over the nodes instead of all hashing to the slot of `logs`.

Entry ids are unique within a stream only, and two shards can give the same id to different
lines; a line of shard k > 0 is therefore known downstream as `<entry id>@<k>`. Shard 0's line ids
are its entry ids, as the contract has them.
"""

from __future__ import annotations

import hashlib

SEPARATOR = "@"


def shard_of(source_key: str, shards: int) -> int:
    """The shard of a source (its data source id, else its name): stable across processes and
    restarts (Python's own `hash` of a string is salted per process)."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(source_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def owned(shards: int, members: list[str], me: str) -> set[int]:
    """The shards bridge `me` leads among the live `members`: shard k goes to the member ranked
    k mod len(members) in name order, so every live bridge computes the same split."""
    live = sorted(set(members) | {me})
    rank = live.index(me)
    return {k for k in range(shards) if k % len(live) == rank}


def stream_name(base: str, shard: int) -> str:
    """`logs` for shard 0, `logs:{k}` for shard k."""
    return base if shard == 0 else f"{base}:{{{shard}}}"


def line_id(entry_id: str, shard: int) -> str:
    return entry_id if shard == 0 else f"{entry_id}{SEPARATOR}{shard}"


def entry_of(line: str) -> tuple[int, str]:
    """(shard, entry id) of a line id; a malformed shard suffix reads as shard 0 (not found there)."""
    entry, sep, shard = line.rpartition(SEPARATOR)
    if not sep:
        return 0, line
    return (int(shard), entry) if shard.isdecimal() and len(shard) <= 6 else (0, line)
