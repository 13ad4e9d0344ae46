"""Telegraf `outputs.http` bodies (pure): JSON (batch `{"metrics": [...]}` or one metric) and influx
line protocol, told apart by their first byte because Telegraf sends `text/plain` for both; then
which metrics are log events, and how metrics travel on `logs` (log lines, or `telegraf` payloads).

A body that cannot be read raises `MalformedBody` naming the line or field, so Telegraf's operator
can find it; NaN and infinite field values are dropped, as Telegraf's own serialisers do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from streamapp.errors import PoisonInput, StreamAppError

FieldValue = float | int | str | bool

# A log event: these measurements carry a text message (syslog, tail, docker_log, logparser,
# win_eventlog), and any metric with a string `message` field is one too.
LOG_MEASUREMENTS = frozenset({"syslog", "tail", "docker_log", "logparser", "win_eventlog"})
MESSAGE_FIELDS = ("message", "Message", "msg", "log", "value")
PAYLOAD_MAX_BYTES = 64 * 1024  # per payload line; the inbound bridge parks entries above 256 KiB


class MalformedBody(PoisonInput):
    """The body is not Telegraf JSON or line protocol; `where` names the line or field at fault."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where


class HostNotAllowed(StreamAppError):
    """A metric's `host` tag is not among the source's `allowed_hosts`."""

    def __init__(self, host: str) -> None:
        super().__init__(f"host {host!r} is not allowed for this token" if host else "a metric has no host tag")
        self.host = host


@dataclass(frozen=True, slots=True)
class TelegrafMetric:
    name: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time: float  # seconds since the epoch


@dataclass(frozen=True)
class Accepted:
    """What one request puts on `logs`: (source, line) pairs, and the batch digest for re-sends."""

    metrics: int
    log_lines: list[tuple[str, str]]
    payload_lines: list[str]
    digest: str


def accept(body: bytes, now: float, allowed_hosts: list[str], source_name: str) -> Accepted:
    """A whole body, or nothing: MalformedBody or HostNotAllowed before anything is written.
    The digest is of the decoded body, so a re-send is recognised whether gzipped or not."""
    metrics = parse_body(body, now)
    bad = disallowed_host(metrics, allowed_hosts)
    if bad is not None:
        raise HostNotAllowed(bad)
    logs: list[TelegrafMetric] = []
    others: list[TelegrafMetric] = []
    for m in metrics:
        (logs if is_log(m) else others).append(m)
    return Accepted(
        metrics=len(metrics),
        log_lines=[log_line(m, source_name) for m in logs],
        payload_lines=payload_lines(others),
        digest=hashlib.sha256(body).hexdigest(),
    )


