"""The SaaS producers (Datadog, Splunk, ThousandEyes) against their local doubles, writing to the
real Redis `logs` stream.

Every producer is held to the same things first (paging, its system's own throttle signal, refused
credentials, 5xx in its status, timeouts, cursors across a restart); then what one system alone does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import redis.asyncio as aioredis

from connectors.sources.base import Emitter, SourceConfig
from connectors.sources.datadog import DatadogProducer
from connectors.sources.http import HttpProducer
from connectors.sources.registry import producer_class
from connectors.sources.splunk import SplunkProducer
from connectors.sources.thousandeyes import ThousandEyesProducer
from streamapp.errors import AuthFailed, ConfigError, ExternalAPIError, RateLimited, TransientError
from streamapp.settings import Settings
from tests.doubles.datadog import DatadogDouble
from tests.doubles.http_double import Budget, HttpDouble
from tests.doubles.splunk import SplunkDouble
from tests.doubles.thousandeyes import ThousandEyesDouble
from tests.support.producers import until
from tests.support.waits import Waits

pytestmark = pytest.mark.integration


@dataclass
class System:
    """One producer, its double, a working config, and how to tell corpus items in its lines."""

    producer: type[HttpProducer]
    double: Any
    config: dict[str, Any]
    secrets: dict[str, str]
    wrong_secrets: dict[str, str]
    refused_status: int
    item: Callable[[str], str]  # a line -> the id of the corpus item it renders
    corpus: Callable[[], set[str]]
    add: Callable[[], str]  # a new item arriving now; returns its id
    partial: dict[str, Any]  # config overrides under which one poll reads only part of the corpus


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, HttpDouble]]:
    made = {"datadog": DatadogDouble(slow_sec=3), "splunk": SplunkDouble(slow_sec=3, huge_rows=5000),
            "thousandeyes": ThousandEyesDouble(slow_sec=3)}
    for double in made.values():
        double.start()
    yield made
    for double in made.values():
        double.stop()


def _system(name: str, double: Any) -> System:
    shared = {"timeout_sec": 2, "interval_sec": 1}
    if name == "datadog":
        return System(
            DatadogProducer, double, {**shared, "base_url": double.url, "page_limit": 4, "lag_sec": 0,
                                      "lookback_sec": 3600},
            {"api_key": double.api_key, "app_key": double.app_key},
            {"api_key": double.api_key, "app_key": "wrong"}, 403,
            lambda line: json.loads(line)["id"], lambda: {e["id"] for e in double.events},
            lambda: double.add(message="late request to upstream orders-9 took 900 ms"), {"max_pages": 2})
    if name == "splunk":
        return System(
            SplunkProducer, double, {**shared, "base_url": double.url, "search": "search index=main", "lag_sec": 0,
                                     "lookback_sec": 660},
            {"token": double.token}, {"token": "expired"}, 401,
            lambda line: line, lambda: {e["_raw"] for e in double.events},
            lambda: double.add(f"sshd[77]: Failed password for root (late {len(double.events)})"),
            {"window_sec": 120, "max_rows": 5})
    return System(
        ThousandEyesProducer, double, {**shared, "base_url": double.base_url, "aid": double.aid,
                                       "states": ["trigger", "clear"], "window": "2h", "page_size": 3},
        {"token": double.token}, {"token": "revoked"}, 401,
        lambda line: json.loads(line)["alert_id"], lambda: {a["id"] for a in double.alerts},
        lambda: double.add(severity="critical"), {})


def _fresh(name: str, doubles: dict[str, HttpDouble]) -> System:
    doubles[name].reset()
    return _system(name, doubles[name])


@pytest.fixture(params=["datadog", "splunk", "thousandeyes"])
def system(request: pytest.FixtureRequest, doubles: dict[str, HttpDouble]) -> System:
    return _fresh(request.param, doubles)


@pytest.fixture(params=["datadog", "thousandeyes"])
def throttled(request: pytest.FixtureRequest, doubles: dict[str, HttpDouble]) -> System:
    """The systems that throttle with a 429 naming a reset (Splunk limits concurrency: see its busy test)."""
    return _fresh(request.param, doubles)


def make(system: System, settings: Settings, redis: aioredis.Redis, *, secrets: dict[str, str] | None = None,
         **overrides: Any) -> HttpProducer:
    """A producer as the manager builds one; the same source id means the same cursor (a restart)."""
    config = system.producer.validate({**system.config, **overrides})
    source = SourceConfig(id="src-1", name="test", type=system.producer.type, config=config,
                          secrets=system.secrets if secrets is None else secrets)
    return system.producer(source, Emitter(redis, settings, source))


async def logged(settings: Settings, redis: aioredis.Redis) -> list[dict[str, str]]:
    entries = await redis.xrange(settings.redis_key(settings.stream_logs))
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


async def items(system: System, settings: Settings, redis: aioredis.Redis) -> list[str]:
    return [system.item(entry["line"]) for entry in await logged(settings, redis)]


async def arrive(system: System) -> str:
    """A new item, stamped now; the short pause keeps the next poll's `now` past it, as the
    `lag_sec` of a real deployment would (tests run with no lag)."""
    added = system.add()
    await asyncio.sleep(0.005)
    return added


# --- every producer -------------------------------------------------------------------------------
async def test_paging_reads_the_whole_corpus_once(system: System, settings: Settings, redis: aioredis.Redis) -> None:
    producer = make(system, settings, redis)
    assert await producer.poll_once() == len(system.corpus())
    got = await items(system, settings, redis)
    assert sorted(got) == sorted(system.corpus())
    assert {e["source"] for e in await logged(settings, redis)} == {f"{system.producer.type}:test"}
    if system.producer is not SplunkProducer:  # Splunk streams one answer; the others page
        assert len(system.double.calls) > 2
    assert await producer.poll_once() == 0  # nothing new: nothing repeated


async def test_restart_resumes_from_the_cursor(system: System, settings: Settings, redis: aioredis.Redis) -> None:
    first = make(system, settings, redis, **system.partial)
    read = await first.poll_once()
    assert 0 < read <= len(system.corpus())
    added = [await arrive(system), await arrive(system)]  # while the source restarts
    second = make(system, settings, redis)  # a new instance, as after a restart: only the stored cursor
    for _ in range(20):
        if await second.poll_once() == 0:
            break
    got = await items(system, settings, redis)
    assert sorted(got) == sorted(system.corpus()), "every item exactly once"
    assert set(added) <= set(got)


async def test_throttle_signal_names_the_wait(throttled: System, settings: Settings, redis: aioredis.Redis) -> None:
    throttled.double.enqueue("rate_limit")
    producer = make(throttled, settings, redis)
    with pytest.raises(RateLimited) as caught:
        await producer.poll_once()
    assert caught.value.status == 429
    assert 0.5 <= caught.value.retry_after <= 2.0  # the double's reset header: ~1 s away
    assert await logged(settings, redis) == []


async def test_poll_loop_waits_as_told(
    throttled: System, settings: Settings, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a 429 the loop waits what the system named (5 s here), not its interval nor its backoff
    (both about 1 s), then polls again."""
    monkeypatch.setattr(throttled.double, "retry_after_sec", 5.0)
    throttled.double.enqueue("rate_limit")
    producer = make(throttled, settings, redis)
    waits = Waits(throttled.double, real=producer.sleep, real_after=lambda: producer.status.lines > 0)
    monkeypatch.setattr(producer, "sleep", waits)
    await producer.start()
    try:
        await until(lambda: producer.status.lines > 0)
    finally:
        await producer.stop()
    assert "429" in producer.status.last_error
    (told, requests), *_ = waits.taken
    assert requests == 1 and 4.5 <= told <= 6.5, f"waited {told} s after the 429 (the reset is 5 s away)"
    assert [c.scenario for c in throttled.double.calls[:2]] == ["rate_limit", "ok"]


