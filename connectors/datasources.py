"""The `data_source` table in PostgreSQL (asyncpg): rows, secrets kept apart and sealed
(`streamapp.sealing`, SECRETS_KEY), Telegraf token hashes, versioned SQL migrations applied at
start, and LISTEN/NOTIFY on changes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

from connectors.sources.base import SourceConfig
from streamapp.errors import ConfigError
from streamapp.sealing import InvalidToken, Keys
from streamapp.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "data_source_changed:{schema}"
_COLUMNS = "id::text, name, type, enabled, config, created_at, updated_at"
_HAS_SECRETS = ("exists(select 1 from data_source_secret s where s.source_id = d.id "
                "and (s.sealed is not null or s.secrets <> '{}'::jsonb)) as has_secrets")


@dataclass(frozen=True)
class DataSource:
    """A row as the API shows it: no secrets, only whether some are set."""

    id: str
    name: str
    type: str
    enabled: bool
    config: dict[str, Any]
    created_at: float
    updated_at: float
    has_secrets: bool = False

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _row(r: asyncpg.Record, has_secrets: bool = False) -> DataSource:
    return DataSource(
        id=r["id"], name=r["name"], type=r["type"], enabled=r["enabled"], config=json.loads(r["config"]),
        created_at=r["created_at"].timestamp(), updated_at=r["updated_at"].timestamp(), has_secrets=has_secrets,
    )


class DataSourceStore:
    """All access to data sources; one asyncpg pool, explicit timeouts."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, schema: str, keys: tuple[str, ...] = ()) -> None:
        self.pool = pool
        self._dsn = dsn
        self.schema = schema
        self._keys = keys

    def keys(self) -> Keys:
        """The sealing keys; ConfigError when SECRETS_KEY is unset or invalid."""
        return Keys(self._keys)

    @classmethod
    async def connect(cls, settings: Settings) -> DataSourceStore:
        dsn, schema = settings.database_url.get_secret_value(), settings.database_schema
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            await conn.execute(f'create schema if not exists "{schema}"')  # a validated identifier
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=4, timeout=10, command_timeout=10, server_settings={"search_path": schema}
        )
        store = cls(pool, dsn, schema, settings.secret_keys())
        await store.migrate()
        await store.seal_stored()
        return store

    async def close(self) -> None:
        await self.pool.close()

    async def migrate(self) -> list[int]:
        """Apply the versioned SQL files not applied yet, each in its own transaction, under an
        advisory lock (several processes may start at once)."""
        files = sorted(
            (int(f.name.split("_", 1)[0]), f) for f in resources.files("connectors.migrations").iterdir()
            if f.name.endswith(".sql")
        )
        applied: list[int] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("select pg_advisory_xact_lock(hashtext($1))", f"streamapp-migrate:{self.schema}")
            await conn.execute(
                "create table if not exists schema_migrations (version int primary key, "
                "applied_at timestamptz not null default now())"
            )
            done = {r["version"] for r in await conn.fetch("select version from schema_migrations")}
            for version, f in files:
                if version not in done:
                    await conn.execute(f.read_text())
                    await conn.execute("insert into schema_migrations (version) values ($1)", version)
                    applied.append(version)
        return applied

    async def seal_stored(self) -> int:
        """Seal the secrets rows hold in plain text (rows from before sealing) and wrap every data
        key with the current key (after a rotation); returns the rows changed. Without SECRETS_KEY
        nothing can be sealed: plain rows are only counted in a warning."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch("select source_id, secrets, sealed from data_source_secret "
                                    "where sealed is not null or secrets <> '{}'::jsonb for update")
            if not self._keys:
                if plain := sum(r["sealed"] is None for r in rows):
                    log.warning("data sources: %d rows hold secrets in plain text; set SECRETS_KEY", plain)
                return 0
            keys, changed = self.keys(), 0
            for r in rows:
                sealed, plain = r["sealed"], json.loads(r["secrets"])
                try:
                    new = keys.seal({**(keys.unseal(sealed) if sealed else {}), **plain}) if plain else \
                        keys.rewrap(sealed)
                except InvalidToken:
                    log.error("data source %s: its secrets were sealed by a key SECRETS_KEY lacks", r["source_id"])
                    continue
                if new is not None:
                    await conn.execute("update data_source_secret set sealed = $2, secrets = '{}'::jsonb "
                                       "where source_id = $1", r["source_id"], new)
                    changed += 1
        return changed

    async def all(self) -> list[DataSource]:
        rows = await self.pool.fetch(
            f"select {_COLUMNS}, {_HAS_SECRETS} from data_source d order by name"  # noqa: S608
        )
        return [_row(r, r["has_secrets"]) for r in rows]

    async def get(self, source_id: str) -> DataSource | None:
        r = await self.pool.fetchrow(
            f"select {_COLUMNS}, {_HAS_SECRETS} from data_source d where id::text = $1", source_id  # noqa: S608
        )
        return _row(r, r["has_secrets"]) if r else None

    async def create(
        self, name: str, type_: str, config: dict, secrets: dict[str, str], enabled: bool, token_hash: str | None
    ) -> DataSource:
        sealed = self.keys().seal(secrets) if secrets else None
        async with self.pool.acquire() as conn, conn.transaction():
            r = await conn.fetchrow(
                f"insert into data_source (name, type, enabled, config) values ($1, $2, $3, $4::jsonb) "  # noqa: S608
                f"returning {_COLUMNS}", name, type_, enabled, json.dumps(config),
            )
            await conn.execute(
                "insert into data_source_secret (source_id, sealed) values ($1::uuid, $2)", r["id"], sealed,
            )
            if token_hash:
                await conn.execute(
                    "insert into data_source_token (source_id, token_hash) values ($1::uuid, $2)", r["id"], token_hash
                )
        return _row(r, bool(secrets))

    async def update(
        self, source_id: str, *, name: str | None = None, config: dict | None = None,
        secrets: dict[str, str] | None = None, enabled: bool | None = None,
    ) -> DataSource | None:
        async with self.pool.acquire() as conn, conn.transaction():
            r = await conn.fetchrow(
                f"update data_source set name = coalesce($2, name), config = coalesce($3::jsonb, config), "  # noqa: S608
                f"enabled = coalesce($4, enabled), updated_at = now() where id::text = $1 returning {_COLUMNS}",
                source_id, name, json.dumps(config) if config is not None else None, enabled,
            )
            if r is None:
                return None
            if secrets is not None:  # merged into those stored
                keys = self.keys()
                stored = await conn.fetchrow("select secrets, sealed from data_source_secret "
                                             "where source_id::text = $1 for update", source_id)
                unsealed = keys.unseal(stored["sealed"]) if stored["sealed"] else {}
                merged = {**json.loads(stored["secrets"]), **unsealed, **secrets}
                await conn.execute("update data_source_secret set sealed = $2, secrets = '{}'::jsonb "
                                   "where source_id::text = $1", source_id, keys.seal(merged))
        return await self.get(source_id)

    async def delete(self, source_id: str) -> bool:
        return (await self.pool.execute("delete from data_source where id::text = $1", source_id)) == "DELETE 1"

    async def enabled_configs(self) -> list[SourceConfig]:
        """Every enabled source with its secrets: what the producer manager runs. A source whose
        secrets cannot be unsealed (SECRETS_KEY unset, or without the key that sealed them) is left
        out, with the reason in the log."""
        rows = await self.pool.fetch(
            "select d.id::text, d.name, d.type, d.config, coalesce(s.secrets, '{}'::jsonb) as secrets, s.sealed "
            "from data_source d left join data_source_secret s on s.source_id = d.id where d.enabled"
        )
        out = []
        for r in rows:
            secrets = json.loads(r["secrets"])
            try:
                if r["sealed"]:
                    secrets.update(self.keys().unseal(r["sealed"]))
            except (InvalidToken, ConfigError) as exc:
                log.error("data source %s not started: its secrets cannot be unsealed (%s)", r["name"],
                          exc or "no key of SECRETS_KEY sealed them")
                continue
            out.append(SourceConfig(id=r["id"], name=r["name"], type=r["type"], config=json.loads(r["config"]),
                                    secrets=secrets))
        return out

    async def token_hashes(self) -> dict[str, tuple[str, str, dict]]:
        """token hash -> (source id, name, config) of enabled Telegraf sources."""
        rows = await self.pool.fetch(
            "select t.token_hash, d.id::text, d.name, d.config from data_source_token t "
            "join data_source d on d.id = t.source_id where d.enabled"
        )
        return {r["token_hash"]: (r["id"], r["name"], json.loads(r["config"])) for r in rows}

    async def listen(self, callback: Callable[[str], None]) -> asyncpg.Connection:
        """A connection that calls `callback(source id)` on every change (keep it open)."""
        conn = await asyncpg.connect(self._dsn, timeout=10)
        await conn.add_listener(CHANNEL.format(schema=self.schema), lambda _c, _pid, _ch, payload: callback(payload))
        return conn
