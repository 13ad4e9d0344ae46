"""File tail producer (type `filetail`): follows files and globs through rotation and truncation.

The cursor remembers, per file identity (device and inode), the byte offset up to which complete
lines were emitted. So a rename-rotation (`app.log` -> `app.log.1`, new `app.log`) finishes the
old file (found again by its inode next to the path) and starts the new one at 0; a truncation
(size below the offset) restarts at 0; only whole lines are emitted (a partial last line waits).

Config: `paths` (files or globs), `start_at` (`end`, the default, or `beginning` for files seen
the first time), `format` for the consumer, `max_line_bytes`, `interval_sec`.

Only regular files below FILETAIL_ALLOWED_DIRS are read, checked when a source is configured and
again for every file a path or glob names at each poll (symlinks resolved): `/proc/self/environ`
would hand out the worker's secrets, and opening a FIFO waits for a writer. Files are read in a
thread, never on the event loop.

Without a `format`, the producer infers one before it emits a line (`streamapp.parsing.infer`: the
file names, else the files' first lines), says which and why in its status, and hands it to the
consumers with its first lines (one transaction). One format per source: files of different OSes
belong in sources of their own; if the files of one source disagree, the first one's is used and
the status says so.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from connectors.sources.base import Batch, Producer
from streamapp.errors import ConfigError
from streamapp.parsing.infer import MAX_LINE, SNIFF_LINES, Inference, infer
from streamapp.settings import Settings

MAX_BATCH_BYTES = 4 << 20  # per poll; the rest comes on the next one
DEFAULT_FORMAT = "linux"


def _ident(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


class FileTail(Producer):
    type: ClassVar[str] = "filetail"
    interval_sec = 1.0

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        paths = config.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise ConfigError("paths: a list of absolute file paths or globs is required")
        start_at = config.get("start_at", "end")
        if start_at not in ("end", "beginning"):
            raise ConfigError("start_at: must be 'end' or 'beginning'")
        limit = config.get("max_line_bytes", 65536)
        if not isinstance(limit, int) or not 256 <= limit <= 1 << 20:
            raise ConfigError("max_line_bytes: an integer between 256 and 1048576")
        return {**config, "paths": paths, "start_at": start_at, "max_line_bytes": limit}

    @classmethod
    def check(cls, config: dict[str, Any], settings: Settings) -> None:
        super().check(config, settings)
        allowed = settings.filetail_dirs()
        for pattern in config["paths"]:
            if not below(fixed_part(pattern), allowed):
                shown = ", ".join(map(str, allowed)) or "none"
                raise ConfigError(f"paths: {pattern} is not below FILETAIL_ALLOWED_DIRS ({shown})")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured = self.source.config.get("format")
        self.chosen: Inference | None = Inference(configured, "its configuration") if configured else None
        self._report()

    def format(self) -> str | None:
        return self.chosen.format if self.chosen else None

    async def poll(self, cursor: str | None) -> Batch:
        config = self.validate(self.source.config)
        allowed = self.emitter.settings.filetail_dirs()
        if self.chosen is None and (chosen := await asyncio.to_thread(choose_format, config, allowed)) is not None:
            self.chosen = chosen
            self._report()
        batch = await asyncio.to_thread(tail, config, json.loads(cursor) if cursor else None, allowed)
        if batch.lines and self.chosen is None:  # nothing said which: the default, and why
            self.chosen = Inference(DEFAULT_FORMAT, "the default: neither file names nor first lines told")
            self._report()
        batch.format = self.format()
        return batch

    def _report(self) -> None:
        if self.chosen is not None:
            self.status.format, self.status.format_from = self.chosen.format, self.chosen.reason


def tail(config: dict[str, Any], state: dict[str, dict] | None, allowed: Sequence[Path]) -> Batch:
    """New complete lines of every configured file since `state` (regular files below `allowed`
    only); the new state as the cursor. Blocking: run it in a thread."""
    first_run = state is None
    state = dict(state or {})
    limit = config["max_line_bytes"]
    lines: list[str] = []
    budget = MAX_BATCH_BYTES
    current: dict[str, tuple[str, int]] = {}  # ident -> (path, size) of the files at their paths now
    for path in matching_files(config, allowed):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        current[_ident(st)] = (path, st.st_size)
    # Rotated files: a tracked identity no longer at its path; finish it where it now lives.
    for ident, entry in list(state.items()):
        if ident in current:
            continue
        moved = _find(Path(entry["path"]).parent, ident)
        if moved is None:
            del state[ident]  # deleted: nothing more can be read
            continue
        entry["path"] = moved  # kept while it exists: a writer may still append to the old inode
        budget -= _read(moved, entry, limit, lines, budget)
    for ident, (path, size) in current.items():
        entry = state.get(ident)
        if entry is None:
            known_path = any(e["path"] == path for e in state.values())
            offset = size if first_run and config["start_at"] == "end" and not known_path else 0
            entry = state[ident] = {"path": path, "offset": offset}
        entry["path"] = path
        if size < entry["offset"]:
            entry["offset"] = 0  # truncated in place
        if budget > 0:
            budget -= _read(path, entry, limit, lines, budget)
    return Batch(lines=lines, cursor=json.dumps(state, sort_keys=True))


def choose_format(config: dict[str, Any], allowed: Sequence[Path]) -> Inference | None:
    """The format of the source's files, from their names or first lines (None while no file
    says: e.g. none exists yet, or they are empty). Blocking: run it in a thread."""
    found = [(path, guess) for path in matching_files(config, allowed)
             if (guess := infer(path, _head(path))) is not None]
    if not found:
        return None
    first_path, first = found[0]
    others = sorted({f"{Path(p).name}: {g.format}" for p, g in found if g.format != first.format})
    if others:
        return Inference(first.format, f"{first.reason} of {Path(first_path).name}; other files differ "
                                       f"({', '.join(others)}): give them a source of their own")
    return first


def matching_files(config: dict[str, Any], allowed: Sequence[Path]) -> Iterator[str]:
    """The regular files below `allowed` the configured files and globs name now, in order (globs
    sorted); anything else they name (a FIFO, a device, a symlink out) is left alone."""
    for pattern in config["paths"]:
        for path in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            if below(path, allowed) and os.path.isfile(path):
                yield path


def fixed_part(pattern: str) -> str:
    """The folder or file a path or glob names before its first wildcard."""
    parts = Path(pattern).parts
    return str(Path(*parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]))


def below(path: str, allowed: Sequence[Path]) -> bool:
    """`path`, symlinks resolved, is one of the `allowed` folders or inside one."""
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(folder) for folder in allowed)


def _head(path: str) -> list[str]:
    """The first lines of a regular file (bounded), or none when it is not one or cannot be read
    (opening a FIFO would wait for a writer)."""
    if not os.path.isfile(path):
        return []
    try:
        with open(path, "rb") as f:
            data = f.read(SNIFF_LINES * MAX_LINE)
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines if data.endswith(b"\n") else lines[:-1]  # a partial last line is not judged


def _find(folder: Path, ident: str) -> str | None:
    """The file in `folder` with this identity (where a rotation renamed it), if any."""
    try:
        for entry in os.scandir(folder):
            if entry.is_file() and _ident(entry.stat()) == ident:
                return entry.path
    except FileNotFoundError:
        return None
    return None


def _read(path: str, entry: dict, limit: int, out: list[str], budget: int) -> int:
    """Append complete lines from entry['offset'] (advancing it); returns the bytes consumed.
    Opened without blocking, and read only if it is still a regular file (it may have been
    replaced since it was listed)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return 0
        f.seek(entry["offset"])
        data = f.read(max(budget, 0))
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) >= limit:
        end = len(data)  # one line longer than any limit: emitted in pieces, never stuck
    for raw in data[:end].split(b"\n"):
        raw = raw.rstrip(b"\r")
        for i in range(0, len(raw), limit):  # empty lines carry nothing and are skipped
            out.append(raw[i : i + limit].decode("utf-8", errors="replace"))
    entry["offset"] += end
    return end


PRODUCER = FileTail
