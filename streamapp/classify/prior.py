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
- no level stated (or a `<Level>` field holding something else, like a host name): the content decides,
  but a topic without a complaint (`fan speeds ...`, no failure word, no rule) is never an alert, and
  below `Policy.evidence` only a rule of error or worse, or an error level the message states itself
  (`ERROR:`, `temperature: critical`: the program's own level, written in the text), makes one: with
  nobody's level to go by, an alert needs clear words; a line a known-noise rule matches (a mail
  server's report on one message) is at most a warning;
- persistence: a failure of availability (a dependency, the network, hardware, storage space) left at
  warning (by a WARN or INFO header, or by too little evidence without one) whose text says something
  could not be reached or used (`cannot open`, `failed to renew`, `not responding`, `timed out`), and
  that repeats at least `Policy.repeats` times (one template's lines in a file, one issue's lines in a
  window), is an outage in progress: every attempt finds the dependency still down. It becomes an
  error, with that reason. Not escalated, because repetition does not make them worse: failed logins
  (scans from outside are background noise for the security tooling, not a page), configuration
  complaints (one fault logged per request), crashes and slowness (already judged on their own), an
  event that ended a working state (`connection broken`, `reset`, an exception: churn that clients
  recover from by reconnecting), a message that states its own level below error (`warning`: the
  program meant it), and debug lines.

`Policy` holds the three thresholds; the shipped values are chosen by `bench/detect_bench.py` (see its
leave-one-system-out protocol), everything else here is fixed by the reasoning above.
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
class Policy:
    """The tuned part of the prior (see the module docstring)."""

    evidence: float = 0.9  # type score an alert needs when no level is stated (an error rule also does)
    # the same for hardware, network and OS failure types: their vocabulary (fan, PSU, link, filesystem
    # full) rarely turns up in routine chatter, where `error`, `failed` and `connect` abound
    infra_evidence: float = 0.7
    repeats: int = 30  # occurrences that make a warning-level availability failure persistent (0 = never)

    def evidence_for(self, ft: FailureType) -> float:
        return self.infra_evidence if ft in INFRASTRUCTURE else self.evidence


INFRASTRUCTURE = frozenset(ft for ft in F if ft.is_hardware or ft.value.startswith(("network_", "os_")))
# What others depend on being there: when it stays unreachable, work stops (see the module docstring).
AVAILABILITY = frozenset(ft for ft in F if ft.is_hardware or ft.value.startswith("network_")) | {
    F.APP_DEPENDENCY, F.OS_FILESYSTEM_FULL}


SHIPPED = Policy()


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
    quiet: bool = False  # no failure word and no failure rule: a topic, not a complaint
    noise: bool = False  # a known-noise rule matched: the line is a kind operators said is routine
    repeats: int = 1  # how many lines of this text (template) were seen
    unreachable: bool = False  # the texts say something could not be reached or used (an attempt failed)
    own_level: Severity | None = None  # the lowest level the texts state themselves (`warning: ...`)
    says_error: bool = False  # a text states an error level itself (`ERROR:`, `[crit]`, `temperature: critical`)
    failure_cues: tuple[str, ...] = ()  # what names the failure (rule ids, the nearest reference)
    routine_cues: tuple[str, ...] = ()  # what names the routine (rule ids, recovery, the nearest reference)


@dataclass(frozen=True)
class Decision:
    failure: FailureType
    severity: Severity
    reason: str  # why the verdict departs from the header's level ("" when it does not)


def decide(stated: Severity | None, c: Content, word: str = "", policy: Policy = SHIPPED) -> Decision:
    """The verdict's type and severity given the header's stated level (None: not stated); `word` is
    the level as the header wrote it, for the reason."""
    d = _by_level(stated, c, word, policy)
    if _persistent(stated, c, d, policy):
        said = "" if stated is None or d.reason else f"header level {_said(stated, word)} overruled: "
        return Decision(d.failure, Severity.ERROR, (
            f"{d.reason + '; ' if d.reason else said}persistent: {c.repeats} occurrences of this "
            f"{d.failure} warning, each saying it could not reach or use it ({_cite(c.failure_cues)})"))
    return d


def _persistent(stated: Severity | None, c: Content, d: Decision, policy: Policy) -> bool:
    return bool(
        policy.repeats and c.repeats >= policy.repeats and d.severity is Severity.WARNING
        and d.failure in AVAILABILITY and c.unreachable and not c.quiet and not c.noise
        and (c.own_level is None or c.own_level.rank >= Severity.ERROR.rank)
        and (stated is None or stated.rank >= Severity.INFO.rank)
    )


def _said(stated: Severity, word: str) -> str:
    said = word.strip() or str(stated)
    return said if said.lower() == str(stated) else f"{said} ({stated})"


def _by_level(stated: Severity | None, c: Content, word: str, policy: Policy) -> Decision:
    said = _said(stated, word) if stated is not None else ""
    if stated is None:
        if c.failure is F.BENIGN or c.severity.rank < Severity.ERROR.rank:
            return Decision(c.failure, c.severity, "")
        if c.quiet or c.noise or (c.strength < policy.evidence_for(c.failure) and not c.ruled and not c.says_error):
            return Decision(c.failure, Severity.WARNING, "")
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
