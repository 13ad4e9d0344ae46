"""Writes the held-out detection corpus (`tests/data/heldout/`): logs of nine kinds of systems that are not
among the Loghub-2k twelve, each line labelled as an on-call engineer would, deterministically from `SEED`.

The messages are written from knowledge of how the real software logs (its header format, wording and
rhythm); values (addresses, ids, sizes, timings) are drawn from a seeded generator. Most systems carry
routine traffic with one or two incidents, misleading routine lines (ERROR-level chatter that is
harmless, INFO-level lines that reveal a real failure) and one system (`journal`) has no incident.
Every message kind carries its label (`Kind`, declared per system in `heldout_kinds.yml` beside this file);
a continuation line (stack frame, autovacuum detail) takes the label of the record it continues. Written
blind to the classifier: see the corpus README.

    .venv/bin/python bench/heldout_corpus.py [--out DIR]

Writes `<system>.log`, `<system>.labels.csv` (`line,alert,failure_type,severity,note`) and `formats.json`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from streamapp.taxonomy import FailureType as F
from streamapp.taxonomy import Severity as S

SEED = 20240312
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "heldout"
LABEL_HEADER = ["line", "alert", "failure_type", "severity", "note"]


@dataclass(frozen=True)
class Kind:
    """How an on-call engineer reads one kind of message in its context."""

    failure_type: F
    severity: S
    note: str

    @property
    def alert(self) -> bool:
        return self.failure_type is not F.BENIGN and self.severity.rank >= S.ERROR.rank


def load_kinds(path: Path) -> dict[str, dict[str, Kind]]:
    """system -> kind name -> its label, from `heldout_kinds.yml`; anything off is an error naming the entry."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: expected a mapping of systems")
    out: dict[str, dict[str, Kind]] = {}
    for system, kinds in doc.items():
        if not isinstance(kinds, dict):
            raise ValueError(f"{path.name}: {system}: expected a mapping of kinds")
        out[system] = {}
        for name, entry in kinds.items():
            if not isinstance(entry, dict) or set(entry) != {"failure_type", "severity", "note"}:
                raise ValueError(f"{path.name}: {system}.{name}: needs exactly failure_type, severity and note")
            if not isinstance(entry["note"], str) or not entry["note"].strip():
                raise ValueError(f"{path.name}: {system}.{name}: the note is empty")
            try:
                out[system][name] = Kind(F(entry["failure_type"]), S(entry["severity"]), entry["note"])
            except ValueError as exc:
                raise ValueError(f"{path.name}: {system}.{name}: {exc}") from None
    return out


KINDS = load_kinds(Path(__file__).with_name("heldout_kinds.yml"))


class Log:
    """One system's lines in time order; `header(t, **fields)` renders the header of a record."""

    def __init__(self, rng: random.Random, start: datetime, hours: float, header: Callable[..., str],
                 finish: Callable[[str], str] | None = None) -> None:
        self.rng, self.start, self.hours, self.header = rng, start, hours, header
        self.finish = finish  # called on each line in time order (sequence numbers a device assigns)
        self.entries: list[tuple[datetime, int, str, Kind]] = []

    def add(self, t: datetime, kind: Kind, message: str, **fields: object) -> None:
        """A record; lines after the first of `message` are continuation lines without a header."""
        first, *rest = message.split("\n")
        self.entries.append((t, len(self.entries), self.header(t, **fields) + first, kind))
        self.entries += [(t, len(self.entries) + i, line, kind) for i, line in enumerate(rest)]

    def at(self, hour: float, jitter_s: float = 1.0) -> datetime:
        return self.start + timedelta(seconds=hour * 3600 + self.rng.uniform(0, jitter_s))

    def spread(self, n: int, a: float = 0.0, b: float | None = None) -> list[datetime]:
        """`n` sorted random times between hours `a` and `b` of the span."""
        lo, hi = a * 3600, (self.hours if b is None else b) * 3600
        return sorted(self.start + timedelta(seconds=self.rng.uniform(lo, hi)) for _ in range(n))

    def every(self, period_s: float, jitter_s: float = 0.0, a: float = 0.0, b: float | None = None) -> Iterator[datetime]:
        t, end = a * 3600, (self.hours if b is None else b) * 3600
        while t < end:
            yield self.start + timedelta(seconds=t + self.rng.uniform(0, jitter_s))
            t += period_s

    def lines(self) -> list[tuple[str, Kind]]:
        ordered = [(text, kind) for _, _, text, kind in sorted(self.entries, key=lambda e: (e[0], e[1]))]
        return ordered if self.finish is None else [(self.finish(text), kind) for text, kind in ordered]


def after(t: datetime, seconds: float) -> datetime:
    return t + timedelta(seconds=seconds)


def public_ip(rng: random.Random) -> str:
    first = rng.choice([31, 37, 45, 62, 77, 81, 89, 91, 103, 109, 141, 176, 179, 185, 193, 194, 212, 213])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def hexs(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def mac(rng: random.Random) -> str:
    h = hexs(rng, 12)
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


# ---------------------------------------------------------------- nginx error log (reverse proxy)

NGINX_FORMAT = r"<Date> <Time> \[<Level>\] <Pid>#<Tid>: <Content>"
NG = KINDS["nginx"]


def nginx(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 6, 0, 0), 10.0,
              lambda t, level, pid: f"{t:%Y/%m/%d %H:%M:%S} [{level}] {pid}#{pid}: ")
    reloads = [log.at(0.42, 60), log.at(5.03, 60)]  # logrotate's USR1 (same workers), a deploy's HUP (new workers)
    pids = [[2314, 2315, 2316, 2317], [2314, 2315, 2316, 2317], [51207, 51208, 51209, 51210]]
    segfaults = [(log.at(6.62, 30), 51208, 51290), (log.at(6.88, 30), 51209, 51291)]

    def worker(t: datetime) -> int:
        alive = list(pids[sum(t > r for r in reloads)])
        for when, dead, new in segfaults:
            if t > when:
                alive[alive.index(dead)] = new
        return rng.choice(alive)

    def conn(t: datetime) -> int:
        return 48213 + int((t - log.start).total_seconds() * 37) + rng.randrange(30)

    hosts = ["www.example.com", "api.example.com", "static.example.com"]
    api_paths = ["/api/v2/orders", "/api/v2/cart", "/api/v2/orders/{}/items", "/api/v2/session", "/api/v2/products?page={}"]

    def api(t: datetime) -> str:
        return rng.choice(api_paths).format(rng.randrange(1, 90000))

    def ctx(t: datetime, host: str, request: str) -> str:
        return f'client: {public_ip(rng)}, server: {host}, request: "{request}", host: "{host}"'

    def add(t: datetime, kind: Kind, level: str, text: str, pid: int | None = None) -> None:
        log.add(t, kind, text, level=level, pid=worker(t) if pid is None else pid)

    scan = ["/wp-login.php", "/phpmyadmin/index.php", "/admin/config.php", "/cgi-bin/luci",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/favicon.ico", "/apple-touch-icon.png",
            "/xmlrpc.php", "/boaform/admin/formLogin", "/solr/admin/info/system"]
    for t in log.spread(64):
        path = rng.choice(scan)
        root = "/usr/share/nginx/html" if path.startswith("/fav") or path.startswith("/apple") else "/var/www/site"
        add(t, NG["scan"], "error", f'*{conn(t)} open() "{root}{path}" failed (2: No such file or directory), '
            + ctx(t, "www.example.com", f"GET {path} HTTP/1.1"))
    for t in log.spread(26):
        path = rng.choice(["/.env", "/.git/config", "/server-status", "/.aws/credentials", "/.DS_Store"])
        add(t, NG["forbid"], "error", f"*{conn(t)} access forbidden by rule, " + ctx(t, rng.choice(hosts), f"GET {path} HTTP/1.1"))
    for t in log.spread(118):
        add(t, NG["client"], "info", f"*{conn(t)} client {public_ip(rng)} closed keepalive connection")
    for t in log.spread(41):
        add(t, NG["client"], "info", f"*{conn(t)} client timed out (110: Connection timed out) while waiting for request, "
            f"client: {public_ip(rng)}, server: 0.0.0.0:443")
    for t in log.spread(32):
        add(t, NG["client"], "info", f"*{conn(t)} SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof while "
            f"reading) while waiting for request, client: {public_ip(rng)}, server: 0.0.0.0:443")
    for t in log.spread(17):
        add(t, NG["client"], "info", f"*{conn(t)} recv() failed (104: Connection reset by peer) while reading client "
            f"request line, client: {public_ip(rng)}, server: 0.0.0.0:443")
    for t in log.spread(15):
        add(t, NG["tls_crit"], "crit", f"*{conn(t)} SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key "
            f"share) while SSL handshaking, client: {public_ip(rng)}, server: 0.0.0.0:443")
    for t in log.spread(7):
        add(t, NG["body"], "error", f"*{conn(t)} client intended to send too large body: {rng.randrange(11, 60) * 1048576} "
            "bytes, " + ctx(t, "api.example.com", "POST /api/v2/uploads HTTP/2.0"))
    for t in log.spread(21):
        tmp = f"/var/cache/nginx/proxy_temp/{rng.randrange(10)}/{rng.randrange(10, 99)}/00000{rng.randrange(10000, 99999)}"
        add(t, NG["buffer"], "warn", f"*{conn(t)} an upstream response is buffered to a temporary file {tmp} while reading "
            f'upstream, {ctx(t, "api.example.com", "GET /api/v2/export?format=csv HTTP/2.0")}, '
            f'upstream: "http://10.0.4.{rng.randrange(21, 24)}:8080/api/v2/export?format=csv"')
    for t in log.spread(14):
        add(t, NG["buffer"], "warn", f"*{conn(t)} a client request body is buffered to a temporary file "
            f"/var/cache/nginx/client_temp/00000{rng.randrange(10000, 99999)}, "
            + ctx(t, "api.example.com", "POST /api/v2/uploads HTTP/2.0"))
    for t in log.spread(24):
        add(t, NG["limit"], "error", f'*{conn(t)} limiting requests, excess: {rng.uniform(10, 30):.3f} by zone "api_limit", '
            + ctx(t, "api.example.com", f"GET {api(t)} HTTP/2.0"))
    for t in log.spread(11):
        add(t, NG["limit"], "warn", f'*{conn(t)} delaying request, excess: {rng.uniform(0.1, 9.9):.3f}, by zone "api_limit", '
            + ctx(t, "api.example.com", f"GET {api(t)} HTTP/2.0"))
    for t in log.spread(3):
        path = api(t)
        add(t, NG["up_blip"], "error", f"*{conn(t)} upstream prematurely closed connection while reading response header "
            f'from upstream, {ctx(t, "api.example.com", f"GET {path} HTTP/2.0")}, '
            f'upstream: "http://10.0.4.{rng.randrange(21, 24)}:8080{path}"')
    # logrotate's USR1 at 06:25, a certificate deploy's HUP at 11:02
    for i, (t, sig) in enumerate(zip(reloads, ("10 (SIGUSR1)", "1 (SIGHUP)"), strict=True)):
        add(t, NG["reload"], "notice", f"signal {sig} received from {rng.randrange(30000, 60000)}, "
            + ("reopening logs" if i == 0 else "reconfiguring"), pid=1)
        if i == 0:
            add(after(t, 0.001), NG["reload"], "notice", "reopening logs", pid=1)
            for p in pids[0]:
                add(after(t, 0.002), NG["reload"], "notice", "reopening logs", pid=p)
            continue
        add(after(t, 0.003), NG["reload"], "notice", 'using the "epoll" event method', pid=1)
        add(after(t, 0.004), NG["stapling"], "warn", '"ssl_stapling" ignored, issuer certificate not found for certificate '
            '"/etc/nginx/certs/legacy.example.com.pem"', pid=1)
        add(after(t, 0.005), NG["reload"], "notice", "start worker processes", pid=1)
        for p in pids[2]:
            add(after(t, 0.006), NG["reload"], "notice", f"start worker process {p}", pid=1)
        for k, p in enumerate(pids[1]):
            add(after(t, 0.2 + k * 0.01), NG["reload"], "notice", "gracefully shutting down", pid=p)
            add(after(t, 1.5 + k), NG["reload"], "notice", "exiting", pid=p)
            add(after(t, 1.5 + k + 0.001), NG["reload"], "notice", "exit", pid=p)
            add(after(t, 1.5 + k + 0.002), NG["reload"], "notice", f"signal 17 (SIGCHLD) received from {p}", pid=1)
            add(after(t, 1.5 + k + 0.003), NG["reload"], "notice", f"worker process {p} exited with code 0", pid=1)
    # The application pool fails after a bad deploy (09:41-09:48): refused, marked down, none left, timeouts.
    t0 = log.at(3.685)
    for t in [after(t0, s) for s in sorted(rng.uniform(0, 440) for _ in range(92))]:
        into = (t - t0).total_seconds()
        backend = f"10.0.4.{rng.randrange(21, 24)}:8080"
        path = api(t)
        where = f'{ctx(t, "api.example.com", f"GET {path} HTTP/2.0")}'
        if into < 25 or rng.random() < 0.2:
            add(t, NG["refused"], "error", f"*{conn(t)} connect() failed (111: Connection refused) while connecting to "
                f'upstream, {where}, upstream: "http://{backend}{path}"')
            if rng.random() < 0.45:
                add(after(t, 0.001), NG["disabled"], "warn", f"*{conn(t)} upstream server temporarily disabled while "
                    f'connecting to upstream, {where}, upstream: "http://{backend}{path}"')
        elif into > 330 and rng.random() < 0.6:
            add(t, NG["timeout"], "error", f"*{conn(t)} upstream timed out (110: Connection timed out) while reading "
                f'response header from upstream, {where}, upstream: "http://{backend}{path}"')
        else:
            add(t, NG["no_live"], "error", f"*{conn(t)} no live upstreams while connecting to upstream, {where}, "
                f'upstream: "http://app_backend{path}"')
    # Two worker segfaults (a third-party module), each respawned by the master.
    for t, dead, new in segfaults:
        add(t, NG["segv"], "alert", f"worker process {dead} exited on signal 11 (core dumped)", pid=1)
        add(after(t, 0.001), NG["reload"], "notice", f"start worker process {new}", pid=1)
    return log