async def test_refused_credentials_fail_auth(system: System, settings: Settings, redis: aioredis.Redis) -> None:
    producer = make(system, settings, redis, secrets=system.wrong_secrets)
    with pytest.raises(AuthFailed) as caught:
        await producer.poll_once()
    assert caught.value.status == system.refused_status


async def test_server_errors_show_in_the_status(system: System, settings: Settings, redis: aioredis.Redis) -> None:
    system.double.scenario = "server_error"
    producer = make(system, settings, redis)
    await producer.start()
    try:
        await until(lambda: producer.status.state == "backoff")
        assert "HTTP 500" in producer.status.last_error
        system.double.scenario = "ok"
        await until(lambda: producer.status.lines == len(system.corpus()))
        assert producer.status.state == "running"
    finally:
        await producer.stop()


async def test_slow_answers_time_out(system: System, settings: Settings, redis: aioredis.Redis) -> None:
    """The client gives up at its timeout (0.3 s): the double, holding its answer for `slow_sec`,
    sees it hang up before answering; nothing is stored."""
    system.double.scenario = "slow"
    producer = make(system, settings, redis, timeout_sec=0.3)
    with pytest.raises(TransientError, match="timed out"):
        await producer.poll_once()
    await until(lambda: system.double.abandoned)
    assert system.double.abandoned == system.double.calls, "its one request, hung up on before the answer"
    assert await producer.emitter.cursor() is None


