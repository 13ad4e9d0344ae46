"""Alert grouping, pure: one alert per failure and template family per window, listing the hosts."""

from __future__ import annotations

from streamapp.alert_groups import (
    MAX_EVIDENCE,
    MAX_HOSTS,
    AlertGroup,
    Occurrence,
    alert_fields,
    group_alerts,
    template_family,
)


def occ(i: int, host: str, t: float, failure: str = "hardware_memory", tid: str = "t-ecc", **kw) -> Occurrence:
    return Occurrence(id=f"i{i}", host=host, failure_type=failure, template_ids=(tid, "t-other"), t=t, os="linux", **kw)


def test_the_same_failure_on_fifty_hosts_is_one_alert_listing_them() -> None:
    storm = [occ(i, f"node-{i % 50:02d}", 1000.0 + i, evidence=[{"id": f"l{i}", "raw": "x" * 500}]) for i in range(120)]
    (group,) = group_alerts(storm, window_sec=900)
    assert group.owner == "i0" and group.occurrences == 120 and group.host_count == 50
    fields = alert_fields(group)
    hosts = fields["hosts"]
    assert [h["host"] for h in hosts] == [f"node-{i:02d}" for i in range(50)], "first seen first"
    assert hosts[0]["count"] == 3 and hosts[0]["first_seen"] == 1000.0 and hosts[0]["last_seen"] == 1100.0
    assert len(hosts[0]["evidence"]) == MAX_EVIDENCE and len(hosts[0]["evidence"][0]["raw"]) < 500
    assert fields["first_seen"] == 1000.0 and fields["last_seen"] == 1119.0


def test_type_family_os_and_window_separate_alerts() -> None:
    items = [
        occ(1, "a", 0.0),
        occ(2, "b", 10.0, failure="network_link"),  # another failure type
        occ(3, "c", 20.0, tid="t-disk"),  # another template family
        occ(4, "d", 899.0),  # still the first window
        occ(5, "e", 900.0),  # the window is fixed from the first occurrence: a new alert
        occ(6, "f", 30.0, failure="benign"),  # benign raises nothing
        occ(1, "a", 40.0),  # a replay of an occurrence counts once
    ]
    groups = group_alerts(items, window_sec=900)
    assert [(g.owner, g.occurrences) for g in groups] == [("i1", 2), ("i2", 1), ("i3", 1), ("i5", 1)]
    assert len(group_alerts(items, window_sec=0)) == 5, "window 0: an alert per occurrence"
    other_os = Occurrence(id="w", host="a", failure_type="hardware_memory", template_ids=("t-ecc",), t=1.0, os="win")
    assert len(group_alerts([items[0], other_os], window_sec=900)) == 2


def test_families_fold_unmasked_values_and_groups_are_bounded() -> None:
    assert template_family("link eth0 down <*>") == template_family("Link eth1 down 42 0x3f2a")
    assert template_family("link eth0 down") != template_family("link eth0 up")
    a = occ(1, "a", 0.0, family=template_family("link eth0 down"))
    b = occ(2, "b", 1.0, tid="t-else", family=template_family("link eth7 down"))
    assert len(group_alerts([a, b], window_sec=60)) == 1, "an explicit family wins over the lead template"

    (group,) = group_alerts([occ(i, f"h{i}", float(i)) for i in range(MAX_HOSTS + 5)], window_sec=10_000)
    assert group.host_count == MAX_HOSTS and group.unlisted == 5 and group.occurrences == MAX_HOSTS + 5
    again = AlertGroup.from_json(group.to_json())
    assert again == group