# ---------------------------------------------------------------- PostgreSQL 15 server log (primary)

PG_FORMAT = r"<Date> <Time> <Tz> \[<Pid>\] (<User>@<Db> )?<Level>:  <Content>"
PG = KINDS["postgresql"]

PG_QUERIES = [
    "SELECT o.id, o.status, o.total FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 50",
    "SELECT date_trunc('day', created_at) AS day, sum(total) FROM orders WHERE created_at >= $1 GROUP BY 1 ORDER BY 1",
    "UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2",
    "SELECT p.sku, p.name, i.available FROM products p JOIN inventory i USING (sku) WHERE p.category_id = $1",
    "INSERT INTO order_events (order_id, kind, payload, created_at) VALUES ($1, $2, $3, now())",
]
PG_TABLES = ["order_events", "orders", "order_items", "inventory", "sessions", "products", "payments"]


def postgresql(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 0, 0, 0), 12.0,
              lambda t, pid, level, who="": f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} UTC [{pid}] {who}{level}:  ")
    post = 1180
    crash_at, down_until = log.at(3.0187), log.at(3.317)

    def up(t: datetime, until: datetime | None = None) -> bool:
        """The server runs at `t` (and, with `until`, without a crash in between)."""
        ok_t = not crash_at - timedelta(seconds=5) <= t <= down_until + timedelta(seconds=60)
        return ok_t if until is None else ok_t and up(until) and (t < crash_at) == (until < crash_at)

    def backend() -> int:
        return rng.randrange(20000, 60000)

    def checkpointer(t: datetime) -> int:
        return 1184 if t < crash_at else 33020

    for t in log.every(900, 20):
        written = rng.randrange(300, 9000)
        took = rng.uniform(120, 270)
        if not up(t, after(t, took)):
            continue
        log.add(t, PG["ckpt"], "checkpoint starting: time", pid=checkpointer(t), level="LOG")
        log.add(after(t, took), PG["ckpt"], f"checkpoint complete: wrote {written} buffers ({written / 1310.72:.1f}%); 0 WAL "
                f"file(s) added, 0 removed, {rng.randrange(0, 6)} recycled; write={took - 0.05:.3f} s, sync=0.0{rng.randrange(10, 99)}"
                f" s, total={took:.3f} s; sync files={rng.randrange(40, 200)}, longest=0.00{rng.randrange(1, 9)} s, average=0.001 s; "
                f"distance={rng.randrange(9000, 90000)} kB, estimate={rng.randrange(40000, 90000)} kB", pid=checkpointer(t),
                level="LOG")
    # the nightly load (02:00-03:00) makes WAL fast: checkpoints triggered by WAL, and the tuning hint
    for t in log.spread(7, 2.02, 3.0):
        log.add(t, PG["ckpt_fast"], f"checkpoints are occurring too frequently ({rng.randrange(14, 29)} seconds apart)",
                pid=1184, level="LOG")
        log.add(t, PG["ckpt_fast"], 'Consider increasing the configuration parameter "max_wal_size".', pid=1184, level="HINT")
        log.add(after(t, 0.001), PG["ckpt"], "checkpoint starting: wal", pid=1184, level="LOG")
    for t in log.spread(44):
        if not up(t):
            continue
        pid, ip, port = backend(), f"10.0.5.{rng.randrange(10, 60)}", rng.randrange(32768, 61000)
        user, db, app = rng.choice([("app", "shop", "orders-api"), ("app", "shop", "billing-worker"),
                                    ("reporting", "analytics", "metabase"), ("etl", "analytics", "airflow")])
        log.add(t, PG["conn"], f"connection received: host={ip} port={port}", pid=pid, level="LOG", who="[unknown]@[unknown] ")
        log.add(after(t, 0.004), PG["conn"], f"connection authenticated: identity=\"{user}\" method=scram-sha-256 "
                "(/etc/postgresql/15/main/pg_hba.conf:103)", pid=pid, level="LOG", who=f"{user}@{db} ")
        log.add(after(t, 0.005), PG["conn"], f"connection authorized: user={user} database={db} application_name={app} "
                "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", pid=pid, level="LOG", who=f"{user}@{db} ")
        span = rng.uniform(2, 2400)
        if up(t, after(t, span)):
            log.add(after(t, span), PG["conn"], f"disconnection: session time: {int(span // 3600)}:{int(span % 3600 // 60):02d}:"
                    f"{span % 60:06.3f} user={user} database={db} host={ip} port={port}", pid=pid, level="LOG",
                    who=f"{user}@{db} ")
    for t in log.spread(16):
        if not up(t):
            continue
        table = rng.choice(PG_TABLES)
        pages, scanned = rng.randrange(2000, 200000), rng.randrange(100, 9000)
        if rng.random() < 0.35:
            log.add(t, PG["vacuum"], f'automatic analyze of table "shop.public.{table}"\n'
                    f"\tavg read rate: {rng.uniform(1, 40):.3f} MB/s, avg write rate: 0.000 MB/s\n"
                    f"\tbuffer usage: {rng.randrange(900, 9000)} hits, {rng.randrange(10, 2000)} misses, 0 dirtied\n"
                    f"\tsystem usage: CPU: user: {rng.uniform(0.01, 0.9):.2f} s, system: 0.0{rng.randrange(1, 9)} s, "
                    f"elapsed: {rng.uniform(0.3, 3):.2f} s", pid=backend(), level="LOG")
            continue
        dead = rng.randrange(1000, 90000)
        log.add(t, PG["vacuum"], f'automatic vacuum of table "shop.public.{table}": index scans: 1\n'
                f"\tpages: 0 removed, {pages} remain, {scanned} scanned ({100 * scanned / pages:.2f}% of total)\n"
                f"\ttuples: {dead} removed, {rng.randrange(100000, 9000000)} remain, 0 are dead but not yet removable\n"
                f"\tremovable cutoff: {rng.randrange(48000000, 49000000)}, which was {rng.randrange(1, 40)} XIDs old when "
                "operation ended\n"
                f"\tindex scan needed: {scanned // 2} pages from table ({50 * scanned / pages:.2f}% of total) had {dead} dead "
                "item identifiers removed\n"
                f'\tindex "{table}_pkey": pages: {pages // 6} in total, 0 newly deleted, 0 currently deleted, 0 reusable\n'
                f"\tavg read rate: {rng.uniform(1, 40):.3f} MB/s, avg write rate: {rng.uniform(1, 9):.3f} MB/s\n"
                f"\tbuffer usage: {rng.randrange(900, 20000)} hits, {rng.randrange(10, 4000)} misses, {rng.randrange(10, 900)} "
                "dirtied\n"
                f"\tWAL usage: {rng.randrange(900, 9000)} records, {rng.randrange(10, 900)} full page images, "
                f"{rng.randrange(100000, 9000000)} bytes\n"
                f"\tsystem usage: CPU: user: {rng.uniform(0.01, 0.9):.2f} s, system: 0.0{rng.randrange(1, 9)} s, "
                f"elapsed: {rng.uniform(0.3, 9):.2f} s", pid=backend(), level="LOG")
    for t in log.spread(27):
        if up(t):
            log.add(t, PG["slow"], f"duration: {rng.uniform(1000, 9000):.3f} ms  execute <unnamed>: {rng.choice(PG_QUERIES)}",
                    pid=backend(), level="LOG", who=rng.choice(["app@shop ", "reporting@analytics "]))
    for t in log.spread(12):
        if not up(t):
            continue
        pid, key = backend(), hexs(rng, 32)
        log.add(t, PG["dup"], 'duplicate key value violates unique constraint "orders_idempotency_key_key"', pid=pid,
                level="ERROR", who="app@shop ")
        log.add(t, PG["dup"], f"Key (idempotency_key)=({key}) already exists.", pid=pid, level="DETAIL", who="app@shop ")
        log.add(t, PG["dup"], "INSERT INTO orders (idempotency_key, customer_id, total, status) VALUES ($1, $2, $3, 'new')",
                pid=pid, level="STATEMENT", who="app@shop ")
    for t in log.spread(5):
        if up(t):
            pid = backend()
            log.add(t, PG["timeout"], "canceling statement due to statement timeout", pid=pid, level="ERROR", who="app@shop ")
            log.add(t, PG["timeout"], rng.choice(PG_QUERIES[:2]), pid=pid, level="STATEMENT", who="app@shop ")
    for t in log.spread(2, 4, 12):
        pid, other, tx1, tx2 = backend(), backend(), rng.randrange(48000000, 49000000), rng.randrange(48000000, 49000000)
        for level, text in [
            ("ERROR", "deadlock detected"),
            ("DETAIL", f"Process {pid} waits for ShareLock on transaction {tx1}; blocked by process {other}.\n"
                       f"\tProcess {other} waits for ShareLock on transaction {tx2}; blocked by process {pid}.\n"
                       f"\tProcess {pid}: {PG_QUERIES[2]}\n\tProcess {other}: {PG_QUERIES[2]}"),
            ("HINT", "See server log for query details."),
            ("CONTEXT", f'while updating tuple ({rng.randrange(100, 9000)},{rng.randrange(1, 40)}) in relation "inventory"'),
            ("STATEMENT", PG_QUERIES[2]),
        ]:
            log.add(t, PG["deadlock"], text, pid=pid, level=level, who="app@shop ")
    for t in log.spread(6, 6, 12):
        pid = backend()
        log.add(t, PG["auth"], 'password authentication failed for user "reporting"', pid=pid, level="FATAL",
                who="reporting@analytics ")
        log.add(t, PG["auth"], 'Connection matched pg_hba.conf line 103: "host    analytics    reporting    10.0.0.0/8    '
                'scram-sha-256"', pid=pid, level="DETAIL", who="reporting@analytics ")
    for t in log.spread(9):
        if up(t):
            log.add(t, PG["client"], rng.choice(["could not receive data from client: Connection reset by peer",
                                              "unexpected EOF on client connection with an open transaction"]),
                    pid=backend(), level="LOG", who="app@shop ")
    for t in log.spread(8):
        if up(t):
            pid = backend()
            log.add(t, PG["temp"], f'temporary file: path "base/pgsql_tmp/pgsql_tmp{pid}.{rng.randrange(0, 4)}", size '
                    f"{rng.randrange(20, 900) * 1048576}", pid=pid, level="LOG", who="reporting@analytics ")
            log.add(t, PG["temp"], PG_QUERIES[1], pid=pid, level="STATEMENT", who="reporting@analytics ")
    # 02:48 the WAL archive mount goes stale; archiving fails every minute until pg_wal is full at 03:01.
    seg = 0x61
    for t in log.every(60, 3, 2.885, 3.018):
        name = f"00000001000000A3000000{seg:02X}"
        for k in range(3):
            tk = after(t, k * 1.0)
            log.add(tk, PG["archive"], "archive command failed with exit code 1", pid=1187, level="LOG")
            log.add(tk, PG["archive"], f"The failed archive command was: test ! -f /mnt/wal_archive/{name} && cp "
                    f"pg_wal/{name} /mnt/wal_archive/{name}\ncp: cannot create regular file '/mnt/wal_archive/{name}': "
                    "Stale file handle", pid=1187, level="DETAIL")
        log.add(after(t, 2.001), PG["archive"], f'archiving write-ahead log file "{name}" failed too many times, will try '
                "again later", pid=1187, level="WARNING")
    victim, t = 31877, crash_at
    log.add(t, PG["disk"], f'could not write to file "pg_wal/xlogtemp.{victim}": No space left on device', pid=victim,
            level="PANIC", who="app@shop ")
    log.add(t, PG["disk"], PG_QUERIES[4], pid=victim, level="STATEMENT", who="app@shop ")
    log.add(after(t, 0.24), PG["crash"], f"server process (PID {victim}) was terminated by signal 6: Aborted", pid=post, level="LOG")
    log.add(after(t, 0.24), PG["crash"], f"Failed process was running: {PG_QUERIES[4]}", pid=post, level="DETAIL")
    log.add(after(t, 0.25), PG["crash"], "terminating any other active server processes", pid=post, level="LOG")
    for k in range(6):
        pid, who = backend(), rng.choice(["app@shop ", "app@shop ", "etl@analytics "])
        tk = after(t, 0.26 + k * 0.01)
        log.add(tk, PG["crash_session"], "terminating connection because of crash of another server process", pid=pid,
                level="WARNING", who=who)
        log.add(tk, PG["crash_session"], "The postmaster has commanded this server process to roll back the current "
                "transaction and exit, because another server process exited abnormally and possibly corrupted shared "
                "memory.", pid=pid, level="DETAIL", who=who)
        log.add(tk, PG["crash_session"], "In a moment you should be able to reconnect to the database and repeat your "
                "command.", pid=pid, level="HINT", who=who)
    log.add(after(t, 0.6), PG["crash"], "all server processes terminated; reinitializing", pid=post, level="LOG")
    start = 31990
    log.add(after(t, 0.7), PG["crash_after"], "database system was interrupted; last known up at 2024-03-12 02:56:40 UTC",
            pid=start, level="LOG")
    log.add(after(t, 0.8), PG["crash_after"], "database system was not properly shut down; automatic recovery in progress",
            pid=start, level="LOG")
    log.add(after(t, 0.8), PG["start"], "redo starts at A3/7B0001B8", pid=start, level="LOG")
    for k in range(8):
        log.add(after(t, 1 + k * 0.9), PG["crash_session"], "the database system is in recovery mode", pid=backend(),
                level="FATAL", who="app@shop ")
    log.add(after(t, 8.4), PG["start"], "redo done at A3/7FFFF0A8 system usage: CPU: user: 1.21 s, system: 0.88 s, elapsed: "
            "7.41 s", pid=start, level="LOG")
    log.add(after(t, 8.5), PG["start"], "checkpoint starting: end-of-recovery immediate wait", pid=31991, level="LOG")
    log.add(after(t, 8.9), PG["disk"], 'could not write to file "pg_wal/xlogtemp.31991": No space left on device', pid=31991,
            level="PANIC")
    log.add(after(t, 9.1), PG["crash"], "checkpointer process (PID 31991) was terminated by signal 6: Aborted", pid=post,
            level="LOG")
    log.add(after(t, 9.1), PG["crash"], "terminating any other active server processes", pid=post, level="LOG")
    log.add(after(t, 9.2), PG["crash"], "aborting startup due to startup process failure", pid=post, level="LOG")
    log.add(after(t, 9.3), PG["crash"], "database system is shut down", pid=post, level="LOG")
    # 03:19 the volume was grown and the mount fixed; the service is started again.
    t, post, start = down_until, 33012, 33019
    for k, text in enumerate([
        "starting PostgreSQL 15.6 (Debian 15.6-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) "
        "12.2.0, 64-bit",
        'listening on IPv4 address "0.0.0.0", port 5432',
        'listening on IPv6 address "::", port 5432',
        'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
    ]):
        log.add(after(t, k * 0.01), PG["start"], text, pid=post, level="LOG")
    log.add(after(t, 0.1), PG["crash_after"], "database system was interrupted while in recovery at 2024-03-12 03:01:16 UTC",
            pid=start, level="LOG")
    log.add(after(t, 0.1), PG["crash_after"], "This probably means that some data is corrupted and you will have to use the "
            "last backup for recovery.", pid=start, level="HINT")
    log.add(after(t, 0.2), PG["crash_after"], "database system was not properly shut down; automatic recovery in progress",
            pid=start, level="LOG")
    log.add(after(t, 0.2), PG["start"], "redo starts at A3/7B0001B8", pid=start, level="LOG")
    log.add(after(t, 7.9), PG["start"], "redo done at A3/7FFFF0A8 system usage: CPU: user: 1.19 s, system: 0.91 s, elapsed: "
            "7.62 s", pid=start, level="LOG")
    log.add(after(t, 8.0), PG["start"], "checkpoint starting: end-of-recovery immediate wait", pid=33020, level="LOG")
    log.add(after(t, 14.6), PG["start"], "checkpoint complete: wrote 16231 buffers (12.4%); 0 WAL file(s) added, 0 removed, "
            "0 recycled; write=5.802 s, sync=0.611 s, total=6.588 s; sync files=212, longest=0.081 s, average=0.003 s; "
            "distance=589211 kB, estimate=589211 kB", pid=33020, level="LOG")
    log.add(after(t, 14.7), PG["start"], "database system is ready to accept connections", pid=post, level="LOG")
    return log