@pytest.mark.parametrize(("producer", "config", "field"), [
    (DatadogProducer, {"page_limit": 5000}, "page_limit"),
    (DatadogProducer, {"site": "datadoghq.example"}, "site"),
    (DatadogProducer, {"storage_tier": "cold"}, "storage_tier"),
    (SplunkProducer, {"search": "search x"}, "base_url"),
    (SplunkProducer, {"base_url": "https://sh:8089", "search": "index=main"}, "search"),
    (SplunkProducer, {"base_url": "https://sh:8089", "search": "search x", "auth": "session"}, "username"),
    (SplunkProducer, {"base_url": "https://sh:8089", "search": "search x", "window_sec": 0}, "window_sec"),
    (ThousandEyesProducer, {"aid": "acme"}, "aid"),
    (ThousandEyesProducer, {"window": "5 minutes"}, "window"),
    (ThousandEyesProducer, {"states": ["active"]}, "states"),
    (ThousandEyesProducer, {"interval_sec": 0}, "interval_sec"),
    (ThousandEyesProducer, {"base_url": "api.thousandeyes.com"}, "base_url"),
])
def test_validate_names_the_failing_field(producer: type[HttpProducer], config: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: "):
        producer.validate(config)


def test_registry_and_defaults() -> None:
    for kind in ("datadog", "splunk", "thousandeyes"):
        assert producer_class(kind).type == kind
    assert DatadogProducer.validate({})["page_limit"] == 1000
    assert ThousandEyesProducer.validate({})["base_url"] == "https://api.thousandeyes.com/v7"
    assert SplunkProducer.secret_fields == ("token", "password")


# --- Datadog --------------------------------------------------------------------------------------
@pytest.fixture
def datadog(doubles: dict[str, HttpDouble]) -> System:
    return _fresh("datadog", doubles)


async def test_datadog_lines_and_requests(datadog: System, settings: Settings, redis: aioredis.Redis) -> None:
    await make(datadog, settings, redis).poll_once()
    lines = [json.loads(e["line"]) for e in await logged(settings, redis)]
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)  # oldest first
    assert {"host", "service", "level", "message", "id"} <= set(lines[0])
    structured = next(line for line in lines if line["message"].startswith("{"))
    assert json.loads(structured["message"])["http"]["status_code"] == 504
    bodies = [json.loads(c.body) for c in datadog.double.calls]
    assert all(b["sort"] == "timestamp" and b["page"]["limit"] == 4 for b in bodies)
    assert "cursor" not in bodies[0]["page"] and all("cursor" in b["page"] for b in bodies[1:])


