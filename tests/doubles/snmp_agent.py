"""A real SNMP agent for tests: Debian's net-snmp `snmpd` on a loopback UDP port, with a v2c
community and a v3 USM user (authPriv, SHA-256 + AES-128), configured in a temp dir.

The agent itself is real (PDU handling, GETBULK, v3 discovery and USM errors, `sysUpTime`, which
restarts with the process). The device tables — interfaces, host resources, ENTITY-SENSOR, Cisco
ENVMON, Dell iDRAC — are served from a recorded `.snmprec` file through `pass_persist`, so a test
can move counters past a wrap or take an interface down between two polls:

    with SnmpAgent(tmp_path) as agent:
        agent.set("1.3.6.1.2.1.2.2.1.8.1", 2)   # ifOperStatus.1 = down
        agent.restart()                        # sysUpTime starts again from 0
"""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

from streamapp.processes import Proc

DATA = Path(__file__).resolve().parent.parent / "data" / "snmp" / "device.snmprec"
PASS = Path(__file__).resolve().parent / "snmp_pass.py"
# Subtrees answered from the recording, ahead (priority 1) of snmpd's own modules for the host.
SUBTREES = (
    "1.3.6.1.2.1.2.2",  # ifTable
    "1.3.6.1.2.1.25.2.3",  # hrStorageTable
    "1.3.6.1.2.1.25.3.3",  # hrProcessorTable
    "1.3.6.1.2.1.31.1.1",  # ifXTable
    "1.3.6.1.2.1.47.1.1.1",  # entPhysicalTable
    "1.3.6.1.2.1.99.1.1",  # entPhySensorTable
    "1.3.6.1.4.1.9.9",  # Cisco
    "1.3.6.1.4.1.674.10892",  # Dell
)


def snmpd_path() -> str | None:
    return shutil.which("snmpd") or shutil.which("snmpd", path="/usr/sbin")


class SnmpAgent:
    """`snmpd` in the foreground, owned by the test; `start`/`stop`/`restart` or a context manager."""

    def __init__(self, workdir: Path, *, community: str = "c0mmunity-test", user: str = "monitor",
                 auth_key: str = "auth-key-0123", priv_key: str = "priv-key-0123") -> None:
        self.dir = workdir
        self.community, self.user, self.auth_key, self.priv_key = community, user, auth_key, priv_key
        self.data = workdir / "device.snmprec"
        self.port = 0
        self._proc: Proc | None = None

    def start(self) -> SnmpAgent:
        binary = snmpd_path()
        if binary is None:
            raise RuntimeError("snmpd not installed (apt-get install -y snmpd)")
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.data.exists():
            shutil.copyfile(DATA, self.data)
        (self.dir / "persist").mkdir(exist_ok=True)
        passes = "\n".join(f"pass_persist -p 1 .{tree} {sys.executable} {PASS} {self.data}" for tree in SUBTREES)
        (self.dir / "snmpd.conf").write_text(
            f"rocommunity {self.community} 127.0.0.1\n"
            f"createUser {self.user} SHA-256 {self.auth_key} AES {self.priv_key}\n"
            f"rouser {self.user} authpriv\n"
            "sysName edge-sw1\n"
            "dontLogTCPWrappersConnects yes\n"
            f"{passes}\n"
        )
        for _ in range(5):  # a port picked free can be taken before snmpd binds it: try another
            self.port = self.port or _free_udp_port()
            env = {"SNMP_PERSISTENT_DIR": str(self.dir / "persist"), "MIBS": "", "MIBDIRS": str(self.dir)}
            argv = [binary, "-f", "-Lo", "-C", "-c", str(self.dir / "snmpd.conf"), f"udp:127.0.0.1:{self.port}"]
            (self.dir / "snmpd.log").unlink(missing_ok=True)  # the ready marker must be this run's
            self._proc = Proc(argv, env, self.dir / "snmpd.log", "NET-SNMP version")
            try:
                self._proc.wait_ready(timeout=15)
                return self
            except RuntimeError:
                self.port = 0
        raise RuntimeError(f"snmpd did not start:\n{(self.dir / 'snmpd.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate(timeout=10)
            self._proc = None

    def restart(self) -> None:
        """Stop and start on the same port: what a device reboot looks like to a poller."""
        self.stop()
        self.start()

    def set(self, oid: str, value: int | str) -> None:
        """Change one recorded value (keeping its type); the agent serves it from the next request."""
        lines = self.data.read_text().splitlines()
        for i, line in enumerate(lines):
            rec_oid, tag, _ = line.split("|", 2)
            if rec_oid == oid:
                lines[i] = f"{rec_oid}|{tag}|{value}"
                break
        else:
            raise KeyError(oid)
        tmp = self.data.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.data)

    def __enter__(self) -> SnmpAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
