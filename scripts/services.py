"""Local services for development, tests and the demo: real Kafka (KRaft, from Maven Central jars),
Redis and PostgreSQL from Debian, all on loopback, state under `.state/`.

    services.py up | down | status

`up` is idempotent: a service that already answers on its configured URL is reused (and never
stopped by `down`); one we start is recorded by pid in `.state/<name>/pid`, and `down` stops only
those. URLs come from the same settings the app reads (KAFKA_BROKER_URL, REDIS_URL, DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamapp.settings import get_settings  # noqa: E402

STATE = Path(os.environ.get("STREAMAPP_STATE_DIR", REPO / ".state"))
CACHE = Path(os.environ.get("STREAMAPP_CACHE_DIR", REPO / ".cache"))
KAFKA_LIB = CACHE / "kafka" / "lib"
def _pg_bin() -> Path:
    """Debian installs the server under /usr/lib/postgresql/<major>/bin; take the newest."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ["PG_BIN"]) if "PG_BIN" in os.environ else _pg_bin()


def log(msg: str) -> None:
    print(f"[services] {msg}", flush=True)


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """One progress line when a step starts and one with its duration when it is done."""
    log(f"{what} ...")
    started = time.monotonic()
    yield
    log(f"{what}: done in {time.monotonic() - started:.1f}s")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def wait_until(what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"[services] {what} not ready after {timeout:.0f}s")


