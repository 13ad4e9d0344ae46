"""A private set of services, started by `scripts/services` on ports and a state folder of the
test's own, for tests that stop and restart them (the suite's services are left alone)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from streamapp.processes import free_port
from tests.conftest import REPO


def free_pair() -> int:
    """A port p with p+1 free too (Kafka's controller listens on p+1)."""
    while True:
        p = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
            except OSError:
                continue
        return p


def services(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`scripts/services <args>` with `env`; output captured."""
    return subprocess.run(
        [str(REPO / "scripts" / "services"), *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=300, check=False,
    )


class PrivateServices:
    """Kafka, Redis (and PostgreSQL if asked) of one test; `stop`/`start` one of them by name.
    `security`: KAFKA_SECURITY_PROTOCOL and its companions, for the broker and its clients."""

    def __init__(self, state: Path, with_postgres: bool = False, security: dict[str, str] | None = None) -> None:
        self.names = ["kafka", "redis", *(["postgres"] if with_postgres else [])]
        self.env = {
            **(security or {}),
            "STREAMAPP_STATE_DIR": str(state),
            "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{free_pair()}",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "DATABASE_URL": f"postgresql://streamapp:streamapp@127.0.0.1:{free_port()}/streamapp",
        }

    def start(self, *names: str) -> None:
        out = services("up", *(names or self.names), env=self.env)
        assert out.returncode == 0, out.stdout + out.stderr

    def stop(self, *names: str) -> None:
        out = services("down", *(names or self.names), env=self.env)
        assert out.returncode == 0, out.stdout + out.stderr

    def __enter__(self) -> PrivateServices:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
