"""What the SNMP producer polls by default: scalars by GET, tables as groups of columns walked with
GETBULK. Group and field names are the payload's keys, which `streamapp.normalisers.snmp` reads;
rows are keyed by the index suffix after the column OID (`"1"`, `"1.2"`)."""

from __future__ import annotations

SCALARS: dict[str, str] = {
    "uptime": "1.3.6.1.2.1.1.3.0",  # sysUpTime, TimeTicks of the agent: a decrease means it restarted
    "name": "1.3.6.1.2.1.1.5.0",  # sysName
    "idrac_status": "1.3.6.1.4.1.674.10892.5.2.1.0",  # Dell iDRAC global system status
}

_IF = "1.3.6.1.2.1.2.2.1"
_IFX = "1.3.6.1.2.1.31.1.1.1"
_STORAGE = "1.3.6.1.2.1.25.2.3.1"
_SENSOR_COLUMNS = ("type", "scale", "precision", "value", "status")  # RFC 3433 and CISCO-ENTITY-SENSOR alike
_ENVMON = "1.3.6.1.4.1.9.9.13.1"
_IDRAC = "1.3.6.1.4.1.674.10892.5.4"

GROUPS: dict[str, dict[str, str]] = {
    "if": {
        "descr": f"{_IF}.2", "speed": f"{_IF}.5", "admin": f"{_IF}.7", "oper": f"{_IF}.8",
        "in_octets": f"{_IF}.10", "in_discards": f"{_IF}.13", "in_errors": f"{_IF}.14",
        "out_octets": f"{_IF}.16", "out_discards": f"{_IF}.19", "out_errors": f"{_IF}.20",
    },
    "ifx": {
        "name": f"{_IFX}.1", "hc_in_octets": f"{_IFX}.6", "hc_out_octets": f"{_IFX}.10",
        "high_speed": f"{_IFX}.15", "alias": f"{_IFX}.18",
    },
    "cpu": {"load": "1.3.6.1.2.1.25.3.3.1.2"},  # hrProcessorLoad, % over the last minute
    "storage": {
        "type": f"{_STORAGE}.2", "descr": f"{_STORAGE}.3", "units": f"{_STORAGE}.4",
        "size": f"{_STORAGE}.5", "used": f"{_STORAGE}.6",
    },
    "entity": {"name": "1.3.6.1.2.1.47.1.1.1.1.7"},  # entPhysicalName labels the sensors by index
    "entity_sensor": {c: f"1.3.6.1.2.1.99.1.1.1.{i}" for i, c in enumerate(_SENSOR_COLUMNS, 1)},
    "cisco_sensor": {c: f"1.3.6.1.4.1.9.9.91.1.1.1.1.{i}" for i, c in enumerate(_SENSOR_COLUMNS, 1)},
    "cisco_temp": {
        "descr": f"{_ENVMON}.3.1.2", "value": f"{_ENVMON}.3.1.3", "threshold": f"{_ENVMON}.3.1.4",
        "state": f"{_ENVMON}.3.1.6",
    },
    "cisco_fan": {"descr": f"{_ENVMON}.4.1.2", "state": f"{_ENVMON}.4.1.3"},
    "cisco_psu": {"descr": f"{_ENVMON}.5.1.2", "state": f"{_ENVMON}.5.1.3"},
    "cisco_cpu": {"load": "1.3.6.1.4.1.9.9.109.1.1.1.1.7"},  # cpmCPUTotal1minRev, %
    "idrac_temp": {"status": f"{_IDRAC}.700.20.1.5", "reading": f"{_IDRAC}.700.20.1.6", "name": f"{_IDRAC}.700.20.1.8"},
    "idrac_fan": {"status": f"{_IDRAC}.700.12.1.5", "reading": f"{_IDRAC}.700.12.1.6", "name": f"{_IDRAC}.700.12.1.8"},
    "idrac_psu": {"status": f"{_IDRAC}.600.12.1.5", "name": f"{_IDRAC}.600.12.1.8"},
}
