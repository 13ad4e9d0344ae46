"""Data sources' secrets at rest in the real PostgreSQL: sealed (envelope encryption with
SECRETS_KEY), rows from before sealing converted at start, a key rotation re-wraps every row, and
without SECRETS_KEY a secret is refused rather than stored in plain text."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from connectors.datasources import DataSourceStore
from streamapp.sealing import new_key
from streamapp.settings import Settings
from tests.support.api import api_client

pytestmark = pytest.mark.integration
TOKEN = "sealed-secrets-admin-of-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def stored_text(settings: Settings) -> str:
    """Every row of the test's data-source tables, as text: what a database dump would show."""
    conn = await asyncpg.connect(settings.database_url.get_secret_value(), timeout=10)
    try:
        await conn.execute(f'set search_path to "{settings.database_schema}"')
        rows = [*await conn.fetch("select * from data_source"), *await conn.fetch("select * from data_source_secret")]
        return "\n".join(json.dumps(dict(r), default=str) for r in rows)
    finally:
        await conn.close()


async def test_secrets_are_sealed_at_rest_and_keys_rotate(settings: Settings) -> None:
    secret = f"dd-api-{uuid.uuid4().hex}"
    admin = settings.model_copy(update={"admin_token": SecretStr(TOKEN)})
    async with api_client(admin) as api:
        r = await api.post("/sources", headers=AUTH, json={"name": "dd", "type": "datadog", "config": {},
                                                           "secrets": {"api_key": secret, "app_key": "app-" + secret}})
        assert r.status_code == 201, r.text
        sid = r.json()["source"]["id"]
        r = await api.put(f"/sources/{sid}", headers=AUTH, json={"secrets": {"app_key": "new-" + secret}})
        assert r.status_code == 200 and r.json()["has_secrets"] is True
    dump = await stored_text(settings)
    assert secret not in dump and sid in dump, "a database dump shows no secret"

    store = await DataSourceStore.connect(settings)
    try:
        (cfg,) = await store.enabled_configs()
        assert cfg.secrets == {"api_key": secret, "app_key": "new-" + secret}, "merged on update"
    finally:
        await store.close()

    keys = f"{new_key()},{settings.secrets_key.get_secret_value()}"  # a new key first, the old one after
    rotated = settings.model_copy(update={"secrets_key": SecretStr(keys)})
    store = await DataSourceStore.connect(rotated)  # re-wraps every data key with the new key at start
    await store.close()
    only_new = rotated.model_copy(update={"secrets_key": SecretStr(rotated.secret_keys()[0])})
    store = await DataSourceStore.connect(only_new)
    try:
        assert [c.secrets["api_key"] for c in await store.enabled_configs()] == [secret], "the old key can go"
    finally:
        await store.close()


async def test_rows_stored_in_plain_text_are_sealed_at_start(settings: Settings) -> None:
    secret = f"splunk-{uuid.uuid4().hex}"
    store = await DataSourceStore.connect(settings.model_copy(update={"secrets_key": SecretStr("")}))
    try:  # as rows were before sealing: secrets in the jsonb column
        await store.pool.execute("insert into data_source (name, type, config) values ('old', 'splunk', '{}')")
        await store.pool.execute("insert into data_source_secret (source_id, secrets) select id, $1::jsonb "
                                 "from data_source where name = 'old'", json.dumps({"token": secret}))
    finally:
        await store.close()
    assert secret in await stored_text(settings)
    store = await DataSourceStore.connect(settings)
    try:
        assert [c.secrets for c in await store.enabled_configs()] == [{"token": secret}]
    finally:
        await store.close()
    assert secret not in await stored_text(settings)


async def test_without_secrets_key_a_secret_is_refused(settings: Settings) -> None:
    keyless = settings.model_copy(update={"admin_token": SecretStr(TOKEN), "secrets_key": SecretStr("")})
    async with api_client(keyless) as api:
        r: httpx.Response = await api.post("/sources", headers=AUTH, json={
            "name": "dd", "type": "datadog", "config": {}, "secrets": {"api_key": "x"}})
    assert r.status_code == 422 and r.json()["field"] == "secrets" and "SECRETS_KEY" in r.json()["error"]
