"""`RepeatCache`: bounded, keeps keys that come again, counts what it drops."""

from __future__ import annotations

from streamapp.caches import RepeatCache


def test_a_key_is_kept_from_its_second_sighting_on() -> None:
    cache: RepeatCache[str, int] = RepeatCache(10)
    cache.put("a", 1)
    assert cache.get("a") is None and cache.sighted() == 1
    cache.put("a", 2)
    assert cache.get("a") == 2 and "a" in cache and cache.sighted() == 0
    cache.put("a", 3)  # a kept key's value is replaced at once
    assert cache.get("a") == 3 and len(cache) == 1


def test_values_and_first_sightings_stay_within_the_bound_and_drops_are_counted() -> None:
    cache: RepeatCache[str, int] = RepeatCache(40)
    for i in range(80):  # a key that comes again at once, and one that never does
        cache.put(f"twice {i}", i)
        cache.put(f"twice {i}", i)
        cache.put(f"once {i}", i)
    assert len(cache) <= 40 and cache.sighted() <= 40
    assert cache.get("twice 79") == 79 and cache.get("once 79") is None
    assert cache.dropped == (80 - len(cache)) + (80 - cache.sighted())
