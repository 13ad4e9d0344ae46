"""The header's level as the verdict's strongest prior.

A level the line's own header states (`FATAL`, `E`, `SEVERE`, syslog `err`, ...) is what the program
that wrote the line knew about it, which beats any reading of its words. The content may still move
the verdict, but only on evidence it can name, and that evidence goes into the verdict:

- header error or worse: an alert, unless the text reads plainly routine (a routine rule, a recovery
  phrase, or routine references that are very close), which makes it benign *with that reason*;
- header warning: at most a warning, unless the text names a failure strongly, with a sharp cue or an
  error rule;
- header info/debug: not an alert, unless the text names a failure strongly, with a sharp cue (words
  such as `panic`, `fatal`, `uncorrectable`, or a critical rule);
- no level stated (or a `<Level>` field holding something else, like a host name): the content decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamapp.taxonomy import FailureType, Severity

F = FailureType
ROUTINE_STRONG = 0.6  # routine evidence that overrules an error header
STRONG_AFTER_WARNING = 0.75  # type score that lifts a warning header to an alert, with a sharp cue
STRONG_AFTER_INFO = 0.85  # the same from an info/debug header
ERROR_CLASS_FALLBACK = F.APP_CRASH  # an error header whose words name no type: the program reported a failure


@dataclass(frozen=True)
class Content:
    """What the texts alone say, summarised for the prior."""

    failure: FailureType
    severity: Severity
    strength: float  # 0..1: the failure type's score (for benign: 0)
    routine: float  # 0..1: how plainly the texts read as routine (rules, recovery, close references)
    fallback: FailureType  # the best non-benign type, should the header make this a failure
    sharp: bool  # a sharpening cue (`fatal`, `uncorrectable`, `panic`...) or a critical rule for the type
    ruled: bool  # a rule of error or worse for the type matched
    failure_cues: tuple[str, ...] = ()  # what names the failure (rule ids, the nearest reference)
    routine_cues: tuple[str, ...] = ()  # what names the routine (rule ids, recovery, the nearest reference)


@dataclass(frozen=True)
class Decision:
    failure: FailureType
    severity: Severity
    reason: str  # why the verdict departs from the header's level ("" when it does not)


def decide(stated: Severity | None, c: Content, word: str = "") -> Decision:
    """The verdict's type and severity given the header's stated level (None: not stated); `word` is
    the level as the header wrote it, for the reason."""
    said = word.strip() or str(stated)
    if said.lower() != str(stated):
        said = f"{said} ({stated})"
    if stated is None:
        return Decision(c.failure, c.severity, "")
    if stated.rank >= Severity.ERROR.rank:
        if c.failure is not F.BENIGN:
            return Decision(c.failure, max(c.severity, Severity.ERROR, key=lambda s: s.rank), "")
        if c.routine >= ROUTINE_STRONG:
            return Decision(F.BENIGN, Severity.INFO, (
                f"header level {said} overruled: the text reads as routine ({_cite(c.routine_cues)})"))
        return Decision(c.fallback, Severity.ERROR, "")
    limit = STRONG_AFTER_WARNING if stated is Severity.WARNING else STRONG_AFTER_INFO
    if c.failure is F.BENIGN or c.severity.rank < Severity.ERROR.rank:
        return Decision(c.failure, min(c.severity, stated, key=lambda s: s.rank) if c.failure is F.BENIGN
                        else c.severity, "")
    if c.strength >= limit and (c.sharp or (stated is Severity.WARNING and c.ruled)):
        return Decision(c.failure, c.severity, (
            f"header level {said} overruled: the text names {c.failure} ({_cite(c.failure_cues)})"))
    return Decision(c.failure, Severity.WARNING, "")


def _cite(cues: tuple[str, ...]) -> str:
    return "; ".join(cues[:3]) or "its wording"
