"""No configured secret ever leaves through a log, an API answer or Redis.

Sources with secrets of every kind (Datadog API/app keys, Splunk token and password, ThousandEyes
token, SNMP community and v3 keys, Redfish password, a Telegraf token) are created through the admin
API; LLM_API_KEY, ADMIN_TOKEN and the DATABASE_URL password are set in the settings. The producer
manager runs them against a server that refuses every request (and ports where nothing listens), the
API serves with its lifespan (the LLM health check runs), and every answer, every log record at
DEBUG and every Redis value of the test's namespace are searched for every secret."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from connectors.sources.manager import ProducerManager
from streamapp.api.app import create_api
from streamapp.processes import free_port
from streamapp.settings import Settings
from tests.support.streams import eventually

pytestmark = pytest.mark.integration


def secret(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex}"


class Refusing:
    """Answers every request 401 with a generic JSON error, and remembers the headers it was sent."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                outer.headers.append(dict(self.headers.items()))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b'{"error": {"message": "unauthorized", "code": "invalid_api_key"}, "errors": ["Forbidden"]}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _refuse  # the http.server hook names

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent(self, value: str) -> bool:
        return any(value in v for h in self.headers for v in h.values())


@pytest.fixture
def refusing() -> Iterator[Refusing]:
    r = Refusing()
    yield r
    r.server.shutdown()
    r.server.server_close()


SECRETS = {name: secret(name) for name in (
    "dd_api", "dd_app", "splunk_token", "splunk_password", "te_token", "snmp_community", "snmp_auth", "snmp_priv",
    "redfish_password", "llm_key", "admin", "db_password",
)}


@pytest.fixture
async def secret_settings(settings: Settings, refusing: Refusing) -> Settings:
    """The test's settings with secret LLM key, admin token and (when PostgreSQL admits any password,
    as the project's trust-authenticated service does) a secret DATABASE_URL password."""
    url = settings.database_url.get_secret_value()
    scheme, rest = url.split("://", 1)
    user = rest.split("@", 1)[0].split(":", 1)[0]
    with_password = f"{scheme}://{user}:{SECRETS['db_password']}@{rest.split('@', 1)[1]}"
    try:
        conn = await asyncpg.connect(with_password, timeout=5)
        await conn.close()
        url = with_password
    except (asyncpg.PostgresError, OSError):
        pass  # a password-checking server: the configured URL is used as is, its password not checked
    return settings.model_copy(update={
        "database_url": SecretStr(url), "admin_token": SecretStr(SECRETS["admin"]), "llm_provider": "openai",
        "llm_base_url": f"{refusing.url}/v1", "llm_api_key": SecretStr(SECRETS["llm_key"]), "llm_timeout_sec": 3.0,
        "llm_health_interval_sec": 0.5, "sources_reconcile_sec": 0.3, "sources_heartbeat_sec": 0.5,
    })


