"""Alert groups on the real Redis: enrichers joining one group at once, replays, and the host list
reaching the alert hash whether the outbound bridge writes the hash before or after hosts join,
and the console showing it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from connectors.alert_store import AlertGroups, AlertStore
from connectors.redis_streams import StreamWriter
from streamapp.alert_groups import Occurrence
from streamapp.api.app import create_api
from streamapp.enrichment import grouped
from streamapp.records import Alert
from streamapp.settings import Settings
from tests.browser.conftest import ADMIN_TOKEN, http_login

pytestmark = pytest.mark.integration


def occ(i: int, host: str, failure: str = "hardware_memory") -> Occurrence:
    return Occurrence(id=f"issue-{i}", host=host, failure_type=failure, template_ids=("t-ecc",), t=1000.0 + i,
                      os="linux", evidence=[{"id": f"{i}-0", "raw": f"EDAC MC0: 1 CE on {host}"}])


def alert(i: int) -> Alert:
    return Alert(id=f"alert-issue-{i}", type="issue", os="linux", failure_type="hardware_memory", confidence=0.9,
                 result={}, host=f"node-{i}", summary="ECC errors")


async def test_a_storm_is_one_group_and_its_hash_lists_every_host(settings: Settings, redis: aioredis.Redis) -> None:
    groups = AlertGroups(redis, settings)
    first = await groups.join(occ(0, "node-0"), "alert-issue-0", window_sec=900)
    assert first.owner == "alert-issue-0"
    # 49 more hosts join at once, from 7 workers' enrichers (each takes one candidate at a time),
    # before the bridge has written the owner's hash.

    async def enricher(first: int) -> set[str]:
        return {(await groups.join(occ(i, f"node-{i}"), f"alert-issue-{i}", 900)).owner for i in range(first, 50, 7)}

    assert set.union(*await asyncio.gather(*(enricher(w) for w in range(1, 8)))) == {"alert-issue-0"}
    writer = StreamWriter(redis, settings)
    owner = grouped(alert(0), first)
    assert await writer.write(settings.stream_alerts, [owner], hash_prefix="alert:") == 1
    stored = await AlertStore(redis, settings).get("alert-issue-0")
    assert stored is not None
    hosts = json.loads(stored.fields["hosts"])
    assert len(hosts) == 50 and stored.fields["host_count"] == "50" and stored.fields["occurrences"] == "50"
    assert hosts[7]["host"] == "node-7" and hosts[7]["evidence"][0]["raw"] == "EDAC MC0: 1 CE on node-7"
    assert not await redis.exists(settings.redis_key("pending:alert:alert-issue-0")), "merged, then dropped"

    # After the hash exists, a join updates it directly; a replay changes nothing; another failure type
    # is another group; the stream entry keeps what it said at creation.
    await groups.join(occ(50, "node-50"), "alert-issue-50", 900)
    await groups.join(occ(3, "node-3"), "alert-issue-3", 900)
    other = await groups.join(occ(51, "node-1", failure="network_link"), "alert-issue-51", 900)
    assert other.owner == "alert-issue-51"
    fields = (await AlertStore(redis, settings).get("alert-issue-0")).fields  # type: ignore[union-attr]
    assert (fields["host_count"], fields["occurrences"]) == ("51", "51")
    assert await writer.write(settings.stream_alerts, [owner], hash_prefix="alert:") == 0, "a replayed alert"
    page = await AlertStore(redis, settings).page(before=None, limit=10, where={}, budget=100)
    ((_, listed, _),) = page.items
    assert listed["host_count"] == "51", "listings show the group's current count"
    entry = (await redis.xrange(settings.redis_key(settings.stream_alerts)))[0][1]
    assert entry[b"host_count"] == b"1"

    # The console lists the hosts on the alert's page, and the count on the list.
    app = create_api(settings.model_copy(update={"admin_token": SecretStr(ADMIN_TOKEN)}), probes={})
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as http:
        await http_login(http, "http://api/console")
        page = (await http.get("/console/alerts/alert-issue-0")).text
        listing = (await http.get("/console/alerts")).text
    assert "Hosts (51)" in page and page.count("<tr><td>node-") == 51 and "EDAC MC0: 1 CE on node-49" in page
    assert "+50 hosts" in listing


async def test_a_batch_joins_in_one_transaction_per_failure_as_one_at_a_time(settings: Settings,
                                                                              redis: aioredis.Redis) -> None:
    """An enricher's batch: 50 hosts with one failure and 2 with another, a replay among them, and
    one occurrence after the window: the groups are those of joining one at a time."""
    groups = AlertGroups(redis, settings)
    batch = [(occ(i, f"node-{i}"), f"alert-issue-{i}") for i in range(50)]
    batch += [(occ(60 + i, f"node-{i}", failure="network_link"), f"alert-issue-{60 + i}") for i in range(2)]
    batch += [batch[3], (Occurrence(id="issue-late", host="node-1", failure_type="hardware_memory",
                                    template_ids=("t-ecc",), t=1000.0 + 900 + 1, os="linux"), "alert-issue-late")]
    joined = await groups.join_many(batch, window_sec=900)
    owners = [g.owner for g in joined]
    assert owners == ["alert-issue-0"] * 50 + ["alert-issue-60"] * 2 + ["alert-issue-0", "alert-issue-late"]
    assert (joined[0].host_count, joined[0].occurrences) == (50, 50), "the replay counted once"
    assert (joined[-1].host_count, joined[-2].occurrences) == (1, 50)
    # The same joins one at a time, under another namespace, store the same groups.
    alone = AlertGroups(redis, settings.model_copy(update={"stream_prefix": settings.stream_prefix + "alone."}))
    one_by_one = [await alone.join(o, a, 900) for o, a in batch]
    assert [g.to_json() for g in one_by_one[-3:]] == [g.to_json() for g in joined[-3:]]
    again = await groups.join_many(batch[50:52], 900)
    assert [g.occurrences for g in again] == [2, 2], "a replayed batch adds nothing"