# ---------------------------------------------------------------- Kafka 3.6 broker server.log (ZooKeeper mode)

KAFKA_FORMAT = r"\[<Date> <Time>\] <Level> <Content>"
KF = KINDS["kafka"]

KF_TOPICS = [("orders", 12), ("payments", 6), ("inventory-events", 8), ("clickstream", 24), ("__consumer_offsets", 50)]
KF_FRAMES_IO = ("\tat org.apache.kafka.clients.NetworkClientUtils.sendAndReceive(NetworkClientUtils.java:99)\n"
                "\tat kafka.server.BrokerBlockingSender.sendRequest(BrokerBlockingSender.scala:113)\n"
                "\tat kafka.server.RemoteLeaderEndPoint.fetch(RemoteLeaderEndPoint.scala:79)\n"
                "\tat kafka.server.AbstractFetcherThread.processFetchRequest(AbstractFetcherThread.scala:316)")


def kafka(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 6, 0, 0), 7.0,
              lambda t, level: f"[{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}] {level} ")

    def partition() -> str:
        topic, n = rng.choice(KF_TOPICS[:4])
        return f"{topic}-{rng.randrange(n)}"

    def offset() -> int:
        return rng.randrange(4000000, 90000000)

    def info(t: datetime, kind: Kind, text: str, level: str = "INFO") -> None:
        log.add(t, kind, text, level=level)

    for t in log.spread(58):
        info(t, KF["log"], f"[LocalLog partition={partition()}, dir=/var/lib/kafka/data] Rolled new log segment at offset "
             f"{offset()} in {rng.randrange(1, 9)} ms. (kafka.log.LocalLog)")
    for t in log.spread(17):
        p, base = partition(), offset()
        seg = f"LogSegment(baseOffset={base}, size={rng.randrange(1073000000, 1073741824)}, lastModifiedTime=" \
              f"{1709540000000 + rng.randrange(10**8)}, largestRecordTimestamp=Some({1709540000000 + rng.randrange(10**8)}))"
        info(t, KF["log"], f"[UnifiedLog partition={p}, dir=/var/lib/kafka/data] Deleting segment {seg} due to retention time "
             "604800000ms breach based on the largest record timestamp in the segment (kafka.log.UnifiedLog)")
        info(after(t, 0.001), KF["log"], f"[LocalLog partition={p}, dir=/var/lib/kafka/data] Deleting segment files {seg} "
             "(kafka.log.LocalLog$)")
        for what, ext in [("log", "log"), ("offset index", "index"), ("time index", "timeindex")]:
            info(after(t, 60.01), KF["log"], f"Deleted {what} /var/lib/kafka/data/{p}/{base:020d}.{ext}.deleted. "
                 "(kafka.log.LogSegment)")
    for t in log.spread(24):
        group, gen = rng.choice(["billing-consumers", "search-indexer", "fraud-scoring", "analytics"]), rng.randrange(90, 400)
        part = f"__consumer_offsets-{rng.randrange(50)}"
        member = f"consumer-{group}-{rng.randrange(1, 9)}-{hexs(rng, 8)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 12)}"
        if rng.random() < 0.35:
            info(after(t, -10), KF["group"], f"[GroupCoordinator 1]: Member {member} in group {group} has failed, removing it "
                 "from the group (kafka.coordinator.group.GroupCoordinator)")
        info(t, KF["group"], f"[GroupCoordinator 1]: Preparing to rebalance group {group} in state PreparingRebalance with "
             f"old generation {gen} ({part}) (reason: Adding new member {member} with group instance id None; client "
             "reason: rebalance failed due to MemberIdRequiredException) (kafka.coordinator.group.GroupCoordinator)")
        n = rng.randrange(2, 9)
        info(after(t, 3.1), KF["group"], f"[GroupCoordinator 1]: Stabilized group {group} generation {gen + 1} ({part}) with "
             f"{n} members (kafka.coordinator.group.GroupCoordinator)")
        info(after(t, 3.2), KF["group"], f"[GroupCoordinator 1]: Assignment received from leader {member} for group {group} "
             f"for generation {gen + 1}. The group has {n} members, 0 of which are static. "
             "(kafka.coordinator.group.GroupCoordinator)")
    for t in log.every(600, 2):
        info(t, KF["group"], f"[GroupMetadataManager brokerId=1] Removed {rng.choice([0, 0, 0, 1, 3])} expired offsets in "
             f"{rng.randrange(0, 3)} milliseconds. (kafka.coordinator.group.GroupMetadataManager)")
    for t in log.every(300, 1):
        info(t, KF["ctrl"], "[Controller id=1] Processing automatic preferred replica leader election "
             "(kafka.controller.KafkaController)")
    for t in log.spread(26):
        info(t, KF["log"], f"[ProducerStateManager partition={partition()}] Wrote producer snapshot at offset {offset()} with "
             f"{rng.randrange(0, 40)} producer ids in {rng.randrange(1, 12)} ms. (kafka.log.ProducerStateManager)")
    for t in log.spread(7):
        dirty = offset()
        mb = rng.uniform(2, 90)
        info(t, KF["log"], "[kafka-log-cleaner-thread-0]: \n"
             f"\tLog cleaner thread 0 cleaned log __consumer_offsets-{rng.randrange(50)} (dirty section = [{dirty}, "
             f"{dirty + rng.randrange(10000, 90000)}])\n"
             f"\t{mb:.1f} MB of log processed in {mb / 40:.1f} seconds ({40 + rng.uniform(-9, 9):.1f} MB/sec).\n"
             f"\tIndexed {mb:.1f} MB in {mb / 120:.1f} seconds ({120 + rng.uniform(-9, 9):.1f} Mb/sec, 33.3% of total time)\n"
             "\tBuffer utilization: 0.1%\n"
             f"\tCleaned {mb:.1f} MB in {mb / 60:.1f} seconds ({60 + rng.uniform(-9, 9):.1f} Mb/sec, 66.7% of total time)\n"
             f"\tStart size: {mb:.1f} MB ({int(mb * 6400):,} messages)\n"
             f"\tEnd size: {mb / 30:.1f} MB ({int(mb * 200):,} messages)\n"
             "\t96.7% size reduction (96.9% fewer messages)\n"
             " (kafka.log.LogCleaner)")
    for t in log.spread(4):
        src = f"10.30.{rng.randrange(1, 9)}.{rng.randrange(2, 250)}"
        info(t, KF["probe"], f"[SocketServer listenerType=ZK_BROKER, nodeId=1] Unexpected error from /{src} (channelId="
             f"10.20.1.11:9092-{src}:{rng.randrange(32768, 61000)}-{rng.randrange(100, 9999)}); closing connection "
             "(org.apache.kafka.common.network.Selector)\n"
             "org.apache.kafka.common.network.InvalidReceiveException: Invalid receive (size = 1195725856 larger than "
             "104857600)\n"
             "\tat org.apache.kafka.common.network.NetworkReceive.readFrom(NetworkReceive.java:94)\n"
             "\tat org.apache.kafka.common.network.KafkaChannel.receive(KafkaChannel.java:452)\n"
             "\tat org.apache.kafka.common.network.KafkaChannel.read(KafkaChannel.java:402)\n"
             "\tat org.apache.kafka.common.network.Selector.attemptRead(Selector.java:674)", level="WARN")
    for t in log.spread(9):
        src = "10.30.7.9"
        info(t, KF["client_auth"], f"[SocketServer listenerType=ZK_BROKER, nodeId=1] Failed authentication with /{src} "
             f"(channelId=10.20.1.11:9093-{src}:{rng.randrange(32768, 61000)}-{rng.randrange(100, 9999)}) (Unexpected "
             "Kafka request of type METADATA during SASL handshake.) (org.apache.kafka.common.network.Selector)")
    # 10:22 broker 3's host dies; the controller (this broker) notices after the ZooKeeper session times out.
    t0 = log.at(4.375)
    lost = sorted({partition() for _ in range(30)})
    led_by_3, led_here = lost[: len(lost) // 2], lost[len(lost) // 2:]
    session = rng.randrange(10**9, 2 * 10**9)
    for fetcher in (0, 1):
        f = f"[ReplicaFetcher replicaId=1, leaderId=3, fetcherId={fetcher}]"
        ts = after(t0, fetcher * 0.2)
        info(ts, KF["peer"], f"{f} Error sending fetch request (sessionId={session + fetcher}, epoch={rng.randrange(10**4, 10**5)})"
             " to node 3: (org.apache.kafka.clients.FetchSessionHandler)\n"
             "java.io.IOException: Connection to 3 was disconnected before the response was read\n" + KF_FRAMES_IO)
        info(after(ts, 0.002), KF["peer"], f"{f} Error in response for fetch request (type=FetchRequest, replicaId=1, "
             f"maxWait=500, minBytes=1, maxBytes=10485760, fetchData={{{led_by_3[fetcher]}=PartitionData(topicId="
             f"{hexs(rng, 22)}, fetchOffset={offset()}, logStartOffset={offset()}, maxBytes=1048576, currentLeaderEpoch="
             f"Optional[18], lastFetchedEpoch=Optional[18])}}, isolationLevel=READ_UNCOMMITTED, removed=, replaced=, "
             f"metadata=(sessionId={session + fetcher}, epoch=INITIAL), rackId=) (kafka.server.ReplicaFetcherThread)\n"
             "java.io.IOException: Connection to 3 was disconnected before the response was read\n" + KF_FRAMES_IO, level="WARN")
        for s in (2.1, 5.3, 8.9, 12.4, 16.2):
            info(after(ts, s + rng.uniform(0, 0.5)), KF["peer"], f"{f} Connection to node 3 (kafka-3.prod.internal/10.20.1.13:9092) "
                 "could not be established. Broker may not be available. (org.apache.kafka.clients.NetworkClient)", level="WARN")
    for s in (1.0, 6.0, 11.0):
        info(after(t0, s), KF["peer"], "[RequestSendThread controllerId=1] Controller 1's connection to broker "
             "kafka-3.prod.internal:9092 (id: 3 rack: null) was unsuccessful (kafka.controller.RequestSendThread)\n"
             "java.io.IOException: Connection to kafka-3.prod.internal:9092 (id: 3 rack: null) failed.\n"
             "\tat org.apache.kafka.clients.NetworkClientUtils.awaitReady(NetworkClientUtils.java:71)\n"
             "\tat kafka.controller.RequestSendThread.brokerReady(ControllerChannelManager.scala:299)\n"
             "\tat kafka.controller.RequestSendThread.doWork(ControllerChannelManager.scala:252)", level="WARN")
    t1 = after(t0, 18.3)
    info(t1, KF["lost"], "[Controller id=1] Newly added brokers: , deleted brokers: 3, bounced brokers: , all live brokers: 1,2 "
         "(kafka.controller.KafkaController)")
    for k, text in enumerate(["[RequestSendThread controllerId=1] Shutting down (kafka.controller.RequestSendThread)",
                              "[RequestSendThread controllerId=1] Stopped (kafka.controller.RequestSendThread)",
                              "[RequestSendThread controllerId=1] Shutdown completed (kafka.controller.RequestSendThread)"]):
        info(after(t1, 0.01 + k * 0.001), KF["ctrl"], text)
    info(after(t1, 0.02), KF["lost"], "[Controller id=1] Broker failure callback for 3 (kafka.controller.KafkaController)")
    info(after(t1, 0.03), KF["failover"], f"[ReplicaFetcherManager on broker 1] Removed fetcher for partitions "
         f"Set({', '.join(led_by_3)}) (kafka.server.ReplicaFetcherManager)")
    for p in led_by_3:
        epoch = rng.randrange(10, 40)
        info(after(t1, 0.05), KF["failover"], f"[Partition {p} broker=1] {p} starts at leader epoch {epoch + 1} from offset "
             f"{offset()} with partition epoch {epoch + 22}, high watermark {offset()}, ISR [1,2], adding replicas [] and "
             f"removing replicas [] . Previous leader epoch was {epoch}. (kafka.cluster.Partition)")
    for p in led_here:
        hw = offset()
        info(after(t1, 11 + rng.uniform(0, 3)), KF["isr"], f"[Partition {p} broker=1] Shrinking ISR from 1,3,2 to 1,2. Leader: "
             f"(highWatermark: {hw}, endOffset: {hw + rng.randrange(10, 400)}). Out of sync replicas: (brokerId: 3, endOffset: "
             f"{hw}). (kafka.cluster.Partition)")
    # 10:58 broker 3 is back
    t2 = log.at(4.97)
    info(t2, KF["back"], "[Controller id=1] Newly added brokers: 3, deleted brokers: , bounced brokers: , all live brokers: "
         "1,2,3 (kafka.controller.KafkaController)")
    info(after(t2, 0.01), KF["back"], "[RequestSendThread controllerId=1] Starting (kafka.controller.RequestSendThread)")
    info(after(t2, 0.02), KF["back"], "[Controller id=1] New broker startup callback for 3 (kafka.controller.KafkaController)")
    for p in led_here:
        info(after(t2, 20 + rng.uniform(0, 40)), KF["back"], f"[Partition {p} broker=1] Expanding ISR from 1,2 to 1,2,3 "
             "(kafka.cluster.Partition)")
    for p in led_by_3:
        epoch = rng.randrange(10, 40)
        info(after(t2, 302), KF["back"], f"[Broker id=1] Follower {p} starts at leader epoch {epoch} from offset {offset()} "
             f"with partition epoch {epoch + 23} and high watermark {offset()}. Current leader is 3. Previous leader epoch "
             f"was {epoch - 1}. (state.change.logger)")
    info(after(t2, 302.1), KF["back"], f"[ReplicaFetcherManager on broker 1] Added fetcher to broker 3 for partitions "
         f"Map({', '.join(f'{p} -> InitialFetchState(...)' for p in led_by_3[:3])}, ...) (kafka.server.ReplicaFetcherManager)")
    return log


# ---------------------------------------------------------------- Redis 7.2 server log (replica)

REDIS_FORMAT = r"<Pid>:<Role> <Day> <Month> <Year> <Time> <Level> <Content>"
RD = KINDS["redis"]


def redis(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 0, 0, 0), 24.0,
              lambda t, pid=812, role="S", level="*": f"{pid}:{role} {t.day:02d} {t:%b %Y %H:%M:%S}."
                                                      f"{t.microsecond // 1000:03d} {level} ")
    master, replid = "10.0.3.21:6379", hexs(rng, 40)
    start = log.at(0.02)
    boot = [
        ("#", RD["start"], "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
        ("#", RD["start"], "Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=812, just started"),
        ("#", RD["start"], "Configuration loaded"),
        ("*", RD["start"], "monotonic clock: POSIX clock_gettime"),
        ("*", RD["start"], "Running mode=standalone, port=6379."),
        ("#", RD["advice"], "WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn "
                         "is set to the lower value of 128."),
        ("#", RD["ipv6"], "Warning: Could not create server TCP listening socket ::1:6379: bind: Cannot assign requested "
                       "address"),
        ("#", RD["start"], "Server initialized"),
        ("#", RD["advice"], "WARNING Memory overcommit must be enabled! Without it, a background save or replication may "
                         "fail under low memory condition. Being disabled, it can also cause failures without low "
                         "memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add "
                         "'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl "
                         "vm.overcommit_memory=1' for this to take effect."),
        ("*", RD["start"], "Reading RDB base file on AOF loading..."),
        ("*", RD["start"], "Loading RDB produced by version 7.2.4"),
        ("*", RD["start"], "RDB age 41 seconds"),
        ("*", RD["start"], "RDB memory usage when created 1843.22 Mb"),
        ("*", RD["start"], "Done loading RDB, keys loaded: 2711845, keys expired: 0."),
        ("*", RD["start"], "DB loaded from append only file: 12.331 seconds"),
        ("*", RD["start"], "Before turning into a replica, using my own master parameters to synthesize a cached master: I "
                        "may be able to synchronize with the new master with just a partial transfer."),
        ("*", RD["start"], "Ready to accept connections tcp"),
        ("*", RD["start"], f"Connecting to MASTER {master}"),
        ("*", RD["start"], "MASTER <-> REPLICA sync started"),
        ("*", RD["start"], "Non blocking connect for SYNC fired the event."),
        ("*", RD["start"], "Master replied to PING, replication can continue..."),
        ("*", RD["start"], f"Trying a partial resynchronization (request {replid}:48211311)."),
        ("*", RD["start"], "Successful partial resynchronization with master."),
        ("*", RD["start"], "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."),
    ]
    for k, (level, kind, text) in enumerate(boot):
        log.add(after(start, 0.001 * k + (12.4 if k >= 13 else 0)), kind, text, level=level)

    def save(t: datetime, changes: int, window: int) -> None:
        child = rng.randrange(3000, 60000)
        log.add(t, RD["save"], f"{changes} changes in {window} seconds. Saving...")
        log.add(after(t, 0.012), RD["save"], f"Background saving started by pid {child}")
        took = rng.uniform(9, 16)
        log.add(after(t, took), RD["save"], "DB saved on disk", pid=child, role="C")
        cow = rng.randrange(2, 40)
        log.add(after(t, took + 0.001), RD["save"], f"Fork CoW for RDB: current {cow} MB, peak {cow} MB, average {cow // 2 + 1} MB",
                pid=child, role="C")
        log.add(after(t, took + 0.09), RD["save"], "Background saving terminated with success")

    for t in log.every(900, 120, 7.0, 22.0):
        save(t, rng.randrange(100, 9000), 900)
    for t in log.every(3600, 300, 0.3, 7.0):
        save(t, rng.randrange(1, 99), 3600)
    for t in log.every(3600, 300, 22.0, 24.0):
        save(t, rng.randrange(1, 99), 3600)
    for t in log.spread(4, 1, 23):
        child = rng.randrange(3000, 60000)
        n = rng.randrange(5, 40)
        for k, (pid, role, text) in enumerate([
            (812, "S", f"Starting automatic rewriting of AOF on {rng.randrange(100, 300)}% growth"),
            (812, "S", f"Creating AOF incr file appendonly.aof.{n}.incr.aof on background rewrite"),
            (812, "S", f"Background append only file rewriting started by pid {child}"),
            (child, "C", f"Successfully created the temporary AOF base file temp-rewriteaof-bg-{child}.aof"),
            (child, "C", f"Fork CoW for AOF rewrite: current {rng.randrange(2, 30)} MB, peak 30 MB, average 12 MB"),
            (812, "S", "Background AOF rewrite terminated with success"),
            (812, "S", f"Successfully renamed the temporary AOF base file temp-rewriteaof-bg-{child}.aof into "
                       f"appendonly.aof.{n}.base.rdb"),
            (812, "S", f"Removing the history file appendonly.aof.{n - 1}.incr.aof in the background"),
            (812, "S", f"Removing the history file appendonly.aof.{n - 1}.base.rdb in the background"),
            (812, "S", "Background AOF rewrite finished successfully"),
        ]):
            log.add(after(t, k * 3.1 if k > 2 else k * 0.01), RD["save"], text, pid=pid, role=role)
    for t in log.spread(3, 2.0, 2.5):
        log.add(t, RD["fsync"], "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without "
                "waiting for fsync to complete, this may slow down Redis.", level="#")
    # 14:07 the master is OOM-killed and restarted by systemd: refused for ~64 s, then loading for ~9 s.
    t0 = log.at(14.12)
    log.add(t0, RD["lost"], "Connection with master lost.", level="#")
    log.add(after(t0, 0.001), RD["retry"], "Caching the disconnected master state.")
    log.add(after(t0, 0.002), RD["retry"], f"Reconnecting to MASTER {master} after failure")
    for s in range(65):
        ts = after(t0, 0.003 + s * 1.0 + rng.uniform(0, 0.01))
        if s:
            log.add(ts, RD["retry"], f"Connecting to MASTER {master}")
        log.add(after(ts, 0.0001), RD["retry"], "MASTER <-> REPLICA sync started")
        log.add(after(ts, 0.0002), RD["refused"], "Error condition on socket for SYNC: Connection refused", level="#")
    for s in range(65, 74):
        ts = after(t0, s * 1.0 + rng.uniform(0, 0.01))
        log.add(ts, RD["retry"], f"Connecting to MASTER {master}")
        log.add(after(ts, 0.0001), RD["retry"], "MASTER <-> REPLICA sync started")
        log.add(after(ts, 0.0002), RD["retry"], "Non blocking connect for SYNC fired the event.")
        log.add(after(ts, 0.0003), RD["loading"], "Error reply to PING from master: '-LOADING Redis is loading the dataset "
                "in memory'", level="#")
    ts = after(t0, 74.0)
    new = hexs(rng, 40)
    for k, text in enumerate([
        f"Connecting to MASTER {master}", "MASTER <-> REPLICA sync started", "Non blocking connect for SYNC fired the event.",
        "Master replied to PING, replication can continue...",
        f"Trying a partial resynchronization (request {replid}:{rng.randrange(10**8, 10**9)}).",
        f"Full resync from master: {new}:0",
        "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk",
        "Discarding previously cached master state.", "MASTER <-> REPLICA sync: Flushing old data",
        "MASTER <-> REPLICA sync: Loading DB in memory", "Loading RDB produced by version 7.2.4", "RDB age 0 seconds",
        "RDB memory usage when created 1850.01 Mb", f"Done loading RDB, keys loaded: {rng.randrange(2700000, 2800000)}, keys "
        f"expired: {rng.randrange(100, 900)}.", "MASTER <-> REPLICA sync: Finished with success",
    ]):
        log.add(after(ts, k * (0.001 if k < 6 else 1.7)), RD["resync"], text)
    return log


# ---------------------------------------------------------------- kubelet 1.28 on a worker node (journald to syslog)

KUBELET_FORMAT = r"<Month> <Day> <Time> <Host> <Component>\[<Pid>\]: <Level>\d{4} \d{2}:\d{2}:\d{2}\.\d{6} \d+ <Source>\] <Content>"
KB = KINDS["kubelet"]

KB_APPS = ["orders-api-6d8f9c7b5", "search-7b6c5d4f9", "cart-5c8d7f6b4", "ingress-nginx-controller-7d9f8c6b5",
           "node-exporter", "fluent-bit", "payments-api-5b7c9d8f6"]


def kubelet(rng: random.Random) -> Log:
    host = "ip-10-0-12-34"
    log = Log(rng, datetime(2024, 3, 12, 8, 0, 0), 6.0,
              lambda t, level, src: f"{t:%b %d %H:%M:%S} {host} kubelet[1392]: {level}{t:%m%d %H:%M:%S}.{t.microsecond:06d}"
                                    f"    1392 {src}] ")

    def pod(app: str) -> str:
        return f"{app}-{''.join(rng.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"

    def uid() -> str:
        return f"{hexs(rng, 8)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 12)}"

    def say(t: datetime, kind: Kind, src: str, text: str, level: str = "I") -> None:
        log.add(t, kind, text, level=level, src=src)

    def pleg(t: datetime, name: str, puid: str, kind: str, kind_label: Kind = KB["pod"]) -> None:
        say(t, kind_label, "kubelet.go:2440", f'"SyncLoop (PLEG): event for pod" pod="{name}" event={{"ID":"{puid}",'
            f'"Type":"{kind}","Data":"{hexs(rng, 64)}"}}')

    def start_pod(t: datetime, name: str, volumes: list[str]) -> str:
        puid = uid()
        say(t, KB["pod"], "kubelet.go:2414", f'"SyncLoop ADD" source="api" pods=["{name}"]')
        for k, vol in enumerate(volumes):
            say(after(t, 0.1 + k * 0.01), KB["pod"], "reconciler_common.go:258", f'"operationExecutor.VerifyControllerAttachedVolume '
                f'started for volume \\"{vol}\\" (UniqueName: \\"kubernetes.io/projected/{puid}-{vol}\\") pod=\\"{name.split("/")[1]}'
                f'\\" (UID: \\"{puid}\\") " pod="{name}"')
            say(after(t, 0.3 + k * 0.01), KB["pod"], "operation_generator.go:721", f'"MountVolume.SetUp succeeded for volume '
                f'\\"{vol}\\" (UniqueName: \\"kubernetes.io/projected/{puid}-{vol}\\") pod=\\"{name.split("/")[1]}\\" (UID: '
                f'\\"{puid}\\") " pod="{name}"')
        say(after(t, 0.5), KB["pod"], "util.go:30", f'"No sandbox for pod can be found. Need to start a new one" pod="{name}"')
        pleg(after(t, 1.6), name, puid, "ContainerStarted")
        return puid

    def finish_pod(t: datetime, name: str, puid: str, code: int = 0) -> None:
        say(t, KB["pod"] if code == 0 else KB["exit"], "generic.go:334", f'"Generic (PLEG): container finished" podID="{puid}" '
            f'containerID="{hexs(rng, 64)}" exitCode={code}')
        pleg(after(t, 0.01), name, puid, "ContainerDied", KB["pod"] if code == 0 else KB["exit"])

    for t in log.every(900, 2, 0, 6):  # a CronJob every 15 minutes
        name = f"prod/report-job-{28511040 + int((t - log.start).total_seconds() // 60)}-{pod('x')[2:]}"
        puid = start_pod(t, name, ["kube-api-access-" + pod("x")[2:]])
        run = rng.uniform(40, 200)
        finish_pod(after(t, run), name, puid)
        say(after(t, run + 1), KB["pod"], "kubelet.go:2430", f'"SyncLoop DELETE" source="api" pods=["{name}"]')
        say(after(t, run + 1.1), KB["pod"], "kubelet.go:2424", f'"SyncLoop REMOVE" source="api" pods=["{name}"]')
        say(after(t, run + 1.2), KB["pod"], "scope.go:117", f'"RemoveContainer" containerID="{hexs(rng, 64)}"')
    # a routine rollout of orders-api at 09:30: new pod up (readiness failing while it warms), old one stopped
    t = log.at(1.5)
    for _ in range(2):
        name = f"prod/{pod(KB_APPS[0])}"
        puid = start_pod(t, name, ["config", "kube-api-access-" + pod("x")[2:]])
        for s in (3, 8, 13):
            say(after(t, s), KB["startup"], "prober.go:107", f'"Probe failed" probeType="Readiness" pod="{name}" podUID="{puid}" '
                f'containerName="api" probeResult="failure" output="Get \\"http://10.244.3.{rng.randrange(2, 250)}:8080/ready'
                '\\": dial tcp 10.244.3.17:8080: connect: connection refused"')
        old = f"prod/{pod(KB_APPS[0])}"
        say(after(t, 30), KB["pod"], "kubelet.go:2430", f'"SyncLoop DELETE" source="api" pods=["{old}"]')
        say(after(t, 30.1), KB["pod"], "kuberuntime_container.go:745", f'"Killing container with a grace period" pod="{old}" '
            f'podUID="{uid()}" containerName="api" containerID="containerd://{hexs(rng, 64)}" gracePeriod=30')
        t = after(t, 95)
    for t in log.spread(22):
        say(t, KB["noise"], "cadvisor_stats_provider.go:444", '"Partial failure issuing cadvisor.ContainerInfoV2" '
            'err="partial failures: [\\"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod'
            f'{hexs(rng, 8)}_{hexs(rng, 4)}.slice/cri-containerd-{hexs(rng, 64)}.scope\\": RecentStats: unable to find data '
            'in memory cache]"', level="E")
    for t in log.spread(6):
        cid = hexs(rng, 64)
        say(t, KB["noise"], "remote_runtime.go:432", f'"ContainerStatus from runtime service failed" err="rpc error: code = '
            f'NotFound desc = an error occurred when try to find container \\"{cid}\\": not found" containerID="{cid}"', level="E")
        say(after(t, 0.001), KB["noise"], "pod_container_deletor.go:53", f'"DeleteContainer returned error" containerID='
            f'{{"Type":"containerd","ID":"{cid}"}} err="failed to get container status \\"{cid}\\": rpc error: code = NotFound '
            f'desc = an error occurred when try to find container \\"{cid}\\": not found"')
    for t in log.spread(8):
        say(t, KB["noise"], "watcher.go:93", f'Error while processing event ("/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.'
            f'slice/kubepods-besteffort-pod{hexs(rng, 8)}.slice": 0x40000100 == IN_CREATE|IN_ISDIR): inotify_add_watch '
            f"/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{hexs(rng, 8)}.slice: no such "
            "file or directory", level="W")
    orphan = uid()
    for t in log.every(120, 3, 2.1, 2.5):
        say(t, KB["noise"], "kubelet_volumes.go:245", f'"There were many similar errors. Turn up verbosity to see them." '
            f'err="orphaned pod \\"{orphan}\\" found, but error not a directory occurred when trying to remove the volumes '
            'dir" numErrs=3', level="E")
    for t in log.spread(4):
        say(t, KB["watch"], "reflector.go:535", f'object-"prod"/"{rng.choice(["orders-api-config", "cart-config", "fluent-bit"])}"'
            ': watch of *v1.ConfigMap ended with: an error on the server ("unable to decode an event from the watch stream: '
            'http2: client connection lost") has prevented the request from succeeding', level="W")
    # 10:14 a payments-api release without a required setting: exits 1 at start, CrashLoopBackOff until rolled back 10:39.
    t = log.at(2.23)
    name = f"prod/{pod('payments-api-7c9d8f6b54')}"
    puid = start_pod(t, name, ["config", "kube-api-access-" + pod("x")[2:]])
    backoff, clock, end = 10, after(t, 2.1), log.at(2.65)
    while clock < end:
        finish_pod(clock, name, puid, code=1)
        shown = f"{backoff // 60}m{backoff % 60}s" if backoff >= 60 else f"{backoff}s"
        for w in range(int(backoff // 30) + 1):
            say(after(clock, 1 + w * 30 + rng.uniform(0, 5)), KB["backoff"], "pod_workers.go:1298", '"Error syncing pod, '
                f'skipping" err="failed to \\"StartContainer\\" for \\"payments\\" with CrashLoopBackOff: \\"back-off '
                f'{shown} restarting failed container=payments pod='
                f'{name.split("/")[1]}_prod({puid})\\"" pod="{name}" podUID="{puid}"', level="E")
        clock = after(clock, backoff + 1.5)
        if clock >= end:
            break
        say(after(clock, -0.2), KB["restart"], "scope.go:117", f'"RemoveContainer" containerID="{hexs(rng, 64)}"')
        pleg(clock, name, puid, "ContainerStarted", KB["restart"])
        clock = after(clock, 1.8)
        backoff = min(backoff * 2, 300)
    say(end, KB["pod"], "kubelet.go:2430", f'"SyncLoop DELETE" source="api" pods=["{name}"]')
    say(after(end, 0.2), KB["pod"], "kubelet.go:2424", f'"SyncLoop REMOVE" source="api" pods=["{name}"]')
    # 12:50 a chatty pod fills the node's ephemeral storage; kubelet reclaims images, then evicts.
    t = log.at(4.84)
    ranked = [f"prod/{pod('log-shipper-5f7d8c9b6')}", f"prod/{pod(KB_APPS[2])}", f"prod/{pod(KB_APPS[1])}"]
    for k in range(3):
        tk = after(t, k * 300)
        say(tk, KB["pressure"], "eviction_manager.go:366", '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"')
        say(after(tk, 0.01), KB["reclaim"], "container_gc.go:88", '"Attempting to delete unused containers"')
        say(after(tk, 0.3), KB["reclaim"], "image_gc_manager.go:391", '"Attempting to delete unused images"')
        for _ in range(2 if k == 0 else 0):
            say(after(tk, 0.4), KB["reclaim"], "image_gc_manager.go:447", f'"Removing image to free bytes" imageID="sha256:'
                f'{hexs(rng, 64)}" size={rng.randrange(40000000, 900000000)} runtimeHandler=""')
        say(after(tk, 2.1), KB["pressure"], "eviction_manager.go:377", '"Eviction manager: must evict pod(s) to reclaim" '
            'resourceName="ephemeral-storage"')
        say(after(tk, 2.2), KB["pressure"], "eviction_manager.go:395", '"Eviction manager: pods ranked for eviction" pods=['
            + ",".join(f'"{p}"' for p in ranked[k:]) + "]")
        say(after(tk, 2.3), KB["reclaim"], "kuberuntime_container.go:745", f'"Killing container with a grace period" '
            f'pod="{ranked[k]}" podUID="{uid()}" containerName="main" containerID="containerd://{hexs(rng, 64)}" gracePeriod=0')
        say(after(tk, 3.4), KB["pressure"], "eviction_manager.go:616", f'"Eviction manager: pod is evicted successfully" '
            f'pod="{ranked[k]}"')
        say(after(tk, 3.5), KB["reclaim"], "eviction_manager.go:205", f'"Eviction manager: pods evicted, waiting for pod to be '
            f'cleaned up" pods=["{ranked[k]}"]')
        say(after(tk, 5.5), KB["reclaim"], "eviction_manager.go:440", f'"Eviction manager: pods successfully cleaned up" pods=['
            f'"{ranked[k]}"]')
        say(after(tk, 60), KB["gc_fail"], "kubelet.go:1476", '"Image garbage collection failed multiple times in a row" '
            f'err="failed to garbage collect required amount of images. Attempted to free {rng.randrange(4, 9) * 1073741824} '
            'bytes, but only found 0 bytes eligible to free."', level="E")
    return log


# ---------------------------------------------------------------- Postfix MX (syslog, no level)

POSTFIX_FORMAT = "linux"
PF = KINDS["postfix"]

PF_DOMAINS = ["partner.example", "gmail.com", "outlook.com", "supplier-mail.net", "lists.example.org", "bank.example"]
PF_USERS = ["anna", "ben", "chloe", "dmitri", "eva", "farid", "grace", "hugo", "ines", "jonas", "billing", "support"]


def postfix(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 8, 0, 0), 8.0,
              lambda t, prog, pid: f"{t:%b %d %H:%M:%S} mx1 postfix/{prog}[{pid}]: ")
    qmgr, lmtp_down, dns_down = 1022, (log.at(3.08), log.at(3.52)), (log.at(6.67), log.at(6.74))
    deferred: list[tuple[str, str, str, int]] = []

    def qid() -> str:
        return "".join(rng.choice("0123456789ABCDEF") for _ in range(rng.choice([10, 11])))

    def pid() -> int:
        return rng.randrange(2000, 99999)

    def within(t: datetime, span: tuple[datetime, datetime]) -> bool:
        return span[0] <= t <= span[1]

    def client() -> tuple[str, str]:
        ip = public_ip(rng)
        name = rng.choice([f"mail-{rng.choice(['wr1', 'ej1', 'lf1'])}-f{rng.randrange(10, 99)}.google.com",
                           f"mail-{hexs(rng, 6)}.outbound.protection.outlook.com", f"smtp{rng.randrange(1, 9)}.partner.example",
                           "unknown"])
        return name, ip

    def lookup_warning(t: datetime, p: int, name: str, ip: str) -> None:
        if within(t, dns_down):
            log.add(t, PF["dns"], f"warning: hostname {name} does not resolve to address {ip}: Temporary failure in name "
                    "resolution", prog="smtpd", pid=p)
        elif name == "unknown" and rng.random() < 0.5:
            log.add(t, PF["noise"], f"warning: hostname {ip.replace('.', '-')}.static.isp-net.example does not resolve to "
                    f"address {ip}: Name or service not known", prog="smtpd", pid=p)

    def deliver(t: datetime, q: str, rcpt: str, size: int, sender: str, first: bool) -> None:
        log.add(t, PF["mail"], f"{q}: from=<{sender}>, size={size}, nrcpt=1 (queue active)", prog="qmgr", pid=qmgr)
        lp = pid()
        if within(t, lmtp_down):
            delay = rng.uniform(0.1, 2) if first else (t - lmtp_down[0]).total_seconds()
            log.add(after(t, 0.05), PF["lmtp"], f"{q}: to=<{rcpt}>, relay=none, delay={delay:.0f}, delays=0.09/0/{delay:.0f}/0, "
                    "dsn=4.4.1, status=deferred (connect to mail-store.internal[10.0.2.15]:24: Connection refused)",
                    prog="lmtp", pid=lp)
            deferred.append((q, rcpt, sender, size))
            return
        delay = rng.uniform(0.1, 1.5)
        log.add(after(t, delay), PF["mail"], f"{q}: to=<{rcpt}>, relay=mail-store.internal[10.0.2.15]:24, delay={delay:.2f}, "
                f"delays=0.0{rng.randrange(1, 9)}/0.01/0.02/{delay - 0.1:.2f}, dsn=2.0.0, status=sent (250 2.0.0 <{rcpt}> "
                f"{hexs(rng, 6)}{rng.choice('ABCDEFGH')}{hexs(rng, 14)} Saved)", prog="lmtp", pid=lp)
        log.add(after(t, delay + 0.001), PF["mail"], f"{q}: removed", prog="qmgr", pid=qmgr)

    for t in log.spread(48):
        p, q = pid(), qid()
        name, ip = client()
        sender = f"{rng.choice(PF_USERS)}@{rng.choice(PF_DOMAINS)}"
        rcpt = f"{rng.choice(PF_USERS)}@example.com"
        size = rng.randrange(2000, 900000)
        log.add(t, PF["mail"], f"connect from {name}[{ip}]", prog="smtpd", pid=p)
        lookup_warning(after(t, 0.001), p, name, ip)
        log.add(after(t, 0.4), PF["mail"], f"{q}: client={name}[{ip}]", prog="smtpd", pid=p)
        log.add(after(t, 0.5), PF["mail"], f"{q}: message-id=<{hexs(rng, 16)}@{sender.split('@')[1]}>", prog="cleanup", pid=pid())
        log.add(after(t, 0.7), PF["mail"], f"disconnect from {name}[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
                prog="smtpd", pid=p)
        deliver(after(t, 0.6), q, rcpt, size, sender, True)
    for t in log.spread(14):  # users sending out through submission
        p, q, user = pid(), qid(), rng.choice(PF_USERS)
        ip = f"10.8.{rng.randrange(0, 4)}.{rng.randrange(2, 250)}"
        rcpt = f"{rng.choice(PF_USERS)}@{rng.choice(PF_DOMAINS)}"
        log.add(t, PF["mail"], f"connect from unknown[{ip}]", prog="submission/smtpd", pid=p)
        log.add(after(t, 0.3), PF["mail"], f"{q}: client=unknown[{ip}], sasl_method=PLAIN, sasl_username={user}@example.com",
                prog="submission/smtpd", pid=p)
        log.add(after(t, 0.4), PF["mail"], f"{q}: message-id=<{hexs(rng, 16)}@example.com>", prog="cleanup", pid=pid())
        log.add(after(t, 0.5), PF["mail"], f"{q}: from=<{user}@example.com>, size={rng.randrange(2000, 400000)}, nrcpt=1 (queue "
                "active)", prog="qmgr", pid=qmgr)
        log.add(after(t, 0.6), PF["mail"], f"disconnect from unknown[{ip}] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 "
                "commands=8", prog="submission/smtpd", pid=p)
        sp, domain = pid(), rcpt.split("@")[1]
        if within(t, dns_down):
            log.add(after(t, 0.7), PF["dns"], f"{q}: to=<{rcpt}>, relay=none, delay=0.8, delays=0.5/0.01/0.3/0, dsn=4.4.3, "
                    f"status=deferred (Host or domain name not found. Name service error for name={domain} type=MX: Host "
                    "not found, try again)", prog="smtp", pid=sp)
            continue
        mx = f"mx{rng.randrange(1, 4)}.{domain}[{public_ip(rng)}]:25"
        if rng.random() < 0.15:
            log.add(after(t, 1.2), PF["grey"], f"{q}: to=<{rcpt}>, relay={mx}, delay=1.2, delays=0.5/0.01/0.4/0.3, dsn=4.7.1, "
                    f"status=deferred (host {mx[:-3]} said: 451 4.7.1 Greylisted, please try again later (in reply to RCPT "
                    "TO command))", prog="smtp", pid=sp)
            continue
        log.add(after(t, 1.4), PF["mail"], f"{q}: to=<{rcpt}>, relay={mx}, delay=1.4, delays=0.5/0.01/0.3/0.6, dsn=2.0.0, "
                f"status=sent (250 2.0.0 OK  {1710230000 + rng.randrange(90000)} {hexs(rng, 10)}.{rng.randrange(100, 999)} - "
                "gsmtp)", prog="smtp", pid=sp)
        log.add(after(t, 1.401), PF["mail"], f"{q}: removed", prog="qmgr", pid=qmgr)
    for t in log.spread(41):
        p, ip = pid(), public_ip(rng)
        log.add(t, PF["noise"], f"connect from unknown[{ip}]", prog="smtpd", pid=p)
        lookup_warning(after(t, 0.001), p, "unknown", ip)
        if rng.random() < 0.7:
            log.add(after(t, 0.8), PF["reject"], f"NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; "
                    f"Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}; from=<"
                    f"{rng.choice(['info', 'sales', 'noreply'])}@{hexs(rng, 7)}.top> to=<{rng.choice(PF_USERS)}@example.com> "
                    f"proto=ESMTP helo=<{hexs(rng, 6)}.top>", prog="smtpd", pid=p)
        else:
            log.add(after(t, 0.8), PF["reject"], f"NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{hexs(rng, 6)}@example.com>: "
                    f"Recipient address rejected: User unknown in virtual mailbox table; from=<> to=<{hexs(rng, 6)}@example.com>"
                    " proto=ESMTP helo=<User>", prog="smtpd", pid=p)
        log.add(after(t, 0.9), PF["noise"], f"disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
                prog="smtpd", pid=p)
    for t in log.spread(16):
        p, ip = pid(), public_ip(rng)
        log.add(t, PF["noise"], f"connect from unknown[{ip}]", prog="submission/smtpd", pid=p)
        log.add(after(t, 2.1), PF["sasl"], f"warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                prog="submission/smtpd", pid=p)
        log.add(after(t, 2.2), PF["sasl"], f"lost connection after AUTH from unknown[{ip}]", prog="submission/smtpd", pid=p)
        log.add(after(t, 2.3), PF["noise"], f"disconnect from unknown[{ip}] ehlo=1 auth=0/1 rset=1 commands=2/3",
                prog="submission/smtpd", pid=p)
    for t in log.spread(6):
        p, ip = pid(), public_ip(rng)
        log.add(t, PF["noise"], rng.choice([f"improper command pipelining after CONNECT from unknown[{ip}]: \\r\\n",
                                         "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:"
                                         "../ssl/statem/statem_srvr.c:1657:"]), prog="smtpd", pid=p)
    for t in log.spread(5):
        q, ip = qid(), public_ip(rng)
        log.add(t, PF["grey"], f"{q}: to=<{hexs(rng, 5)}@{rng.choice(PF_DOMAINS)}>, relay=mx1.{rng.choice(PF_DOMAINS)}[{ip}]:25, "
                "delay=0.9, delays=0.1/0/0.4/0.4, dsn=5.1.1, status=bounced (host said: 550 5.1.1 User unknown (in reply to "
                "RCPT TO command))", prog="smtp", pid=pid())
        log.add(after(t, 0.01), PF["grey"], f"{qid()}: sender non-delivery notification: {q}", prog="bounce", pid=pid())
    for t in log.spread(2, 0, 6.5):
        name, ip = client()
        log.add(t, PF["dns_one"], f"warning: hostname {name if name != 'unknown' else 'mail.' + rng.choice(PF_DOMAINS)} does not "
                f"resolve to address {ip}: Temporary failure in name resolution", prog="smtpd", pid=pid())
    for t in log.every(600, 0, 0.1):
        log.add(t, PF["noise"], f"statistics: max connection rate {rng.randrange(1, 6)}/60s for (smtp:{public_ip(rng)}) at "
                f"{after(t, -rng.randrange(60, 500)):%b %d %H:%M:%S}", prog="anvil", pid=1311)
    # The mail store was down 11:05-11:31: the queue manager retries deferred mail every 5 minutes.
    for t in log.every(300, 5, 3.1, 3.6):
        for q, rcpt, sender, size in list(deferred):
            deferred.remove((q, rcpt, sender, size))
            deliver(after(t, rng.uniform(0, 3)), q, rcpt, size, sender, False)
    # The resolver was down 14:40-14:44: spam-list lookups fail too.
    for t in log.spread(9, 6.67, 6.74):
        ip = public_ip(rng)
        rev = ".".join(reversed(ip.split(".")))
        log.add(t, PF["dns"], f"warning: {ip}: RBL lookup error: Host or domain name not found. Name service error for name="
                f"{rev}.zen.spamhaus.org type=A: Host not found, try again", prog="smtpd", pid=pid())
    return log


# ---------------------------------------------------------------- IPMI SEL of a server fleet (ipmitool sel elist)

SEL_FORMAT = r"<Host> \| <Id> \| <Date> \| <Time> \| <Component> \| <Content>"
SE = KINDS["ipmi_sel"]


def sel(rng: random.Random) -> Log:
    hosts = [f"{kind}-{n:02d}" for kind, count in (("db", 12), ("app", 24), ("stor", 12)) for n in range(1, count + 1)]
    ids = {h: rng.randrange(0x40, 0x400) for h in hosts}

    def number(line: str) -> str:
        """Each BMC numbers its own records; clearing the SEL starts again at 1."""
        host = line.split(" ", 1)[0]
        ids[host] = 1 if "Log area reset/cleared" in line else ids[host] + 1
        return line.replace("|  RID |", f"| {ids[host]:>4x} |", 1)

    log = Log(rng, datetime(2023, 11, 1, 0, 0, 0), 24.0 * 132,
              lambda t, host: f"{host:<8}|  RID | {t:%m/%d/%Y} | {t:%H:%M:%S} | ", number)

    def add(t: datetime, host: str, kind: Kind, sensor: str, event: str, state: str = "Asserted") -> None:
        log.add(t, kind, f"{sensor} | {event} | {state}", host=host)

    for t in log.spread(34):
        h = rng.choice(hosts)
        add(t, h, SE["boot"], "OS Critical Stop OS Stop", "OS graceful shutdown")
        add(after(t, 25), h, SE["boot"], "Power Unit Pwr Unit Status", "Power off/down")
        add(after(t, 40), h, SE["boot"], "System Boot Initiated System Restart", "Initiated by power up")
        add(after(t, 41), h, SE["boot"], "System Event", "Timestamp Clock Sync")
        add(after(t, 42), h, SE["boot"], "System Event", "Timestamp Clock Sync")
        add(after(t, 160), h, SE["boot"], "OS Boot OS Boot", "C: boot completed")
    for t in log.spread(9):
        h = rng.choice(hosts)
        add(t, h, SE["clear"], "Event Logging Disabled SEL Status", "Log area reset/cleared")
    for t in log.spread(21):
        add(t, rng.choice(hosts), SE["ecc_one"], f"Memory #{rng.randrange(0x50, 0x60):#04x}", "Correctable ECC")
    for t in log.spread(17):
        h, fan = rng.choice(hosts), f"Fan FAN{rng.randrange(1, 7)}"
        add(t, h, SE["fan_low"], fan, "Lower Non-critical going low")
        add(after(t, rng.uniform(20, 400)), h, SE["recover"], fan, "Lower Non-critical going low", "Deasserted")
    hot = log.start + timedelta(days=104, hours=15)
    for h in rng.sample(hosts[12:36], 5):
        t = after(hot, rng.uniform(0, 3600))
        add(t, h, SE["inlet"], "Temperature Inlet Temp", "Upper Non-critical going high")
        add(after(t, rng.uniform(600, 2400)), h, SE["recover"], "Temperature Inlet Temp", "Upper Non-critical going high",
            "Deasserted")
    for t in log.spread(5):
        h = rng.choice(hosts)
        add(t, h, SE["chassis"], "Physical Security Intrusion", "General Chassis intrusion")
        add(after(t, rng.uniform(300, 1800)), h, SE["chassis"], "Physical Security Intrusion", "General Chassis intrusion",
            "Deasserted")
    for t in log.spread(3):
        h, bay = rng.choice(hosts[36:]), f"Drive Slot / Bay Drive {rng.randrange(0, 12)}"
        add(t, h, SE["swap"], bay, "Drive Present", "Deasserted")
        add(after(t, 95), h, SE["swap"], bay, "Drive Present")
    # stor-07 bay 5: predictive failure in January, fault 9 days later, replaced, rebuild
    h, bay, t = "stor-07", "Drive Slot / Bay Drive 5", log.start + timedelta(days=71, hours=3, minutes=12)
    add(t, h, SE["predict"], bay, "Predictive Failure")
    t = after(t, 9 * 86400 + 7321)
    add(t, h, SE["fault"], bay, "Drive Fault")
    add(after(t, 1), h, SE["fault"], bay, "In Failed Array")
    t = after(t, 26 * 3600)
    add(t, h, SE["swap"], bay, "Drive Present", "Deasserted")
    add(after(t, 80), h, SE["swap"], bay, "Drive Present")
    add(after(t, 81), h, SE["recover"], bay, "Drive Fault", "Deasserted")
    add(after(t, 82), h, SE["rebuild"], bay, "Rebuild/Remap in progress")
    add(after(t, 82 + 5 * 3600), h, SE["recover"], bay, "Rebuild/Remap in progress", "Deasserted")
    # db-03 PS2 loses its input (a tripped PDU breaker) for most of a day
    h, t = "db-03", log.start + timedelta(days=118, hours=9, minutes=47)
    add(t, h, SE["psu"], "Power Supply PS2 Status", "Power Supply AC lost")
    add(after(t, 1), h, SE["psu"], "Power Supply Redundancy", "Redundancy Lost")
    add(after(t, 2), h, SE["psu"], "Power Supply PS2 Status", "Failure detected")
    t = after(t, 7.5 * 3600)
    add(t, h, SE["recover"], "Power Supply PS2 Status", "Power Supply AC lost", "Deasserted")
    add(after(t, 1), h, SE["recover"], "Power Supply PS2 Status", "Failure detected", "Deasserted")
    add(after(t, 2), h, SE["recover"], "Power Supply Redundancy", "Fully Redundant")
    return log


# ---------------------------------------------------------------- Cisco IOS-XE access switch (via a syslog relay)

CISCO_FORMAT = "<Month> <Day> <Time> <Host> <Seq>: <DevTime>: %<Facility>-<Level>-<Mnemonic>: <Content>"
CS = KINDS["cisco_ios"]


def cisco(rng: random.Random) -> Log:
    seq = [48211]

    def number(line: str) -> str:
        """The switch numbers its messages in the order it sends them."""
        seq[0] += 1
        return line.replace(" SEQ: ", f" {seq[0]}: ", 1)

    log = Log(rng, datetime(2024, 3, 12, 0, 0, 0), 24.0,
              lambda t, tag: f"{t:%b %d %H:%M:%S} sw-acc-3f-2 SEQ: {t:%b %d %H:%M:%S}.{t.microsecond // 1000:03d} UTC: %{tag}: ",
              number)

    def add(t: datetime, kind: Kind, tag: str, text: str) -> None:
        log.add(t, kind, text, tag=tag)

    def port_up(t: datetime, port: str, dot1x: bool) -> None:
        add(t, CS["port"], "LINK-3-UPDOWN", f"Interface {port}, changed state to up")
        add(after(t, 1), CS["port"], "LINEPROTO-5-UPDOWN", f"Line protocol on Interface {port}, changed state to up")
        if dot1x:
            client, session = mac(rng), hexs(rng, 24).upper()
            add(after(t, 2), CS["auth"], "AUTHMGR-5-START", f"Starting 'dot1x' for client ({client}) on Interface {port} "
                f"AuditSessionID {session}")
            add(after(t, 3), CS["auth"], "DOT1X-5-SUCCESS", f"Authentication successful for client ({client}) on Interface {port} "
                f"AuditSessionID {session}")
            add(after(t, 3.01), CS["auth"], "AUTHMGR-5-SUCCESS", f"Authorization succeeded for client ({client}) on Interface "
                f"{port} AuditSessionID {session}")

    def port_down(t: datetime, port: str) -> None:
        add(t, CS["port"], "LINK-3-UPDOWN", f"Interface {port}, changed state to down")
        add(after(t, 1), CS["port"], "LINEPROTO-5-UPDOWN", f"Line protocol on Interface {port}, changed state to down")

    desks = [f"GigabitEthernet1/0/{n}" for n in range(1, 41)]
    for port in rng.sample(desks, 31):
        t = log.at(rng.uniform(7.3, 9.6))
        port_up(t, port, True)
        if rng.random() < 0.85:
            port_down(log.at(rng.uniform(16.8, 19.4)), port)
    for t in log.spread(9, 10, 16):
        port = rng.choice(desks)
        port_down(t, port)
        port_up(after(t, rng.uniform(30, 1800)), port, True)
    for t in log.spread(4, 7, 10):
        port = f"GigabitEthernet1/0/{rng.randrange(41, 47)}"
        add(t, CS["poe"], "ILPOWER-7-DETECT", f"Interface {port}: Power Device detected: IEEE PD")
        add(after(t, 0.5), CS["poe"], "ILPOWER-5-POWER_GRANTED", f"Interface {port}: Power granted")
        port_up(after(t, 6), port, False)
    for t in log.spread(5):
        port, client, session = "GigabitEthernet1/0/47", mac(rng), hexs(rng, 24).upper()
        add(t, CS["dot1x_fail"], "DOT1X-5-FAIL", f"Authentication failed for client ({client}) on Interface {port} "
            f"AuditSessionID {session}")
        add(after(t, 0.1), CS["dot1x_fail"], "AUTHMGR-7-RESULT", f"Authentication result 'no-response' from 'dot1x' for client "
            f"({client}) on Interface {port} AuditSessionID {session}")
        add(after(t, 0.3), CS["auth"], "MAB-5-SUCCESS", f"Authentication successful for client ({client}) on Interface {port} "
            f"AuditSessionID {session}")
    for k, t in enumerate(log.spread(4, 8, 18)):
        src = f"10.10.0.{rng.choice([15, 16, 31])}"
        add(t, CS["admin"], "SSH-5-SSH2_SESSION", f"SSH2 Session request from {src} (tty = 0) using crypto cipher 'aes256-ctr', "
            "hmac 'hmac-sha2-256' Succeeded")
        if k == 1:
            add(after(t, 4), CS["login_fail"], "SEC_LOGIN-4-LOGIN_FAILED", f"Login failed [user: netadmin] [Source: {src}] "
                f"[localport: 22] [Reason: Login Authentication Failed] at {t:%H:%M:%S} UTC Tue Mar 12 2024")
        add(after(t, 9), CS["admin"], "SSH-5-SSH2_USERAUTH", f"User 'netadmin' authentication for SSH2 Session from {src} (tty = 0) "
            "using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Succeeded")
        add(after(t, 9.1), CS["admin"], "SEC_LOGIN-5-LOGIN_SUCCESS", f"Login Success [user: netadmin] [Source: {src}] [localport: "
            f"22] at {t:%H:%M:%S} UTC Tue Mar 12 2024")
        if k != 2:
            add(after(t, 200), CS["admin"], "SYS-5-CONFIG_I", f"Configured from console by netadmin on vty0 ({src})")
        add(after(t, 240), CS["admin"], "SSH-5-SSH2_CLOSE", f"SSH2 Session from {src} (tty = 0) for user 'netadmin' using crypto "
            "cipher 'aes256-ctr', hmac 'hmac-sha2-256' closed")
    lab = log.at(14.05)
    port_up(lab, "GigabitEthernet1/0/48", False)
    for t in log.every(60, 1, 14.06, 14.4):
        add(t, CS["native"], "CDP-4-NATIVE_VLAN_MISMATCH", "Native VLAN mismatch discovered on GigabitEthernet1/0/48 (1), with "
            "lab-sw-1 GigabitEthernet0/1 (99).")
    port_down(log.at(14.41), "GigabitEthernet1/0/48")
    for t in log.spread(6, 9, 17):
        host, ports = mac(rng), rng.sample(desks, 2)
        add(t, CS["macflap"], "SW_MATM-4-MACFLAP_NOTIF", f"Host {host} in vlan 30 is flapping between port "
            f"{ports[0].replace('GigabitEthernet', 'Gi')} and port {ports[1].replace('GigabitEthernet', 'Gi')}")
    # 11:02 the Te1/1/1 uplink optic degrades: receive power alarms, six flaps, err-disable; optic replaced at 13:41.
    up1 = "TenGigabitEthernet1/1/1"
    t = log.at(10.95)
    for k in range(3):
        add(after(t, k * 60), CS["optic_warn"], "SFF8472-5-THRESHOLD_VIOLATION", f"Te1/1/1: Rx power low warning; Operating "
            f"value: {-15.2 - k * 0.6:.1f} dBm, Threshold value: -14.9 dBm.")
    t = after(t, 400)
    add(t, CS["optic"], "SFF8472-5-THRESHOLD_VIOLATION", "Te1/1/1: Rx power low alarm; Operating value: -21.3 dBm, Threshold "
        "value: -17.9 dBm.")
    for k in range(6):
        tk = after(t, 30 + k * rng.uniform(70, 130))
        add(tk, CS["uplink_down"], "LINK-3-UPDOWN", f"Interface {up1}, changed state to down")
        add(after(tk, 0.1), CS["uplink_down"], "EC-5-UNBUNDLE", f"Interface {up1} left the port-channel Port-channel1")
        add(after(tk, 1), CS["uplink_down"], "LINEPROTO-5-UPDOWN", f"Line protocol on Interface {up1}, changed state to down")
        if k == 5:
            add(after(tk, 1.2), CS["errdisable"], "PM-4-ERR_DISABLE", "link-flap error detected on Te1/1/1, putting Te1/1/1 in "
                "err-disable state")
            break
        back = after(tk, rng.uniform(4, 25))
        add(back, CS["uplink_up"], "LINK-3-UPDOWN", f"Interface {up1}, changed state to up")
        add(after(back, 1), CS["uplink_up"], "LINEPROTO-5-UPDOWN", f"Line protocol on Interface {up1}, changed state to up")
        add(after(back, 3), CS["uplink_up"], "EC-5-BUNDLE", f"Interface {up1} joined port-channel Port-channel1")
    t = log.at(13.69)
    add(t, CS["repair"], "IOSXE_OIR-6-REMSFP", f"Module 1 Transceiver removed from {up1}")
    add(after(t, 40), CS["repair"], "IOSXE_OIR-6-INSSFP", f"Module 1 Transceiver inserted in {up1}")
    add(after(t, 95), CS["repair"], "LINK-5-CHANGED", f"Interface {up1}, changed state to administratively down")
    add(after(t, 101), CS["admin"], "SYS-5-CONFIG_I", "Configured from console by netadmin on vty0 (10.10.0.31)")
    add(after(t, 104), CS["repair"], "LINK-3-UPDOWN", f"Interface {up1}, changed state to up")
    add(after(t, 105), CS["repair"], "LINEPROTO-5-UPDOWN", f"Line protocol on Interface {up1}, changed state to up")
    add(after(t, 107), CS["repair"], "EC-5-BUNDLE", f"Interface {up1} joined port-channel Port-channel1")
    return log


# ---------------------------------------------------------------- systemd journal of a web server (no incident)

JOURNAL_FORMAT = "linux"
JR = KINDS["journal"]


def journal(rng: random.Random) -> Log:
    log = Log(rng, datetime(2024, 3, 12, 0, 0, 0), 14.0,
              lambda t, prog, pid=None: f"{t:%Y-%m-%dT%H:%M:%S}+0000 web-03 {prog}{'' if pid is None else f'[{pid}]'}: ")
    for t in log.every(600, 1):
        pid = rng.randrange(10000, 99999)
        log.add(t, JR["cron"], "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", prog="CRON", pid=pid)
        log.add(after(t, 0.01), JR["cron"], "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)", prog="CRON", pid=pid)
        log.add(after(t, 0.3), JR["cron"], "pam_unix(cron:session): session closed for user root", prog="CRON", pid=pid)
    for t in log.every(3600, 1, 17 / 60):
        pid = rng.randrange(10000, 99999)
        log.add(t, JR["cron"], "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", prog="CRON", pid=pid)
        log.add(after(t, 0.01), JR["cron"], "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)", prog="CRON", pid=pid)
        log.add(after(t, 0.2), JR["cron"], "pam_unix(cron:session): session closed for user root", prog="CRON", pid=pid)
    timers = [
        (0.0, "logrotate.service", "Rotate log files"), (0.0, "man-db.service", "Daily man-db regeneration"),
        (6.43, "apt-daily-upgrade.service", "Daily apt upgrade and clean activities"),
        (1.27, "apt-daily.service", "Daily apt download activities"),
        (0.25, "systemd-tmpfiles-clean.service", "Cleanup of Temporary Directories"),
        (3.9, "fstrim.service", "Discard unused blocks on filesystems from /etc/fstab"),
        (11.6, "apt-daily.service", "Daily apt download activities"),
        (7.5, "sysstat-summary.service", "Generate a daily summary of process accounting"),
    ]
    for hour, unit, title in timers:
        t = log.at(hour, 300)
        log.add(t, JR["timer"], f"Starting {title}...", prog="systemd", pid=1)
        if unit == "fstrim.service":
            log.add(after(t, 2), JR["timer"], f"/: {rng.uniform(2, 30):.1f} GiB ({rng.randrange(10**9, 3 * 10**10)} bytes) trimmed "
                    "on /dev/sda1", prog="fstrim", pid=rng.randrange(1000, 99999))
        if unit == "logrotate.service":
            log.add(after(t, 1.5), JR["misc"], '[origin software="rsyslogd" swVersion="8.2112.0" x-pid="812" x-info='
                    '"https://www.rsyslog.com"] rsyslogd was HUPed', prog="rsyslogd", pid=812)
        log.add(after(t, 3), JR["timer"], f"{unit}: Deactivated successfully.", prog="systemd", pid=1)
        log.add(after(t, 3.01), JR["timer"], f"Finished {title}.", prog="systemd", pid=1)
    for t in log.every(12 * 3600, 600, 2.9):
        log.add(t, JR["timer"], "Starting Message of the Day...", prog="systemd", pid=1)
        log.add(after(t, 10), JR["motd"], "motd-news.service: Main process exited, code=exited, status=1/FAILURE",
                prog="systemd", pid=1)
        log.add(after(t, 10.01), JR["motd"], "motd-news.service: Failed with result 'exit-code'.", prog="systemd", pid=1)
        log.add(after(t, 10.02), JR["motd"], "Failed to start Message of the Day.", prog="systemd", pid=1)
    session = 411
    for t in log.spread(5, 7, 14):
        session += 1
        pid, port, user = rng.randrange(10000, 99999), rng.randrange(40000, 65000), rng.choice(["deploy", "deploy", "mkovacs"])
        uid = 1001 if user == "deploy" else 1002
        for dt, prog, p, text in [
            (0, "sshd", pid, f"Accepted publickey for {user} from 10.10.0.15 port {port} ssh2: ED25519 SHA256:"
                             f"{hexs(rng, 43)}"),
            (0.01, "sshd", pid, f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"),
            (0.02, "systemd-logind", 701, f"New session {session} of user {user}."),
            (0.03, "systemd", 1, f"Started Session {session} of User {user}."),
        ]:
            log.add(after(t, dt), JR["ssh_ops"], text, prog=prog, pid=p)
        end = rng.uniform(30, 1500)
        for dt, prog, p, text in [
            (0, "sshd", pid, f"Received disconnect from 10.10.0.15 port {port}:11: disconnected by user"),
            (0.001, "sshd", pid, f"Disconnected from user {user} 10.10.0.15 port {port}"),
            (0.002, "sshd", pid, f"pam_unix(sshd:session): session closed for user {user}"),
            (0.003, "systemd-logind", 701, f"Session {session} logged out. Waiting for processes to exit."),
            (0.004, "systemd", 1, f"session-{session}.scope: Deactivated successfully."),
            (0.005, "systemd-logind", 701, f"Removed session {session}."),
        ]:
            log.add(after(t, end + dt), JR["ssh_ops"], text, prog=prog, pid=p)
    for t in log.spread(38):
        pid, ip, port = rng.randrange(10000, 99999), public_ip(rng), rng.randrange(30000, 65000)
        user = rng.choice(["admin", "ubuntu", "test", "oracle", "postgres", "user", "git", "ftpuser"])
        style = rng.random()
        if style < 0.45:
            log.add(t, JR["ssh_guess"], f"Invalid user {user} from {ip} port {port}", prog="sshd", pid=pid)
            log.add(after(t, 0.3), JR["ssh_noise"], f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]",
                    prog="sshd", pid=pid)
            log.add(after(t, 0.301), JR["ssh_noise"], f"Disconnected from invalid user {user} {ip} port {port} [preauth]",
                    prog="sshd", pid=pid)
        elif style < 0.7:
            log.add(t, JR["ssh_noise"], f"Connection closed by authenticating user root {ip} port {port} [preauth]",
                    prog="sshd", pid=pid)
        elif style < 0.9:
            log.add(t, JR["ssh_noise"], rng.choice(["error: kex_exchange_identification: Connection closed by remote host",
                                                 "error: kex_exchange_identification: read: Connection reset by peer"]),
                    prog="sshd", pid=pid)
            log.add(after(t, 0.001), JR["ssh_noise"], f"Connection closed by {ip} port {port}", prog="sshd", pid=pid)
        else:
            log.add(t, JR["ssh_noise"], f"banner exchange: Connection from {ip} port {port}: invalid format", prog="sshd", pid=pid)
    for t in log.spread(34):
        dst = rng.choice([22, 23, 3389, 5900, 8080, 6379, 445, 1433, 5432])
        log.add(t, JR["fw"], f"[UFW BLOCK] IN=eth0 OUT= MAC=0a:{hexs(rng, 2)}:{hexs(rng, 2)}:{hexs(rng, 2)}:{hexs(rng, 2)}:"
                f"{hexs(rng, 2)}:0a:1e:77:c2:91:3f:08:00 SRC={public_ip(rng)} DST=10.0.1.23 LEN=40 TOS=0x00 PREC=0x00 "
                f"TTL={rng.randrange(40, 250)} ID={rng.randrange(1, 65535)} PROTO=TCP SPT={rng.randrange(1024, 65535)} "
                f"DPT={dst} WINDOW=1024 RES=0x00 SYN URGP=0", prog="kernel")
    for t in log.spread(3):
        log.add(t, JR["misc"], "Using degraded feature set UDP instead of UDP+EDNS0 for DNS server 10.0.0.2.",
                prog="systemd-resolved", pid=612)
    for t in log.spread(6):
        temp = rng.randrange(30, 40)
        log.add(t, JR["misc"], f"Device: /dev/sda [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from {temp} to "
                f"{temp + rng.choice([-1, 1])}", prog="smartd", pid=655)
    for t in log.spread(2):
        log.add(t, JR["misc"], f'audit: type=1400 audit({t.timestamp():.3f}:{rng.randrange(100, 999)}): apparmor="DENIED" '
                f'operation="capable" class="cap" profile="/usr/sbin/cupsd" pid={rng.randrange(1000, 9999)} comm="cupsd" '
                'capability=12  capname="net_admin"', prog="kernel")
    t = log.at(9.3)
    log.add(t, JR["misc"], "Data hash table of /var/log/journal/8c1f2e0d4b1a4f3e9d2c7b6a5f4e3d2c/system.journal has a fill "
            "level at 75.0 (8535 of 11377 items, 6553600 file size, 767 bytes per hash table item), suggesting rotation.",
            prog="systemd-journald", pid=402)
    log.add(after(t, 0.001), JR["misc"], "/var/log/journal/8c1f2e0d4b1a4f3e9d2c7b6a5f4e3d2c/system.journal: Journal header "
            "limits reached or header out-of-date, rotating.", prog="systemd-journald", pid=402)
    return log


SYSTEMS: dict[str, tuple[Callable[[random.Random], Log], str]] = {
    "nginx": (nginx, NGINX_FORMAT),
    "postgresql": (postgresql, PG_FORMAT),
    "kafka": (kafka, KAFKA_FORMAT),
    "redis": (redis, REDIS_FORMAT),
    "kubelet": (kubelet, KUBELET_FORMAT),
    "postfix": (postfix, POSTFIX_FORMAT),
    "ipmi_sel": (sel, SEL_FORMAT),
    "cisco_ios": (cisco, CISCO_FORMAT),
    "journal": (journal, JOURNAL_FORMAT),
}


def write(out: Path, seed: int = SEED) -> dict[str, int]:
    """Every system's log, labels and the formats file; lines per system."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for n, (name, (make, _)) in enumerate(SYSTEMS.items()):
        lines = make(random.Random(seed + n)).lines()
        (out / f"{name}.log").write_text("".join(text + "\n" for text, _ in lines), encoding="utf-8")
        with (out / f"{name}.labels.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(LABEL_HEADER)
            w.writerows([i, int(k.alert), k.failure_type.value, k.severity.value, k.note] for i, (_, k) in enumerate(lines, 1))
        counts[name] = len(lines)
    formats = {name: fmt for name, (_, fmt) in SYSTEMS.items()}
    (out / "formats.json").write_text(json.dumps(formats, indent=2) + "\n", encoding="utf-8")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    for name, n in write(args.out).items():
        print(f"{name}: {n} lines")


if __name__ == "__main__":
    main()
