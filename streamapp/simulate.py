"""Simulated traffic of our own making: Linux syslog, macOS system.log and Windows CBS lines from a
small fleet, routine noise plus injected incidents whose ground truth is known (pure, seeded).

Each incident is a burst of the messages that failure really produces on one host (message
formats of the kernel, smartd, EDAC, sshd, systemd, ...), spread over some seconds, so the
pipeline has to group, cluster and classify it like real traffic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from streamapp.taxonomy import FailureType

LINUX_HOSTS = ("web-01", "web-02", "db-01", "db-02", "cache-01", "lb-01")
MAC_HOSTS = ("mac-build-01",)
WIN_HOSTS = ("win-app-01",)

# Routine noise: (component, pid or None, message); `{n}` and friends are filled per line.
LINUX_NOISE = (
    ("CRON", True, "pam_unix(cron:session): session opened for user root by (uid=0)"),
    ("CRON", True, "pam_unix(cron:session): session closed for user root"),
    ("CRON", True, "(root) CMD (run-parts /etc/cron.hourly)"),
    ("sshd", True, "Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: RSA SHA256:{hexid}"),
    ("sshd", True, "pam_unix(sshd:session): session opened for user deploy by (uid=0)"),
    ("systemd", False, "Started Session {n} of user deploy."),
    ("systemd", False, "Starting Daily apt download activities..."),
    ("systemd", False, "Finished Daily apt download activities."),
    ("dhclient", True, "DHCPREQUEST for 10.0.{a}.{b} on eth0 to 10.0.0.1 port 67"),
    ("dhclient", True, "bound to 10.0.{a}.{b} -- renewal in {n} seconds."),
    ("kernel", False, "[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.{b} DST=10.0.{a}.{b} PROTO=TCP SPT={port} DPT=23"),
    ("nginx", True, "10.0.{a}.{b} - - \"GET /api/v1/items/{n} HTTP/1.1\" 200 {n} \"-\" \"curl/8.5.0\""),
    ("postfix/smtpd", True, "connect from mail{a}.example.net[198.51.100.{b}]"),
    ("rsyslogd", False, "[origin software=\"rsyslogd\"] rsyslogd was HUPed"),
)

MAC_NOISE = (  # (component, fixed pid or None for a fresh one, message)
    ("kernel", 0, "AppleThunderboltNHIType2::prePCIWake - power up complete - took {n} us"),
    ("com.apple.xpc.launchd", 1, "(com.apple.mdworker.shared.{hexid}) Service exited due to SIGKILL"),
    ("symptomsd", None, "__73-[NetworkAnalyticsEngine observeValueForKeyPath:ofObject:change:context:]_block_invoke"),
)

WIN_NOISE = (
    ("CBS", "Loaded Servicing Stack v6.1.7601.{n} with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack"),
    ("CBS", "Session: 30546174_{n} initialized by client WindowsUpdateAgent."),
    ("CSI", "00000{n}@2016/9/28:04:30:31.{n} WcpInitialize (wcp.dll version 0.0.0.6) called"),
)

# Incidents: failure type -> the lines it produces, (component, has pid, message).
INCIDENTS: dict[FailureType, tuple[tuple[str, bool, str], ...]] = {
    FailureType.HARDWARE_DISK: (
        ("kernel", False, "ata{a}.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x0"),
        ("kernel", False, "ata{a}.00: failed command: READ DMA EXT"),
        ("kernel", False, "blk_update_request: I/O error, dev sda, sector {sector} op 0x0:(READ) flags 0x0"),
        ("kernel", False, "Buffer I/O error on dev sda1, logical block {sector}, async page read"),
        ("smartd", True, "Device: /dev/sda [SAT], {n} Currently unreadable (pending) sectors"),
    ),
    FailureType.HARDWARE_MEMORY: (
        ("kernel", False, "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#{a}_DIMM#0 (channel:{a} slot:0 page:0x{hexid} offset:0x0 grain:32 syndrome:0x0)"),
        ("kernel", False, "mce: [Hardware Error]: Machine check events logged"),
        ("kernel", False, "EDAC sbridge MC0: HANDLING MCE MEMORY ERROR"),
    ),
    FailureType.HARDWARE_THERMAL: (
        ("kernel", False, "CPU{a}: Core temperature above threshold, cpu clock throttled (total events = {n})"),
        ("kernel", False, "CPU{a}: Package temperature above threshold, cpu clock throttled (total events = {n})"),
        ("ipmievd", True, "Temperature Sensor CPU{a} Temp Upper Critical going high Reading {temp} > Threshold 90 degrees C"),
    ),
    FailureType.HARDWARE_FAN: (
        ("ipmievd", True, "Fan FAN{a} Lower Critical going low Reading 0 < Threshold 600 RPM"),
        ("ipmievd", True, "Fan FAN{a} Fan failure detected, fan speed below lower threshold"),
    ),
    FailureType.HARDWARE_PSU: (
        ("ipmievd", True, "Power Supply PS{a} Power Supply AC lost Asserted"),
        ("ipmievd", True, "Power Supply PS{a} Failure detected Asserted"),
        ("ipmievd", True, "Power Unit Redundancy Redundancy Lost Asserted"),
    ),
    FailureType.OS_OOM: (
        ("kernel", False, "java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0"),
        ("kernel", False, "Out of memory: Killed process {pid} (java) total-vm:{n}kB, anon-rss:{n}kB, file-rss:0kB"),
        ("kernel", False, "oom_reaper: reaped process {pid} (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"),
    ),
    FailureType.NETWORK_LINK: (
        ("kernel", False, "e1000e: eth{a} NIC Link is Down"),
        ("kernel", False, "e1000e: eth{a} NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None"),
        ("NetworkManager", True, "<info>  [{n}.{n}] device (eth{a}): state change: activated -> unavailable (reason 'carrier-changed')"),
    ),
    FailureType.NETWORK_DNS: (
        ("systemd-resolved", True, "Using degraded feature set UDP instead of UDP+EDNS0 for DNS server 10.0.0.53."),
        ("app-worker", True, "getaddrinfo EAI_AGAIN payments.internal.example.com: Temporary failure in name resolution"),
        ("postfix/smtp", True, "warning: mx{a}.example.org: Host not found, try again"),
    ),
    FailureType.APP_CRASH: (
        ("kernel", False, "traps: app-worker[{pid}] general protection fault ip:{hexid} sp:7ffd{hexid} error:0 in libc.so.6"),
        ("systemd", False, "app-worker.service: Main process exited, code=dumped, status=11/SEGV"),
        ("systemd", False, "app-worker.service: Failed with result 'core-dump'."),
        ("systemd", False, "app-worker.service: Scheduled restart job, restart counter is at {a}."),
    ),
    FailureType.SECURITY_AUTH: (
        ("sshd", True, "Failed password for invalid user {user} from 203.0.113.{b} port {port} ssh2"),
        ("sshd", True, "Invalid user {user} from 203.0.113.{b} port {port}"),
        ("sshd", True, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.{b}"),
    ),
}
USERS = ("admin", "oracle", "test", "ubuntu", "guest", "postgres", "git", "support")


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
        rnd = random.Random(seed)
        kinds = list(INCIDENTS)
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
            Incident(x.id, x.failure_type, x.host, x.start, x.start + rnd.uniform(5, 12), x.lines) for x in self.incidents
        ]

    def lines(self) -> Iterator[SimLine]:
        """Every line of the scenario in time order (deterministic for the seed)."""
        rnd = random.Random(self.seed + 1)
        out: list[SimLine] = []
        n = int(self.duration * self.rate)
        for i in range(n):
            out.append(self._noise(i * self.duration / n, rnd))
        for inc in self.incidents:
            pids = {c: rnd.randrange(300, 32_000) for c, _, _ in INCIDENTS[inc.failure_type]}
            for k in range(inc.lines):
                comp, has_pid, msg = rnd.choice(INCIDENTS[inc.failure_type])
                at = inc.start + (inc.end - inc.start) * k / inc.lines
                line = syslog(self._clock(at), inc.host, comp, pids[comp] if has_pid else None, _fill(msg, rnd))
                out.append(SimLine(at, f"sim:linux:{inc.host}", line, inc.id))
        out.sort(key=lambda x: x.at)
        return iter(out)

    def _noise(self, at: float, rnd: random.Random) -> SimLine:
        pick = rnd.random()
        if self.with_mac_windows and pick < 0.05:
            comp, pid, msg = rnd.choice(MAC_NOISE)
            host = MAC_HOSTS[0]
            pid = rnd.randrange(300, 9000) if pid is None else pid
            line = syslog(self._clock(at), host, comp, pid, _fill(msg, rnd))
            return SimLine(at, f"sim:macos:{host}", line)
        if self.with_mac_windows and pick < 0.10:
            comp, msg = rnd.choice(WIN_NOISE)
            ts = self._clock(at).strftime("%Y-%m-%d %H:%M:%S")
            return SimLine(at, f"sim:windows:{WIN_HOSTS[0]}", f"{ts}, Info                  {comp}    {_fill(msg, rnd)}")
        comp, has_pid, msg = rnd.choice(LINUX_NOISE)
        host = rnd.choice(LINUX_HOSTS)
        pid = rnd.randrange(300, 32_000) if has_pid else None
        return SimLine(at, f"sim:linux:{host}", syslog(self._clock(at), host, comp, pid, _fill(msg, rnd)))

    def _clock(self, at: float) -> datetime:
        return datetime.fromtimestamp(self.start.timestamp() + at, tz=UTC)


# How the simulated sources are configured (SOURCE_FORMATS), as a user would configure them.
SOURCE_FORMATS = {"sim:linux:*": "linux", "sim:macos:*": "macos", "sim:windows:*": "windows"}
