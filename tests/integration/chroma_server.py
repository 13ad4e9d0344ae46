"""A real Chroma server for tests: the `chroma run` that chromadb ships, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str:
    """The `chroma` CLI installed beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` CLI (from the chromadb package) is not installed")
    return found


class ChromaServer:
    """`chroma run --path DIR --host 127.0.0.1 --port N`, started and stopped by the test.

    The same data folder and port survive `restart`, so a test can check what persists.
    """

    def __init__(self, path: Path, log: Path, *, port: int | None = None) -> None:
        self.path = path
        self.log = log
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and return once its heartbeat answers."""
        # No inherited Chroma or OpenTelemetry variables: the server must not send data anywhere.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "OTEL_"))}
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [chroma_executable(), "run", "--path", str(self.path), "--host", HOST, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chroma exited with {self._proc.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma did not answer its heartbeat within {timeout}s; see {self.log}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
