"""Telegraf bodies (recorded shapes of `outputs.http`: JSON batch and single, influx line protocol)
parse into metrics, log events become syslog-shaped lines, and the `telegraf` normaliser maps
fields to OpenTelemetry semantic names, units and attributes."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.metrics import metric_payload, normalise
from streamapp.parsing import LineFormat, parse_line
from streamapp.records import Metric
from streamapp.telegraf import (
    HostNotAllowed,
    MalformedBody,
    TelegrafMetric,
    accept,
    epoch_seconds,
    is_log,
    log_line,
    parse_body,
    payload_lines,
)

NOW = 1_700_000_000.0
JSON_BATCH = b"""{"metrics": [
  {"name": "cpu", "tags": {"cpu": "cpu-total", "host": "web-01"},
   "fields": {"usage_idle": 97.5, "usage_user": 1.2}, "timestamp": 1458229140},
  {"name": "net", "tags": {"host": "web-01", "interface": "eth0"},
   "fields": {"bytes_recv": 123456789, "err_in": 0}, "timestamp": 1458229140}
]}"""
LINE_PROTOCOL = (
    b"cpu,cpu=cpu-total,host=web-01 usage_idle=97.5,usage_user=1.2 1458229140000000000\n"
    b"net,host=web-01,interface=eth0 bytes_recv=123456789i,err_in=0i 1458229140000000000\n"
)


def by_name(metrics: list[Metric]) -> dict[tuple[str, str], Metric]:
    return {(m.name, json.dumps(m.attributes, sort_keys=True)): m for m in metrics}


def normalised(body: bytes) -> list[Metric]:
    out = []
    for n, line in enumerate(payload_lines(parse_body(body, NOW))):
        out.extend(normalise(f"{n}-0", metric_payload(line)))
    return out


@pytest.mark.parametrize("body", [JSON_BATCH, LINE_PROTOCOL], ids=["json", "influx"])
def test_json_and_line_protocol_give_the_same_metrics(body: bytes) -> None:
    assert parse_body(body, NOW) == [
        TelegrafMetric("cpu", {"cpu": "cpu-total", "host": "web-01"}, {"usage_idle": 97.5, "usage_user": 1.2},
                       1458229140.0),
        TelegrafMetric("net", {"host": "web-01", "interface": "eth0"}, {"bytes_recv": 123456789, "err_in": 0},
                       1458229140.0),
    ]


def test_single_metric_json_and_timestamp_units() -> None:
    (m,) = parse_body(b'{"name": "mem", "tags": {"host": "a"}, "fields": {"used": 5}, "timestamp": 1458229140123}',
                      NOW)
    assert (m.name, m.time) == ("mem", 1458229140.123)
    assert epoch_seconds(1458229140) == epoch_seconds(1458229140_000_000) == 1458229140.0
    (iso,) = parse_body(b'{"name": "m", "fields": {"v": 1}, "timestamp": "2024-01-01T00:00:00Z"}', NOW)
    assert iso.time == 1704067200.0
    (untimed,) = parse_body(b"m v=1", NOW)
    assert untimed.time == NOW


def test_line_protocol_escapes_types_and_dropped_values() -> None:
    body = (b'my\\ meas,ta\\,g=v\\=a\\ l,host=h str="say \\"hi\\", ok\\nnext",b=true,f=F,'
            b"i=-3i,u=7u,x=1.5e3,n=NaN,inf=-Inf 1\n# a comment\n\n")
    (m,) = parse_body(body, NOW)
    assert m.name == "my meas" and m.tags == {"ta,g": "v=a l", "host": "h"}
    assert m.fields == {"str": 'say "hi", ok\nnext', "b": True, "f": False, "i": -3, "u": 7, "x": 1500.0}
    assert isinstance(m.fields["i"], int)


@pytest.mark.parametrize(("body", "where"), [
    (b"cpu", "line 1"),
    (b"cpu v=1\ncpu v=", "line 2: field 'v'"),
    (b'cpu v="open', "line 1: field 'v'"),
    (b'cpu v="a"b', "line 1"),
    (b"cpu,t v=1", "line 1"),
    (b"cpu v=1 soon", "line 1"),
    (b"cpu v=1x", "line 1: field 'v'"),
    (b"cpu v=1_000", "line 1: field 'v'"),
    (b'{"metrics": 3}', "metrics"),
    (b'{"metrics": [{"name": "x", "fields": {"a": 1}}, {"name": ""}]}', "metrics[1].name"),
    (b'{"name": "x", "fields": {"a": [1]}}', "metric.fields.a"),
    (b'{"name": "x", "tags": {"h": null}, "fields": {"a": 1}}', "metric.tags.h"),
    (b'{"name": "x", "fields": {"a": 1}, "timestamp": "yesterday"}', "metric.timestamp"),
    (b'{"metrics": [', "body"),
    (b"[1, 2]", "line 1"),
    (b"{not json", "line 1"),
    (b"\xff\xfe", "body"),
    (b"  \n", "body"),
    (b"# only a comment", "body"),
])
def test_malformed_bodies_name_the_line_or_field(body: bytes, where: str) -> None:
    with pytest.raises(MalformedBody) as err:
        parse_body(body, NOW)
    assert err.value.where == where


def test_allowed_hosts_and_the_batch_digest() -> None:
    assert accept(LINE_PROTOCOL, NOW, ["web-01"], "agents").metrics == 2
    with pytest.raises(HostNotAllowed) as err:
        accept(LINE_PROTOCOL, NOW, ["db-01"], "agents")
    assert err.value.host == "web-01"
    with pytest.raises(HostNotAllowed):
        accept(b"cpu usage_idle=1", NOW, ["db-01"], "agents")  # no host tag at all
    assert accept(JSON_BATCH, NOW, [], "a").digest != accept(LINE_PROTOCOL, NOW, [], "a").digest


def test_a_syslog_device_is_a_host_the_token_must_allow() -> None:
    """The `hostname` tag becomes the host of the line, the issue and the alert (and of an AWX limit):
    an agent allowed for web-01 must not speak for db-01 through it."""
    body = b'syslog,appname=sshd,host=web-01,hostname=db-01 message="Failed password",severity_code=3i 1'
    with pytest.raises(HostNotAllowed) as err:
        accept(body, NOW, ["web-01"], "agents")
    assert err.value.host == "db-01"
    assert accept(body, NOW, ["web-01", "db-01"], "agents").log_lines


def test_log_events_become_syslog_lines_the_linux_format_reads() -> None:
    (syslog,) = parse_body(
        b"syslog,appname=sshd,facility=auth,host=collector,hostname=db-01,severity=err "
        b'facility_code=4i,message="Failed password for root from 10.0.0.1",procid="812",severity_code=3i '
        b"1458229140000000000", NOW)
    (docker,) = parse_body(b'{"name": "docker_log", "tags": {"container_name": "web", "host": "h1"}, '
                           b'"fields": {"message": "GET / 500\\n", "container_id": "abc"}, "timestamp": 1}', NOW)
    (counter,) = parse_body(b"tail,host=h1 value=3i", NOW)
    assert is_log(syslog) and is_log(docker) and not is_log(counter)
    source, line = log_line(syslog, "agents")
    assert source == "telegraf:collector"
    assert line == "<35>2016-03-17T15:39:00.000Z db-01 sshd[812]: Failed password for root from 10.0.0.1"
    parsed = parse_line(line, LineFormat.from_spec("linux"))
    assert (parsed.host, parsed.component, parsed.pid, parsed.message) == (
        "db-01", "sshd", "812", "Failed password for root from 10.0.0.1")
    assert log_line(docker, "agents") == ("telegraf:h1", "1970-01-01T00:00:01.000Z h1 web: GET / 500")


def test_semantic_names_units_and_attributes() -> None:
    body = LINE_PROTOCOL + (
        b"cpu,cpu=cpu3,host=web-01,dc=eu usage_irq=0.5,time_user=12.5\n"
        b"mem,host=web-01 used=1024i,cached=10i,total=4096i,used_percent=25,available=3072i\n"
        b"disk,device=sda1,fstype=ext4,host=web-01,mode=rw,path=/ used=10i,free=30i,used_percent=25\n"
        b"diskio,host=web-01,name=sda read_bytes=100i,write_bytes=200i,read_time=1500i\n"
        b"net,host=web-01,interface=eth0 bytes_sent=9i,err_out=2i,drop_in=1i\n"
        b"sensors,chip=coretemp-isa-0000,feature=core_0,host=web-01 temp_input=45,temp_crit=100\n"
        b"temp,host=web-01,sensor=nvme_composite temp=38.9\n"
        b"ipmi_sensor,host=web-01,name=fan_1,server=bmc-1,status=ok,unit=rpm value=4200\n"
        b"system,host=web-01 uptime=3600i,load1=0.5\n"
        b"custom\\ app,host=web-01,queue=q1 depth=7i,healthy=true,state=\"fine\"\n"
    )
    m = by_name(normalised(body))

    def get(name: str, **attrs: object) -> Metric:
        return m[(name, json.dumps(attrs, sort_keys=True))]

    cpu = get("system.cpu.utilization", **{"cpu.mode": "idle"})
    assert (cpu.value, cpu.unit, cpu.type, cpu.resource) == (0.975, "1", "gauge", {"host.name": "web-01"})
    assert cpu.time == 1458229140.0
    cpu3 = {"cpu.logical_number": 3, "dc": "eu"}
    assert get("system.cpu.utilization", **cpu3, **{"cpu.mode": "interrupt"}).value == 0.005
    assert get("system.cpu.time", **cpu3, **{"cpu.mode": "user"}).type == "counter"
    assert get("system.memory.usage", **{"system.memory.state": "used"}).unit == "By"
    assert get("system.memory.usage", **{"system.memory.state": "cached"}).value == 10
    assert get("system.memory.limit").value == 4096
    assert get("system.memory.utilization", **{"system.memory.state": "used"}).value == 0.25
    assert get("telegraf.mem.available").value == 3072
    io = get("system.network.io", **{"network.interface.name": "eth0", "network.io.direction": "receive"})
    assert (io.value, io.unit, io.type) == (123456789, "By", "counter")
    assert get("system.network.io", **{"network.interface.name": "eth0", "network.io.direction": "transmit"}).value == 9
    assert get("system.network.errors", **{"network.interface.name": "eth0",
                                           "network.io.direction": "transmit"}).unit == "{error}"
    assert get("system.network.packet.dropped", **{"network.interface.name": "eth0",
                                                   "network.io.direction": "receive"}).value == 1
    fs = {"system.device": "sda1", "system.filesystem.mode": "rw", "system.filesystem.mountpoint": "/",
          "system.filesystem.type": "ext4"}
    assert get("system.filesystem.usage", **fs, **{"system.filesystem.state": "free"}).value == 30
    assert get("system.filesystem.utilization", **fs, **{"system.filesystem.state": "used"}).value == 0.25
    assert get("system.disk.io", **{"system.device": "sda", "disk.io.direction": "write"}).value == 200
    assert get("system.disk.operation_time", **{"system.device": "sda", "disk.io.direction": "read"}).value == 1.5
    core = {"hw.id": "coretemp-isa-0000/core_0", "hw.name": "core_0", "hw.parent": "coretemp-isa-0000"}
    temp = get("hw.temperature", **core)
    assert (temp.value, temp.unit) == (45, "Cel")
    assert get("hw.temperature.limit", **core, **{"hw.limit_type": "high.critical"}).value == 100
    assert get("hw.temperature", **{"hw.id": "nvme_composite", "hw.name": "nvme_composite"}).value == 38.9
    assert get("hw.fan.speed", **{"hw.id": "fan_1", "hw.name": "fan_1", "hw.parent": "bmc-1"}).unit == "rpm"
    assert get("system.uptime").unit == "s"
    assert get("telegraf.system.load1").value == 0.5
    assert get("telegraf.custom_app.depth", queue="q1").value == 7
    assert get("telegraf.custom_app.healthy", queue="q1").value == 1.0
    assert not any(name.endswith(".state") for name, _ in m), "string fields are not metrics"


def test_ids_are_stable_and_payload_lines_stay_small() -> None:
    body = "\n".join(f"cpu,host=h{i % 7},cpu=cpu{i % 4} usage_user={i % 100} {i}" for i in range(3000)).encode()
    lines = payload_lines(parse_body(body, NOW), max_bytes=16_384)
    assert len(lines) > 1 and all(len(x) < 17_000 for x in lines)
    first = normalise("5-0", metric_payload(lines[0]))
    assert [x.id for x in first][:2] == ["5-0#0:usage_user", "5-0#1:usage_user"]
    assert [x.id for x in normalise("5-0", metric_payload(lines[0]))] == [x.id for x in first]
    assert sum(len(normalise("1-0", metric_payload(x))) for x in lines) == 3000


def test_the_normaliser_skips_what_it_cannot_read() -> None:
    payload = {"schema": "telegraf", "metrics": [
        "junk", {"name": 3}, {"name": "cpu", "fields": {"usage_user": "x", "usage_idle": None}},
        {"name": "cpu", "tags": ["x"], "fields": {"usage_user": 50}, "time": "noon"},
    ]}
    (only,) = normalise("1-0", payload)
    assert (only.name, only.value, only.time, only.resource) == ("system.cpu.utilization", 0.5, 0.0, {})


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_value = st.one_of(st.integers(-(2**62), 2**62), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), _text)


@settings(max_examples=150, deadline=None)
@given(name=_text, tags=st.dictionaries(_text, _text, max_size=4), fields=st.dictionaries(_text, _value, min_size=1,
                                                                                          max_size=5))
def test_json_round_trips_any_metric(name: str, tags: dict[str, str], fields: dict) -> None:
    body = json.dumps({"metrics": [{"name": name, "tags": tags, "fields": fields, "timestamp": 1458229140}]})
    (m,) = parse_body(body.encode(), NOW)
    assert (m.name, m.tags, m.fields) == (name, tags, fields)
    for line in payload_lines([m]):
        for metric in normalise("1-0", metric_payload(line)):
            assert math.isfinite(metric.value) and len(metric.name) <= 255


def _escaped(text: str, chars: str) -> str:
    """Telegraf's influx serializer escaping (backslash first)."""
    for c in "\\" + chars:
        text = text.replace(c, "\\" + c)
    return text


