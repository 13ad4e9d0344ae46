"""Simulated traffic of our own making: Linux syslog, macOS system.log and Windows CBS lines from a
small fleet, routine noise plus injected incidents whose ground truth is known (pure, seeded).

Each incident is a burst of the messages that failure really produces on one host (message
formats of the kernel, smartd, EDAC, sshd, systemd, ...), spread over some seconds, so the
pipeline has to group, cluster and classify it like real traffic. The message tables are data,
in `simulate.yml` beside this module, read and checked once on first use.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import yaml

from streamapp.errors import ConfigError
from streamapp.taxonomy import FailureType

LINUX_HOSTS = ("web-01", "web-02", "db-01", "db-02", "cache-01", "lb-01")
MAC_HOSTS = ("mac-build-01",)
WIN_HOSTS = ("win-app-01",)

USERS = ("admin", "oracle", "test", "ubuntu", "guest", "postgres", "git", "support")
FIELDS = frozenset({"a", "b", "n", "port", "pid", "hexid", "sector", "temp", "user"})  # what `_fill` fills


@dataclass(frozen=True)
class Message:
    """One kind of line a process logs; `text` has `{n}` and friends filled per line."""

    component: str
    text: str
    has_pid: bool = False  # a pid drawn per line (in an incident, one per component)
    pid: int | None = None  # a fixed pid (launchd's 1, the macOS kernel's 0)


@dataclass(frozen=True)
class Tables:
    """The message tables of `simulate.yml`: routine noise per OS, and what each failure type logs."""

    linux: tuple[Message, ...]
    macos: tuple[Message, ...]
    windows: tuple[Message, ...]
    incidents: Mapping[FailureType, tuple[Message, ...]]


def parse_tables(text: str, origin: str = "simulate.yml") -> Tables:
    """The tables of a `simulate.yml` text; anything off is a ConfigError naming the entry."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    top = _mapping(doc, origin, {"noise", "incidents"})
    noise = _mapping(top["noise"], f"{origin}: noise", {"linux", "macos", "windows"})
    incidents: dict[FailureType, tuple[Message, ...]] = {}
    for name, messages in _mapping(top["incidents"], f"{origin}: incidents").items():
        try:
            failure_type = FailureType(name)
        except ValueError:
            raise ConfigError(f"{origin}: incidents: {name!r} is not a failure type") from None
        incidents[failure_type] = _messages(messages, f"{origin}: incidents.{name}")
    return Tables(
        linux=_messages(noise["linux"], f"{origin}: noise.linux"),
        macos=_messages(noise["macos"], f"{origin}: noise.macos"),
        windows=_messages(noise["windows"], f"{origin}: noise.windows"),
        incidents=incidents,
    )


@cache
def shipped_tables() -> Tables:
    """The tables shipped in the package, read once."""
    return parse_tables(resources.files("streamapp").joinpath("simulate.yml").read_text(encoding="utf-8"))


def _mapping(value: object, where: str, keys: set[str] | None = None) -> dict:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: expected a mapping")
    if keys is not None and set(value) != keys:
        raise ConfigError(f"{where}: expected exactly the keys {', '.join(sorted(keys))}")
    return value


def _messages(value: object, where: str) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a list of messages")
    return tuple(_message(entry, f"{where}[{i}]") for i, entry in enumerate(value))


def _message(entry: object, where: str) -> Message:
    if not isinstance(entry, dict) or not set(entry) <= {"component", "pid", "message"}:
        raise ConfigError(f"{where}: expected a mapping of component, message and pid")
    component, text, pid = entry.get("component"), entry.get("message"), entry.get("pid", False)
    if not isinstance(component, str) or not component or not isinstance(text, str) or not text:
        raise ConfigError(f"{where}: needs a component and a message")
    try:
        unknown = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None} - FIELDS
    except ValueError as exc:
        raise ConfigError(f"{where}: message: {exc}") from None
    if unknown:
        raise ConfigError(f"{where}: message fills {sorted(unknown)}; known: {sorted(FIELDS)}")
    if isinstance(pid, bool):
        return Message(component, text, has_pid=pid)
    if isinstance(pid, int) and pid >= 0:
        return Message(component, text, pid=pid)
    raise ConfigError(f"{where}: pid is true, false or a fixed pid, not {pid!r}")


@dataclass(frozen=True)
class Incident:
    id: str
    failure_type: FailureType
    host: str
    start: float
    end: float
    lines: int


@dataclass(frozen=True)
class SimLine:
    at: float  # seconds from the start of the scenario
    source: str
    line: str
    incident: str = ""


