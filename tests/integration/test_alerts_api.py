"""The alert endpoints and `/readyz`'s LLM report, in-process against the real Redis. Alerts are put in
place exactly as the pipeline writes them (`StreamWriter` with the `alert:` hash prefix)."""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.applications import Starlette

from connectors.redis_streams import StreamWriter
from streamapp.api.app import create_api
from streamapp.processes import free_port
from streamapp.records import Alert
from streamapp.settings import Settings

pytestmark = pytest.mark.integration

TOKEN = "admin-token-for-tests-of-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TYPES = ("hardware_disk", "os_oom", "benign")
SEVERITIES = ("error", "critical", "info")


def issue_alert(i: int, **fields: object) -> Alert:
    base: dict[str, object] = {
        "id": f"a-{i}", "type": "issue", "os": "linux", "failure_type": TYPES[i % 3], "confidence": 0.5 + (i % 5) / 10,
        "result": {"summary": f"alert {i}", "scores": {TYPES[i % 3]: 0.9}}, "is_hardware_failure": i % 3 == 0,
        "issue_key": f"linux|kernel|{i}", "log_ids": [f"{1000 + i}-0"], "host": f"h{i % 4}", "component": "kernel",
        "severity": SEVERITIES[i % 3], "summary": f"alert {i}", "template_ids": [f"t{i % 7}"],
        "prototype_id": f"p{i % 2}", "classifier": "offline-v1" if i % 2 else "llm:gpt-4o-mini",
        "created_at": 1_700_000_000.0 + i,
    }
    base.update(fields)
    return Alert(**base)


def cluster_alert(i: int) -> Alert:
    return Alert(
        id=f"c-{i}", type="cluster", os="linux", failure_type="hardware_memory", confidence=0.8,
        result={"summary": "ECC errors across hosts"}, cluster_id=f"cl-{i}", prototype_id=f"proto-{i}",
        env_id="env-1", env_ids=["env-1", "env-2"], template_ids=["tm1", "tm2"], severity="error",
        evidence_logs=[{"id": "1-0", "templated": "EDAC <*>", "raw": "EDAC MC0: 1 CE", "source": "s", "os": "linux",
                        "env_id": "env-1"}],
        classifier="offline-v1",
    )


async def put(redis: aioredis.Redis, settings: Settings, alerts: list[Alert]) -> None:
    written = await StreamWriter(redis, settings).write(settings.stream_alerts, alerts, hash_prefix="alert:")
    assert written == len(alerts)


@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_token": SecretStr(TOKEN)})


