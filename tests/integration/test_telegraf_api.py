"""`POST /telemetry/telegraf` on the real PostgreSQL and Redis, with a Telegraf source created through
the admin API: recorded Telegraf bodies (JSON batch and single, line protocol, gzip, `text/plain` on
JSON) land on `logs` as payload lines the normaliser turns into semantic metrics, or as log lines;
every refusal has its status and reason; re-sends write nothing twice; fuzzing finds no 5xx."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamapp.api import telegraf as api_telemetry
from streamapp.metrics import metric_payload, normalise
from streamapp.records import Metric
from streamapp.settings import Settings
from tests.support.api import api_client

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer telegraf-admin-token"}
TEXT = {"Content-Type": "text/plain; charset=utf-8", "User-Agent": "Telegraf/1.36.1"}
JSON_BATCH = json.dumps({"metrics": [
    {"name": "cpu", "tags": {"cpu": "cpu-total", "host": "web-01"},
     "fields": {"usage_idle": 97.5, "usage_user": 1.2}, "timestamp": 1458229140},
    {"name": "net", "tags": {"host": "web-01", "interface": "eth0"},
     "fields": {"bytes_recv": 123456789, "err_in": 0}, "timestamp": 1458229140},
]}).encode()
LINE_PROTOCOL = (b"mem,host=web-01 used=1024i,used_percent=25.5 1458229140000000000\n"
                 b"sensors,chip=coretemp-isa-0000,feature=core\\ 0,host=web-01 temp_input=45 1458229140000000000\n")


@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_token": type(settings.admin_token)("telegraf-admin-token")})


@pytest.fixture
async def api(admin: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(admin) as client:
        yield client


async def telegraf_source(api: httpx.AsyncClient, name: str = "agents", **config: object) -> tuple[str, dict]:
    r = await api.post("/sources", headers=ADMIN, json={"name": name, "type": "telegraf", "config": config})
    assert r.status_code == 201, r.text
    return r.json()["source"]["id"], {**TEXT, "Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
async def source(api: httpx.AsyncClient) -> tuple[str, dict]:
    return await telegraf_source(api)


async def entries(redis: aioredis.Redis, s: Settings) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} | {"id": i.decode()}
            for i, f in await redis.xrange(s.redis_key(s.stream_logs))]


def normalised(logged: list[dict[str, str]]) -> list[Metric]:
    """What the consumer makes of the entries (the same functions, in the same order)."""
    out = []
    for e in logged:
        payload = metric_payload(e["line"])
        assert payload is not None and payload["schema"] == "telegraf", e["line"][:200]
        out.extend(normalise(e["id"], payload))
    return out


async def test_json_line_protocol_and_gzip_become_semantic_metrics(
    api: httpx.AsyncClient, source: tuple[str, dict], redis: aioredis.Redis, admin: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sid, headers = source
    caplog.set_level(logging.INFO, logger="streamapp.api.requests")
    r = await api.post("/telemetry/telegraf", headers=headers, content=JSON_BATCH)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "log_lines": 0, "metric_lines": 1, "duplicate": False}
    assert len(r.headers["x-request-id"]) == 32
    single = b'{"name": "system", "tags": {"host": "web-02"}, "fields": {"uptime": 3600}, "timestamp": 1458229140}'
    assert (await api.post("/telemetry/telegraf", headers=headers, content=single)).status_code == 200
    zipped = await api.post("/telemetry/telegraf", headers={**headers, "Content-Encoding": "gzip"},
                            content=gzip.compress(LINE_PROTOCOL))
    assert zipped.status_code == 200 and zipped.json()["accepted"] == 2
    logged = await entries(redis, admin)
    assert {(e["source"], e["source_id"]) for e in logged} == {("telegraf:agents", sid)}
    got = {(m.name, m.unit, json.dumps(m.attributes, sort_keys=True), m.value) for m in normalised(logged)}
    assert {
        ("system.cpu.utilization", "1", '{"cpu.mode": "idle"}', 0.975),
        ("system.network.io", "By", '{"network.interface.name": "eth0", "network.io.direction": "receive"}',
         123456789.0),
        ("system.network.errors", "{error}", '{"network.interface.name": "eth0", "network.io.direction": "receive"}',
         0.0),
        ("system.uptime", "s", "{}", 3600.0),
        ("system.memory.usage", "By", '{"system.memory.state": "used"}', 1024.0),
        ("system.memory.utilization", "1", '{"system.memory.state": "used"}', 0.255),
        ("hw.temperature", "Cel", '{"hw.id": "coretemp-isa-0000/core 0", "hw.name": "core 0", '
                                  '"hw.parent": "coretemp-isa-0000"}', 45.0),
    } <= got
    assert {m.resource["host.name"] for m in normalised(logged)} == {"web-01", "web-02"}
    requests = [r.getMessage() for r in caplog.records if r.name == "streamapp.api.requests"]
    assert any("method=POST path=/telemetry/telegraf status=200" in x for x in requests)
    assert not any(headers["Authorization"].split()[1] in x for x in caplog.messages)


async def test_a_batch_of_5000_metrics(
    api: httpx.AsyncClient, source: tuple[str, dict], redis: aioredis.Redis, admin: Settings
) -> None:
    _, headers = source
    body = "\n".join(
        f"cpu,cpu=cpu{i % 8},host=web-{i % 40:02d} usage_user={i % 100}.5,usage_system={i % 7}i {1458229140 + i}"
        for i in range(5000)
    ).encode()
    r = await api.post("/telemetry/telegraf", headers={**headers, "Content-Encoding": "gzip"},
                       content=gzip.compress(body))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 5000 and r.json()["metric_lines"] > 1
    logged = await entries(redis, admin)
    assert len(logged) == r.json()["metric_lines"]
    assert all(len(e["line"]) < admin.bridge_max_entry_bytes for e in logged), "no entry is dead-lettered"
    metrics = normalised(logged)
    assert len(metrics) == 10_000 and len({m.id for m in metrics}) == 10_000
    assert {m.name for m in metrics} == {"system.cpu.utilization"}


async def test_log_events_become_log_lines(
    api: httpx.AsyncClient, source: tuple[str, dict], redis: aioredis.Redis, admin: Settings
) -> None:
    sid, headers = source
    body = (b"syslog,appname=sshd,facility=auth,host=collector,hostname=db-01,severity=err facility_code=4i,"
            b'message="Failed password for root from 10.0.0.1 port 22",procid="812",severity_code=3i '
            b"1458229140000000000\n"
            b'docker_log,container_name=web,host=node-7 container_id="abc",message="GET /health 500" '
            b"1458229141000000000\n"
            b"cpu,cpu=cpu-total,host=node-7 usage_idle=50 1458229141000000000\n")
    r = await api.post("/telemetry/telegraf", headers=headers, content=body)
    assert r.json() == {"accepted": 3, "log_lines": 2, "metric_lines": 1, "duplicate": False}
    logs = [e for e in await entries(redis, admin) if metric_payload(e["line"]) is None]
    assert [(e["source"], e["source_id"], e["line"]) for e in logs] == [
        ("telegraf:collector", sid,
         "<35>2016-03-17T15:39:00.000Z db-01 sshd[812]: Failed password for root from 10.0.0.1 port 22"),
        ("telegraf:node-7", sid, "2016-03-17T15:39:01.000Z node-7 web: GET /health 500"),
    ]


async def test_refusals(api: httpx.AsyncClient, source: tuple[str, dict], redis: aioredis.Redis,
                        admin: Settings) -> None:
    _, headers = source
    _, restricted = await telegraf_source(api, "restricted", allowed_hosts=["db-01"], agent_id="dc1-collector")
    url = "/telemetry/telegraf"
    missing = await api.post(url, headers=TEXT, content=LINE_PROTOCOL)
    assert missing.status_code == 401 and "token" in missing.json()["error"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await api.post(url, headers={**TEXT, "Authorization": "Bearer not-a-token"}, content=LINE_PROTOCOL)
    assert wrong.status_code == 401
    assert (await api.post(url, headers={**TEXT, "Authorization": ADMIN["Authorization"]},
                           content=LINE_PROTOCOL)).status_code == 401, "the admin token is no source token"
    agent = {**restricted, api_telemetry.AGENT_HEADER: "dc1-collector"}
    assert (await api.post(url, headers=restricted, content=b"cpu,host=db-01 u=1")).status_code == 403
    assert (await api.post(url, headers={**restricted, api_telemetry.AGENT_HEADER: "other"},
                           content=b"cpu,host=db-01 u=1")).status_code == 403
    assert (await api.post(url, headers=agent, content=b"cpu,host=db-01 u=1")).status_code == 200
    host = await api.post(url, headers=agent, content=b"cpu,host=db-01 u=1\ncpu,host=web-01 u=2")
    assert host.status_code == 403 and host.json()["host"] == "web-01" and "web-01" in host.json()["error"]
    too_big = b"x" * (api_telemetry.MAX_BODY_BYTES + 1)
    assert (await api.post(url, headers=headers, content=too_big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the streamed count must stop it
        for _ in range(5):
            yield b"cpu,host=a u=1\n" * 70_000

    assert (await api.post(url, headers=headers, content=chunks())).status_code == 413
    bomb = gzip.compress(b"\0" * (api_telemetry.MAX_DECODED_BYTES + 1024), compresslevel=9)
    assert len(bomb) < 100_000
    r = await api.post(url, headers={**headers, "Content-Encoding": "gzip"}, content=bomb)
    assert r.status_code == 413 and "decompressed" in r.json()["error"]
    r = await api.post(url, headers={**headers, "Content-Encoding": "br"}, content=LINE_PROTOCOL)
    assert r.status_code == 415
    r = await api.post(url, headers={**headers, "Content-Encoding": "gzip"}, content=LINE_PROTOCOL)
    assert r.status_code == 400 and r.json()["where"] == "body"
    r = await api.post(url, headers=headers, content=b"cpu,host=a usage=1\ncpu,host=a usage=oops")
    assert r.status_code == 400 and r.json() == {"error": "line 2: field 'usage': not a number, string or boolean: "
                                                          "'oops'", "where": "line 2: field 'usage'"}
    r = await api.post(url, headers=headers, content=b'{"metrics": [{"name": "cpu", "fields": {"u": null}}]}')
    assert r.status_code == 400 and r.json()["where"] == "metrics[0].fields.u"
    logged = await entries(redis, admin)
    assert len(logged) == 1, "only the one accepted batch was written"


async def test_a_resent_batch_is_written_once(
    api: httpx.AsyncClient, source: tuple[str, dict], redis: aioredis.Redis, admin: Settings
) -> None:
    _, headers = source
    _, other = await telegraf_source(api, "other-agents")
    body = JSON_BATCH.replace(b"}]}", b'}, {"name": "syslog", "tags": {"host": "web-01"}, '
                                      b'"fields": {"message": "disk full"}, "timestamp": 1458229141}]}')
    first = await api.post("/telemetry/telegraf", headers=headers, content=body)
    assert first.json()["duplicate"] is False
    before = await entries(redis, admin)
    again = await api.post("/telemetry/telegraf", headers=headers, content=body)
    zipped = await api.post("/telemetry/telegraf", headers={**headers, "Content-Encoding": "gzip"},
                            content=gzip.compress(body))
    assert again.status_code == zipped.status_code == 200
    assert again.json()["duplicate"] is zipped.json()["duplicate"] is True
    assert await entries(redis, admin) == before and len(before) == 2
    assert (await api.post("/telemetry/telegraf", headers=other, content=body)).json()["duplicate"] is False


_ENCODINGS = st.sampled_from(["", "gzip", "identity", "deflate", "GZIP", "x-gzip", "gzip, identity", "\x00"])
_LINES = st.lists(st.sampled_from([
    "cpu,host=web-01 usage_idle=1", 'syslog,host=web-01 message="x"', "cpu v=", 'm s="', "m,t= v=1", "m v=1i 12",
    "m\\ x,a\\,b=c\\=d f=1u", "m v=NaN", "# c", "", "{", '{"metrics": [', "m v=1 99999999999999999999",
]), max_size=5)


def _bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=400),
        _LINES.map(lambda xs: "\n".join(xs).encode()),
        st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                         ["metrics", "name", "tags", "fields", "timestamp", "host"]), c, max_size=4),
                     max_leaves=12).map(lambda v: json.dumps(v).encode()),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies(), encoding=_ENCODINGS, gzipped=st.booleans(), auth=st.sampled_from(["good", "none", "junk"]),
       content_type=st.sampled_from(["text/plain; charset=utf-8", "application/json", "", "\u00e9"]),
       agent=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=20))
async def test_fuzzing_finds_no_server_error(
    api: httpx.AsyncClient, source: tuple[str, dict], body: bytes, encoding: str, gzipped: bool, auth: str,
    content_type: str, agent: str,
) -> None:
    _, headers = source
    sent = {"good": headers["Authorization"], "none": "", "junk": "Bearer \u2603"}[auth]
    h = {k: v for k, v in {"Authorization": sent, "Content-Encoding": encoding, "Content-Type": content_type,
                           api_telemetry.AGENT_HEADER: agent}.items() if v}
    r = await api.post("/telemetry/telegraf", headers=_latin1(h), content=gzip.compress(body) if gzipped else body)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.status_code == 200 or "error" in r.json()


def _latin1(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("utf-8")) for k, v in headers.items()]
