"""Table views on a running worker: open issues and prototypes, listed and fetched by key over
HTTP, behind the admin token."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.settings import Settings
from tests.support.streams import eventually, xadd_lines

pytestmark = pytest.mark.integration

TOKEN = "views-admin-token-of-the-tests-0123456789"
DISK = "Jun 14 15:16:{s:02d} web-01 kernel: end_request: I/O error, dev sda, sector {n}"
SSH = "Jun 14 15:17:{s:02d} web-01 sshd[4242]: Failed password for invalid user admin from 10.0.0.{n} port 22 ssh2"


async def test_open_issues_and_prototypes_over_http(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {
        **env, "ADMIN_TOKEN": TOKEN, "ISSUE_INACTIVITY_SEC": "600", "ISSUE_MAX_LINES": "10",
        "CLUSTER_MIN_SIZE": "2",
    }
    worker = start_worker(env, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{env['WEB_PORT']}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        disk = [DISK.format(s=i % 60, n=1000 + i) for i in range(30)]  # three issues of 10 lines
        ssh = [SSH.format(s=i, n=i) for i in range(2)]  # one issue, left open
        await xadd_lines(redis, settings.redis_key("logs"), disk + ssh, "web-01.log")
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/issues/")).status_code == 401
            assert (await http.get("/issues/", headers={"Authorization": "Bearer wrong"})).status_code == 401

            async def ssh_issue_open():
                body = (await http.get("/issues/", headers=auth)).json()
                return [i for i in body["items"] if i["key"] == "linux|web-01|sshd|4242" and i["line_count"] == 2]

            (listed,) = await eventually(ssh_issue_open, timeout=90)
            assert listed["state"] == "open" and listed["severity"] == "warning"  # auth-failure rule
            one = await http.get(f"/issues/{quote(listed['key'], safe='')}/", headers=auth)
            assert one.status_code == 200, one.text
            issue = one.json()
            assert issue["line_count"] == 2 and len(issue["head"]) == 2 and issue["component"] == "sshd"
            assert (await http.get("/issues/linux%7Cnope%7Cx%7C1/", headers=auth)).status_code == 404

            async def prototype_with_three():
                body = (await http.get("/prototypes/", headers=auth)).json()
                return [p for p in body["items"] if p["member_count"] == 3]

            (proto,) = await eventually(prototype_with_three, timeout=90)
            detail = await http.get(f"/prototypes/linux/{proto['id']}/", headers=auth)
            assert detail.status_code == 200, detail.text
            body = detail.json()
            assert any("I/O error" in t for t in body["templates"].values())
            assert len(body["exemplars"]) == 3 and "centroid" not in body
            page = (await http.get("/issues/?limit=1", headers=auth)).json()
            assert len(page["items"]) == 1 and page["next_offset"] == 1
            assert (await http.get("/issues/?limit=x", headers=auth)).status_code == 400
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