async def serve(app: Starlette, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as client:
            yield client


@pytest.fixture
async def api(admin: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with its lifespan running, sending the admin token."""
    async for client in serve(create_api(admin, probes={}), AUTH):
        yield client


def k(settings: Settings, name: str) -> str:
    return settings.redis_key(name)


async def members(redis: aioredis.Redis, settings: Settings, name: str) -> set[str]:
    return {m.decode() for m in await redis.smembers(k(settings, name))}


async def feedback_entries(redis: aioredis.Redis, settings: Settings) -> list[dict[str, str]]:
    entries = await redis.xrange(k(settings, "feedback"))
    return [{f.decode(): v.decode() for f, v in fields.items()} for _, fields in entries]


# --- auth ------------------------------------------------------------------------------------------


ENDPOINTS = [
    ("GET", "/alerts"), ("GET", "/alerts/a-1"), ("POST", "/alerts/a-1/feedback"), ("POST", "/alerts/a-1/persist"),
]


async def test_every_alert_endpoint_wants_the_admin_token(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(1)])
    body = json.dumps({"verdict": "correct"})
    for method, path in ENDPOINTS:
        missing = await api.request(method, path, content=body, headers={"Authorization": ""})
        assert missing.status_code == 401 and "Bearer" in missing.json()["error"], (path, missing.text)
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await api.request(method, path, content=body, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401 and wrong.json() == {"error": "wrong admin token"}
        basic = await api.request(method, path, content=body, headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401
    # refused before anything is looked at: no 404 or 422 leaks to an anonymous caller
    anonymous = await api.post("/alerts/nope/feedback", content=b"{{", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert await redis.hget(k(admin, "alert:a-1"), "feedback") is None
    assert await redis.ttl(k(admin, "alert:a-1")) > 0


async def test_an_empty_admin_token_admits_nobody(settings: Settings) -> None:
    assert settings.admin_token.get_secret_value() == ""
    async for client in serve(create_api(settings, probes={})):
        for method, path in ENDPOINTS:
            for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
                r = await client.request(method, path, headers=header)
                assert r.status_code == 401 and "ADMIN_TOKEN is empty" in r.json()["error"], (path, header)


# --- listing -----------------------------------------------------------------------------------------


async def test_listing_is_newest_first_with_decoded_fields_and_cursor_paging(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(i) for i in range(300)])
    first = await api.get("/alerts")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [a["id"] for a in page["items"]] == [f"a-{i}" for i in range(299, 249, -1)]  # default limit 50
    top = page["items"][0]
    assert top["confidence"] == pytest.approx(0.9) and top["is_hardware_failure"] is False
    assert top["result"] == {"summary": "alert 299", "scores": {"benign": 0.9}}
    assert top["template_ids"] == ["t5"] and top["log_ids"] == ["1299-0"] and top["created_at"] == 1_700_000_299.0
    assert top["feedback"] is None and re.fullmatch(r"\d+-\d+", top["stream_id"])
    assert page["next_before"] == page["items"][-1]["stream_id"]
    seen: list[str] = []
    before = None
    while True:
        r = await api.get("/alerts", params={"limit": 120, **({"before": before} if before else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [a["id"] for a in body["items"]]
        ids = [a["stream_id"] for a in body["items"]]
        assert ids == sorted(ids, key=lambda s: tuple(map(int, s.split("-"))), reverse=True)
        before = body["next_before"]
        if before is None:
            break
    assert seen == [f"a-{i}" for i in range(299, -1, -1)]


async def test_filters_apply_while_scanning_and_page_through(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(i) for i in range(300)])
    # hardware_disk is i % 3 == 0, host h1 is i % 4 == 1: i % 12 == 9
    expected = [f"a-{i}" for i in range(299, -1, -1) if i % 12 == 9]
    got: list[str] = []
    params: dict[str, str] = {"failure_type": "hardware_disk", "host": "h1", "limit": "7"}
    while True:
        body = (await api.get("/alerts", params=params)).json()
        for item in body["items"]:
            assert item["failure_type"] == "hardware_disk" and item["host"] == "h1"
        got += [a["id"] for a in body["items"]]
        if body["next_before"] is None:
            break
        params["before"] = body["next_before"]
    assert got == expected
    both = (await api.get("/alerts", params={"severity": "critical", "classifier": "offline-v1", "limit": 500})).json()
    assert [a["id"] for a in both["items"]] == [f"a-{i}" for i in range(299, -1, -1) if i % 3 == 1 and i % 2 == 1]
    assert both["next_before"] is None and both["scanned"] == 300
    typed = (await api.get("/alerts", params={"type": "cluster"})).json()
    assert typed["items"] == [] and typed["next_before"] is None
    # empty filter values mean "no filter" (a form left blank)
    blank = (await api.get("/alerts", params={"failure_type": "", "host": "", "limit": 3})).json()
    assert [a["id"] for a in blank["items"]] == ["a-299", "a-298", "a-297"]


async def test_a_filtered_listing_reads_a_bounded_number_of_entries(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(i, host="old") for i in range(3)])
    await put(redis, admin, [issue_alert(i, host="new") for i in range(3, 5303)])
    first = (await api.get("/alerts", params={"host": "old"})).json()
    assert first["items"] == [] and first["scanned"] == 5000 and first["next_before"]
    second = (await api.get("/alerts", params={"host": "old", "before": first["next_before"]})).json()
    assert [a["id"] for a in second["items"]] == ["a-2", "a-1", "a-0"] and second["next_before"] is None
    assert second["scanned"] == 303


async def test_listing_shows_feedback_from_the_hash(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(i) for i in range(5)])
    assert (await api.post("/alerts/a-3/feedback", json={"verdict": "incorrect", "failure_type": "os_oom"})).is_success
    items = {a["id"]: a for a in (await api.get("/alerts")).json()["items"]}
    assert items["a-3"]["feedback"]["verdict"] == "incorrect" and items["a-3"]["feedback"]["failure_type"] == "os_oom"
    assert all(items[i]["feedback"] is None for i in ("a-0", "a-1", "a-2", "a-4"))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"), ({"before": "yesterday"}, "before"), ({"before": "1-2-3"}, "before"),
        ({"before": "99999999999999999999999"}, "before"), ({"failure_type": "hardware_disks"}, "failure_type"),
        ({"severity": "loud"}, "severity"), ({"type": "x"}, "type"), ({"host": "h" * 300}, "host"),
        ({"failure": "benign"}, "failure"),
    ],
)
async def test_bad_queries_are_422_naming_the_parameter(api, params, field) -> None:
    r = await api.get("/alerts", params=params)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


async def test_before_accepts_bare_milliseconds_and_the_first_id(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(i) for i in range(3)])
    first_id = (await api.get("/alerts", params={"before": "0-0"})).json()
    assert first_id == {"items": [], "next_before": None, "scanned": 0}
    assert (await api.get("/alerts", params={"before": "0"})).json()["items"] == []
    assert len((await api.get("/alerts", params={"before": str(2**64 - 1)})).json()["items"]) == 3


# --- one alert, persist ---------------------------------------------------------------------------------


async def test_fetch_one_and_404_for_unknown_or_expired(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(7)])
    r = await api.get("/alerts/a-7")
    assert r.status_code == 200, r.text
    alert = r.json()
    assert alert["id"] == "a-7" and alert["failure_type"] == "os_oom" and alert["result"]["summary"] == "alert 7"
    assert alert["feedback"] is None and alert["persisted"] is False
    assert 0 < alert["ttl_sec"] <= admin.alerts_ttl_sec
    missing = await api.get("/alerts/a-8")
    assert missing.status_code == 404 and "a-8" in missing.json()["error"]
    await redis.delete(k(admin, "alert:a-7"))  # as if expired
    assert (await api.get("/alerts/a-7")).status_code == 404


async def test_persist_removes_the_ttl_and_lists_the_id(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(1), issue_alert(2)])
    r = await api.post("/alerts/a-1/persist")
    assert r.status_code == 200 and r.json() == {"id": "a-1", "persisted": True}
    assert await redis.ttl(k(admin, "alert:a-1")) == -1
    assert await redis.ttl(k(admin, "alert:a-2")) > 0
    assert await members(redis, admin, "alerts:persisted") == {"a-1"}
    again = await api.post("/alerts/a-1/persist")
    assert again.status_code == 200
    alert = (await api.get("/alerts/a-1")).json()
    assert alert["ttl_sec"] is None and alert["persisted"] is True
    unknown = await api.post("/alerts/zzz/persist")
    assert unknown.status_code == 404 and unknown.json()["error"]
    assert not await redis.exists(k(admin, "alert:zzz"))
    assert await members(redis, admin, "alerts:persisted") == {"a-1"}


# --- feedback ------------------------------------------------------------------------------------------------


async def test_feedback_is_recorded_in_the_hash_the_sets_and_the_stream(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(0)])  # hardware_disk
    ok = await api.post("/alerts/a-0/feedback", json={"verdict": "correct", "note": "confirmed: sdb replaced"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["alert_id"] == "a-0" and body["entry_id"]
    assert body["feedback"]["verdict"] == "correct" and body["feedback"]["failure_type"] == "hardware_disk"
    stored = json.loads(await redis.hget(k(admin, "alert:a-0"), "feedback"))
    assert stored == body["feedback"] and stored["note"] == "confirmed: sdb replaced" and stored["at"] > 0
    assert await members(redis, admin, "alerts:feedback:correct") == {"a-0"}
    assert await members(redis, admin, "alerts:feedback:incorrect") == set()
    assert await redis.ttl(k(admin, "alert:a-0")) > 0  # feedback keeps the alert's TTL

    correction = {"verdict": "incorrect", "failure_type": "hardware_memory", "note": "EDAC, not disk"}
    flipped = await api.post("/alerts/a-0/feedback", json=correction)
    assert flipped.status_code == 200, flipped.text
    assert await members(redis, admin, "alerts:feedback:correct") == set()
    assert await members(redis, admin, "alerts:feedback:incorrect") == {"a-0"}
    alert = (await api.get("/alerts/a-0")).json()
    assert alert["feedback"]["failure_type"] == "hardware_memory" and alert["feedback"]["verdict"] == "incorrect"
    assert alert["failure_type"] == "hardware_disk"  # what the classifier said is kept

    entries = await feedback_entries(redis, admin)
    assert len(entries) == 2
    assert set(entries[1]) == {
        "alert_id", "verdict", "failure_type", "note", "os", "type", "prototype_id", "cluster_id", "template_ids",
        "failure_type_before", "at",
    }
    assert entries[0]["verdict"] == "correct" and entries[0]["failure_type"] == "hardware_disk"
    assert entries[1] == {
        "alert_id": "a-0", "verdict": "incorrect", "failure_type": "hardware_memory", "note": "EDAC, not disk",
        "os": "linux", "type": "issue", "prototype_id": "p0", "cluster_id": "", "template_ids": '["t0"]',
        "failure_type_before": "hardware_disk", "at": entries[1]["at"],
    }
    assert float(entries[1]["at"]) >= float(entries[0]["at"])

    back = await api.post("/alerts/a-0/feedback", json={"verdict": "correct"})
    assert back.status_code == 200
    assert await members(redis, admin, "alerts:feedback:correct") == {"a-0"}
    assert await members(redis, admin, "alerts:feedback:incorrect") == set()


async def test_incorrect_without_a_corrected_type_is_accepted(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(1)])
    r = await api.post("/alerts/a-1/feedback", json={"verdict": "incorrect"})
    assert r.status_code == 200 and r.json()["feedback"]["failure_type"] is None
    assert (await feedback_entries(redis, admin))[0]["failure_type"] == ""


async def test_feedback_on_a_cluster_alert(admin: Settings, redis, api) -> None:
    await put(redis, admin, [cluster_alert(1)])
    listed = (await api.get("/alerts", params={"type": "cluster"})).json()["items"]
    assert [a["id"] for a in listed] == ["c-1"] and listed[0]["evidence_logs"][0]["env_id"] == "env-1"
    r = await api.post("/alerts/c-1/feedback", json={"verdict": "incorrect", "failure_type": "hardware_cpu"})
    assert r.status_code == 200, r.text
    (entry,) = await feedback_entries(redis, admin)
    assert entry["type"] == "cluster" and entry["cluster_id"] == "cl-1" and entry["prototype_id"] == "proto-1"
    assert json.loads(entry["template_ids"]) == ["tm1", "tm2"] and entry["failure_type_before"] == "hardware_memory"
    assert await members(redis, admin, "alerts:feedback:incorrect") == {"c-1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "verdict"),
        ({"verdict": "maybe"}, "verdict"),
        ({"verdict": True}, "verdict"),
        ({"verdict": "incorrect", "failure_type": "disk"}, "failure_type"),
        ({"verdict": "incorrect", "note": "x" * 1001}, "note"),
        ({"verdict": "incorrect", "note": 5}, "note"),
        ({"verdict": "correct", "extra": 1}, "extra"),
        ([{"verdict": "correct"}], "body"),
        ("correct", "body"),
        ({"verdict": "correct", "failure_type": "os_oom"}, "failure_type"),  # the alert says hardware_disk
        ({"verdict": "incorrect", "failure_type": "hardware_disk"}, "failure_type"),  # that is the alert's own type
    ],
)
async def test_invalid_feedback_is_422_naming_the_field_and_writes_nothing(admin, redis, api, body, field) -> None:
    await put(redis, admin, [issue_alert(0)])
    r = await api.post("/alerts/a-0/feedback", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["error"]
    assert await redis.hget(k(admin, "alert:a-0"), "feedback") is None
    assert not await redis.exists(k(admin, "feedback"), k(admin, "alerts:feedback:correct"))


async def test_non_json_huge_and_unknown_feedback(admin: Settings, redis, api) -> None:
    await put(redis, admin, [issue_alert(0)])
    for content in (b"", b"verdict=correct", b'{"verdict": "correct"', b"\xff\xfe\x00", b"[" * 10_000):
        r = await api.post("/alerts/a-0/feedback", content=content)
        assert r.status_code == 400 and r.json() == {"error": "body is not JSON"}, content[:20]
    lone_surrogate = await api.post("/alerts/a-0/feedback", content=b'{"verdict": "correct", "note": "\\ud800"}')
    assert lone_surrogate.status_code == 422 and lone_surrogate.json()["field"] == "note"
    huge = await api.post("/alerts/a-0/feedback", json={"verdict": "correct", "note": "x" * 100_000})
    assert huge.status_code == 413 and "bytes" in huge.json()["error"]

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b" " * 1024

    streamed = await api.post("/alerts/a-0/feedback", content=chunks())
    assert streamed.status_code == 413
    unknown = await api.post("/alerts/nope/feedback", json={"verdict": "correct"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]
    assert not await redis.exists(k(admin, "alert:nope"), k(admin, "feedback"))


async def test_unknown_paths_and_methods_answer_json(api) -> None:
    r = await api.get("/alerts/a/b/c")
    assert r.status_code == 404 and r.json()["error"]
    r = await api.get("/alerts/a-1/feedback")
    assert r.status_code == 405 and r.json()["error"] and "POST" in r.headers["allow"]


async def test_redis_down_is_503_with_a_reason(admin: Settings) -> None:
    down = admin.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async for client in serve(create_api(down, probes={}), AUTH):
        r = await client.get("/alerts")
        assert r.status_code == 503 and "redis unavailable" in r.json()["error"] and r.headers["retry-after"]


# --- /readyz and the LLM ----------------------------------------------------------------------------------


async def test_readyz_reports_a_disabled_llm_without_degrading(settings: Settings) -> None:
    async for client in serve(create_api(settings.model_copy(update={"llm_provider": "none"}))):
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ready"] is True and body["degraded"] is False
        assert body["llm"]["state"] == "disabled" and body["llm"]["ok"] is True


async def test_readyz_stays_ready_but_degraded_when_the_llm_is_unavailable(settings: Settings) -> None:
    closed = settings.model_copy(update={
        "llm_provider": "openai", "llm_base_url": f"http://127.0.0.1:{free_port()}/v1",
        "llm_api_key": SecretStr("sk-test"),
    })
    async for client in serve(create_api(closed)):
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ready"] is True and body["degraded"] is True
        assert body["llm"]["state"] == "unavailable" and body["llm"]["ok"] is False and body["llm"]["detail"]
        assert body["llm"]["checked_at"] is not None


# --- fuzzing ------------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
feedback_like = st.fixed_dictionaries({}, optional={
    "verdict": st.sampled_from(["correct", "incorrect"]) | json_values,
    "failure_type": st.sampled_from(["hardware_disk", "os_oom", "benign", None]) | json_values,
    "note": st.text(max_size=1100) | json_values,
})
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    feedback_like.map(lambda v: json.dumps(v).encode()),
)
ids = st.sampled_from(["a-1", "c-1", "a-1/x", ""]) | st.text(max_size=30)
header_names = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20).filter(
    lambda h: h.lower() not in ("content-length", "transfer-encoding", "host")
)
header_values = st.text(alphabet=string.printable.strip() + " ", max_size=40)
auth_headers = st.sampled_from([AUTH, {}, {"Authorization": "Bearer wrong"}]) | st.builds(
    lambda v: {"Authorization": v}, header_values
)
query = st.dictionaries(
    st.sampled_from(["limit", "before", "failure_type", "severity", "host", "classifier", "type"])
    | st.text(max_size=8),
    st.sampled_from(["1", "50", "0-0", "hardware_disk", "error", "issue"]) | st.text(max_size=25),
    max_size=4,
)


async def test_no_request_gets_a_5xx(admin: Settings, redis, api) -> None:
    """Random ids, paths, bodies, queries and headers: always an answer below 500, always JSON."""
    await put(redis, admin, [issue_alert(i) for i in range(20)] + [cluster_alert(1)])
    loop = asyncio.get_running_loop()

    def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(api.request(method, path, **kwargs), loop).result(timeout=60)

    def check(r: httpx.Response) -> None:
        assert r.status_code < 500, (r.request.method, r.request.url, r.text)
        assert r.is_redirect or r.is_success or "error" in r.json()  # `/alerts/` redirects to `/alerts`

    @hsettings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        alert_id=ids, action=st.sampled_from(["", "/feedback", "/persist", "/other"]),
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), body=bodies, auth=auth_headers,
        extra=st.dictionaries(header_names, header_values, max_size=3),
    )
    def alert_requests(alert_id, action, method, body, auth, extra) -> None:
        check(call(method, f"/alerts/{quote(alert_id, safe='')}{action}", content=body, headers={**extra, **auth}))

    @hsettings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(params=query, auth=auth_headers)
    def listings(params, auth) -> None:
        check(call("GET", "/alerts", params=params, headers=auth))

    await asyncio.to_thread(alert_requests)
    await asyncio.to_thread(listings)
    # whatever feedback got through, each alert is in at most one verdict set
    correct = await members(redis, admin, "alerts:feedback:correct")
    assert not correct & await members(redis, admin, "alerts:feedback:incorrect")