@pytest.fixture
async def api(secret_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(secret_settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c


def sources(refusing: Refusing) -> list[dict]:
    closed = free_port()
    return [
        {"name": "dd", "type": "datadog", "config": {"base_url": refusing.url, "interval_sec": 1, "timeout_sec": 2},
         "secrets": {"api_key": SECRETS["dd_api"], "app_key": SECRETS["dd_app"]}},
        {"name": "splunk", "type": "splunk", "config": {"base_url": refusing.url, "search": "search index=main",
                                                        "interval_sec": 1, "timeout_sec": 2},
         "secrets": {"token": SECRETS["splunk_token"]}},
        {"name": "splunk-basic", "type": "splunk", "config": {
            "base_url": refusing.url, "search": "search *", "auth": "basic", "username": "ops", "interval_sec": 1,
            "timeout_sec": 2}, "secrets": {"password": SECRETS["splunk_password"]}},
        {"name": "te", "type": "thousandeyes", "config": {"base_url": f"http://127.0.0.1:{closed}", "interval_sec": 1,
                                                          "timeout_sec": 2},
         "secrets": {"token": SECRETS["te_token"]}},
        {"name": "snmp-v2", "type": "snmp", "config": {"host": "127.0.0.1", "port": closed, "timeout_sec": 0.3,
                                                       "retries": 0},
         "secrets": {"community": SECRETS["snmp_community"]}},
        {"name": "snmp-v3", "type": "snmp", "config": {"host": "127.0.0.1", "port": closed, "version": "3",
                                                       "user": "monitor", "timeout_sec": 0.3, "retries": 0},
         "secrets": {"auth_key": SECRETS["snmp_auth"], "priv_key": SECRETS["snmp_priv"]}},
        {"name": "bmc", "type": "dcim_http", "config": {"url": refusing.url, "username": "root", "auth": "basic",
                                                        "timeout_sec": 2, "interval_sec": 1},
         "secrets": {"password": SECRETS["redfish_password"]}},
    ]


def forms(value: str) -> list[str]:
    """A secret as it could be written: raw, or inside an HTTP Basic credential."""
    return [value, base64.b64encode(f"ops:{value}".encode()).decode()[8:40],
            base64.b64encode(f"root:{value}".encode()).decode()[8:40]]


async def redis_dump(redis: aioredis.Redis, s: Settings) -> str:
    out = []
    async for key in redis.scan_iter(match=f"{s.stream_prefix}*", count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            out.append(repr(await redis.get(key)))
        elif kind == "hash":
            out.append(repr(await redis.hgetall(key)))
        elif kind == "stream":
            out.append(repr(await redis.xrange(key)))
        elif kind in ("set", "zset", "list"):
            out.append(repr(await {"set": redis.smembers, "zset": lambda k: redis.zrange(k, 0, -1),
                                   "list": lambda k: redis.lrange(k, 0, -1)}[kind](key)))
        out.append(repr(key))
    return "\n".join(out)


async def test_no_secret_leaves_through_logs_answers_or_redis(
    api: httpx.AsyncClient, secret_settings: Settings, refusing: Refusing, redis: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = {"Authorization": f"Bearer {SECRETS['admin']}"}
    answers: list[str] = []

    async def call(method: str, url: str, **kwargs: object) -> httpx.Response:
        r = await api.request(method, url, **kwargs)  # type: ignore[arg-type]
        answers.append(f"{method} {url} {r.status_code} {dict(r.headers)} {r.text}")
        return r

    ids = []
    for body in sources(refusing):
        r = await call("POST", "/sources", headers=admin, json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["source"]["id"])
    created = await api.post("/sources", headers=admin, json={"name": "agents", "type": "telegraf",
                                                               "config": {"allowed_hosts": ["web-01"]}})
    telegraf_token = created.json()["token"]  # shown once by design: the one answer not searched
    ids.append(created.json()["source"]["id"])
    await call("PUT", f"/sources/{ids[0]}", headers=admin, json={"secrets": {"api_key": SECRETS["dd_api"]}})
    await call("PUT", f"/sources/{ids[0]}", headers=admin, json={"secrets": {"nope": SECRETS["dd_api"]}})
    await call("POST", "/sources", headers=admin, json={"name": "x", "type": "datadog", "config": {"site": "nope"},
                                                        "secrets": {"api_key": SECRETS["dd_api"]}})

    manager = ProducerManager(secret_settings)
    await manager.start()
    try:
        async def all_failed() -> bool:
            statuses = [(await call("GET", f"/sources/{sid}/status", headers=admin)).json() for sid in ids[:-1]]
            return all(st.get("last_error") for st in statuses)

        await eventually(all_failed, timeout=30, interval=0.5)
        await eventually(lambda: _is(api_llm_checked(caplog)), timeout=10, interval=0.2)
        tg = {"Authorization": f"Bearer {telegraf_token}"}
        await call("POST", "/telemetry/telegraf", headers=tg, content=b"cpu,host=web-01 usage_idle=1")
        await call("POST", "/telemetry/telegraf", headers=tg, content=b"cpu,host=db-01 usage_idle=1")
        await call("POST", "/telemetry/telegraf", headers=tg, content=b"cpu,host=web-01 usage_idle=oops")
        await call("POST", "/telemetry/telegraf", headers={"Authorization": f"Bearer {telegraf_token}x"}, content=b"x")
        await call("POST", "/telemetry/telegraf", headers={**tg, "Content-Encoding": "br"}, content=b"x")
        for url in ("/sources", *(f"/sources/{sid}" for sid in ids), "/readyz", "/healthz", "/alerts",
                    "/alerts/nope", "/deadletters", "/telemetry/toggles"):
            await call("GET", url, headers=admin)
        await call("GET", "/sources", headers={"Authorization": f"Bearer {SECRETS['admin']}-wrong"})
        await call("PUT", "/telemetry/toggles", headers=admin, json={"otel_export": "yes"})
        stored = await redis_dump(redis, secret_settings)
    finally:
        await manager.stop()

    assert refusing.sent(SECRETS["dd_api"]) and refusing.sent(SECRETS["splunk_token"]), "the secrets were used"
    assert refusing.sent(SECRETS["llm_key"])
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "source:" in stored and "last_error" in stored and len(caplog.records) > 20
    everything = {"logs": logs, "answers": "\n".join(answers), "redis": stored, "settings": repr(secret_settings)}
    checked = {name: value for name, value in SECRETS.items()
               if name != "db_password" or value in secret_settings.database_url.get_secret_value()}
    leaks = [(name, where) for name, value in {**checked, "telegraf": telegraf_token}.items()
             for where, text in everything.items() if any(f in text for f in forms(value))]
    assert leaks == [], f"secrets found: {leaks}"


def api_llm_checked(caplog: pytest.LogCaptureFixture) -> bool:
    return any("401" in r.getMessage() or "unauthorized" in r.getMessage().lower() for r in caplog.records
               if "llm" in r.name or "openai" in r.name or "httpx" in r.name)


async def _is(value: bool) -> bool:
    return value


async def test_readyz_does_not_show_the_database_password_when_postgres_is_down(
    secret_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = SECRETS["db_password"]
    down = secret_settings.model_copy(update={
        "database_url": SecretStr(f"postgresql://streamapp:{password}@127.0.0.1:{free_port()}/streamapp"),
        "llm_provider": "none",
    })
    app = create_api(down)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # an unexpected error is a 500 answer
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        ready = await client.get("/readyz")
        listed = await client.get("/sources", headers={"Authorization": f"Bearer {SECRETS['admin']}"})
    await app.state.alerts.aclose()
    assert ready.status_code == 503 and not json.loads(ready.text)["dependencies"]["postgres"]["ok"]
    assert listed.status_code >= 500
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert password not in ready.text + listed.text + logs
