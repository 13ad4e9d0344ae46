"""The metadata the vector store keeps per item, and the filters that read it back: one schema for
the stage that writes a field and the stage that queries it, so a renamed field fails at once.

    logs_<os>       one per indexed line: where it came from, its template, its issue key (`ikey`)
                    and time (`t`), and the prototype its issue joined (`cluster_id`, set later)
    templates_<os>  one per template: its id and who added it (`stream`, or `bootstrap` with counts)
    proto_<os>      one per prototype: its label, who gave it, how sure, how many issues it holds
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamapp.clustering import Prototype
from streamapp.records import ParsedEvent

Metadata = dict[str, str | int | float | bool]


def line_metadata(ev: ParsedEvent, issue_key: str) -> Metadata:
    """What `logs_<os>` keeps per line: enough to filter by host/issue and cite the line."""
    return {
        "source": ev.source, "host": ev.host, "component": ev.component, "pid": ev.pid,
        "severity": ev.severity, "template_id": ev.template_id, "ikey": issue_key, "t": ev.t, "cluster_id": "",
    }


def template_metadata(template_id: str, source: str = "stream", **extra: str | int) -> Metadata:
    """A template's entry; the bootstrap adds counts, levels, samples and its offline verdict."""
    return {"template_id": template_id, "source": source, **extra}


def prototype_metadata(proto: Prototype) -> Metadata:
    return {"label": proto.label, "failure_type": proto.failure_type, "labelled_by": proto.labelled_by,
            "confidence": proto.confidence, "member_count": proto.member_count}


def prototype_label(metadata: Mapping[str, Any]) -> str:
    """A prototype's label as stored (its failure type when unlabelled)."""
    return str(metadata.get("label") or metadata.get("failure_type") or "")


def labelled_by(metadata: Mapping[str, Any]) -> str:
    return str(metadata.get("labelled_by", ""))


def issue_lines(issue_key: str, first_t: float, last_t: float) -> dict[str, Any]:
    """The filter for one issue's lines: its key, within its time span."""
    return {"$and": [{"ikey": issue_key}, {"t": {"$gte": first_t}}, {"t": {"$lte": last_t}}]}


def cluster_lines(cluster_id: str) -> dict[str, Any]:
    """The filter for the lines of the issues a prototype holds."""
    return {"cluster_id": cluster_id}


def joined_cluster(cluster_id: str) -> Metadata:
    """The update that records on a line which prototype its issue joined."""
    return {"cluster_id": cluster_id}