def _fill(template: str, rnd: random.Random) -> str:
    return template.format(
        a=rnd.randrange(0, 4), b=rnd.randrange(2, 250), n=rnd.randrange(100, 99_999), port=rnd.randrange(1024, 65535),
        pid=rnd.randrange(300, 32_000), hexid=f"{rnd.getrandbits(40):010x}", sector=rnd.randrange(10**6, 10**9),
        temp=rnd.randrange(91, 105), user=rnd.choice(USERS),
    )


def _pid(m: Message, rnd: random.Random, below: int) -> int | None:
    """The pid a noise line is logged with: the message's fixed one, a fresh one, or none."""
    if m.pid is not None:
        return m.pid
    return rnd.randrange(300, below) if m.has_pid else None


def syslog(at: datetime, host: str, component: str, pid: int | None, message: str) -> str:
    head = f"{component}[{pid}]" if pid is not None else component
    return f"{at.strftime('%b %e %H:%M:%S')} {host} {head}: {message}"


class Scenario:
    """`duration` seconds of traffic at `rate` lines/s with `incidents` spread over the run."""

    def __init__(self, *, duration: float = 120, rate: float = 100, incidents: int = 10, seed: int = 7,
                 start: datetime | None = None, with_mac_windows: bool = True) -> None:
        self.duration, self.rate, self.seed = duration, rate, seed
        self.start = start or datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
        self.with_mac_windows = with_mac_windows
        self.tables = shipped_tables()
        rnd = random.Random(seed)
        kinds = list(self.tables.incidents)
        rnd.shuffle(kinds)
        slots = max(1, incidents)
        self.incidents = [
            Incident(
                id=f"inc-{i + 1:02d}", failure_type=kinds[i % len(kinds)], host=LINUX_HOSTS[i % len(LINUX_HOSTS)],
                start=duration * 0.8 * i / slots + rnd.uniform(0, 3), end=0, lines=rnd.randrange(6, 14),
            )
            for i in range(incidents)
        ]
        self.incidents = [
            Incident(x.id, x.failure_type, x.host, x.start, x.start + rnd.uniform(5, 12), x.lines)
            for x in self.incidents
        ]

    def lines(self) -> Iterator[SimLine]:
        """Every line of the scenario in time order (deterministic for the seed)."""
        rnd = random.Random(self.seed + 1)
        out: list[SimLine] = []
        n = int(self.duration * self.rate)
        for i in range(n):
            out.append(self._noise(i * self.duration / n, rnd))
        for inc in self.incidents:
            messages = self.tables.incidents[inc.failure_type]
            pids = {m.component: rnd.randrange(300, 32_000) for m in messages}
            for k in range(inc.lines):
                m = rnd.choice(messages)
                pid = m.pid if m.pid is not None else pids[m.component] if m.has_pid else None
                at = inc.start + (inc.end - inc.start) * k / inc.lines
                line = syslog(self._clock(at), inc.host, m.component, pid, _fill(m.text, rnd))
                out.append(SimLine(at, f"sim:linux:{inc.host}", line, inc.id))
        out.sort(key=lambda x: x.at)
        return iter(out)

    def _noise(self, at: float, rnd: random.Random) -> SimLine:
        pick = rnd.random()
        if self.with_mac_windows and pick < 0.05:
            m = rnd.choice(self.tables.macos)
            host = MAC_HOSTS[0]
            line = syslog(self._clock(at), host, m.component, _pid(m, rnd, 9000), _fill(m.text, rnd))
            return SimLine(at, f"sim:macos:{host}", line)
        if self.with_mac_windows and pick < 0.10:
            m = rnd.choice(self.tables.windows)
            ts = self._clock(at).strftime("%Y-%m-%d %H:%M:%S")
            line = f"{ts}, Info                  {m.component}    {_fill(m.text, rnd)}"
            return SimLine(at, f"sim:windows:{WIN_HOSTS[0]}", line)
        m = rnd.choice(self.tables.linux)
        host = rnd.choice(LINUX_HOSTS)
        line = syslog(self._clock(at), host, m.component, _pid(m, rnd, 32_000), _fill(m.text, rnd))
        return SimLine(at, f"sim:linux:{host}", line)

    def _clock(self, at: float) -> datetime:
        return datetime.fromtimestamp(self.start.timestamp() + at, tz=UTC)


# How the simulated sources are configured (SOURCE_FORMATS), as a user would configure them.
SOURCE_FORMATS = {"sim:linux:*": "linux", "sim:macos:*": "macos", "sim:windows:*": "windows"}
