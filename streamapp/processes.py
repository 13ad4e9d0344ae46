"""Child processes of the demo, the benches and the tests: free ports, and workers, bridges and
the API started exactly as a user starts them, with their output in a log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A child process whose output goes to a log file, with the ways a test stops it."""

    def __init__(
        self, argv: list[str], env: dict[str, str], log_path: Path, ready_marker: str | None, cwd: Path | None = None
    ) -> None:
        self.argv, self.log_path, self.ready_marker = argv, log_path, ready_marker
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.popen = subprocess.Popen(
            argv, cwd=cwd or Path.cwd(), env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.popen.returncode}:\n{self.output()[-4000:]}")
            if self.ready_marker is None or self.ready_marker in self.output():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.argv} not ready after {timeout}s:\n{self.output()[-4000:]}")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait: the clean shutdown path. Returns the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: the crash path (no cleanup runs)."""
        if self.popen.poll() is None:
            self.popen.kill()
        return self.wait(30)

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        finally:
            self._log.close()


def worker_process(env: dict[str, str], log_path: Path, app: str = "streamapp", cwd: Path | None = None) -> Proc:
    """`faust -A <app> worker -l info`, exactly as users run it; ready when Faust says so."""
    return Proc([str(BIN / "faust"), "-A", app, "worker", "-l", "info"], env, log_path, "[^Worker]: Ready", cwd=cwd)


def start_worker(env: dict[str, str], log_path: Path, app: str = "streamapp", cwd: Path | None = None) -> Proc:
    """A worker process, once it is ready."""
    proc = worker_process(env, log_path, app, cwd)
    proc.wait_ready()
    return proc


def start_cli(args: list[str], env: dict[str, str], log_path: Path, ready_marker: str | None = None) -> Proc:
    """`streamapp <args>` as a child process."""
    proc = Proc([str(BIN / "streamapp"), *args], env, log_path, ready_marker)
    if ready_marker:
        proc.wait_ready()
    return proc
