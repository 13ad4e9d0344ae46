"""Alert storms compress: the same failure on many hosts within the grouping window is one alert.

An *occurrence* is one verdict worth an alert (an issue's, or a single line's). Occurrences with the
same OS, failure type and template family, the first of them less than the window ago, form one
*group*: one alert that lists the hosts (per host: count, first and last seen, a sample of
evidence). The window is fixed from the group's first occurrence, so a failure that goes on for
hours raises one alert per window, not one ever.

Pure, and the one place the decision is made: the enricher applies `join_run` to a group kept on Redis
(`connectors.alert_store.AlertGroups`), and `group_alerts` runs the same decision over a whole
sequence, for benches that count the alerts a log would raise::

    groups = group_alerts(
        [Occurrence(id="l1", host="node-7", failure_type="hardware_memory", template_ids=("9f2c..",), t=0.0),
         Occurrence(id="l2", host="node-9", failure_type="hardware_memory", template_ids=("9f2c..",), t=4.0)],
        window_sec=900,
    )
    assert len(groups) == 1 and groups[0].host_count == 2
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

BENIGN = "benign"  # the verdict that never raises an alert
MAX_HOSTS = 200  # hosts listed per group; occurrences on further hosts are only counted
MAX_EVIDENCE = 2  # evidence lines kept per host
MAX_RAW = 240  # characters kept of an evidence line
_TOKEN = re.compile(r"[^\W\d_]+")  # runs of letters


@dataclass(frozen=True)
class Occurrence:
    """One verdict worth an alert (`host` empty when it has none, e.g. a cluster of issues).

    `template_ids`: the templates behind the verdict, most telling first (a verdict's evidence
    order); the first one names the template family unless `family` is given (see
    `template_family`). `t`: when it happened (epoch seconds), which decides the window.
    `evidence`: a few lines (`{id, raw}`) to show for its host."""

    id: str
    host: str
    failure_type: str
    template_ids: Sequence[str]
    t: float
    os: str = ""
    family: str = ""
    evidence: Sequence[Mapping[str, Any]] = ()

    @property
    def family_id(self) -> str:
        return self.family or (self.template_ids[0] if self.template_ids else "")


def template_family(template: str) -> str:
    """A family id for a template's text: its words without values, wildcards or case, so
    templates the miner split on a value it did not mask (`link eth0 down`, `link eth1 down`,
    `vol<*>`, `page 0x3f2a`) fall in one family. A value is a whitespace-separated token with a
    digit or a wildcard in it."""
    kept = (t for t in template.lower().split() if "<*>" not in t and not any(c.isdigit() for c in t))
    words = " ".join(w for t in kept for w in _TOKEN.findall(t))
    return "f" + hashlib.blake2b(words.encode(), digest_size=8).hexdigest()


def group_key(occ: Occurrence) -> str:
    """The Redis-safe key of the group an occurrence belongs to: OS, failure type, family."""
    basis = "\x00".join((occ.os, occ.failure_type, occ.family_id))
    return "alertgroup:" + hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()


@dataclass
class HostEntry:
    """One host of a group: its occurrences, when, and a sample of its evidence."""

    count: int
    first_seen: float
    last_seen: float
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AlertGroup:
    """One alert's worth of occurrences. `owner` is the id of the alert that speaks for the group
    (the first occurrence's); `unlisted` counts occurrences on hosts past MAX_HOSTS."""

    key: str
    owner: str
    os: str
    failure_type: str
    family: str
    opened_at: float
    first_seen: float
    last_seen: float
    occurrences: int = 0
    hosts: dict[str, HostEntry] = field(default_factory=dict)
    unlisted: int = 0

    @property
    def host_count(self) -> int:
        return len(self.hosts)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> AlertGroup:
        data = json.loads(raw)
        data["hosts"] = {h: HostEntry(**e) for h, e in data.get("hosts", {}).items()}
        return cls(**data)


def open_group(occ: Occurrence, owner: str) -> AlertGroup:
    """A new group whose first occurrence is `occ`, spoken for by the alert `owner`."""
    group = AlertGroup(
        key=group_key(occ), owner=owner, os=occ.os, failure_type=occ.failure_type, family=occ.family_id,
        opened_at=occ.t, first_seen=occ.t, last_seen=occ.t,
    )
    add(group, occ)
    return group


def within(group: AlertGroup, t: float, window_sec: float) -> bool:
    """Whether an occurrence at `t` still belongs to the group (fixed window from its opening)."""
    return t - group.opened_at < window_sec


def add(group: AlertGroup, occ: Occurrence) -> None:
    """Count `occ` on its host (bounded: MAX_HOSTS hosts, MAX_EVIDENCE lines each); an occurrence
    with no host (a cluster of issues) is counted on the group only."""
    group.occurrences += 1
    group.first_seen = min(group.first_seen, occ.t)
    group.last_seen = max(group.last_seen, occ.t)
    if not occ.host:
        return
    entry = group.hosts.get(occ.host)
    if entry is None:
        if len(group.hosts) >= MAX_HOSTS:
            group.unlisted += 1
            return
        entry = group.hosts[occ.host] = HostEntry(count=0, first_seen=occ.t, last_seen=occ.t)
    entry.count += 1
    entry.first_seen = min(entry.first_seen, occ.t)
    entry.last_seen = max(entry.last_seen, occ.t)
    for line in occ.evidence:
        if len(entry.evidence) >= MAX_EVIDENCE:
            break
        entry.evidence.append({"id": str(line.get("id", "")), "raw": str(line.get("raw", ""))[:MAX_RAW]})


@dataclass
class Joined:
    """What a run of joins did to one group: the group after it, whether the run opened it (the
    stored group and its members are replaced), the ids that joined, and how many of the run's
    occurrences it took."""

    group: AlertGroup
    fresh: bool
    new_ids: list[str]
    taken: int


def join_run(group: AlertGroup | None, known: Callable[[str], bool], joins: Sequence[tuple[Occurrence, str]],
             window_sec: float) -> Joined:
    """`joins` ((occurrence, the alert id that speaks for it if it opens a group), all of one group
    key, in order) applied to `group` (None: none open), `known` telling the ids that already
    joined it. A replay (a known id within the window) changes nothing. The run stops before an
    occurrence that would open a second group: the caller stores this one and runs the rest."""
    fresh = False
    new: list[str] = []
    taken = 0
    for occ, alert_id in joins:
        opens = group is None or not within(group, occ.t, window_sec)
        if opens and (fresh or new):
            break
        taken += 1
        if opens:
            group, fresh = open_group(occ, owner=alert_id), True
        elif occ.id in new or (not fresh and known(occ.id)):
            continue
        else:
            add(group, occ)  # type: ignore[arg-type]  # not None: it did not open
        new.append(occ.id)
    assert group is not None, "a run takes at least its first occurrence"
    return Joined(group, fresh, new, taken)


def host_list(group: AlertGroup) -> list[dict[str, Any]]:
    """The hosts as an alert shows them, first seen first."""
    return [
        {"host": host, "count": e.count, "first_seen": e.first_seen, "last_seen": e.last_seen, "evidence": e.evidence}
        for host, e in sorted(group.hosts.items(), key=lambda kv: (kv[1].first_seen, kv[0]))
    ]


def alert_fields(group: AlertGroup) -> dict[str, Any]:
    """The fields of the group's alert that change as occurrences join (names of `Alert`)."""
    return {
        "group_key": group.key, "hosts": host_list(group), "host_count": group.host_count,
        "hosts_unlisted": group.unlisted, "occurrences": group.occurrences,
        "first_seen": group.first_seen, "last_seen": group.last_seen,
    }


def group_alerts(occurrences: Iterable[Occurrence], window_sec: float) -> list[AlertGroup]:
    """The alerts a sequence of occurrences raises, as groups in the order they opened.

    Occurrences are taken in time order (stable for ties); `benign` ones raise nothing and are
    left out; an id seen before is a replay and counts once. `window_sec <= 0` turns grouping off:
    one group per occurrence. The group's owner is its first occurrence's id."""
    groups: list[AlertGroup] = []
    current: dict[str, AlertGroup] = {}
    seen: set[str] = set()
    for occ in sorted(occurrences, key=lambda o: o.t):
        if occ.failure_type == BENIGN or occ.id in seen:
            continue
        seen.add(occ.id)
        key = group_key(occ)
        group = current.get(key)
        if group is not None and window_sec > 0 and within(group, occ.t, window_sec):
            add(group, occ)
            continue
        current[key] = open_group(occ, owner=occ.id)
        groups.append(current[key])
    return groups
