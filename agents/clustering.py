"""Clustering agent: closed issues -> prototypes (table, mirrored to `proto_<os>`) -> cluster
candidates. Its input is keyed by OS, so one worker updates all prototypes of an OS, in order.

Only issues that became candidates are clustered: the clusters are of failures, not of routine
traffic. The issue's lines in `logs_<os>` get the prototype id as `cluster_id` (found by the
aggregation key and time range they were stored with; one get and one update per issue).

The mirror is written in batches: a timer flushes the prototypes changed since the last flush in
one upsert per OS (`PROTO_MIRROR_SEC`), instead of a Chroma delete and add per clustered issue,
which cost more than everything else per issue. Operators' and classifiers' labels are flushed at
once; a worker that takes over partitions re-mirrors the prototypes it now owns.

An OS keeps at most CLUSTER_MAX_PROTOTYPES: past it the least recently used prototype (operators'
last, `streamapp.clustering.victim`) leaves the table and, at the next flush, `proto_<os>`; counted as
`streamapp.dropped`, what=prototypes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import faust
import numpy as np

from agents.guard import guarded_agent, guarded_timer
from streamapp import telemetry
from streamapp.clustering import (
    ClusterPolicy,
    Prototype,
    Vector,
    due_for_candidate,
    found,
    is_member,
    issue_vector,
    join,
    last_used,
    nearest,
    taught,
    to_cluster_candidate,
    victim,
)
from streamapp.errors import StreamAppError
from streamapp.improver import OPERATOR, PROPAGATED, ProtoState, improve
from streamapp.issues import OpenIssue
from streamapp.records import ClosedIssue, PrototypeCommand
from streamapp.vector_schema import issue_lines, joined_cluster, prototype_metadata
from streamapp.worker.deps import Deps
from tables.prototypes import prototypes

log = logging.getLogger(__name__)

MAX_PENDING_TAGS = 10_000  # members whose lines await their cluster tag while Chroma is away


class Clusterer:
    def __init__(self, deps: Deps, table: faust.Table) -> None:
        s = deps.settings
        self.deps = deps
        self.table = table
        self.policy = ClusterPolicy(sim_threshold=s.cluster_sim_threshold, min_size=s.cluster_min_size,
                                    max_prototypes=s.cluster_max_prototypes)
        self._centroids: dict[str, dict[str, Vector]] | None = None
        # Per OS: prototype id -> taught by an operator, least recently used first (the bound's order).
        self._recency: dict[str, OrderedDict[str, bool]] = {}
        self._dropped: dict[str, set[str]] = {}  # per OS: prototypes to delete from the mirror
        self.evicted = 0
        self._indexed_for: frozenset | None = None
        self._dirty: dict[str, Prototype] = {}  # prototype id -> latest state, not yet mirrored
        # (prototype id, OS, filter of the issue's lines): lines to tag. Only the filter is kept, not the
        # issue with its sample lines (kilobytes): thousands can wait while the vector store lags.
        self._members: list[tuple[str, str, dict]] = []

    def centroids(self, os_name: str) -> dict[str, Vector]:
        actives = frozenset(self.deps.app.assignor.assigned_actives())
        if self._centroids is None or actives != self._indexed_for:
            self._centroids, self._recency = {}, {}
            for pid, proto in sorted(self.table.items(), key=lambda kv: last_used(kv[1])):
                self._centroids.setdefault(proto.os, {})[pid] = np.asarray(proto.centroid, np.float32)
                self._recency.setdefault(proto.os, OrderedDict())[pid] = taught(proto)
                self._dirty[pid] = proto  # the mirror may lag the table the changelog restored
            self._indexed_for = actives
        return self._centroids.setdefault(os_name, {})

    def _used(self, proto: Prototype) -> None:
        """A prototype was joined or labelled: the most recently used of its OS, then the bound."""
        recency = self._recency.setdefault(proto.os, OrderedDict())
        recency[proto.id] = taught(proto)
        self._dropped.get(proto.os, set()).discard(proto.id)  # founded again (a replay): keep its mirror
        recency.move_to_end(proto.id)
        index = self.centroids(proto.os)
        while len(recency) > self.policy.max_prototypes:
            pid = victim(recency.items())
            del recency[pid]
            index.pop(pid, None)
            self.table.pop(pid, None)
            self._dirty.pop(pid, None)
            self._dropped.setdefault(proto.os, set()).add(pid)
            self.evicted += 1
            telemetry.count("streamapp.dropped", 1, what="prototypes")

    async def apply(self, closed: ClosedIssue) -> Prototype | None:
        if not closed.emitted:
            return None
        issue = OpenIssue.from_dict(closed.issue)
        now = self.deps.clock.now()
        vector = issue_vector(issue.template_counts, await self.deps.template_vectors(issue.templates))
        index = self.centroids(issue.os)
        best, sim = nearest(vector, index)
        proto = self.table.get(best) if best is not None and sim >= self.policy.sim_threshold else None
        if proto is not None and is_member(proto, issue):
            return proto  # a replayed closed issue: already counted
        proto = join(proto, issue, vector, now, self.policy) if proto else found(issue, vector, now, self.policy)
        candidate = None
        if due_for_candidate(proto, self.policy):
            candidate = to_cluster_candidate(proto, self.policy)
            proto.last_emitted_count = proto.member_count
        self.table[proto.id] = proto
        index[proto.id] = np.asarray(proto.centroid, np.float32)
        self._used(proto)
        if candidate is not None:
            await self.deps.topics.clusters_candidates.send(key=candidate.id, value=candidate)
        self._dirty[proto.id] = proto
        self._members.append((proto.id, issue.os, issue_lines(issue.key, issue.first_t, issue.last_t)))
        return proto

    async def command(self, cmd: PrototypeCommand) -> list[str]:
        """Apply a label (a classifier's verdict on a cluster) or operators' feedback; returns the
        prototypes that changed. Operators' labels are never replaced by a classifier's."""
        changed: list[Prototype] = []
        if cmd.kind == "label":
            proto = self.table.get(cmd.prototype_id)
            if proto is not None and proto.labelled_by not in (OPERATOR, PROPAGATED):
                changed.append(relabel(proto, cmd.label, cmd.labelled_by, cmd.confidence, cmd.at))
        elif cmd.kind == "feedback":
            mine = {pid: p for pid, p in self.table.items() if p.os == cmd.os}
            states = {pid: ProtoState(p.label, p.labelled_by, p.centroid) for pid, p in mine.items()}
            for change in improve(states, cmd.items, self.policy.sim_threshold):
                changed.append(relabel(mine[change.prototype_id], change.label, change.labelled_by,
                                       change.confidence, cmd.at))
        for proto in changed:
            self.table[proto.id] = proto
            self._dirty[proto.id] = proto
            self._used(proto)
        if changed:
            await self.flush()  # a label decides the next verdicts: no waiting for the timer
        return [p.id for p in changed]

    async def flush(self) -> None:
        """Mirror the prototypes changed since the last flush to `proto_<os>` (with their labels,
        which the enrichers read), one upsert per OS, then tag the new members' lines (best
        effort: what fails stays due for the next flush)."""
        dirty, members, dropped = self._dirty, self._members, self._dropped
        self._dirty, self._members, self._dropped = {}, [], {}
        by_os: dict[str, list[Prototype]] = {}
        for proto in dirty.values():
            by_os.setdefault(proto.os, []).append(proto)
        tagged = 0
        try:
            store = await self.deps.vectors()
            for os_name in list(dropped):
                await store.delete("proto", os_name, sorted(dropped[os_name]))
                del dropped[os_name]
            for os_name, protos in by_os.items():
                await store.upsert(
                    "proto", os_name, [p.id for p in protos], np.asarray([p.centroid for p in protos], np.float32),
                    metadatas=[prototype_metadata(p) for p in protos],
                    documents=[" \n".join(p.templates.values()) for p in protos],
                )
                for p in protos:
                    dirty.pop(p.id)
            for proto_id, os_name, where in members:
                ids = [item.id for item in await store.get("logs", os_name, where=where)]
                if ids:
                    await store.update_metadata("logs", os_name, ids, joined_cluster(proto_id))
                tagged += 1
        except (StreamAppError, OSError, ValueError) as exc:
            log.warning("clustering: vector store unavailable (%s); %d prototypes not mirrored yet", exc, len(dirty))
        self._dirty = {**dirty, **self._dirty}
        for os_name, gone in dropped.items():  # not deleted yet: due at the next flush
            self._dropped.setdefault(os_name, set()).update(gone)
        self._members = (members[tagged:] + self._members)[-MAX_PENDING_TAGS:]


def relabel(proto: Prototype, label: str, labelled_by: str, confidence: float, at: float) -> Prototype:
    proto.label = proto.failure_type = label
    proto.labelled_by = labelled_by
    proto.confidence = confidence
    proto.last_classified = at
    return proto


def register(deps: Deps) -> Clusterer:
    table = deps.tables["prototypes"] = prototypes(deps.app, deps.settings)
    clusterer = Clusterer(deps, table)

    guarded_agent(deps, deps.topics.closed_issues, "clustering", clusterer.apply)
    # Same key (OS) and partition count as closed_issues: the same worker owns both.
    guarded_agent(deps, deps.topics.prototype_commands, "prototype_commands", clusterer.command)
    guarded_timer(deps, deps.settings.proto_mirror_sec, "clustering.mirror", clusterer.flush)
    return clusterer
