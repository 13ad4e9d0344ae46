"""The template miner's bound (issue 16 #18): past `max_clusters` the least recently used clusters
go and are counted, a cluster in use stays, a dropped template comes back under its old id, and the
consumer's line processor reports what its miners dropped."""

from __future__ import annotations

from streamapp.lines import LineProcessor
from streamapp.mining import TemplateMiner
from streamapp.records import RawLine
from streamapp.rules import RuleSet
from streamapp.sources import SourceProfiles
from tests.support.lines import distinct_lines

HOT = "session opened for user admin by console"


def test_the_miner_keeps_at_most_its_bound_drops_the_least_recently_used_and_counts_them() -> None:
    lines = distinct_lines(300)
    miner = TemplateMiner(max_clusters=50)
    first = {}
    for line in lines:
        first[line] = miner.add(line).template_id
        hot = miner.add(HOT).template_id  # reached by every other line: never the least recently used
        assert len(miner.templates()) <= 50
    assert miner.evicted + len(miner.templates()) == len(lines) + 1
    assert miner.evicted >= len(lines) - 50
    assert miner.match(HOT).template_id == hot
    assert miner.match(lines[0]) is None, "the oldest cluster was dropped"
    assert miner.add(lines[0]).template_id == first[lines[0]], "a dropped template comes back with its id"
    assert len(TemplateMiner.from_state(miner.to_state(), max_clusters=50).templates()) <= 50


def test_the_line_processor_bounds_each_miner_and_reports_the_drops_per_batch() -> None:
    processor = LineProcessor(SourceProfiles({"*": "linux"}), RuleSet.load(), max_clusters=20)
    batch = [RawLine(f"{i}-0", "app.log", line) for i, line in enumerate(distinct_lines(60))]
    processed = processor.process(batch, now=0.0)
    (miner,) = processor.miners.values()
    assert len(processed.events) == 60
    assert processed.evicted == miner.evicted > 0
    assert len(miner.templates()) <= 20
