"""The offline classifier: a verdict for an issue, a cluster or one line without any LLM.

Evidence: labelled neighbours from the vector store (an operator's label on a close neighbour
outweighs anything the text says); per text the rule hints, the keyword model (`features`) and the
votes of the nearest shipped references by semantic similarity (`reference`); the aggregator's rule
hints over lines outside the sample. A type's text score is its best text's score plus a little for
every further text that agrees; benign wins only when no failure evidence beats what the
routine-looking texts say. Last, the level the lines' own headers state is the strongest prior
(`prior`): departing from it takes named evidence, which the verdict carries as its `reason`. Pure
and deterministic: same input, same verdict, on any process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from streamapp.caches import RepeatCache
from streamapp.classify import prior, texts
from streamapp.classify.features import BENIGN_PRIOR, QUIET, TextEvidence, noisy_or, squash, text_evidence
from streamapp.classify.reference import ReferenceIndex, Vote, severity_of, shipped_index
from streamapp.classify.subjects import Neighbour, Subject, Unit, from_cluster, from_issue, from_line, in_context
from streamapp.records import ClusterCandidate, IssueCandidate
from streamapp.rules import RuleSet
from streamapp.taxonomy import FailureType, Severity, header_severity
from streamapp.verdicts import OPERATOR, Verdict

NAME = "offline-v1"
MAX_EVIDENCE = 10

F = FailureType
DEFAULT_SEVERITY: dict[FailureType, Severity] = {
    F.HARDWARE_DISK: Severity.ERROR, F.HARDWARE_MEMORY: Severity.ERROR, F.HARDWARE_CPU: Severity.CRITICAL,
    F.HARDWARE_THERMAL: Severity.ERROR, F.HARDWARE_FAN: Severity.ERROR, F.HARDWARE_PSU: Severity.CRITICAL,
    F.NETWORK_LINK: Severity.ERROR, F.NETWORK_DNS: Severity.ERROR, F.NETWORK_ROUTING: Severity.ERROR,
    F.OS_KERNEL_PANIC: Severity.CRITICAL, F.OS_OOM: Severity.ERROR, F.OS_FILESYSTEM_FULL: Severity.ERROR,
    F.APP_CRASH: Severity.ERROR, F.APP_CONFIG: Severity.ERROR, F.APP_DEPENDENCY: Severity.ERROR,
    F.SECURITY_AUTH: Severity.WARNING, F.PERFORMANCE: Severity.WARNING, F.BENIGN: Severity.INFO,
}
_ORDER = {ft: i for i, ft in enumerate(FailureType)}
_SEVERITIES = list(Severity)

# How much a neighbour's label counts at distance 0, by who labelled it. The offline classifier's own
# past labels count least: trusting them fully would only echo this classifier's mistakes.
OPERATOR_TRUST = 2.5
MODEL_TRUST = 1.2
OFFLINE_TRUST = 0.5
UNKNOWN_TRUST = 0.8
HINT_SHARE = 0.8  # aggregator hints count a little less than a line we can read
SUPPORT_STEP = 0.04  # per doubling of the texts that agree on a type
BENIGN_DISCOUNT = 0.5  # share of benign's score a clear failure text takes away from the whole subject
MEMO_SIZE = 20_000  # texts whose evidence is kept (from their second sighting on: `RepeatCache`)
# Platt scaling of the margin to P(type right), fitted on the `dev` part of the team's labelled lines
# (tests/data/labelled_lines.csv); `test_confidence_is_calibrated` checks it on the other parts.
CALIBRATION = (13.4, -3.95)
UNREAD_CONFIDENCE = 0.5  # the most a benign verdict gets when nothing in the text reads routine
REFERENCE_WEIGHT = 0.8  # what a unanimous vote of very close references adds to a type's text score
REFERENCE_SEVERITY = 0.5  # vote strength from which the references' severity replaces the type's default


@dataclass(frozen=True)
class LineVerdict:
    """The line-level answer: enough for one CSV row and for an alert decision."""

    failure_type: FailureType
    severity: Severity
    confidence: float
    rules: tuple[str, ...] = ()
    reason: str = ""  # why the verdict departs from the header's stated level, if it does

    @property
    def alert(self) -> bool:
        return self.failure_type is not FailureType.BENIGN and self.severity.rank >= Severity.ERROR.rank


@dataclass(frozen=True)
class _Decision:
    failure: FailureType
    scores: Mapping[FailureType, float]
    confidence: float
    severity: Severity
    units: tuple[tuple[Unit, TextEvidence], ...]  # the texts relied on, best first
    neighbours: tuple[Neighbour, ...]  # the neighbours relied on
    reason: str = ""


def neighbour_weight(n: Neighbour) -> float:
    """The pull of one neighbour: by trust in its labeller, falling to 0 at cosine similarity 0.5."""
    if not math.isfinite(n.distance):
        return 0.0
    similarity = 1.0 - n.distance
    closeness = max(0.0, min(1.0, (similarity - 0.5) / 0.5)) ** 2
    who = n.labelled_by.lower()
    if who == OPERATOR:
        trust = OPERATOR_TRUST
    elif who.startswith("offline"):
        trust = OFFLINE_TRUST
    else:
        trust = MODEL_TRUST if who else UNKNOWN_TRUST
    return trust * closeness


def _label(n: Neighbour) -> FailureType | None:
    try:
        return FailureType(n.label.strip().lower())
    except ValueError:
        return None


class OfflineClassifier:
    """Deterministic classifier over the header's level, rule signals, a keyword model, the shipped
    references and labelled neighbours."""

    name = NAME

    def __init__(self, rules: RuleSet, references: ReferenceIndex | None = None,
                 policy: prior.Policy = prior.SHIPPED) -> None:
        self.rules = rules
        self.references = references if references is not None else shipped_index()
        self.policy = policy
        # Issues' sample lines are raw lines, nearly all seen once, at about 2.5 kB of evidence each;
        # templates recur in issue after issue.
        self._memo: RepeatCache[tuple[str, str], tuple[TextEvidence, Vote]] = RepeatCache(MEMO_SIZE)

    def classify_issue(self, candidate: IssueCandidate, neighbours: Sequence[Neighbour] = ()) -> Verdict:
        return self.classify(from_issue(candidate), neighbours)

    def classify_cluster(self, candidate: ClusterCandidate, neighbours: Sequence[Neighbour] = (),
                         templates: Mapping[str, str] | None = None) -> Verdict:
        return self.classify(from_cluster(candidate, templates), neighbours)

    def classify_line(self, message: str, *, template_id: str = "", level: str = "", context: str = "",
                      repeats: int = 1, neighbours: Sequence[Neighbour] = ()) -> LineVerdict:
        """One message or template on its own (the per-line CSV). `context`: what the header says about
        the event besides its level (component, event type), read with the message; `repeats`: how
        many lines of this template were seen."""
        subject = from_line(in_context(message, context), template_id=template_id, level=level)
        d = self._decide(replace(subject, line_count=max(1, repeats)), neighbours)
        rules = tuple(sorted({r for _, ev in d.units for r in ev.rules}))
        return LineVerdict(d.failure, d.severity, d.confidence, rules, d.reason)

    def classify(self, subject: Subject, neighbours: Sequence[Neighbour] = ()) -> Verdict:
        d = self._decide(subject, neighbours)
        cited = [u for u, _ in d.units]
        line_ids = _unique(u.line_id for u in cited)[:MAX_EVIDENCE]
        template_ids = _unique(u.template_id for u in cited)[:MAX_EVIDENCE]
        if not cited and d.neighbours:  # the subject as a whole matched: its templates are the evidence
            template_ids = sorted(subject.template_ids)[:MAX_EVIDENCE]
        messages = [u.quoted for u in cited] or [u.quoted for u in subject.units[:1]]
        top = d.neighbours[0] if d.neighbours and d.neighbours[0].labelled_by.lower() == OPERATOR else None
        summary, cause, action = texts.render(
            d.failure, host=subject.host, component=subject.component,
            lines=subject.line_count or len(subject.units), messages=messages,
            neighbour=(top.id or top.text[:60]) if top else "",
        )
        ranked = sorted(d.scores.items(), key=lambda kv: (-kv[1], _ORDER[kv[0]]))[:3]
        return Verdict(
            failure_type=d.failure, severity=d.severity, confidence=d.confidence, summary=summary,
            root_cause_hypothesis=cause, recommended_action=action, line_ids=tuple(line_ids),
            template_ids=tuple(template_ids), classifier=NAME,
            extra={
                "scores": {str(ft): round(s, 3) for ft, s in ranked},
                "rules": sorted({r for _, ev in d.units for r in ev.rules}),
                "neighbours": [n.id for n in d.neighbours if n.id],
                **({"reason": d.reason} if d.reason else {}),
            },
        )

    def with_policy(self, policy: prior.Policy) -> OfflineClassifier:
        """The same classifier under another policy, sharing the per-text evidence already computed."""
        other = OfflineClassifier(self.rules, self.references, policy)
        other._memo = self._memo
        return other

    def _evidence(self, units: Sequence[Unit]) -> list[tuple[TextEvidence, Vote]]:
        """Per text: its words' and rules' evidence with its references' vote folded in (memoised: a
        template recurs in issue after issue)."""
        memo = self._memo
        found = {}
        missing = []
        for key in dict.fromkeys((u.text, u.template_id) for u in units):
            hit = memo.get(key)
            if hit is None:
                missing.append(key)
            else:
                found[key] = hit
        if missing:
            votes = self.references.votes([text for text, _ in missing])
            for (text, tid), vote in zip(missing, votes, strict=True):
                found[(text, tid)] = evidence = (_with_vote(text_evidence(text, self.rules, tid), vote), vote)
                memo.put((text, tid), evidence)
        return [found[(u.text, u.template_id)] for u in units]

    def _decide(self, subject: Subject, neighbours: Sequence[Neighbour]) -> _Decision:
        evidence = self._evidence(subject.units)
        seen = [(u, ev) for u, (ev, _) in zip(subject.units, evidence, strict=True)]
        by_unit = {u: vote for u, (_, vote) in zip(subject.units, evidence, strict=True)}
        scores = {ft: _text_score(ft, seen) for ft in FailureType}
        scores[F.BENIGN] = _benign_score(seen)
        for name, total in subject.hints.items():
            if name in FailureType.__members__.values() and name != F.BENIGN:
                hinted = FailureType(name)
                scores[hinted] = max(scores[hinted], HINT_SHARE * squash(total))
        pull: dict[FailureType, float] = {}
        for n in neighbours:
            label = _label(n)
            if label is not None:
                pull[label] = pull.get(label, 0.0) + neighbour_weight(n)
        final = {ft: s + pull.get(ft, 0.0) for ft, s in scores.items()}
        # a tie is no evidence of failure: benign first, then taxonomy order
        failure = max(final, key=lambda ft: (round(final[ft], 9), ft is F.BENIGN, -_ORDER[ft]))
        relied = _relied_on(failure, seen)
        asking = [(u, ev) for u, ev in seen if ev.loud is not None and ev.loud.rank >= Severity.ERROR.rank
                  and not ev.recovered]
        if failure is F.BENIGN and asking:
            # a text an error rule of no type matched (it asks for a person: `manual intervention
            # required`; it reports a failure with its error code) is a failure report even when its
            # words name no type: the closest type, else the generic one
            failure, relied = _fallback(final), asking
        repeats = _repeats(subject, relied)
        content = _content(failure, final, relied, seen, [by_unit[u] for u, _ in relied], repeats)
        loudest = max((u for u in subject.units if header_severity(u.level)), default=None,
                      key=lambda u: header_severity(u.level).rank)  # type: ignore[union-attr]
        stated = header_severity(loudest.level) if loudest else None
        decided = prior.decide(stated, content, loudest.level if loudest else "", self.policy)
        if decided.failure is not failure:
            failure, relied = decided.failure, _relied_on(decided.failure, seen)
        confidence = _confidence(failure, final)
        if failure is F.BENIGN and not any(ev.routine >= 0.2 for _, ev in seen):
            confidence = min(confidence, UNREAD_CONFIDENCE)  # benign by default, not by what the text says
        return _Decision(
            failure=failure, scores=final, confidence=confidence, severity=decided.severity,
            units=tuple(relied), reason=decided.reason,
            neighbours=tuple(sorted(
                (n for n in neighbours if _label(n) is failure and neighbour_weight(n) > 0),
                key=lambda n: (-neighbour_weight(n), n.id),
            )),
        )


def _repeats(subject: Subject, relied: list[tuple[Unit, TextEvidence]]) -> int:
    """How many lines show the failure: for a line, its template's count; for an issue or a cluster, its
    line count times the share of its sample lines that show it (the sample is its head and tail)."""
    if subject.kind == "line":
        return subject.line_count
    sampled = sum(1 for u in subject.units if u.line_id)
    showing = sum(1 for u, _ in relied if u.line_id)
    if not sampled or not showing:
        return len(relied)
    return max(showing, round(subject.line_count * showing / sampled))


def _fallback(final: Mapping[FailureType, float]) -> FailureType:
    """The best non-benign type, should the header or a rule make this a failure; the generic one when no
    type has any evidence."""
    best = max((t for t in final if t is not F.BENIGN), key=lambda t: (round(final[t], 9), -_ORDER[t]))
    return best if final[best] >= 0.05 else prior.ERROR_CLASS_FALLBACK


def _text_score(ft: FailureType, seen: list[tuple[Unit, TextEvidence]]) -> float:
    values = [ev.scores[ft] for _, ev in seen]
    if not values:
        return 0.0
    agreeing = sum(1 for v in values if v >= 0.5)
    return max(values) + SUPPORT_STEP * min(3.0, math.log2(agreeing) if agreeing > 1 else 0.0)


def _benign_score(seen: list[tuple[Unit, TextEvidence]]) -> float:
    """How routine the whole subject reads: the mean of its texts' benign scores (one failing line
    among routine ones lowers it), discounted by the strongest text that reads as a failure, so one
    clear disk error among twenty session lines still wins."""
    if not seen:
        return BENIGN_PRIOR
    mean = sum(ev.scores[F.BENIGN] for _, ev in seen) / len(seen)
    failing = [ev.scores[ev.best()] for _, ev in seen if ev.best() is not F.BENIGN]
    return mean * (1.0 - BENIGN_DISCOUNT * max(failing, default=0.0))


def _relied_on(ft: FailureType, seen: list[tuple[Unit, TextEvidence]]) -> list[tuple[Unit, TextEvidence]]:
    """The texts that carry the verdict, best first: those that point at the type by themselves; when
    none does (a neighbour or the hints decided), those that lean towards it and do not read routine."""

    def score(ev: TextEvidence) -> float:
        # benign is cited for what the text says, not for the prior every text gets
        return ev.routine if ft is F.BENIGN else ev.scores[ft]

    own = [(i, u, ev) for i, (u, ev) in enumerate(seen) if ev.best() is ft and score(ev) >= 0.2]
    if not own and ft is not F.BENIGN:
        best = max((score(ev) for _, ev in seen), default=0.0)
        floor = max(0.2, 0.5 * best)
        own = [(i, u, ev) for i, (u, ev) in enumerate(seen) if score(ev) >= floor and ev.best() is not F.BENIGN]
    return [(u, ev) for _, u, ev in sorted(own, key=lambda t: (-score(t[2]), t[0]))]


def _confidence(ft: FailureType, final: Mapping[FailureType, float]) -> float:
    """The chance the failure type is right: the winner's margin, calibrated (Platt scaling)."""
    top = final[ft]
    second = max((s for other, s in final.items() if other is not ft), default=0.0)
    margin = 0.1 + 0.85 * (top / (top + second + 0.15)) * min(1.0, top)
    calibrated = 1.0 / (1.0 + math.exp(-(CALIBRATION[0] * margin + CALIBRATION[1])))
    return round(max(0.05, min(0.97, calibrated)), 3)


