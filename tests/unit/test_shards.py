"""Ingest shards: a source always maps to the same stream, the shards share the sources, and a
line of another shard than the first keeps a distinct id that leads back to its entry."""

from __future__ import annotations

from collections import Counter

from streamapp.settings import Settings
from streamapp.shards import entry_of, line_id, owned, shard_of, stream_name


def test_a_source_keeps_its_shard_and_the_shards_share_the_sources() -> None:
    sources = [f"host-{i}.log" for i in range(4000)]
    assert [shard_of(s, 4) for s in sources] == [shard_of(s, 4) for s in sources]
    assert shard_of("web-01.log", 4) == 3  # pinned: the hash must not change between versions
    counts = Counter(shard_of(s, 4) for s in sources)
    assert set(counts) == {0, 1, 2, 3} and min(counts.values()) > 800
    assert {shard_of(s, 1) for s in sources} == {0}


def test_stream_names_and_line_ids() -> None:
    assert stream_name("logs", 0) == "logs" and stream_name("logs", 3) == "logs:{3}"
    assert line_id("1700000000000-5", 0) == "1700000000000-5"
    assert line_id("1700000000000-5", 3) == "1700000000000-5@3"
    assert entry_of("1700000000000-5@3") == (3, "1700000000000-5")
    assert entry_of("1700000000000-5") == (0, "1700000000000-5")
    assert entry_of("x@y") == (0, "x@y")  # not a shard suffix: looked up (and not found) as it is


def test_settings_route_a_source_to_its_shards_key() -> None:
    s = Settings(stream_prefix="t.", logs_shards=4)
    assert s.logs_key(0) == "t.logs" and s.logs_key(2) == "t.logs:{2}"
    assert s.logs_key(s.logs_shard_of("web-01.log")) == "t.logs:{3}"
    assert Settings(stream_prefix="t.").logs_key(Settings().logs_shard_of("web-01.log")) == "t.logs"


def test_live_bridges_split_the_shards_and_a_lone_bridge_leads_them_all() -> None:
    members = ["b", "a", "c"]
    split = [owned(4, members, me) for me in sorted(members)]
    assert split == [{0, 3}, {1}, {2}]  # every shard has exactly one leader
    assert owned(4, ["a"], "a") == {0, 1, 2, 3}
    assert owned(2, [], "a") == {0, 1}  # its own heartbeat not yet read back: it counts itself
