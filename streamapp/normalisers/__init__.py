"""Metric normalisers per payload schema (SNMP, Redfish/DCIM, Telegraf, ...): one pure function per
schema, `(line_id, payload) -> list[Metric]`. `streamapp.metrics.NORMALISERS` names them all; a new
schema gets its module here and its line there."""
