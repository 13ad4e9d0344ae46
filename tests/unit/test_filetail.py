"""File tail through append, rename rotation, truncation and partial lines: every line once; only
regular files below FILETAIL_ALLOWED_DIRS, read without blocking the event loop."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from connectors.sources.base import SourceConfig
from connectors.sources.filetail import FileTail, tail
from streamapp.errors import ConfigError
from streamapp.settings import Settings

ANYWHERE = (Path("/"),)


def config(*paths: Path, start_at: str = "beginning") -> dict:
    return FileTail.validate({"paths": [str(p) for p in paths], "start_at": start_at})


def poll(cfg: dict, cursor: str | None) -> tuple[list[str], str]:
    batch = tail(cfg, json.loads(cursor) if cursor else None, ANYWHERE)
    assert batch.cursor is not None
    return batch.lines, batch.cursor


def write(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def test_append_rotate_truncate_every_line_once(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    cfg = config(log)
    seen: list[str] = []
    write(log, "a1\na2\n")
    lines, cur = poll(cfg, None)
    seen += lines
    write(log, "a3\npartial")  # a line still being written waits
    lines, cur = poll(cfg, cur)
    seen += lines
    assert seen == ["a1", "a2", "a3"]
    write(log, " end\na4\n")
    os.rename(log, tmp_path / "app.log.1")  # rotation: rename, then a new file
    write(tmp_path / "app.log.1", "a5\n")  # the writer had not reopened yet
    write(log, "b1\nb2\n")
    lines, cur = poll(cfg, cur)
    seen += lines
    assert sorted(seen) == sorted(["a1", "a2", "a3", "partial end", "a4", "a5", "b1", "b2"])
    log.write_text("")  # truncation in place
    write(log, "c1\n")
    lines, cur = poll(cfg, cur)
    seen += lines
    lines, cur = poll(cfg, cur)  # nothing new: nothing twice
    assert lines == []
    assert sorted(seen) == sorted(["a1", "a2", "a3", "partial end", "a4", "a5", "b1", "b2", "c1"])
    assert len(seen) == len(set(seen))


def test_start_at_end_skips_history_and_globs_pick_up_new_files(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_text("old\n")
    cfg = config(tmp_path / "*.log", start_at="end")
    lines, cur = poll(cfg, None)
    assert lines == []
    write(tmp_path / "x.log", "new\n")
    (tmp_path / "y.log").write_text("y1\n")  # appeared after the start: read from its beginning
    lines, cur = poll(cfg, cur)
    assert sorted(lines) == ["new", "y1"]


def test_long_lines_are_cut_and_invalid_utf8_replaced(tmp_path: Path) -> None:
    log = tmp_path / "bin.log"
    log.write_bytes(b"x" * 700 + b"\n" + b"caf\xc3\x28\n")
    cfg = FileTail.validate({"paths": [str(log)], "start_at": "beginning", "max_line_bytes": 256})
    lines, _ = poll(cfg, None)
    assert [len(x) for x in lines[:3]] == [256, 256, 188] and lines[3] == "caf\ufffd("


def test_validation_names_the_field() -> None:
    for bad, field in (({"paths": []}, "paths"), ({"paths": ["rel.log"]}, "paths"),
                       ({"paths": ["/a"], "start_at": "middle"}, "start_at")):
        try:
            FileTail.validate(bad)
        except ConfigError as exc:
            assert str(exc).startswith(field)
        else:
            raise AssertionError(bad)


def test_only_regular_files_below_the_allowed_folders(tmp_path: Path) -> None:
    """`/proc/self/environ` (directly or through a symlink) would hand out the worker's secrets."""
    allowed = tmp_path / "logs"
    allowed.mkdir()
    (allowed / "app.log").write_text("fine\n")
    (allowed / "env.log").symlink_to("/proc/self/environ")
    settings = Settings(filetail_allowed_dirs=f"{allowed}, /var/log")
    for refused in ("/proc/self/environ", "/etc/*", f"{allowed}/../secret.log"):
        with pytest.raises(ConfigError, match="paths: .* not below FILETAIL_ALLOWED_DIRS"):
            FileTail.check(config(Path(refused)), settings)
    cfg = config(allowed / "*.log")
    FileTail.check(cfg, settings)
    assert tail(cfg, None, settings.filetail_dirs()).lines == ["fine"], "the symlink out is not read"


class _Emitter:
    def __init__(self, folder: Path) -> None:
        self.settings, self.client = Settings(filetail_allowed_dirs=str(folder)), None


async def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    """Opening a FIFO to read waits for a writer forever (on the event loop, the worker froze)."""
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "app.log").write_text("a line\n")
    cfg = {"paths": [str(tmp_path / "pipe.log"), str(tmp_path / "app.log")], "start_at": "beginning",
           "format": "linux"}
    producer = FileTail(SourceConfig(id="s1", name="n", type="filetail", config=cfg), _Emitter(tmp_path))  # type: ignore[arg-type]
    batch = await asyncio.wait_for(producer.poll(None), timeout=30)
    assert batch.lines == ["a line"]
