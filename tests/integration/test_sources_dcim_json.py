"""The generic JSON DCIM mode of `dcim_http` against a local NETIO PDU double (a non-Redfish JSON
status page, per the vendor's public API description), writing to the real Redis: extraction rules
give metrics with their names, units and labels; a socket switched off is logged once and its
recovery once, across restarts; auth modes, wrong credentials, slowness and bad configs each fail
with a clear reason."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from connectors.sources.base import Emitter, Producer, SourceConfig
from connectors.sources.dcim_json import JsonDcimProducer
from connectors.sources.registry import producer_class
from streamapp.errors import AuthFailed, TransientError
from streamapp.metrics import normalise
from streamapp.settings import Settings
from tests.doubles.netio import NetioDouble
from tests.support.api import api_client
from tests.support.producers import lines, payloads

pytestmark = pytest.mark.integration
OUTLET = {"hw.id": "$.ID", "hw.name": "$.Name"}
NETIO_RULES = {
    "metrics": [
        {"value": "$.GlobalMeasure.Voltage", "name": "hw.voltage", "unit": "V", "labels": {"hw.id": "input"}},
        {"value": "$.GlobalMeasure.TotalLoad", "name": "hw.power", "unit": "W", "labels": {"hw.id": "total"}},
        {"value": "$.GlobalMeasure.TotalEnergy", "name": "hw.energy", "unit": "J", "scale": 3600,
         "type": "counter", "labels": {"hw.id": "total"}},
        {"each": "$.Outputs[*]", "value": "$.Current", "name": "hw.current", "unit": "A", "scale": 0.001,
         "labels": OUTLET},
        {"each": "$.Outputs[*]", "value": "$.Load", "name": "hw.power", "unit": "W", "labels": OUTLET},
    ],
    "states": [{"each": "$.Outputs[*]", "value": "$.State", "ok": [1], "name": "outlet state",
                "subject": "$.Name", "labels": {"hw.id": "$.ID"}}],
}


@pytest.fixture
def pdu() -> Iterator[NetioDouble]:
    with NetioDouble(slow_sec=2.0) as double:
        yield double


def producer(settings: Settings, redis: aioredis.Redis, pdu: NetioDouble, source_id: str = "",
             secrets: dict[str, str] | None = None, **config: object) -> Producer:
    cfg = {"mode": "json", "url": pdu.url, "auth": "basic", "username": pdu.username, "timeout_sec": 1,
           **NETIO_RULES, **config}
    source = SourceConfig(id=source_id or uuid.uuid4().hex[:8], name="pdu", type="dcim_http", config=cfg,
                          secrets={"password": pdu.password} if secrets is None else secrets)
    return producer_class("dcim_http", cfg)(source, Emitter(redis, settings, source))


def state_lines(all_lines: list[str]) -> list[str]:
    return [line.split(" dcim: ", 1)[1] for line in all_lines if " dcim: " in line]


async def test_rules_turn_the_status_page_into_metrics(settings: Settings, redis, pdu: NetioDouble) -> None:
    prod = producer(settings, redis, pdu)
    assert isinstance(prod, JsonDcimProducer)
    await prod.poll_once()
    out = await lines(redis, settings)
    (payload,) = payloads(out)
    assert payload["schema"] == "dcim_json" and payload["host"] == "127.0.0.1"
    metrics = normalise("9-0", payload)
    assert {m.resource["host.name"] for m in metrics} == {"127.0.0.1"}
    got = {(m.name, m.attributes.get("hw.id")): (m.value, m.unit, m.type) for m in metrics}
    assert got[("hw.voltage", "input")] == (230.4, "V", "gauge")
    assert got[("hw.power", "total")] == (930.0, "W", "gauge")
    assert got[("hw.energy", "total")] == (12000 * 3600, "J", "counter")
    assert got[("hw.current", "1")] == (pytest.approx(0.412), "A", "gauge")
    assert got[("hw.power", "4")] == (372.0, "W", "gauge")
    assert len(metrics) == 3 + 2 * 4
    assert next(m for m in metrics if m.attributes.get("hw.id") == "2").attributes["hw.name"] == "output_2"
    assert state_lines(out) == [], "every outlet on: nothing to log"
    assert [c.headers.get("authorization", "")[:6] for c in pdu.calls] == ["Basic "]


async def test_a_state_change_is_logged_once_and_its_recovery_once_across_restarts(
    settings: Settings, redis, pdu: NetioDouble
) -> None:
    first = producer(settings, redis, pdu, source_id="pdu-restart", hostname="pdu-rack1")
    await first.poll_once()
    pdu.switch(3, on=False)
    await first.poll_once()
    await first.poll_once()
    second = producer(settings, redis, pdu, source_id="pdu-restart", hostname="pdu-rack1")  # a restart
    await second.poll_once()
    pdu.switch(3, on=True)
    await second.poll_once()
    out = await lines(redis, settings)
    assert state_lines(out) == ["output_3 (hw.id 3): outlet state 0 (normal: 1)", "output_3 (hw.id 3): recovered"]
    raised = next(line for line in out if " dcim: " in line)
    assert raised.split()[1:3] == ["pdu-rack1", "dcim:"], "the linux preset reads host and component"
    loads = [m.value for p in payloads(out) for m in normalise("x", p)
             if m.name == "hw.power" and m.attributes.get("hw.id") == "3"]
    assert loads == [279.0, 0.0, 0.0, 0.0, 279.0]


async def test_auth_modes_and_their_failures(settings: Settings, redis, pdu: NetioDouble) -> None:
    with pytest.raises(AuthFailed, match="401"):
        await producer(settings, redis, pdu, secrets={"password": "wrong"}).poll_once()
    with pytest.raises(AuthFailed):
        await producer(settings, redis, pdu, auth="none", secrets={}).poll_once()
    with pytest.raises(AuthFailed):
        await producer(settings, redis, pdu, auth="bearer", secrets={"token": "t0ken"}).poll_once()
    with pytest.raises(AuthFailed):
        await producer(settings, redis, pdu, auth="header", header_name="X-API-Key", secrets={"token": "k"}).poll_once()
    sent = [(c.headers.get("authorization", ""), c.headers.get("x-api-key", "")) for c in pdu.calls[-3:]]
    assert sent == [("", ""), ("Bearer t0ken", ""), ("", "k")], "each mode sends what it says"
    with NetioDouble(password="") as open_pdu:  # read access left open
        assert await producer(settings, redis, open_pdu, auth="none", secrets={}).poll_once() == 1


async def test_a_slow_device_times_out(settings: Settings, redis, pdu: NetioDouble) -> None:
    pdu.enqueue("slow")
    with pytest.raises(TransientError, match="timed out"):
        await producer(settings, redis, pdu, timeout_sec=0.5).poll_once()


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings.model_copy(update={"admin_token": SecretStr("t" * 32)})) as client:
        yield client


@pytest.mark.parametrize(("change", "field"), [
    ({"mode": "snmp"}, "config.mode"),
    ({"auth": "basic", "username": None}, "config.username"),
    ({"auth": "header", "header_name": "Host"}, "config.header_name"),
    ({"metrics": [{"value": "Outputs[0].Load", "name": "hw.power"}]}, "config.metrics[0].value"),
    ({"metrics": [{"value": "$.X", "name": "hw power!"}]}, "config.metrics[0].name"),
    ({"states": [{"value": "$.State", "ok": []}]}, "config.states[0].ok"),
    ({"metrics": [{"value": "$.X", "name": "x", "colour": "red"}]}, "config.metrics[0].colour"),
    ({"polling": 5}, "config.polling"),
])
async def test_the_admin_api_names_what_is_wrong_in_a_json_source(
    api: httpx.AsyncClient, change: dict, field: str
) -> None:
    config = {"mode": "json", "url": "http://pdu.example/netio.json", "auth": "basic", "username": "u",
              **NETIO_RULES, **change}
    config = {k: v for k, v in config.items() if v is not None}
    r = await api.post("/sources", headers={"Authorization": "Bearer " + "t" * 32},
                       json={"name": "pdu", "type": "dcim_http", "config": config, "secrets": {"password": "p"}})
    assert r.status_code == 422 and r.json()["field"] == field, r.text


async def test_the_admin_api_accepts_a_json_source_with_its_secrets(api: httpx.AsyncClient) -> None:
    auth = {"Authorization": "Bearer " + "t" * 32}
    body = {"name": "ups", "type": "dcim_http", "secrets": {"token": "ups-token-9f2c"},
            "config": {"mode": "json", "url": "https://ups.example/status", "auth": "bearer", **NETIO_RULES}}
    r = await api.post("/sources", headers=auth, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["source"]["has_secrets"] is True and "ups-token-9f2c" not in r.text
    wrong = {**body, "name": "ups2", "secrets": {"api_key": "k"}}
    assert (await api.post("/sources", headers=auth, json=wrong)).json()["field"] == "secrets"
