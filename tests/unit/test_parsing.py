"""Line parsing: the three presets of the design, Loghub format strings, JSON and logfmt."""

from __future__ import annotations

import csv
import json

import pytest

from streamapp.errors import ConfigError
from streamapp.parsing import LineFormat, ParsedLine, parse_line


@pytest.mark.parametrize(
    ("preset", "raw", "expected"),
    [
        (
            "linux",
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0",
            ParsedLine(
                message="authentication failure; logname= uid=0",
                matched=True,
                timestamp="Jun 14 15:16:01",
                host="combo",
                component="sshd(pam_unix)",
                pid="19939",
            ),
        ),
        (
            "linux",
            "<13>2024-05-01T10:00:00.123+02:00 web-1 kernel: Out of memory",
            ParsedLine(
                message="Out of memory",
                matched=True,
                timestamp="2024-05-01T10:00:00.123+02:00",
                host="web-1",
                component="kernel",
            ),
        ),
        (
            "macos",
            "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback",
            ParsedLine(
                message="IOThunderboltSwitch<0>(0x0)::listenerCallback",
                matched=True,
                timestamp="Jul  1 09:00:55",
                host="calvisitor-10-105-160-95",
                component="kernel",
                pid="0",
            ),
        ),
        (
            "macos",
            "Jul  4 23:22:09 host-1 Microsoft Word[14463]: Cocoa scripting error",
            ParsedLine(
                message="Cocoa scripting error",
                matched=True,
                timestamp="Jul  4 23:22:09",
                host="host-1",
                component="Microsoft Word",
                pid="14463",
            ),
        ),
        (
            "windows",
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505",
            ParsedLine(
                message="Loaded Servicing Stack v6.1.7601.23505",
                matched=True,
                timestamp="2016-09-28 04:30:30",
                component="CBS",
                level="Info",
            ),
        ),
    ],
)
def test_presets_split_the_design_sources(preset, raw, expected) -> None:
    assert parse_line(raw, LineFormat.from_spec(preset)) == expected


def test_macos_address_goes_to_extra() -> None:
    line = parse_line(
        "Jul  4 23:22:09 host-1 sandboxd[129] ([10018]): QQ(10018) deny mach-lookup", LineFormat.from_spec("macos")
    )
    assert (line.component, line.pid, line.message) == ("sandboxd", "129", "QQ(10018) deny mach-lookup")
    assert line.extra == (("Address", "[10018]"),)


def test_loghub_format_string_names_the_fields() -> None:
    fmt = LineFormat.from_spec("<Date> <Time> <Pid> <Level> <Component>: <Content>")
    line = parse_line("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating", fmt)
    assert line == ParsedLine(
        message="PacketResponder 1 terminating",
        matched=True,
        timestamp="081109 203615",
        component="dfs.DataNode$PacketResponder",
        pid="148",
        level="INFO",
    )


def test_loghub_format_text_between_fields_is_a_regex() -> None:
    fmt = LineFormat.from_spec(r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>")
    line = parse_line("2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:2181:Fast@774] - Notification: 3", fmt)
    assert (line.level, line.host, line.component, line.message) == (
        "INFO",
        "QuorumPeer[myid=1]/0",
        "0:2181:Fast",
        "Notification: 3",
    )
    assert line.extra == (("Id", "774"),)


def test_a_line_no_header_fits_is_still_a_message() -> None:
    line = parse_line("  --- last message repeated 1 time ---  ", LineFormat.from_spec("macos"))
    assert line == ParsedLine(message="--- last message repeated 1 time ---", matched=False)


def test_json_message_key_is_configurable() -> None:
    fmt = LineFormat.from_spec("json", message_keys=("event", "msg"))
    line = parse_line('{"ts": "2024-01-01T00:00:00Z", "level": "warn", "event": "disk full", "n": {"a": 1}}', fmt)
    assert (line.message, line.timestamp, line.level, line.matched) == (
        "disk full",
        "2024-01-01T00:00:00Z",
        "warn",
        True,
    )
    assert line.extra == (("n", '{"a":1}'),)


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"other": "x"}', '{"msg": '])
def test_json_without_a_message_is_unmatched(raw) -> None:
    line = parse_line(raw, LineFormat.from_spec("json"))
    assert not line.matched and line.message == raw.strip()


def test_logfmt_unquotes_values() -> None:
    line = parse_line(
        r'time=2024-01-01 level=error msg="cannot open \"x.db\"" host=db-2 retry', LineFormat.from_spec("logfmt")
    )
    assert (line.message, line.level, line.host, line.timestamp) == (
        'cannot open "x.db"',
        "error",
        "db-2",
        "2024-01-01",
    )
    assert line.extra == (("retry", ""),)


@pytest.mark.parametrize("spec", ["nosuchpreset", "<Content", r"<A> (<Content>"])
def test_bad_formats_fail_fast(spec) -> None:
    with pytest.raises(ConfigError):
        LineFormat.from_spec(spec)


def test_loghub_formats_reproduce_the_content_column(loghub_dir) -> None:
    formats = {k: v for k, v in json.loads((loghub_dir / "formats.json").read_text()).items() if k[0] != "_"}
    for system, spec in formats.items():
        fmt = LineFormat.from_spec(spec)
        raw = (loghub_dir / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
        with (loghub_dir / system / f"{system}_2k.log_structured.csv").open(newline="", encoding="utf-8") as f:
            truth = [row["Content"] for row in csv.DictReader(f)]
        parsed = [parse_line(line, fmt) for line in raw]
        assert all(p.matched for p in parsed), system
        same = sum(p.message == " ".join(t.split()) or p.message == t for p, t in zip(parsed, truth, strict=True))
        assert same >= len(truth) - 1, system  # the corrected HealthApp truth edited one Content value