def spawn(cmd: list[str], logfile: Path, *, user: str | None = None, env: dict | None = None) -> int:
    """Start a daemon in its own session (so it outlives us) and return its pid."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    preexec = None
    if user:
        pw = pwd.getpwnam(user)

        def preexec() -> None:  # runs in the child before exec
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=preexec, env=env,
        )
    return proc.pid


def run_tool(cmd: list[str]) -> None:
    """A setup command that must succeed; its failure is one line, not a traceback."""
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"[services] {' '.join(cmd[:3])} ... failed with exit code {exc.returncode}") from None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def stop_pid(pid: int, name: str, timeout: float = 30) -> None:
    if not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        log(f"{name} did not stop on SIGTERM, killing pid {pid}")
        os.kill(pid, signal.SIGKILL)


def cluster_id() -> str:
    """A random KRaft cluster id (base64url of a UUID), never starting with '-', as Kafka's own
    `Uuid.randomUuid` ensures: the storage tool would read such an id as an option."""
    while (cid := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cid


@dataclass
class Service:
    """One local service: its state folder, the pid we started (if any) and its URL."""

    name: str

    @property
    def dir(self) -> Path:
        return STATE / self.name

    @property
    def pidfile(self) -> Path:
        return self.dir / "pid"

    def our_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            if pid_alive(pid):
                return pid
        return None

    def record(self, pid: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pidfile.write_text(f"{pid}\n")

    def forget(self) -> None:
        self.pidfile.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- Kafka
class Kafka(Service):
    def __init__(self) -> None:
        super().__init__("kafka")
        first = get_settings().kafka_broker_url.split(";")[0].split("://")[-1]
        host, _, port = first.partition(":")
        self.host, self.port = host or "127.0.0.1", int(port or 9092)
        self.controller_port = self.port + 1

    @property
    def url(self) -> str:
        return f"kafka://{self.host}:{self.port}"

    def ensure_jars(self) -> None:
        if KAFKA_LIB.is_dir() and any(KAFKA_LIB.glob("kafka_2.13-*.jar")):
            return
        KAFKA_LIB.mkdir(parents=True, exist_ok=True)
        with step("fetching Apache Kafka jars from Maven Central (first run only)"):
            run_tool(["mvn", "-B", "-q", "-f", str(REPO / "scripts/kafka/pom.xml"),
                      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
                      "-DincludeScope=runtime", f"-DoutputDirectory={KAFKA_LIB}"])

    def java(self) -> list[str]:
        return [
            "java", "-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:MaxDirectMemorySize=128m", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile=file:{REPO / 'scripts/kafka/log4j2.properties'}",
            f"-Dkafka.logs.dir={self.dir / 'logs'}", "-cp", f"{KAFKA_LIB}/*",
        ]

    def write_config(self) -> Path:
        conf = self.dir / "server.properties"
        template = (REPO / "scripts/kafka/server.properties").read_text()
        s = get_settings()
        protocol = s.kafka_security_protocol
        conf.write_text(template.format(
            host=self.host, port=self.port, controller_port=self.controller_port, data=self.dir / "data",
            listener="PLAINTEXT" if protocol == "PLAINTEXT" else "CLIENT", protocol=protocol,
            security=self.security_config(),
        ))
        return conf

    def security_config(self) -> str:
        """The client listener's TLS (a certificate for the host, signed by a CA of its own, in
        `tls/`: KAFKA_SSL_CAFILE=<that>/ca.pem) and SASL (the configured user, which the broker
        also uses between its own listeners), following KAFKA_SECURITY_PROTOCOL."""
        s = get_settings()
        lines = []
        if s.kafka_security_protocol in ("SSL", "SASL_SSL"):
            tls = write_tls(self.dir / "tls", self.host)  # its own listener, between brokers, trusts the CA
            lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={tls / 'server.pem'}",
                      "ssl.truststore.type=PEM", f"ssl.truststore.location={tls / 'ca.pem'}"]
        if s.kafka_security_protocol.startswith("SASL"):
            mech, user = s.kafka_sasl_mechanism, s.kafka_sasl_username
            password = s.kafka_sasl_password.get_secret_value()
            module, users = "plain.PlainLoginModule", f' user_{user}="{password}"'
            if mech != "PLAIN":
                module, users = "scram.ScramLoginModule", ""  # SCRAM users are stored at format time
            lines += [
                f"sasl.enabled.mechanisms={mech}", f"sasl.mechanism.inter.broker.protocol={mech}",
                f"listener.name.client.{mech.lower()}.sasl.jaas.config=org.apache.kafka.common.security.{module} "
                f'required username="{user}" password="{password}"{users};',
            ]
        return "".join(line + "\n" for line in lines)

    def ready(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        return asyncio.run(_kafka_list_topics())

    def up(self) -> None:
        if self.our_pid() or self.ready():
            log(f"kafka already up at {self.url}")
            return
        self.ensure_jars()
        with step(f"starting kafka at {self.url}"):
            self.start()
        log(f"kafka up at {self.url} (Apache Kafka {kafka_version()}, KRaft, pid {self.our_pid()})")

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.write_config()
        cid_file = self.dir / "cluster.id"
        cid = cid_file.read_text().strip() if cid_file.exists() else ""
        if not cid or cid.startswith("-"):  # an id led by '-' reads as an option (never formatted)
            cid = cluster_id()
            cid_file.write_text(cid + "\n")
        s, scram = get_settings(), []
        if s.kafka_security_protocol.startswith("SASL") and s.kafka_sasl_mechanism != "PLAIN":
            scram = ["--add-scram", f"{s.kafka_sasl_mechanism}=[name={s.kafka_sasl_username},"
                     f"password={s.kafka_sasl_password.get_secret_value()}]"]
        run_tool([*self.java(), "kafka.tools.StorageTool", "format", "-t", cid, "-c", str(conf), "--ignore-formatted",
                  *scram])
        self.record(spawn([*self.java(), "kafka.Kafka", str(conf)], self.dir / "kafka.log"))
        wait_until("kafka", self.ready, 180)

    def down(self) -> None:
        pid = self.our_pid()
        if pid:
            stop_pid(pid, "kafka", timeout=60)
            log("kafka stopped")
        self.forget()

    def status(self) -> str:
        return status_line(self, self.url, self.ready())


def write_tls(folder: Path, host: str) -> Path:
    """In `folder`: a CA (`ca.pem`) and a certificate for `host` signed by it, with its key
    (`server.pem`, the form of Kafka's PEM key store); made once, reused after."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    server = folder / "server.pem"
    if server.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key, issuer: str, signer, ca: bool) -> x509.Certificate:  # type: ignore[no-untyped-def]
        b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=3650))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            name = x509.IPAddress(ipaddress.ip_address(host)) if host[0].isdigit() else x509.DNSName(host)
            b = b.add_extension(x509.SubjectAlternativeName([name]), critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("streamapp local CA", ca_key, "streamapp local CA", ca_key, True)
    leaf = cert(host, key, "streamapp local CA", ca_key, False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    server.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                       + leaf.public_bytes(pem) + ca.public_bytes(pem))
    server.chmod(0o600)
    return folder


async def _kafka_list_topics() -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    from connectors.kafka_admin import client_options

    admin = AIOKafkaAdminClient(request_timeout_ms=5000, **client_options(get_settings()))
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def kafka_version() -> str:
    jars = sorted(KAFKA_LIB.glob("kafka_2.13-*.jar"))
    return jars[0].stem.split("-", 1)[1] if jars else "?"


# ---------------------------------------------------------------------------------------------- Redis
class Redis(Service):
    def __init__(self) -> None:
        super().__init__("redis")
        u = urlparse(get_settings().redis_url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 6379

    @property
    def url(self) -> str:
        return get_settings().redis_url

    def ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        return False

    def up(self) -> None:
        if self.our_pid() or self.ready():
            log(f"redis already up at {self.url}")
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        # Append-only file on: a restarted Redis must still hold unacknowledged stream entries.
        cmd = [
            "redis-server", "--bind", self.host, "--port", str(self.port), "--dir", str(self.dir),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "no",
        ]
        with step(f"starting redis at {self.url}"):
            self.record(spawn(cmd, self.dir / "redis.log"))
            wait_until("redis", self.ready, 30)
        log(f"redis up at {self.url} (pid {self.our_pid()})")

    def down(self) -> None:
        pid = self.our_pid()
        if pid:
            stop_pid(pid, "redis")
            log("redis stopped")
        self.forget()

    def status(self) -> str:
        return status_line(self, self.url, self.ready())


# ----------------------------------------------------------------------------------------- PostgreSQL
class Postgres(Service):
    def __init__(self) -> None:
        super().__init__("postgres")
        u = urlparse(get_settings().database_url.get_secret_value())
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 5432
        self.user, self.password = u.username or "streamapp", u.password or "streamapp"
        self.db = (u.path or "/streamapp").lstrip("/") or "streamapp"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:***@{self.host}:{self.port}/{self.db}"

    @property
    def datadir(self) -> Path:
        """Postgres runs as the `postgres` user, which may not traverse a private clone folder
        (mktemp dirs are 0700); then the cluster lives under /var/tmp, linked from `.state`."""
        own = self.dir / "data"
        if self._postgres_can_reach(self.dir):
            return own
        digest = hashlib.sha256(str(STATE).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"streamapp-pg-{digest}"  # noqa: S108 - a named, per-checkout folder

    @staticmethod
    def _postgres_can_reach(path: Path) -> bool:
        return subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", f"test -x '{path.parent}'"], check=False
        ).returncode == 0

    def ready(self) -> bool:
        return subprocess.run(
            ["pg_isready", "-q", "-h", self.host, "-p", str(self.port)], check=False
        ).returncode == 0

    def psql_as_postgres(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c",
             f"psql -h {self.host} -p {self.port} -d {db} -tAc \"$SQL\""],
            env={**os.environ, "SQL": sql}, capture_output=True, text=True, check=False,
        )
        if out.returncode:
            raise SystemExit(f"[services] psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def ensure_database(self) -> None:
        """Create the project's role and database if the configured user cannot log in yet.
        Names come from DATABASE_URL and are checked to be plain identifiers before use."""
        for name in (self.user, self.db):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise SystemExit(f"[services] DATABASE_URL: {name!r} is not a plain identifier")
        password = self.password.replace("'", "''")
        env = {**os.environ, "PGPASSWORD": self.password}
        probe = subprocess.run(
            ["psql", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", self.db, "-tAc", "select 1"],
            env=env, capture_output=True, check=False,
        )
        if probe.returncode == 0:
            return
        if self.psql_as_postgres(f"select 1 from pg_roles where rolname='{self.user}'") != "1":  # noqa: S608
            self.psql_as_postgres(f"create role \"{self.user}\" login password '{password}'")
        if self.psql_as_postgres(f"select 1 from pg_database where datname='{self.db}'") != "1":  # noqa: S608
            self.psql_as_postgres(f"create database \"{self.db}\" owner \"{self.user}\"")

    def up(self) -> None:
        if self.our_pid() or self.ready():
            log(f"postgres already up at {self.url}")
            self.ensure_database()
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        data = self.datadir
        if data != self.dir / "data":
            link = self.dir / "data"
            if not link.is_symlink():
                link.unlink(missing_ok=True)
                link.symlink_to(data)
        sock = data.parent / f"{data.name}-sock"
        for d in (data, sock):
            d.mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "postgres", "postgres")
        data.chmod(0o700)
        if not (data / "PG_VERSION").exists():
            with step("creating the postgres cluster (initdb)"):
                run_tool(["su", "postgres", "-s", "/bin/sh", "-c",
                          f"{PG_BIN}/initdb -D '{data}' -A trust -U postgres -E UTF8 >/dev/null"])
        cmd = [
            str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(sock),
            "-c", f"listen_addresses={self.host}", "-c", "fsync=on", "-c", "shared_buffers=64MB",
        ]
        log_path = sock / "postgres.log"
        with step(f"starting postgres at {self.url}"):
            self.record(spawn(cmd, log_path, user="postgres"))
            wait_until("postgres", self.ready, 60)
            self.ensure_database()
        log(f"postgres up at {self.url} (pid {self.our_pid()})")

    def down(self) -> None:
        pid = self.our_pid()
        if pid:
            stop_pid(pid, "postgres")
            log("postgres stopped")
        self.forget()

    def status(self) -> str:
        return status_line(self, self.url, self.ready())


def status_line(svc: Service, url: str, ready: bool) -> str:
    pid = svc.our_pid()
    owner = f"started here, pid {pid}" if pid else ("external" if ready else "-")
    return f"{svc.name:9} {'up' if ready else 'down':5} {url}  ({owner})"


SERVICES = {"kafka": Kafka, "redis": Redis, "postgres": Postgres}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["up", "down", "status"])
    ap.add_argument("only", nargs="*", help=f"limit to these services ({', '.join(SERVICES)})")
    args = ap.parse_args()
    if unknown := set(args.only) - set(SERVICES):
        ap.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    services = [SERVICES[n]() for n in (args.only or SERVICES)]
    if args.action == "up":
        for s in services:
            s.up()
        for s in services:
            print(s.status())
    elif args.action == "down":
        for s in reversed(services):
            s.down()
    else:
        lines = [s.status() for s in services]
        print("\n".join(lines))
        return 0 if all(" up " in ln for ln in lines) else 3
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FileNotFoundError as exc:  # a tool run directly, without the wrapper's package step
        sys.exit(f"[services] {exc.filename} not found: `scripts/services up` installs what is missing")