def influx_line(name: str, tags: dict[str, str], fields: dict, ns: int) -> str:
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return f"{v}i"
        if isinstance(v, float):
            return repr(v)
        return '"' + _escaped(str(v), '"').replace("\n", "\\n") + '"'

    head = ",".join([_escaped(name, ", "), *(f"{_escaped(k, ',= ')}={_escaped(v, ',= ')}" for k, v in tags.items())])
    body = ",".join(_escaped(k, ",= ") + "=" + value(v) for k, v in fields.items())
    return f"{head} {body} {ns}"


_key = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
               min_size=1, max_size=10).filter(lambda t: not t.startswith("#") and t.strip() == t)


@settings(max_examples=200, deadline=None)
@given(name=_key, tags=st.dictionaries(_key, _key, max_size=4), fields=st.dictionaries(_key, _value, min_size=1,
                                                                                       max_size=5))
def test_line_protocol_round_trips_telegraf_escaping(name: str, tags: dict[str, str], fields: dict) -> None:
    (m,) = parse_body(influx_line(name, tags, fields, 1458229140_000_000_000).encode(), NOW)
    assert (m.name, m.tags, m.fields, m.time) == (name, tags, fields, 1458229140.0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_fail_as_malformed(body: bytes) -> None:
    with contextlib.suppress(MalformedBody):
        parse_body(body, NOW)
