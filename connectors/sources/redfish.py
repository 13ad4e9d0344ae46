"""Redfish/DCIM producer (type `dcim_http`): polls one BMC.

Discovery (first poll, again after a 404) follows the service root to the Chassis (Sensors, else
legacy Thermal/Power; the Fans and PowerSupplies of the newer subsystems), the Systems and the log
services of Systems and Managers. Each poll then writes:

- each new log entry as a line: `<Created> <bmc> redfish-sel[<Id>]: <Severity> <SensorType>: <Message> (...)`;
- one metric payload line `{"schema": "redfish", ...}` (see `streamapp.normalisers.redfish`);
- a line per alarm change (health not OK, a temperature over an upper threshold, a fan or supply
  not OK): `<now> <bmc> redfish: <subject>: <problem>` and later `<subject>: recovered`.

The cursor (JSON) holds a high-water mark per log (`Created` + `Id`, so wrapping or cleared logs
are handled) and the alarms held, so a restart neither loses nor repeats a line.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from connectors.sources.alarms import stamp, transitions
from connectors.sources.base import Batch, Producer, require
from connectors.sources.redfish_client import RedfishClient
from connectors.toggles import Toggles
from streamapp.errors import ConfigError, ExternalAPIError
from streamapp.normalisers.redfish import alarms

DEFAULTS: dict[str, Any] = {"auth": "session", "timeout_sec": 10.0, "verify_tls": True, "max_pages": 20,
                            "log_services": None}
# Properties that only make the payload longer (links, OEM blobs, inventory detail).
NOISE = frozenset({"Oem", "Links", "Actions", "RelatedItem", "Redundancy", "Location", "Assembly", "Metrics",
                   "InputRanges", "EfficiencyRatings", "OutputRails", "Description", "Certificates"})
Mark = tuple[float, int, str]  # a log entry's order: Created (epoch), numeric Id, Id


@dataclass
class Chassis:
    url: str
    sensors: str | None = None
    thermal: str | None = None
    power: str | None = None
    fans: str | None = None
    supplies: str | None = None


@dataclass
class Plan:
    """What discovery found; polled every time."""

    chassis: list[Chassis] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)  # entries URL -> log service Id


class RedfishProducer(Producer):
    """Config: `url` (`https://bmc`), `username`, `auth` (`session`|`basic`), `timeout_sec`,
    `verify_tls`, `max_pages` (per collection), `log_services` (Ids to read; default all),
    `hostname` (label of the lines; default the URL's host). Secret: `password`."""

    type: ClassVar[str] = "dcim_http"
    secret_fields: ClassVar[tuple[str, ...]] = ("password",)
    interval_sec = 60.0  # BMCs are slow and fragile: poll every 30-60 s at most

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        cfg = {**DEFAULTS, **config}
        require(cfg, ["url", "username"], "dcim_http")
        parts = urlsplit(str(cfg["url"]))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"dcim_http: 'url' must be an http(s) URL (got {cfg['url']!r})")
        if cfg["auth"] not in ("session", "basic"):
            raise ConfigError("dcim_http: 'auth' must be 'session' or 'basic'")
        cfg["url"] = str(cfg["url"]).rstrip("/")
        return cfg

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.validate(self.source.config)
        if not self.source.secrets.get("password"):
            raise ConfigError("dcim_http: missing secret 'password'")
        self.bmc = self.cfg.get("hostname") or urlsplit(self.cfg["url"]).hostname
        self.client = RedfishClient(
            self.cfg["url"], self.cfg["username"], self.source.secrets["password"], auth=self.cfg["auth"],
            timeout_sec=float(self.cfg["timeout_sec"]), verify_tls=bool(self.cfg["verify_tls"]),
            max_pages=int(self.cfg["max_pages"]))
        self.plan: Plan | None = None
        settings = self.emitter.settings
        self.toggles = Toggles(self.emitter.client, settings, cache_sec=settings.toggles_cache_sec)

    async def paused(self) -> str:
        """The runtime toggle `redfish_polling` pauses every Redfish producer (no request reaches
        the BMC) until it is on again."""
        return "" if await self.toggles.enabled("redfish_polling") else "the redfish_polling toggle is off"

    async def on_stop(self) -> None:
        await self.client.close()

    async def poll(self, cursor: str | None) -> Batch:
        state = json.loads(cursor) if cursor else {}
        try:
            self.plan = self.plan or await self._discover()
            lines, marks = await self._entries(self.plan, state.get("logs", {}))
            payload = await self._readings(self.plan)
        except ExternalAPIError as exc:
            if exc.status == 404:
                self.plan = None  # resources moved (firmware update, hot-plug): discover again
            raise
        messages, held = transitions(state.get("alarms", {}), alarms(payload))
        lines.append(json.dumps(payload, separators=(",", ":")))
        lines += [f"{stamp(payload['time'])} {self.bmc} redfish: {message}" for message in messages]
        return Batch(lines=lines, cursor=json.dumps({"logs": marks, "alarms": held}, separators=(",", ":")))

    async def _discover(self) -> Plan:
        root, plan = await self.client.root(), Plan()
        for doc in await self._collection(root, "Chassis"):
            chassis = Chassis(str(doc.get("@odata.id")), sensors=_link(doc, "Sensors"))
            if chassis.sensors is None:
                chassis.thermal, chassis.power = _link(doc, "Thermal"), _link(doc, "Power")
            if thermal := _link(doc, "ThermalSubsystem"):
                chassis.fans = _link(await self.client.get(thermal), "Fans")
            if power := _link(doc, "PowerSubsystem"):
                chassis.supplies = _link(await self.client.get(power), "PowerSupplies")
            plan.chassis.append(chassis)
        owners = await self._collection(root, "Systems")
        plan.systems = [str(doc.get("@odata.id")) for doc in owners]
        for owner in owners + await self._collection(root, "Managers"):
            for service in await self._collection(owner, "LogServices"):
                wanted = self.cfg["log_services"] is None or service.get("Id") in self.cfg["log_services"]
                entries = _link(service, "Entries")
                if wanted and service.get("ServiceEnabled", True) and entries:
                    plan.logs[entries] = str(service.get("Id"))
        return plan

    async def _collection(self, doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
        url = _link(doc, name)
        return await self.client.members(url) if url else []

    async def _entries(self, plan: Plan, marks: dict[str, list]) -> tuple[list[str], dict[str, list]]:
        """Lines of the entries past each log's high-water mark, oldest first, and the new marks."""
        lines, out = [], dict(marks)
        for url, service in plan.logs.items():
            mark = tuple(marks.get(url, (float("-inf"), -1, "")))
            new = sorted((e for e in await self.client.members(url) if _order(e) > mark), key=_order)
            lines += [self._entry_line(entry, service) for entry in new]
            if new:
                out[url] = list(_order(new[-1]))
        return lines, out

    def _entry_line(self, entry: dict[str, Any], service: str) -> str:
        entry_id = str(entry.get("Id", ""))
        # The line format's pid is digits only; other Ids go into the detail.
        tag = f"redfish-sel[{entry_id}]" if entry_id.isdigit() else "redfish-sel"
        head = " ".join(str(entry[k]) for k in ("Severity", "SensorType") if entry.get(k))
        detail = "; ".join(str(x) for x in (entry.get("EntryCode"), None if entry_id.isdigit() else entry_id,
                                            f"log {service}") if x)
        created = entry.get("Created") or stamp()
        return f"{created} {self.bmc} {tag}: {head}: {entry.get('Message', '')} ({detail})"

    async def _readings(self, plan: Plan) -> dict[str, Any]:
        chassis = []
        for links in plan.chassis:
            doc = _trim(await self.client.get(links.url))
            for key, url in (("Thermal", links.thermal), ("Power", links.power)):
                if url:
                    doc[key] = _trim(await self.client.get(url))
            for key, url in (("Sensors", links.sensors), ("Fans", links.fans), ("PowerSupplies", links.supplies)):
                if url:
                    doc[key] = [_trim(member) for member in await self.client.members(url)]
            chassis.append(doc)
        systems = [_trim(await self.client.get(url)) for url in plan.systems]
        return {"schema": "redfish", "bmc": self.bmc, "url": self.cfg["url"], "time": time.time(),
                "systems": systems, "chassis": chassis}


def _link(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    return value.get("@odata.id") if isinstance(value, dict) else None


def _trim(value: Any) -> Any:
    """A resource without links, annotations and inventory detail (the payload keeps readings and health)."""
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items() if k not in NOISE and not k.startswith("@")
                and not (isinstance(v, dict) and set(v) == {"@odata.id"})}
    if isinstance(value, list):
        return [_trim(v) for v in value]
    return value


def _order(entry: dict[str, Any]) -> Mark:
    try:
        created = datetime.fromisoformat(str(entry.get("Created"))).timestamp()
    except ValueError:
        created = 0.0
    entry_id = str(entry.get("Id", ""))
    return created, int(entry_id) if entry_id.isdigit() else -1, entry_id


PRODUCER = RedfishProducer