def _with_vote(ev: TextEvidence, vote: Vote) -> TextEvidence:
    """A text's evidence with its references' vote folded in (noisy-OR, so either can carry a type)."""
    if not vote.strength:
        return ev
    share = REFERENCE_WEIGHT * vote.strength
    scores = {ft: noisy_or(s, share * vote.types.get(ft, 0.0)) for ft, s in ev.scores.items()}
    return replace(ev, scores=scores, routine=noisy_or(ev.routine, share * vote.types.get(F.BENIGN, 0.0)))


def _content(ft: FailureType, final: Mapping[FailureType, float], relied: list[tuple[Unit, TextEvidence]],
             seen: list[tuple[Unit, TextEvidence]], votes: list[Vote], repeats: int) -> prior.Content:
    """What the texts say without the header, in the terms `prior.decide` needs."""
    evidence = [ev for _, ev in relied]
    routine_cues = [r for _, ev in seen for r in ev.rules if r.endswith("noise")]
    routine_cues += ["recovery phrase" for _, ev in seen if ev.recovered]
    failure_cues = sorted({r for ev in evidence for r in ev.rules if not r.endswith("noise")})
    for v in votes:
        if v.nearest is not None and v.strength > 0:
            cue = f"nearest reference {v.nearest.text!r} ({v.nearest.failure_type}, similarity {v.similarity:.2f})"
            (routine_cues if v.nearest.failure_type is F.BENIGN else failure_cues).append(cue)
    ruled = [ev.rule_severity.get(ft, Severity.INFO) for ev in evidence]
    return prior.Content(
        failure=ft, severity=_severity(ft, relied, votes), strength=0.0 if ft is F.BENIGN else final[ft],
        routine=max((ev.routine * (1.0 - ev.failure_words) for _, ev in seen), default=0.0), fallback=_fallback(final),
        sharp=any(ev.sharper for ev in evidence) or Severity.CRITICAL in ruled,
        ruled=any(s.rank >= Severity.ERROR.rank for s in ruled)
        or any(ev.loud is not None and ev.loud.rank >= Severity.ERROR.rank for ev in evidence),
        quiet=bool(evidence) and all(ev.failure_words < QUIET and not ev.rule_severity.get(ft) for ev in evidence),
        repeats=repeats, noise=any(ev.noise for ev in evidence), unreachable=any(ev.unreachable for ev in evidence),
        own_level=min((ev.level for ev in evidence if ev.level), key=lambda s: s.rank, default=None),
        says_error=any(ev.level is not None and ev.level.rank >= Severity.ERROR.rank for ev in evidence),
        failure_cues=tuple(failure_cues), routine_cues=tuple(dict.fromkeys(routine_cues)),
    )


