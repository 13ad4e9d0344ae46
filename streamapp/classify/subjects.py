"""What the offline classifier looks at: a subject (an issue, a cluster or one line) as evidence units,
and the labelled neighbours the enricher found for it in the vector store.

Builders accept the contract records as they arrive, including half-filled or malformed items, and
never raise: a bad item is skipped, so a garbage candidate still gets a (benign, low-confidence) verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamapp.records import ClusterCandidate, IssueCandidate

MAX_TEXT = 4000  # characters of one line looked at; the rest of a stack dump adds nothing
MAX_CONTEXT = 120
# A header value worth reading with the message: a word or dotted/underscored name (`temperature`,
# `state_change.unavailable`); numbers, ids, addresses and free text are not.
_CONTEXT_VALUE = re.compile(r"[A-Za-z][A-Za-z_.-]{0,59}")
# Fields that annotate a line rather than log it (a data set's ground-truth label) or name a person.
_NOT_CONTEXT = frozenset(("label", "labels", "user", "username"))


def header_context(component: str | None, extra: Iterable[tuple[str, str]] = ()) -> str:
    """What a line's header says about the event besides its level: the component (the last part of a
    dotted class name) and word-like extra fields such as an event type or state. `fan` or
    `temperature` in the header is half of what `critical` in the message means."""
    values = []
    if component and component.strip():
        name = component.strip()
        values.append(name.rsplit(".", 1)[-1] if name.count(".") >= 2 else name)
    values += [v.strip() for name, v in extra
               if name.lower() not in _NOT_CONTEXT and _CONTEXT_VALUE.fullmatch(v.strip())]
    return " ".join(dict.fromkeys(values))[:MAX_CONTEXT]


@dataclass(frozen=True)
class Unit:
    """One text: a sample line (citable by `line_id`) or a template no sample line stands for. `text` is
    what the classifier reads; `raw`, when set, is the line as written, which summaries quote."""

    text: str
    line_id: str = ""
    template_id: str = ""
    level: str = ""
    raw: str = ""

    @property
    def quoted(self) -> str:
        return self.raw or self.text


@dataclass(frozen=True)
class Subject:
    """Everything known about the thing being classified. `hints` are the aggregator's summed rule
    scores over all its lines, which covers the lines that fell out of the head/tail sample."""

    units: tuple[Unit, ...]
    host: str = ""
    component: str = ""
    os: str = ""
    line_count: int = 0
    hints: Mapping[str, float] = field(default_factory=dict)
    kind: str = "issue"

    @property
    def template_ids(self) -> frozenset[str]:
        return frozenset(u.template_id for u in self.units if u.template_id)


@dataclass(frozen=True)
class Neighbour:
    """A labelled prototype or template near the subject. `distance` is cosine distance (0 = same
    direction, as the vector store answers); `labelled_by` is `operator` or a classifier's name."""

    label: str
    distance: float
    labelled_by: str = ""
    id: str = ""
    text: str = ""


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def in_context(message: str, context: str) -> str:
    """What the classifier reads of a line: its message (or template) after what its header says about
    the event, for issues' lines and `streamapp classify`'s alike."""
    return f"{context}: {message}" if context.strip() else message


def _units_from_items(items: Iterable[Any], id_key: str) -> list[Unit]:
    """A mined line is read as its template with the masked values that say something put back
    (`read`, see `features.spoken`), as `streamapp classify` reads it: names, numbers and ids are not
    what a line says, and the lines of a template then share one reading, which the classifier
    memoises (raw lines are nearly all new). A line with no template is read raw."""
    units = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        raw = _text(item.get("raw"))
        template = _text(item.get("read")) or _text(item.get("templated"))
        component = item.get("component")
        context = header_context(component if isinstance(component, str) else None)
        text = in_context(template, context) if template.strip() else raw
        if not text.strip():
            continue
        units.append(Unit(
            text=text, line_id=str(item.get(id_key) or ""), template_id=str(item.get("template_id") or ""),
            level=str(item.get("level") or ""), raw=raw if raw != text else "",
        ))
    return units


def _template_units(ids: Sequence[Any], texts: Mapping[str, str], covered: set[str]) -> list[Unit]:
    return [
        Unit(text=_text(texts.get(str(tid))), template_id=str(tid))
        for tid in ids
        if str(tid) not in covered and _text(texts.get(str(tid))).strip()
    ]


def from_issue(candidate: IssueCandidate) -> Subject:
    """The sample lines of an issue, plus the templates of lines outside the sample."""
    units = _units_from_items(candidate.logs or (), "id")
    ids = [str(t) for t in candidate.template_ids or ()]
    texts = (candidate.templated_summary or "").split(" \n")
    by_id = dict(zip(ids, texts, strict=True)) if len(ids) == len(texts) else {}
    units += _template_units(ids, by_id, {u.template_id for u in units})
    hints = {str(k): float(v) for k, v in (candidate.hints or {}).items() if isinstance(v, int | float)}
    return Subject(
        units=tuple(units), host=candidate.host or "", component=candidate.component or "", os=candidate.os or "",
        line_count=int(candidate.line_count or len(units)), hints=hints, kind="issue",
    )


def from_cluster(candidate: ClusterCandidate, templates: Mapping[str, str] | None = None) -> Subject:
    """A cluster's sample lines (cited by their `env_id`), plus its templates when the caller has their
    text (the prototype keeps it; the cluster candidate does not)."""
    units = _units_from_items(candidate.sample_logs or (), "env_id")
    units += _template_units(list(candidate.template_ids or ()), templates or {}, set())
    return Subject(
        units=tuple(units), os=candidate.os or "", line_count=int(candidate.member_count or len(units)),
        kind="cluster",
    )


def from_line(message: str, *, line_id: str = "", template_id: str = "", level: str = "",
              host: str = "", component: str = "") -> Subject:
    unit = Unit(text=_text(message), line_id=line_id, template_id=template_id, level=level)
    # an empty message still has its header's level to go by
    return Subject(units=(unit,) if unit.text.strip() or level.strip() else (), host=host, component=component,
                   line_count=1, kind="line")
