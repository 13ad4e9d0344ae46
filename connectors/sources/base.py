"""What every producer shares: the source's configuration, an emitter that writes lines to `logs`
together with the new cursor (one Redis transaction: a crash can neither lose nor repeat a batch),
a status the API shows, and a poll loop with timeouts, backoff and rate-limit waits.

A producer implements `poll(cursor) -> Batch`: fetch what is new since `cursor` (a string it
chose), and return the lines plus the cursor to store once they are written.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from mode import Service
from redis.exceptions import RedisError

from connectors.lease import FencedScript, Lease
from streamapp.errors import AuthFailed, ConfigError, ExternalAPIError, RateLimited, TransientError
from streamapp.settings import Settings

log = logging.getLogger(__name__)
PAUSED_CHECK_SEC = 1.0  # a paused producer resumes within this of its toggle turning on


@dataclass(frozen=True)
class SourceConfig:
    """One row of `data_source` as a producer sees it (secrets merged in, never logged)."""

    id: str
    name: str
    type: str
    config: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        """The `source` field of its lines on `logs` (e.g. `datadog:web`)."""
        return f"{self.type}:{self.name}"


@dataclass
class Batch:
    lines: list[str]
    cursor: str | None  # None: keep the stored cursor
    source: str | None = None  # per-batch override of the `source` field
    format: str | None = None  # the source's line format, published with the lines (consumers parse by it)


@dataclass
class Status:
    """What `GET /sources/{id}/status` shows."""

    state: str = "starting"  # starting | running | paused | backoff | stopped | failed
    paused: str = ""  # why it is paused (a runtime toggle is off), while it is
    last_success: float | None = None
    last_error: str = ""
    last_error_at: float | None = None
    lines: int = 0
    bytes: int = 0
    restarts: int = 0
    format: str = ""  # how the consumers parse its lines (when the producer decides it)
    format_from: str = ""  # why that format: configured, inferred from what, or the default

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# KEYS: logs, cursor, formats. ARGV: source, source id, whether to set the cursor ('1'), the cursor,
# the format ('' = none), the cap of `logs` (MAXLEN ~), then the lines.
_EMIT = """
for i = 8, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'source', ARGV[2], 'line', ARGV[i], 'source_id', ARGV[3])
end
if ARGV[4] == '1' then redis.call('SET', KEYS[3], ARGV[5]) end
if ARGV[6] ~= '' and #ARGV >= 8 then redis.call('HSET', KEYS[4], ARGV[3], ARGV[6]) end
return #ARGV - 7
"""


class Emitter:
    """Writes a producer's batch to `logs` with its cursor, atomically (one script); with the producer
    manager's `lease`, only while the manager holds it (a manager that stalled past its lease neither
    adds lines another manager's producer already added nor moves the cursor back)."""

    def __init__(self, client: aioredis.Redis, settings: Settings, source: SourceConfig,
                 lease: Lease | None = None) -> None:
        self.client, self.settings, self.source = client, settings, source
        # A source's lines all go to one stream (its ingest shard), so they keep their order.
        self.stream = settings.logs_key(settings.logs_shard_of(source.id))
        self.cursor_key = settings.redis_key(f"source:{source.id}:cursor")
        self.formats_key = settings.redis_key("sources:formats")
        self._emit = FencedScript(client, _EMIT, lease)

    async def cursor(self) -> str | None:
        raw = await self.client.get(self.cursor_key)
        return raw.decode() if raw is not None else None

    async def emit(self, batch: Batch) -> int:
        """Lines and cursor in one atomic step (the format is published before any consumer reads
        these lines); returns the bytes written."""
        await self._emit(
            [self.stream, self.cursor_key, self.formats_key],
            [batch.source or self.source.source, self.source.id, "1" if batch.cursor is not None else "0",
             batch.cursor or "", batch.format or "", self.settings.logs_maxlen, *batch.lines],
        )
        return sum(map(len, batch.lines))