async def test_datadog_resumes_a_throttled_page(
    datadog: System, settings: Settings, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    datadog.double.enqueue("ok", "rate_limit")  # the second page is throttled for 1 s
    producer = make(datadog, settings, redis)
    waits = Waits(datadog.double)
    monkeypatch.setattr(producer, "sleep", waits)
    assert await producer.poll_once() == len(datadog.corpus())
    calls = datadog.double.calls
    assert waits.taken == [(1.0, 2)], "the wait X-RateLimit-Reset named, after the throttled page"
    assert json.loads(calls[1].body) == json.loads(calls[2].body)  # the same page again, not the read again


async def test_datadog_timeout_status_keeps_what_came(
    datadog: System, settings: Settings, redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    datadog.double.enqueue("timeout")
    producer = make(datadog, settings, redis)
    with caplog.at_level(logging.WARNING):
        assert await producer.poll_once() == 2  # half a page, no cursor
    assert "may be partial" in caplog.text
    await producer.poll_once()
    assert sorted(await items(datadog, settings, redis)) == sorted(datadog.corpus())


async def test_datadog_double_keeps_the_contract(datadog: System) -> None:
    dd: DatadogDouble = datadog.double
    keys = {"DD-API-KEY": dd.api_key, "DD-APPLICATION-KEY": dd.app_key}
    body = {"filter": {"from": "now-1h", "to": "now"}, "sort": "timestamp", "page": {"limit": 10}}
    async with httpx.AsyncClient(base_url=dd.url, timeout=5) as http:
        refused = await http.post("/api/v2/logs/events/search", json=body, headers={"DD-API-KEY": dd.api_key})
        assert (refused.status_code, refused.json()) == (403, {"errors": ["Forbidden"]})
        too_big = await http.post("/api/v2/logs/events/search", json={**body, "page": {"limit": 1001}}, headers=keys)
        assert too_big.status_code == 400
        ids, url = [], "/api/v2/logs/events?filter[from]=now-1h&sort=timestamp&page[limit]=10"
        while url:  # the GET variant, following links.next
            page = (await http.get(url, headers=keys)).json()
            ids += [e["id"] for e in page["data"]]
            url = page.get("links", {}).get("next")
            assert ("after" in page["meta"].get("page", {})) == bool(url)
        assert sorted(ids) == sorted(datadog.corpus())
        dd.enqueue("rate_limit")
        throttled = await http.post("/api/v2/logs/events/search", json=body, headers=keys)
    assert throttled.status_code == 429 and "retry-after" not in throttled.headers
    assert {"x-ratelimit-limit", "x-ratelimit-period", "x-ratelimit-remaining", "x-ratelimit-name"} <= set(
        throttled.headers)
    assert throttled.headers["x-ratelimit-reset"] == "1"


# --- Splunk ---------------------------------------------------------------------------------------
@pytest.fixture
def splunk(doubles: dict[str, HttpDouble]) -> System:
    return _fresh("splunk", doubles)


async def test_splunk_cut_stream_never_advances_past_the_cut(
    splunk: System, settings: Settings, redis: aioredis.Redis
) -> None:
    splunk.double.enqueue("cut")  # the one window's stream drops halfway
    with pytest.raises(TransientError):
        await make(splunk, settings, redis).poll_once()
    assert await logged(settings, redis) == []
    producer = make(splunk, settings, redis, window_sec=120)
    assert await producer.emitter.cursor() is None
    splunk.double.enqueue("ok", "ok", "cut")  # two-minute windows; the third drops halfway
    first = await producer.poll_once()
    cursor = json.loads(await producer.emitter.cursor() or "{}")
    assert 0 < first < len(splunk.corpus())
    cut_window_start = float(parse_qs(splunk.double.calls[-1].body.decode())["earliest_time"][0])
    assert cursor["ms"] <= cut_window_start * 1000  # checkpointed before the cut window
    await make(splunk, settings, redis, window_sec=120).poll_once()
    assert sorted(await items(splunk, settings, redis)) == sorted(splunk.corpus())


async def test_splunk_error_message_fails_the_run(splunk: System, settings: Settings, redis: aioredis.Redis) -> None:
    splunk.double.enqueue("error_message")
    with pytest.raises(ExternalAPIError, match="Search auto-canceled"):
        await make(splunk, settings, redis).poll_once()
    assert await logged(settings, redis) == []


async def test_splunk_busy_is_backed_off(
    splunk: System, settings: Settings, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    splunk.double.enqueue("busy")
    producer = make(splunk, settings, redis)
    with pytest.raises(ExternalAPIError, match="maximum number of concurrent") as caught:
        await producer.poll_once()
    assert caught.value.status == 503 and not isinstance(caught.value, RateLimited)  # no wait named: backoff
    splunk.double.enqueue("busy")
    waits = Waits(splunk.double, real=producer.sleep, real_after=lambda: producer.status.lines > 0)
    monkeypatch.setattr(producer, "sleep", waits)
    await producer.start()
    try:
        await until(lambda: producer.status.lines > 0)
    finally:
        await producer.stop()
    calls = splunk.double.calls
    after_busy = calls.index([c for c in calls if c.scenario == "busy"][-1])
    (backoff, requests), *_ = waits.taken
    assert requests == after_busy + 1, "the loop waited right after the busy answer, before asking again"
    assert 1.0 <= backoff <= 1.25  # the poll loop's backoff (1 s, jittered)


@pytest.mark.parametrize("auth", ["basic", "session"])
async def test_splunk_password_auth(auth: str, splunk: System, settings: Settings, redis: aioredis.Redis) -> None:
    double: SplunkDouble = splunk.double
    secrets = {"password": double.password}
    producer = make(splunk, settings, redis, secrets=secrets, auth=auth, username=double.username)
    assert await producer.poll_once() == len(splunk.corpus())
    double.expire_sessions()
    await arrive(splunk)
    assert await producer.poll_once() == 1
    logins = [c for c in double.calls if c.path == "/services/auth/login"]
    assert len(logins) == (2 if auth == "session" else 0)  # an expired key is renewed once
    wrong = make(splunk, settings, redis, secrets={"password": "nope"}, auth=auth, username=double.username)
    with pytest.raises(AuthFailed):
        await wrong.poll_once()


async def test_splunk_stats_keep_final_rows(splunk: System, settings: Settings, redis: aioredis.Redis) -> None:
    producer = make(splunk, settings, redis, search="search index=main | stats count by host")
    await producer.poll_once()
    rows = [json.loads(e["line"]) for e in await logged(settings, redis)]
    assert sorted(r["host"] for r in rows) == ["web-01", "web-02", "web-03"]  # no interim preview rows
    assert sum(int(r["count"]) for r in rows) == len(splunk.corpus())


async def test_splunk_huge_stream(splunk: System, settings: Settings, redis: aioredis.Redis) -> None:
    splunk.double.enqueue("huge")
    assert await make(splunk, settings, redis).poll_once() == len(splunk.corpus()) + 5000


async def test_splunk_double_refuses_bad_requests(splunk: System) -> None:
    double: SplunkDouble = splunk.double
    async with httpx.AsyncClient(base_url=double.url, timeout=5) as http:
        anonymous = await http.post("/services/search/v2/jobs/export", data={"search": "search *"})
        assert anonymous.status_code == 401
        assert anonymous.json()["messages"][0]["text"] == "call not properly authenticated"
        bare = await http.post("/services/search/v2/jobs/export", headers={"Authorization": f"Bearer {double.token}"},
                               data={"search": "index=main", "output_mode": "json"})
        assert bare.status_code == 400 and bare.json()["messages"][0]["type"] == "FATAL"


# --- ThousandEyes ---------------------------------------------------------------------------------
@pytest.fixture
def thousandeyes(doubles: dict[str, HttpDouble]) -> System:
    return _fresh("thousandeyes", doubles)


async def test_te_lines_read_well(thousandeyes: System, settings: Settings, redis: aioredis.Redis) -> None:
    await make(thousandeyes, settings, redis).poll_once()
    lines = [json.loads(e["line"]) for e in await logged(settings, redis)]
    unknown = next(line for line in lines if line["alert_type"] == "brand-new-test-type")
    assert unknown["message"].startswith("brand-new-test-type alert trigger: severity ")
    assert "/v7/tests/" in unknown["message"] and unknown["alert_id"] in unknown["message"]
    cleared = [line for line in lines if line["state"] == "clear"]
    assert len(cleared) == 2 and {line["level"] for line in cleared} == {"info"}
    assert not {"alertId", "dateStart", "severity", "permalink"} & set(lines[0])
    first = thousandeyes.double.calls[0].query
    assert "window" in first and "startDate" not in first
    await make(thousandeyes, settings, redis).poll_once()
    assert "startDate" in thousandeyes.double.calls[-1].query  # later polls ask from the cursor


async def test_te_budget_spent_mid_paging_is_waited_out(
    thousandeyes: System, settings: Settings, redis: aioredis.Redis
) -> None:
    thousandeyes.double.budget = Budget(2, 1.0)  # two requests a second: four pages must wait
    producer = make(thousandeyes, settings, redis, states=["trigger"])
    assert await producer.poll_once() == 10
    assert any(c for c in thousandeyes.double.calls if "cursor" in c.query)


async def test_te_foreign_account_group(thousandeyes: System, settings: Settings, redis: aioredis.Redis) -> None:
    with pytest.raises(AuthFailed, match="account group 999") as caught:
        await make(thousandeyes, settings, redis, aid="999").poll_once()
    assert caught.value.status == 403


async def test_te_double_validates_time_filters(thousandeyes: System) -> None:
    double: ThousandEyesDouble = thousandeyes.double
    async with httpx.AsyncClient(base_url=double.base_url, timeout=5,
                                 headers={"Authorization": f"Bearer {double.token}"}) as http:
        both = await http.get("/alerts", params={"window": "1h", "startDate": "2022-07-17T22:00:54Z"})
        anonymous = await http.get("/alerts", headers={"Authorization": "Bearer nope"})
    assert both.status_code == 400 and both.headers["content-type"] == "application/problem+json"
    assert {"x-organization-rate-limit-limit", "x-organization-rate-limit-reset"} <= set(both.headers)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_token"
