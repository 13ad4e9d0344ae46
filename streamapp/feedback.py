"""Operator feedback on an alert (pure): what a submission may say, and the entry it makes on the
`feedback` stream, which the prototype improver reads to learn from corrections."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streamapp.errors import StreamAppError
from streamapp.records import StreamRecord
from streamapp.taxonomy import FailureType

MAX_NOTE = 1000  # characters


class FeedbackBody(BaseModel):
    """`POST /alerts/{id}/feedback`. `failure_type` is the corrected type of an `incorrect` alert (it may
    be left out when the operator knows the alert is wrong but not what is right); with `correct` it
    may only repeat the alert's own type."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["correct", "incorrect"]
    failure_type: FailureType | None = None
    note: str = Field("", max_length=MAX_NOTE)

    @field_validator("note")
    @classmethod
    def _storable(cls, note: str) -> str:
        note.encode("utf-8")  # a lone surrogate (valid JSON escape, not text) raises here
        return note


class InvalidFeedback(StreamAppError):
    """A submission that contradicts the alert (e.g. `incorrect` with the alert's own type)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Feedback(StreamRecord):
    """An entry of the `feedback` stream. `failure_type` is the type the operator says is right ("" when
    unknown); `failure_type_before` is what the alert said; `at` is wall-clock seconds."""

    alert_id: str
    verdict: str
    failure_type: str
    note: str
    os: str
    type: str
    prototype_id: str
    cluster_id: str
    template_ids: list
    failure_type_before: str
    at: float

    def stored(self) -> dict[str, Any]:
        """What the alert hash's `feedback` field holds: the verdict, the type it settles on (null when
        unknown), the note and the time."""
        return {"verdict": self.verdict, "failure_type": self.failure_type or None, "note": self.note, "at": self.at}

    def hash_value(self) -> str:
        return json.dumps(self.stored(), ensure_ascii=False)


def feedback_for(alert_id: str, alert: Mapping[str, Any], body: FeedbackBody, at: float) -> Feedback:
    """The feedback entry for `body` on the alert whose decoded fields are `alert` (raises InvalidFeedback)."""
    before = str(alert.get("failure_type", ""))
    claimed = str(body.failure_type) if body.failure_type is not None else ""
    if body.verdict == "correct":
        if claimed and claimed != before:
            raise InvalidFeedback("failure_type", f"a correct alert keeps its failure type {before!r}")
        after = before
    else:
        if claimed and claimed == before:
            raise InvalidFeedback("failure_type", f"{before!r} is the alert's own type: use verdict 'correct'")
        after = claimed
    template_ids = alert.get("template_ids")
    return Feedback(
        alert_id=alert_id, verdict=body.verdict, failure_type=after, note=body.note,
        os=str(alert.get("os", "")), type=str(alert.get("type", "")), prototype_id=str(alert.get("prototype_id", "")),
        cluster_id=str(alert.get("cluster_id", "")),
        template_ids=[str(t) for t in template_ids] if isinstance(template_ids, list) else [],
        failure_type_before=before, at=at,
    )