def _severity(ft: FailureType, relied: list[tuple[Unit, TextEvidence]], votes: Sequence[Vote] = ()) -> Severity:
    """The type's usual severity (or what very close references of the type say), moved by what the
    texts say: corrected/predictive soften; fatal, uncorrectable, read-only sharpen."""
    evidence = [ev for _, ev in relied]
    if ft is F.BENIGN:
        levels = [ev.level for ev in evidence]
        return Severity.DEBUG if levels and all(lv is Severity.DEBUG for lv in levels) else Severity.INFO
    sev = DEFAULT_SEVERITY[ft]
    close = [v for v in votes if v.strength >= REFERENCE_SEVERITY and v.types.get(ft, 0.0) >= 0.5]
    if close:
        sev = severity_of(sum(v.severity[ft] for v in close) / len(close))
    sharper = any(ev.sharper for ev in evidence)
    if evidence and all(ev.softer for ev in evidence) and not sharper:
        return Severity.WARNING
    if sharper:
        sev = _SEVERITIES[min(len(_SEVERITIES) - 1, sev.rank + 1)]
    if any(ev.level is not None and ev.level.rank >= Severity.ERROR.rank for ev in evidence):
        # an error level written in the message (`[error]`, `%LINK-3-...`) makes it alert-worthy; critical
        # comes only from the failure type and the words, never from a level alone
        sev = max(sev, Severity.ERROR, key=lambda s: s.rank)
    elif evidence and all(ev.level is not None for ev in evidence):
        # and a lower one (`[warning]`, a message that just says `warning`) is what the program meant
        sev = min(sev, max((ev.level for ev in evidence if ev.level), key=lambda s: s.rank), key=lambda s: s.rank)
    return sev


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out
