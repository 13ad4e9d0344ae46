"""A real Chroma server for tests: the `chroma run` that the chromadb package ships (its Rust server),
on a free loopback port, with its data in the test's folder."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from streamapp.processes import BIN, Proc, free_port

HOST = "127.0.0.1"


class ChromaServer:
    """`chroma run --path DIR --host 127.0.0.1 --port N`; `restart` keeps the folder and the port."""

    def __init__(self, path: Path, log_path: Path) -> None:
        self.path = path
        self.log_path = log_path
        self.port = free_port()
        self._proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server; return once its heartbeat answers."""
        argv = [str(BIN / "chroma"), "run", "--path", str(self.path), "--host", HOST, "--port", str(self.port)]
        self._proc = proc = Proc(argv, {}, self.log_path, ready_marker=None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"chroma exited with {proc.popen.returncode}:\n{proc.output()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        proc.kill()
        raise TimeoutError(f"chroma did not answer its heartbeat within {timeout}s:\n{proc.output()[-4000:]}")

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not exit in time."""
        if self._proc is None:
            return
        try:
            self._proc.terminate(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