class Producer(Service):
    """Polls one source forever: `poll` errors go to the status and back off (rate limits wait the
    time the system asked for); the manager decides about restarts and stops."""

    type: ClassVar[str]
    # Config keys that are secrets: stored apart from `config`, never returned by the API or logged.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # How the consumer parses this source's lines unless its config names a `format`.
    default_format: ClassVar[str] = "linux"
    interval_sec: float = 30.0
    max_backoff_sec: float = 300.0

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The config with defaults filled in, or ConfigError naming the failing field (the admin
        API answers 422 with it). Secrets are validated separately and never echoed."""
        return dict(config)

    @classmethod
    def check(cls, config: dict[str, Any], settings: Settings) -> None:
        """The deployment's policy on a validated config (folders a file tail may read, addresses
        a poller may reach): ConfigError naming the field. Asked by the admin API and the manager
        (in a thread: a host name is resolved)."""
        denied = settings.source_deny_networks
        for key in ("base_url", "url", "host"):
            if denied and isinstance(config.get(key), str) and config[key]:
                host = urlsplit(config[key]).hostname if "://" in config[key] else config[key]
                if bad := denied_address(host or "", denied):
                    raise ConfigError(f"{key}: {host} ({bad}) is in SOURCE_DENY_NETWORKS")

    def __init__(self, source: SourceConfig, emitter: Emitter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.emitter = emitter
        self.status = Status()
        self.interval_sec = float(source.config.get("interval_sec", self.interval_sec))

    async def poll(self, cursor: str | None) -> Batch:  # pragma: no cover - each producer implements it
        raise NotImplementedError

    def format(self) -> str | None:
        """How consumers parse this source's lines: its configured `format`, else its type's
        default; None while the producer has not decided yet."""
        return self.source.config.get("format") or self.default_format

    async def paused(self) -> str:
        """Why this producer must not poll now ("" = it may); asked before every poll."""
        return ""

    async def poll_once(self) -> int:
        """One poll and emit; returns the lines emitted (the unit tests' entry point)."""
        batch = await self.poll(await self.emitter.cursor())
        self.status.bytes += await self.emitter.emit(batch)
        self.status.lines += len(batch.lines)
        self.status.last_success = time.time()
        self.status.state = "running"
        return len(batch.lines)

    @Service.task
    async def _run(self) -> None:
        delay = 1.0
        while not self.should_stop:
            wait = self.interval_sec
            try:
                if reason := await self.paused():
                    if self.status.paused != reason:
                        log.info("source %s (%s): paused: %s", self.source.name, self.source.type, reason)
                    self.status.state, self.status.paused = "paused", reason
                    await self.sleep(min(self.interval_sec, PAUSED_CHECK_SEC))
                    continue
                self.status.paused = ""
                await self.poll_once()
                delay = 1.0
            except RateLimited as exc:
                wait = max(exc.retry_after, 1.0)
                self._failed(exc, "backoff")
            except (AuthFailed, ConfigError) as exc:
                self._failed(exc, "failed")  # wrong credentials/config: retrying soon cannot help
                wait = self.max_backoff_sec
            except (TimeoutError, ExternalAPIError, TransientError, RedisError, OSError) as exc:
                self._failed(exc, "backoff")
                wait, delay = delay * (1 + random.random() * 0.25), min(delay * 2, self.max_backoff_sec)
            await self.sleep(wait)

    def _failed(self, exc: BaseException, state: str) -> None:
        self.status.state = state
        self.status.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.status.last_error_at = time.time()
        log.warning("source %s (%s): %s", self.source.name, self.source.type, self.status.last_error)


def require(config: dict[str, Any], keys: Sequence[str], where: str) -> None:
    """Fail with the first missing config key named."""
    for key in keys:
        if config.get(key) in (None, ""):
            raise ConfigError(f"{where}: missing {key!r}")


def denied_address(host: str, denied: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The first address of `host` (a literal, or what the name resolves to now) inside `denied`."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(info[4][0]) for info in socket.getaddrinfo(host, None)]
        except (OSError, ValueError):
            return ""  # unresolvable now: the poller will fail on its own
    return next((str(a) for a in addresses if any(a in n for n in denied)), "")
