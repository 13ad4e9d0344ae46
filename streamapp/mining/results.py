"""What the miner answers: the final template of a line, and how templates changed on the way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from streamapp.mining.params import parameters


class TemplateChange(NamedTuple):
    """Lines reported under `old_id` now belong to `new_id`.

    One change from an id is an alias (the template generalised, or merged into another); several
    changes from the same id mean it was split.
    """

    old_id: str
    new_id: str


class MineResult(NamedTuple):
    """The current template of one message; `template_id` is None when the message was rejected."""

    template_id: str | None
    template: str
    message: str
    changes: tuple[TemplateChange, ...] = ()
    rejected: str | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The message's values for the template's wildcards (computed on demand)."""
        return parameters(self.template, self.message) if self.template_id else ()


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One final template and how many lines it holds."""

    template_id: str
    template: str
    count: int
