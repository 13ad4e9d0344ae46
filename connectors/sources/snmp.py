"""SNMP producer (type `snmp`): polls one agent with pysnmp 7 (asyncio), v2c or v3 USM.

Each poll GETs the scalars (sysUpTime, sysName, iDRAC status, the user's `oids`) and walks the
configured column groups of `snmp_oids.GROUPS` with GETBULK, then writes one metric payload line
(`{"schema": "snmp", ...}`: raw values plus per-row counter `delta`) and a log-like line per alarm
change (interface admin up / oper down, sensor not OK, vendor state not OK) or agent restart.

The cursor (JSON) holds the previous sysUpTime, counters and alarms, so a producer restart neither
loses a delta nor repeats an alarm line. A sysUpTime decrease means the agent restarted: its
counters started again, so that poll's deltas are dropped.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES,
    USM_PRIV_CFB256_AES,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_walk_cmd,
    get_cmd,
)
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import Counter32, Counter64, IpAddress

from connectors.sources.alarms import stamp, transitions
from connectors.sources.base import Batch, Producer, require
from connectors.sources.snmp_oids import GROUPS, SCALARS
from streamapp.errors import AuthFailed, ConfigError, ExternalAPIError, TransientError
from streamapp.normalisers.snmp import agent_restarted, alarms, counter_delta

AUTH_PROTOCOLS = {
    "MD5": USM_AUTH_HMAC96_MD5, "SHA": USM_AUTH_HMAC96_SHA, "SHA224": USM_AUTH_HMAC128_SHA224,
    "SHA256": USM_AUTH_HMAC192_SHA256, "SHA384": USM_AUTH_HMAC256_SHA384, "SHA512": USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "DES": USM_PRIV_CBC56_DES, "AES": USM_PRIV_CFB128_AES, "AES192": USM_PRIV_CFB192_AES,
    "AES256": USM_PRIV_CFB256_AES,
}
# USM reports: the user, keys or security level are wrong; polling again cannot fix that.
USM_ERRORS = (errind.UnknownUserName, errind.WrongDigest, errind.DecryptionError, errind.UnknownSecurityName,
              errind.UnsupportedSecurityLevel, errind.AuthenticationError, errind.AuthenticationFailure)
COUNTER_BITS = {Counter32: 32, Counter64: 64}
DEFAULTS: dict[str, Any] = {
    "port": 161, "version": "2c", "timeout_sec": 2.0, "retries": 1, "max_repetitions": 25,
    "groups": list(GROUPS), "oids": {}, "auth_protocol": "SHA256", "priv_protocol": "AES",
}


class SnmpProducer(Producer):
    """Config: `host`, `port`, `version` (`2c`|`3`), `user` (v3), `auth_protocol`, `priv_protocol`,
    `groups` (of `snmp_oids.GROUPS`), `oids` (name -> scalar OID), `timeout_sec`, `retries`,
    `max_repetitions`, `hostname` (label of the lines; default sysName). Secrets: `community` (v2c),
    `auth_key` and `priv_key` (v3; authPriv with both, authNoPriv with `auth_key` only)."""

    type: ClassVar[str] = "snmp"
    secret_fields: ClassVar[tuple[str, ...]] = ("community", "auth_key", "priv_key")
    interval_sec = 60.0

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        cfg = {**DEFAULTS, **config}
        require(cfg, ["host"], "snmp")
        if str(cfg["version"]) not in ("2c", "3"):
            raise ConfigError(f"snmp: version must be '2c' or '3', not {cfg['version']!r}")
        cfg["version"] = str(cfg["version"])
        if cfg["version"] == "3":
            require(cfg, ["user"], "snmp")
        for key, known in (("auth_protocol", AUTH_PROTOCOLS), ("priv_protocol", PRIV_PROTOCOLS)):
            if cfg[key] not in known:
                raise ConfigError(f"snmp: {key} must be one of {', '.join(known)}")
        unknown = set(cfg["groups"]) - set(GROUPS)
        if unknown:
            raise ConfigError(f"snmp: unknown groups {sorted(unknown)} (known: {', '.join(GROUPS)})")
        if not isinstance(cfg["oids"], dict) or not all(_numeric_oid(o) for o in cfg["oids"].values()):
            raise ConfigError("snmp: oids must map names to numeric OIDs such as '1.3.6.1.2.1.1.3.0'")
        return cfg

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.validate(self.source.config)
        self.auth = self._auth()
        self.agent = f"{self.cfg['host']}:{self.cfg['port']}"
        self._engine: SnmpEngine | None = None
        self._target: UdpTransportTarget | None = None

    async def on_stop(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    async def poll(self, cursor: str | None) -> Batch:
        state = json.loads(cursor) if cursor else {}
        now = time.time()
        try:
            scalars = await self._get({**SCALARS, **self.cfg["oids"]})
            tables, counters = await self._tables()
        except PySnmpError as exc:  # e.g. a host name that does not resolve
            raise TransientError(f"snmp {self.agent}: {exc}") from exc
        uptime = scalars.get("uptime")
        if not isinstance(uptime, int):
            raise ExternalAPIError("snmp", 0, f"{self.agent}: no sysUpTime")
        before, wall = state.get("uptime"), now - float(state.get("time", now))
        restarted = before is not None and agent_restarted(before, uptime, wall)
        elapsed = (uptime - before) / 100 if before is not None and uptime >= before else wall
        if before is not None and not restarted and wall <= 10 * self.interval_sec:
            _add_deltas(tables, counters, state.get("counters", {}))
        host = self.cfg.get("hostname") or scalars.get("name") or self.cfg["host"]
        payload = {
            "schema": "snmp", "host": host, "agent": self.agent, "time": now, "elapsed": round(elapsed, 3),
            "restarted": restarted, "scalars": {k: scalars.get(k) for k in SCALARS}, "tables": tables,
            "oids": {name: scalars.get(name) for name in self.cfg["oids"]},
        }
        messages, held = transitions(state.get("alarms", {}), alarms(payload))
        if restarted and before is not None:
            messages.insert(0, f"SNMP agent restarted: sysUpTime {uptime / 100:.2f} s, was {before / 100:.2f} s; "
                               "counter deltas of this poll dropped")
        lines = [json.dumps(payload, separators=(",", ":"))]
        lines += [f"{stamp(now)} {host} snmp: {message}" for message in messages]
        cursor_out = {"uptime": uptime, "time": now, "counters": counters, "alarms": held}
        return Batch(lines=lines, cursor=json.dumps(cursor_out, separators=(",", ":")))

    # --- SNMP ------------------------------------------------------------------------------------
    async def _session(self) -> tuple[SnmpEngine, UdpTransportTarget]:
        if self._engine is None:
            self._engine = SnmpEngine()  # one per producer: it holds the v3 engine-id/time discovery
        if self._target is None:
            self._target = await UdpTransportTarget.create(
                (self.cfg["host"], int(self.cfg["port"])), timeout=float(self.cfg["timeout_sec"]),
                retries=int(self.cfg["retries"]))
        return self._engine, self._target

    async def _get(self, oids: dict[str, str]) -> dict[str, Any]:
        """name -> value; `None` for NoSuchObject/NoSuchInstance (the agent lacks that object)."""
        engine, target = await self._session()
        names = list(oids)
        indication, status, index, binds = await get_cmd(
            engine, self.auth, target, ContextData(), *(ObjectType(ObjectIdentity(oids[n])) for n in names),
            lookupMib=False)
        self._check(indication, status, index)
        return {name: _value(value)[0] for name, (_, value) in zip(names, binds, strict=True)}

    async def _walk(self, column: str) -> dict[str, Any]:
        """Row index suffix -> raw pysnmp value of one table column (empty when the agent lacks it)."""
        engine, target = await self._session()
        rows, prefix = {}, column + "."
        async for indication, status, index, binds in bulk_walk_cmd(
                engine, self.auth, target, ContextData(), 0, int(self.cfg["max_repetitions"]),
                ObjectType(ObjectIdentity(column)), lexicographicMode=False, lookupMib=False):
            self._check(indication, status, index)
            for oid, value in binds:
                if str(oid).startswith(prefix):
                    rows[str(oid)[len(prefix):]] = value
        return rows

    async def _tables(self) -> tuple[dict[str, dict], dict[str, dict]]:
        """Rows per group (index -> field -> value) and the counters among them (-> [value, bits])."""
        tables: dict[str, dict] = {}
        counters: dict[str, dict] = {}
        for group in self.cfg["groups"]:
            for field, column in GROUPS[group].items():
                for idx, raw in (await self._walk(column)).items():
                    value, bits = _value(raw)
                    if value is None:
                        continue
                    tables.setdefault(group, {}).setdefault(idx, {})[field] = value
                    if bits:
                        counters.setdefault(group, {}).setdefault(idx, {})[field] = [value, bits]
        return tables, counters

    def _check(self, indication: Any, status: Any, index: Any) -> None:
        if indication:
            detail = f"{self.agent}: {indication}"
            if isinstance(indication, errind.RequestTimedOut):
                # v2c with a wrong community looks exactly like this: agents stay silent.
                limits = f"timeout {self.cfg['timeout_sec']} s, retries {self.cfg['retries']}"
                raise TimeoutError(f"snmp {detail} ({limits})")
            if isinstance(indication, USM_ERRORS):
                raise AuthFailed("snmp", 0, f"{detail} (USM user {self.cfg.get('user')!r})")
            raise TransientError(f"snmp {detail}")
        if status:
            raise ExternalAPIError("snmp", int(status), f"{self.agent}: {status.prettyPrint()} at varbind {index}")

    def _auth(self) -> CommunityData | UsmUserData:
        secrets = self.source.secrets
        if self.cfg["version"] == "2c":
            if not secrets.get("community"):
                raise ConfigError("snmp: missing secret 'community'")
            return CommunityData(secrets["community"], mpModel=1)
        auth_key, priv_key = secrets.get("auth_key") or None, secrets.get("priv_key") or None
        if priv_key and not auth_key:
            raise ConfigError("snmp: secret 'priv_key' needs 'auth_key' (USM has no privacy without auth)")
        protocols = {}
        if auth_key:
            protocols["authProtocol"] = AUTH_PROTOCOLS[self.cfg["auth_protocol"]]
        if priv_key:
            protocols["privProtocol"] = PRIV_PROTOCOLS[self.cfg["priv_protocol"]]
        return UsmUserData(self.cfg["user"], auth_key, priv_key, **protocols)


def _value(raw: Any) -> tuple[Any, int]:
    """A JSON-able value and its counter width (0: not a counter); None for NoSuchObject,
    NoSuchInstance and EndOfMibView (all `Null`s, which pyasn1 derives from OctetString)."""
    if isinstance(raw, univ.Null):
        return None, 0
    if isinstance(raw, univ.Integer):
        return int(raw), COUNTER_BITS.get(type(raw), 0)
    if isinstance(raw, IpAddress | univ.ObjectIdentifier):
        return raw.prettyPrint(), 0
    if isinstance(raw, univ.OctetString):
        return bytes(raw).decode("utf-8", "replace"), 0
    return None, 0


def _add_deltas(tables: dict[str, dict], counters: dict[str, dict], before: dict[str, dict]) -> None:
    """Attach `delta` (field -> increase) to each row whose counters were also in the previous poll."""
    for group, rows in counters.items():
        for idx, fields in rows.items():
            old = before.get(group, {}).get(idx, {})
            delta = {f: counter_delta(old[f][0], v, bits) for f, (v, bits) in fields.items()
                     if f in old and old[f][1] == bits}
            if delta:
                tables[group][idx]["delta"] = delta


def _numeric_oid(oid: Any) -> bool:
    return isinstance(oid, str) and all(part.isdigit() for part in oid.strip(".").split("."))


PRODUCER = SnmpProducer