def parse_body(body: bytes, now: float) -> list[TelegrafMetric]:
    """Every metric of a body; `now` stamps metrics sent without a timestamp."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("body", f"not UTF-8 (byte {exc.start})") from None
    stripped = text.lstrip()
    if not stripped:
        raise MalformedBody("body", "empty")
    metrics = parse_json(stripped, now) if _is_json(stripped) else parse_line_protocol(text, now)
    if not metrics:
        raise MalformedBody("body", "no metrics")
    return metrics


# ------------------------------------------------------------------------------------------- JSON
_JSON_START = re.compile(r'\{\s*(?:"|\}|$)')


def _is_json(text: str) -> bool:
    """Telegraf's JSON is an object; a line protocol measurement may begin with `{` too, but then
    what follows is no JSON object start (`{`, optional whitespace, then `"` or `}`)."""
    return _JSON_START.match(text) is not None


def parse_json(text: str, now: float) -> list[TelegrafMetric]:
    try:
        obj = json.loads(text)
    except RecursionError:
        raise MalformedBody("body", "JSON nested too deeply") from None
    except ValueError as exc:
        raise MalformedBody("body", f"not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise MalformedBody("body", 'a JSON object: {"metrics": [...]} or one metric')
    if "metrics" not in obj:
        return [_json_metric(obj, "metric", now)]
    items = obj["metrics"]
    if not isinstance(items, list):
        raise MalformedBody("metrics", "a list of metrics")
    return [_json_metric(item, f"metrics[{i}]", now) for i, item in enumerate(items)]


def _json_metric(item: Any, where: str, now: float) -> TelegrafMetric:
    if not isinstance(item, dict):
        raise MalformedBody(where, "a metric object with name, tags, fields, timestamp")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedBody(f"{where}.name", "a non-empty string")
    tags, fields = item.get("tags", {}), item.get("fields")
    if not isinstance(tags, dict):
        raise MalformedBody(f"{where}.tags", "an object of strings")
    if not isinstance(fields, dict) or not fields:
        raise MalformedBody(f"{where}.fields", "a non-empty object")
    clean_tags = {}
    for key, value in tags.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MalformedBody(f"{where}.tags.{key}", "a string")
        clean_tags[key] = str(value)
    clean_fields: dict[str, FieldValue] = {}
    for key, value in fields.items():
        if not isinstance(value, str | int | float):  # bool is an int
            raise MalformedBody(f"{where}.fields.{key}", "a number, string or boolean")
        if isinstance(value, float) and not math.isfinite(value):
            continue
        clean_fields[key] = value
    return TelegrafMetric(name, clean_tags, clean_fields, _json_time(item.get("timestamp"), f"{where}.timestamp", now))


def _json_time(raw: Any, where: str, now: float) -> float:
    if raw is None:
        return now
    if isinstance(raw, str):  # json_timestamp_format (RFC 3339 / ISO 8601) or a number as text
        try:
            return epoch_seconds(float(raw))
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedBody(where, "a number or an ISO 8601 time") from None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise MalformedBody(where, "a number or an ISO 8601 time")
    return epoch_seconds(raw)


def epoch_seconds(value: float) -> float:
    """A timestamp in seconds whatever `json_timestamp_units` (or line protocol precision) made it:
    the unit is told by magnitude (ns, µs, ms or s for times after 1973)."""
    for scale in (1e9, 1e6, 1e3):
        if abs(value) >= scale * 1e8:
            return value / scale
    return float(value)


# --------------------------------------------------------------------------------- line protocol
# Runs of characters up to an unescaped separator.
_UNTIL_SPACE = re.compile(r"(?:[^ \\]|\\.)+")
_UNTIL_COMMA = re.compile(r"(?:[^,\\]|\\.)*")
_FIELD_KEY = re.compile(r"(?:[^=, \\]|\\.)+")
_FIELD_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"|[^ ,]*', re.S)
_UNTIL_EQUALS = re.compile(r"(?:[^=\\]|\\.)*")
_KEY_ESCAPE = re.compile(r"\\([,= \\])")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
_STRING_ESCAPE = re.compile(r'\\(["\\nrtf])')  # Telegraf escapes control characters in strings
_CONTROL = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.I)
_INT = re.compile(r"[+-]?\d+i")
_UINT = re.compile(r"\d+u")
_TIMESTAMP = re.compile(r"-?\d{1,19}")
_BOOLS = {"t": True, "true": True, "f": False, "false": False}


def parse_line_protocol(text: str, now: float) -> list[TelegrafMetric]:
    """`measurement[,tag=v...] field=v[,...] [timestamp]` per line; blank lines and `#` comments skipped."""
    out = []
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(_lp_line(line, f"line {n}", now))
    return out


def _lp_line(line: str, where: str, now: float) -> TelegrafMetric:
    head = _UNTIL_SPACE.match(line)
    if head is None or head.end() >= len(line):
        raise MalformedBody(where, "expected `measurement[,tags] fields [timestamp]`")
    name, *tag_parts = _split_tags(head.group(), where)
    if not name:
        raise MalformedBody(where, "empty measurement name")
    tags = dict(_tag(part, where) for part in tag_parts)
    fields: dict[str, FieldValue] = {}
    pos = head.end() + 1
    while True:  # key=value pairs; a quoted string value may hold commas, spaces and `=`
        key = _FIELD_KEY.match(line, pos)
        if key is None or line[key.end():key.end() + 1] != "=":
            raise MalformedBody(where, f"field at column {pos + 1}: expected key=value")
        raw = _FIELD_VALUE.match(line, key.end() + 1)
        assert raw is not None  # the unquoted alternative matches the empty string
        value = _field_value(raw.group(), f"{where}: field {_unescape(key.group())!r}")
        if value is not None:
            fields[_unescape(key.group())] = value
        pos = raw.end()
        if pos == len(line) or line[pos] == " ":
            break
        if line[pos] != ",":
            raise MalformedBody(where, f"column {pos + 1}: a comma or space after a field value")
        pos += 1
    rest = line[pos:].strip()
    if rest and not _TIMESTAMP.fullmatch(rest):
        raise MalformedBody(where, f"timestamp: an integer, got {rest[:40]!r}")
    return TelegrafMetric(_unescape(name), tags, fields, epoch_seconds(int(rest)) if rest else now)


def _split_tags(text: str, where: str) -> list[str]:
    """`measurement,tag=v,...` cut at the unescaped commas."""
    parts, pos = [], 0
    while True:
        m = _UNTIL_COMMA.match(text, pos)
        assert m is not None  # the pattern matches the empty string
        parts.append(m.group())
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ",":
            raise MalformedBody(where, f"dangling escape at column {pos + 1}")
        pos += 1


def _tag(part: str, where: str) -> tuple[str, str]:
    m = _UNTIL_EQUALS.match(part)
    assert m is not None
    if not m.group() or m.end() >= len(part) - 1:
        raise MalformedBody(where, f"tag {_unescape(part)[:40]!r}: expected key=value")
    return _unescape(m.group()), _unescape(part[m.end() + 1:])


def _unescape(text: str) -> str:
    return _KEY_ESCAPE.sub(r"\1", text) if "\\" in text else text


def _field_value(raw: str, where: str) -> FieldValue | None:
    """The typed value; None for NaN/Inf, which are dropped."""
    if raw.startswith('"'):
        string = _STRING.fullmatch(raw)
        if string is None:
            raise MalformedBody(where, "unterminated string")
        return _STRING_ESCAPE.sub(lambda m: _CONTROL.get(m[1], m[1]), string[1])
    if _INT.fullmatch(raw) or _UINT.fullmatch(raw):
        return int(raw[:-1])
    if _FLOAT.fullmatch(raw):
        return float(raw)
    if raw.lower() in _BOOLS:
        return _BOOLS[raw.lower()]
    if _NOT_FINITE.fullmatch(raw):
        return None
    raise MalformedBody(where, f"not a number, string or boolean: {raw[:40]!r}")


# ------------------------------------------------------------------------------ metrics on `logs`
def is_log(m: TelegrafMetric) -> bool:
    return isinstance(m.fields.get("message"), str) or (m.name in LOG_MEASUREMENTS and message_of(m) is not None)


def message_of(m: TelegrafMetric) -> str | None:
    return next((v for k in MESSAGE_FIELDS if isinstance(v := m.fields.get(k), str)), None)


def host_of(m: TelegrafMetric) -> str:
    return m.tags.get("host", "")


def hosts_of(m: TelegrafMetric) -> list[str]:
    """The hosts a metric speaks for: the agent's (`host` tag), and the device of a syslog event
    (`hostname` tag), which becomes the host of its line, of its issue and of the alert."""
    return [host_of(m), *([m.tags["hostname"]] if "hostname" in m.tags else [])]


def disallowed_host(metrics: list[TelegrafMetric], allowed: list[str]) -> str | None:
    """The first host (`host` or `hostname` tag) outside `allowed` (an empty list allows every
    host); `""` = no host tag."""
    if not allowed:
        return None
    permitted = set(allowed)
    return next((h for m in metrics for h in hosts_of(m) if h not in permitted), None)


def log_line(m: TelegrafMetric, fallback_host: str) -> tuple[str, str]:
    """(source, line) of a log event: a syslog-shaped line (`<PRI>time host app[pid]: message`), which
    the default `linux` format splits into host, component and pid. The device a syslog message came
    from (`hostname` tag) is its host; otherwise the agent's `host` tag."""
    host = _token(m.tags.get("hostname") or host_of(m) or fallback_host)
    app = m.tags.get("appname") or m.tags.get("container_name") or m.tags.get("source") or m.name
    app = re.sub(r"[\[\]:\s]+", "_", app) or m.name
    pid = m.fields.get("procid")
    pid_part = f"[{pid}]" if isinstance(pid, str | int) and str(pid).isdigit() else ""
    facility, severity = m.fields.get("facility_code"), m.fields.get("severity_code")
    pri = f"<{facility * 8 + severity}>" if isinstance(facility, int) and isinstance(severity, int) else ""
    when = dt.datetime.fromtimestamp(m.time, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = (message_of(m) or "").rstrip("\r\n")
    return f"telegraf:{_token(host_of(m) or fallback_host)}", f"{pri}{when} {host} {app}{pid_part}: {message}"


def _token(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip()) or "-"


def payload_lines(metrics: list[TelegrafMetric], max_bytes: int = PAYLOAD_MAX_BYTES) -> list[str]:
    """Metric payload lines `{"schema": "telegraf", "metrics": [...]}` of at most about `max_bytes`
    each (numbers and booleans only: string fields have no metric meaning)."""
    lines: list[str] = []
    chunk: list[str] = []
    size = 0
    for m in metrics:
        fields = {k: v for k, v in m.fields.items() if not isinstance(v, str)}
        if not fields:
            continue
        item = json.dumps({"name": m.name, "tags": m.tags, "fields": fields, "time": m.time},
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        if chunk and size + len(item) > max_bytes:
            lines.append(_payload(chunk))
            chunk, size = [], 0
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        lines.append(_payload(chunk))
    return lines


def _payload(items: list[str]) -> str:
    return '{"schema":"telegraf","metrics":[' + ",".join(items) + "]}"
