"""OS and format of a file tail source that names none: from the file name, else from the first
lines; said in the status; published with the first lines; never guessed from one odd line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from connectors.sources.filetail import FileTail, choose_format
from streamapp.parsing.infer import from_lines, from_name, infer
from streamapp.settings import Settings

ANYWHERE = (Path("/"),)  # FILETAIL_ALLOWED_DIRS is tested with the file tail

LINUX = [
    "Mar  3 10:00:01 web-01 CRON[2211]: (root) CMD (run-parts /etc/cron.hourly)",
    "Mar  3 10:00:02 web-01 sshd[4511]: Accepted publickey for deploy from 10.0.3.4 port 51000 ssh2",
    "Mar  3 10:00:03 web-01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.9 DST=10.0.3.4 PROTO=TCP",
    "2026-03-03T10:00:04+00:00 web-01 systemd: Started Session 12 of user deploy.",
]
MAC = [
    "Mar  3 10:00:01 mbp-ops kernel[0]: AppleThunderboltNHIType2::prePCIWake - power up complete - took 12 us",
    "Mar  3 10:00:02 mbp-ops com.apple.xpc.launchd[1]: (com.apple.mdworker.shared.0A1B) Service exited",
    "Mar  3 10:00:03 mbp-ops symptomsd[215]: -[NetworkAnalyticsEngine observeValueForKeyPath:] hit",
    "Mar  3 10:00:04 mbp-ops QQ[10018] (com.tencent.qq): DEPRECATED USE in libdispatch client",
]
WINDOWS = [
    "2026-03-03 10:00:01, Info                  CBS    Loaded Servicing Stack v6.1.7601.2 with Core",
    "2026-03-03 10:00:02, Info                  CSI    00000012 WcpInitialize (wcp.dll version 0.0.0.6) called",
    "2026-03-03 10:00:03, Error                 CBS    Failed to process single phase execution. [HRESULT = 0x8]",
]
JSON_LINES = ['{"time": "2026-03-03T10:00:01Z", "level": "error", "msg": "upstream timed out"}'] * 3
LOGFMT = ['ts=2026-03-03T10:00:01Z level=info msg="request done" path=/api status=200'] * 3


@pytest.mark.parametrize(("name", "expected"), [
    ("/var/log/Linux.log", "linux"), ("/data/Mac.log", "macos"), ("/data/Windows_2k.log", "windows"),
    ("/var/log/syslog", "linux"), ("/var/log/system.log", "macos"), ("/srv/app/events.jsonl", "json"),
    ("/var/log/CBS.log", "windows"), ("/var/log/auth.log", "linux"),
])
def test_the_file_name_says(name: str, expected: str) -> None:
    chosen = from_name(name)
    assert chosen is not None and chosen.format == expected and Path(name).name in chosen.reason


@pytest.mark.parametrize("name", ["/srv/app/app.log", "/var/log/oauth-gateway.log", "/srv/winston-out.log"])
def test_other_names_say_nothing(name: str) -> None:
    assert from_name(name) is None


@pytest.mark.parametrize(("lines", "expected"), [
    (LINUX, "linux"), (MAC, "macos"), (WINDOWS, "windows"), (JSON_LINES, "json"), (LOGFMT, "logfmt"),
])
def test_the_first_lines_say_when_the_name_does_not(lines: list[str], expected: str) -> None:
    chosen = infer("/srv/app/app.log", ["", *lines])
    assert chosen is not None and chosen.format == expected
    assert chosen.reason.startswith("its first lines") and f"fit {expected}" in chosen.reason


def test_a_mixed_or_unknown_head_says_nothing() -> None:
    assert from_lines([]) is None
    assert from_lines(["just some words", "more words here", LINUX[0]]) is None  # 1 of 3 is not most
    assert from_lines(["x" * 100_000]) is None  # long lines are cut before any pattern runs


def test_the_source_status_says_which_format_and_why(tmp_path: Path) -> None:
    mac = tmp_path / "Mac.log"
    mac.write_text("\n".join(MAC) + "\n")
    chosen = choose_format(FileTail.validate({"paths": [str(mac)]}), ANYWHERE)
    assert chosen is not None and (chosen.format, chosen.reason) == ("macos", "the file name Mac.log")
    other = tmp_path / "app.log"
    other.write_text("\n".join(WINDOWS) + "\n")
    chosen = choose_format(FileTail.validate({"paths": [str(other), str(mac)]}), ANYWHERE)
    assert chosen is not None and chosen.format == "windows"
    assert "Mac.log: macos" in chosen.reason and "source of their own" in chosen.reason
    assert choose_format(FileTail.validate({"paths": [str(tmp_path / "missing.log")]}), ANYWHERE) is None


class _Emitter:
    """The emitter's surface the producer's constructor uses (nothing is written in these tests)."""

    settings, client = Settings(filetail_allowed_dirs="/"), None


async def test_the_producer_decides_before_its_first_line_and_publishes_it_with_them(tmp_path: Path) -> None:
    from connectors.sources.base import SourceConfig

    log = tmp_path / "service.log"
    source = SourceConfig(id="s1", name="svc", type="filetail",
                          config={"paths": [str(log)], "start_at": "beginning"})
    producer = FileTail(source, _Emitter())  # type: ignore[arg-type]
    assert producer.format() is None and producer.status.format == "", "nothing to judge yet"
    batch = await producer.poll(None)
    assert batch.lines == [] and producer.format() is None
    log.write_text("\n".join(WINDOWS) + "\n")
    batch = await producer.poll(batch.cursor)
    assert batch.format == "windows" and len(batch.lines) == 3
    assert (producer.status.format, producer.status.format_from) == ("windows", "its first lines (3 of 3 fit windows)")
    configured = FileTail(SourceConfig(id="s2", name="svc2", type="filetail",
                                       config={"paths": [str(log)], "format": "linux"}), _Emitter())  # type: ignore[arg-type]
    assert configured.format() == "linux" and configured.status.format_from == "its configuration"
    json.dumps(producer.status.as_dict())  # what the manager publishes


async def test_lines_nothing_explains_fall_back_to_the_default_and_say_so(tmp_path: Path) -> None:
    from connectors.sources.base import SourceConfig

    log = tmp_path / "notes.txt"
    log.write_text("hello\nworld\n")
    producer = FileTail(SourceConfig(id="s3", name="n", type="filetail",
                                     config={"paths": [str(log)], "start_at": "beginning"}), _Emitter())  # type: ignore[arg-type]
    batch = await producer.poll(None)
    assert batch.format == "linux" and producer.status.format_from.startswith("the default")


def test_only_regular_files_are_sniffed(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    assert choose_format(FileTail.validate({"paths": [str(fifo)]}), ANYWHERE) is None
