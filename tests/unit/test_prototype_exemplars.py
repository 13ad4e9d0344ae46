"""A prototype keeps of its exemplars only the lines a cluster candidate can show: it is written to
its table at every join, so what it carries is paid for on every member."""

from __future__ import annotations

import json

import numpy as np

from streamapp.clustering import ClusterPolicy, found, join, to_cluster_candidate
from streamapp.issues import OpenIssue

POLICY = ClusterPolicy()


def issue(n: int, lines: int) -> OpenIssue:
    items = [{"id": f"{n}-{i}", "raw": f"disk sda{n} error at sector {i}", "templated": "disk <*> error at sector <*>",
              "template_id": "t1", "source": "s"} for i in range(lines)]
    return OpenIssue(key=f"k{n}", os="linux", host=f"h{n}", component="kernel", pid="", first_line_id=f"{n}-0",
                     first_t=float(n), last_t=float(n), opened_at=0.0, updated_at=0.0, line_count=lines,
                     template_counts={"t1": lines}, templates={"t1": "disk <*> error at sector <*>"},
                     head=items[:10], tail=items[10:])


def untrimmed_candidate_lines(issues: list[OpenIssue]) -> list[str]:
    """What the candidate showed when every exemplar kept all its sample lines: newest issue first."""
    out: list[str] = []
    for i in reversed(issues[-POLICY.max_exemplars :]):
        out += [x["id"] for x in (i.head + i.tail)[: POLICY.sample_lines]]
    return out[: POLICY.sample_lines]


def test_exemplars_keep_the_lines_a_candidate_shows_and_each_its_first() -> None:
    v = np.ones(4, np.float32) / 2
    for sizes in ([20] * 8, [3, 7, 2, 20, 5, 1], [6, 6, 6, 6, 6]):
        issues = [issue(n, size) for n, size in enumerate(sizes)]
        proto = found(issues[0], v, 0.0, POLICY)
        for i in issues[1:]:
            proto = join(proto, i, v, 1.0, POLICY)
        shown = [s["env_id"] for s in to_cluster_candidate(proto, POLICY).sample_logs]
        assert shown == untrimmed_candidate_lines(issues)
        assert len(proto.exemplars) == min(len(issues), POLICY.max_exemplars)
        assert all(ex["lines"] for ex in proto.exemplars)
        kept = sum(len(ex["lines"]) for ex in proto.exemplars)
        assert kept <= POLICY.sample_lines + POLICY.max_exemplars - 1


def test_a_busy_prototype_record_stays_small() -> None:
    v = np.ones(4, np.float32) / 2
    issues = [issue(n, 20) for n in range(10)]
    proto = found(issues[0], v, 0.0, POLICY)
    for i in issues[1:]:
        proto = join(proto, i, v, 1.0, POLICY)
    lines = sum(len(ex["lines"]) for ex in proto.exemplars)
    assert lines == POLICY.sample_lines + POLICY.max_exemplars - 1  # the newest 20, one each for the other 4
    assert len(json.dumps(proto.exemplars)) < 2 * len(json.dumps(proto.exemplars[-1]))
