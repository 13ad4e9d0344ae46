"""`scripts/services` brings up real Kafka 4.1 (from the Maven Central jars), Redis and PostgreSQL,
reports them, and stops exactly what it started — shown here on a second set of ports and a
state folder of the test's own, so the suite's services are left alone."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import pytest
import redis

from streamapp.processes import free_port
from tests.support.kafka import list_topics
from tests.support.services import free_pair, services

pytestmark = pytest.mark.integration


async def test_up_status_down_on_other_ports(tmp_path: Path) -> None:
    kafka, rport, pport = free_pair(), free_port(), free_port()
    env = {
        "STREAMAPP_STATE_DIR": str(tmp_path / "state"),
        "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{kafka}",
        "REDIS_URL": f"redis://127.0.0.1:{rport}/0",
        "DATABASE_URL": f"postgresql://streamapp:streamapp@127.0.0.1:{pport}/streamapp",
    }
    try:
        up = services("up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Apache Kafka 4.1." in up.stdout and "KRaft" in up.stdout
        status = services("status", env=env)
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert len(lines) == 3 and all(" up " in ln and "started here" in ln for ln in lines), status.stdout
        assert await list_topics(f"127.0.0.1:{kafka}") is not None
        assert redis.Redis(port=rport).ping()
        assert await _pg_select(pport) == 1
        again = services("up", env=env)  # idempotent
        assert again.returncode == 0 and again.stdout.count("already up") == 3
    finally:
        down = services("down", env=env)
    assert down.returncode == 0
    after = services("status", env=env)
    assert after.returncode == 3 and all(" down " in ln for ln in after.stdout.splitlines()), after.stdout


async def _pg_select(port: int) -> int:
    conn = await asyncpg.connect(f"postgresql://streamapp:streamapp@127.0.0.1:{port}/streamapp", timeout=10)
    try:
        return await conn.fetchval("select 1")
    finally:
        await conn.close()


def _path_without(tmp_path: Path, *tools: str, extra: dict[str, str] | None = None) -> str:
    """A PATH with every tool of ours but `tools` (symlinks), plus `extra` scripts (name -> text)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else ():
            link = bin_dir / tool.name
            if tool.name not in tools and not link.exists() and os.access(tool, os.X_OK):
                link.symlink_to(tool)
    for name, text in (extra or {}).items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


def test_a_missing_tool_without_apt_is_one_line_naming_the_package_and_the_command(tmp_path: Path) -> None:
    """No `redis-server` and no apt-get: `up` stops before any service is touched, on one line."""
    env = {"PATH": _path_without(tmp_path, "redis-server", "apt-get"), "STREAMAPP_STATE_DIR": str(tmp_path / "st")}
    out = services("up", env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == "", "nothing started or checked past the package step"
    (line,) = out.stderr.strip().splitlines()
    assert "missing Debian packages: redis-server" in line
    assert "apt-get install -y --no-install-recommends redis-server" in line
    assert "Traceback" not in out.stderr


def test_as_root_with_apt_the_missing_packages_are_installed_with_progress_lines(tmp_path: Path) -> None:
    """A stand-in apt-get records its calls and provides `redis-server`: the package step installs it."""
    calls = tmp_path / "apt-calls"
    fake_apt = (
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > "$(dirname "$0")/redis-server"; '
        'chmod +x "$(dirname "$0")/redis-server"; fi\n'
    )
    env = {"PATH": _path_without(tmp_path, "redis-server", "apt-get", extra={"apt-get": fake_apt}),
           "STREAMAPP_STATE_DIR": str(tmp_path / "st")}
    out = services("packages", env=env)
    if os.geteuid() != 0:  # not root: the one-line message instead (shown above)
        assert out.returncode == 2 and "sudo apt-get install" in out.stderr
        return
    assert out.returncode == 0, out.stdout + out.stderr
    assert calls.read_text().splitlines() == ["update -q", "install -y -q --no-install-recommends redis-server"]
    assert "[services] installing Debian packages: redis-server: done in " in out.stdout
    again = services("packages", env=env)  # nothing missing any more: nothing run
    assert again.returncode == 0 and again.stdout == "" and len(calls.read_text().splitlines()) == 2
