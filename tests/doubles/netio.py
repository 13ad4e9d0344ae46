"""A local NETIO PDU (a non-Redfish DCIM device) for tests: its JSON M2M API as the vendor documents
it (NETIO "JSON API" / application note AN21, JSON protocol version 2.x), written from that public
description:

- `GET /netio.json` answers the whole device state: `Agent` (model, device name, serial number,
  JSON version, output count), `GlobalMeasure` (Voltage V, Frequency Hz, TotalCurrent mA,
  OverallPowerFactor, TotalLoad W, TotalEnergy Wh, EnergyStart) and `Outputs` (per socket: ID,
  Name, State 0/1, Action, Delay ms, Current mA, PowerFactor, Load W, Energy Wh);
- read access is protected by HTTP Basic credentials of their own (or open, when none are set);
  missing or wrong credentials get `401` with `WWW-Authenticate: Basic`;
- writing (`POST /netio.json` with write credentials) switches outputs; only reading is served here
  (405 otherwise), as the producer never writes.

Controls for tests: `switch(output_id, on)` (an output switched off draws nothing), `set_voltage`,
scenarios `ok` and `slow` (answers after `slow_sec`), and the request log.
"""

from __future__ import annotations

import base64
import copy
import hmac
import threading
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.doubles.serving import Call, Scenarios, ServedApp, stall

OUTPUTS = 4


def _device(name: str) -> dict[str, Any]:
    outputs = [{"ID": i, "Name": f"output_{i}", "State": 1, "Action": 6, "Delay": 5000,
                "Current": 412 * i, "PowerFactor": 0.97, "Load": 93 * i, "Energy": 1200 * i}
               for i in range(1, OUTPUTS + 1)]
    return {
        "Agent": {"Model": "NETIO 4All", "DeviceName": name, "SerialNumber": "24:A4:2C:39:11:5A",
                  "JSONVer": "2.1", "NumOutputs": OUTPUTS, "Version": "3.1.0", "VendorID": 0, "OemID": 0,
                  "Uptime": 490866, "Time": datetime.now(UTC).isoformat(timespec="seconds")},
        "GlobalMeasure": {"Voltage": 230.4, "Frequency": 50.0, "TotalCurrent": sum(o["Current"] for o in outputs),
                          "OverallPowerFactor": 0.97, "TotalLoad": sum(o["Load"] for o in outputs),
                          "TotalEnergy": sum(o["Energy"] for o in outputs), "EnergyStart": "2026-01-19T13:30:26+00:00"},
        "Outputs": outputs,
    }


class NetioDouble(Scenarios[Call], ServedApp):
    name = "netio"
    scenarios = frozenset({"ok", "slow"})

    def __init__(self, *, username: str = "netio", password: str = "read-secret-1", device: str = "pdu-rack1",
                 slow_sec: float = 3.0) -> None:
        super().__init__()
        self.username, self.password, self.slow_sec = username, password, slow_sec
        self._state = _device(device)
        self._state_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.root_url}/netio.json"

    def switch(self, output_id: int, on: bool) -> None:
        """Switch a socket; an output that is off draws no current."""
        with self._state_lock:
            out = next(o for o in self._state["Outputs"] if o["ID"] == output_id)
            out["State"] = int(on)
            out["Current"], out["Load"] = (412 * output_id, 93 * output_id) if on else (0, 0)
            measure, outputs = self._state["GlobalMeasure"], self._state["Outputs"]
            measure["TotalCurrent"] = sum(o["Current"] for o in outputs)
            measure["TotalLoad"] = sum(o["Load"] for o in outputs)

    def set_voltage(self, volts: float) -> None:
        with self._state_lock:
            self._state["GlobalMeasure"]["Voltage"] = volts

    def routes(self) -> list[Route]:
        return [Route("/netio.json", self._handle, methods=["GET", "POST", "PUT", "DELETE"])]

    async def _handle(self, request: Request) -> Response:
        scenario = self._take()
        self._log(Call(request.method, request.url.path, dict(request.query_params),
                       {k.lower(): v for k, v in request.headers.items()}, b"", scenario))
        if not self._authorised(request.headers.get("authorization", "")):
            return PlainTextResponse("401 Unauthorized", status_code=401,
                                     headers={"WWW-Authenticate": 'Basic realm="NETIO M2M API"'})
        if request.method != "GET":
            return PlainTextResponse("405 Method Not Allowed", status_code=405, headers={"Allow": "GET"})
        if scenario == "slow":
            await stall(request, self.slow_sec)
        with self._state_lock:
            body = copy.deepcopy(self._state)
        return JSONResponse(body)

    def _authorised(self, header: str) -> bool:
        if not self.password:  # read access left open, as the vendor allows
            return True
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(value, validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(given, f"{self.username}:{self.password}".encode())
