"""Per-text evidence for the offline classifier: keyword scores, rule hints, recovery and level cues.

Everything here looks at one text (a line or a template) at a time; `offline` combines the texts of
an issue. Scores are in 0..1 per failure type: the keyword model's summed weights squashed by
`1 - exp(-s)`, combined with the strongest matching rule by noisy-OR (either alone can carry a type).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streamapp.caches import RepeatCache
from streamapp.classify.vocabulary import FAILURE_WORDS, INABILITY, RECOVERY, SHARPER, SOFTER, VOCABULARY
from streamapp.rules import RuleSet
from streamapp.taxonomy import FailureType, Severity

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_IO = re.compile(r"\bi/o\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_STOP = frozenset((
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "of", "to", "for",
    "on", "in", "at", "by", "with", "from", "as", "it", "its", "this", "that", "and", "or", "into", "via",
))
MAX_GRAM = 4

# A level written in the message itself: `[error]`, apache `[proxy:error]`, `ERROR`, postgres `FATAL:`,
# Cisco `%LINK-3-UPDOWN`.
_BRACKET_LEVEL = re.compile(
    r"\[(?:[\w.-]+:)?(emerg|alert|crit|critical|error|err|warn|warning|notice|info|debug)\]", re.IGNORECASE
)
_WORD_LEVEL = re.compile(r"\b(PANIC|FATAL|SEVERE|CRITICAL|ERROR|WARNING|WARN|NOTICE|INFO|DEBUG)\b")
# A message that is a level word, or opens with one and a colon (`warning`, `critical`, `error: ...`),
# after the header context (`node temperature: warning`).
_BARE_LEVEL = re.compile(r"(?:^|: )(panic|fatal|critical|error|warning|warn|notice|info|debug)(?:\s*[.!]?$|: )",
                         re.IGNORECASE)
_CISCO_LEVEL = re.compile(r"%[A-Z0-9_]+-([0-7])-[A-Z0-9_]+")
# A field name in `name=value` says what is measured (`errors=0`, `locked=NO`, `failures=<*>`), not that
# something is wrong; only its value can say that. Field names do not count as failure words.
_FIELD_NAME = re.compile(r"\b[A-Za-z][\w.-]{0,40} ?=")
# A reading that could not be taken: BMC/IPMI tools print `N/A` or `No Reading`, fixed-width tables fill
# a field with asterisks when its value is missing or does not fit. Beside a sensor's topic (fan,
# temperature, voltage) that is a complaint: the sensor, or what it watches, is dead.
_UNREADABLE = re.compile(r"(?<![\w*])\*{3,}(?![\w*])|\bN/A\b|\bno reading\b", re.IGNORECASE)
UNREADABLE_WEIGHT = 0.6  # as much a failure word as `unable`/`failed`
_SYSLOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


def words(text: str) -> list[str]:
    """Lower-case letter words: digits split words (`eth0` -> `eth`), camelCase is split, stop words go,
    plurals are folded (`stalls` -> `stall`, `batteries` -> `battery`)."""
    text = _CAMEL.sub(" ", _IO.sub(" io ", text))
    return [_singular(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _STOP]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def grams(tokens: list[str], longest: int = MAX_GRAM) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for n in range(1, longest + 1) for i in range(len(tokens) - n + 1)}


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(words(text))


def _compile(table: Mapping[str, float]) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for phrase, weight in table.items():
        key = _phrase(phrase)
        if not key or len(key) > MAX_GRAM:
            raise ValueError(f"vocabulary phrase {phrase!r} normalises to {key!r}")
        out[key] = max(weight, out.get(key, 0.0))  # `error` and `errors` are one phrase now
    return out


_TYPES = tuple(FailureType)
_INDEX: dict[tuple[str, ...], list[tuple[int, float]]] = {}
for _i, _ft in enumerate(_TYPES):
    for _gram, _weight in _compile(VOCABULARY.get(_ft, {})).items():
        _INDEX.setdefault(_gram, []).append((_i, _weight))
_FAILURE = _compile(FAILURE_WORDS)
# Every word some phrase of the model is made of: a masked value that is one of them is read (`spoken`).
_KNOWN_WORDS = frozenset(
    w for phrases in (*VOCABULARY.values(), FAILURE_WORDS, INABILITY, RECOVERY, SOFTER, SHARPER)
    for phrase in phrases for w in words(phrase)
)
_PLAIN_WORD = re.compile(r"[A-Za-z]{2,24}")


def _cues(phrases: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Cue phrases must survive normalisation whole: `is up` would shrink to `up` and match everywhere."""
    out = frozenset(_phrase(p) for p in phrases)
    lost = [p for p in phrases if len(_phrase(p)) != len(p.split())]
    if lost:
        raise ValueError(f"cue phrases lose words when normalised: {lost}")
    return out


_RECOVERY = _cues(RECOVERY)
_INABILITY = _cues(INABILITY)
_SOFTER = _cues(SOFTER)
_SHARPER = _cues(SHARPER)


def squash(total: float) -> float:
    return 1.0 - math.exp(-total)


def noisy_or(*scores: float) -> float:
    rest = 1.0
    for s in scores:
        rest *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - rest


def unreadable(text: str) -> bool:
    """Whether the text shows a reading that could not be taken (`****`, `N/A`, `no reading`)."""
    return _UNREADABLE.search(text) is not None


def spoken(template: str, values: Sequence[str], wildcard: str = "<*>") -> str:
    """The template with the masked values that say something put back: a word the classifier has a
    meaning for (`changed state to down`: a miner masks `up` and `down` like any value that varies) and
    a reading that could not be taken (`Fan speeds (3400 ****)`). Names, numbers and ids stay masked, so
    the lines of a template read alike whatever their values."""
    kept = [v.strip() if _says_something(v.strip()) else None for v in values]
    parts = template.split(wildcard)
    if not any(kept) or len(parts) != len(kept) + 1:
        return template
    return parts[0] + "".join((v or wildcard) + part for v, part in zip(kept, parts[1:], strict=True))


def _says_something(value: str) -> bool:
    if _UNREADABLE.fullmatch(value):
        return True
    return _PLAIN_WORD.fullmatch(value) is not None and _singular(value.lower()) in _KNOWN_WORDS


def text_level(text: str) -> Severity | None:
    """The level a message states about itself, if it states one."""
    if m := _CISCO_LEVEL.search(text):
        return Severity.parse(_SYSLOG_LEVELS[int(m.group(1))])
    if m := _BRACKET_LEVEL.search(text):
        return Severity.parse(m.group(1))
    if m := _WORD_LEVEL.search(text):
        return Severity.parse(m.group(1))
    if m := _BARE_LEVEL.search(text):
        return Severity.parse(m.group(1))
    return None


@dataclass(frozen=True)
class TextEvidence:
    """What one text says: per-type scores (benign included), and the cues severity needs."""

    scores: Mapping[FailureType, float]
    failure_words: float  # 0..1: how strongly the text reads as "something is wrong", whatever it is
    recovered: bool
    softer: bool
    sharper: bool
    routine: float  # 0..1: what the text's own words and rules say for benign, before any prior
    rules: tuple[str, ...]
    level: Severity | None  # a level the message itself states (`[error]`, `%LINK-3-UPDOWN`), not its header
    rule_severity: Mapping[FailureType, Severity] = field(default_factory=dict)  # the loudest rule per type
    loud: Severity | None = None  # the loudest rule that names no type (`operator-action`)
    noise: bool = False  # a known-noise rule (`ignore: true`) matched
    unreachable: bool = False  # says something could not be reached or used (`vocabulary.INABILITY`)

    def best(self) -> FailureType:
        """The type this text alone points at; a tie is no evidence of failure, so benign wins it."""
        return max(self.scores, key=lambda ft: (round(self.scores[ft], 9), ft is FailureType.BENIGN, -_ORDER[ft]))


_ORDER = {ft: i for i, ft in enumerate(FailureType)}
BENIGN_PRIOR = 0.3  # benign's floor for a text that reads like a failure but names no type
NEUTRAL_PRIOR = 0.5  # benign's floor for a text without a single failure word: a stray topic word must not win
RECOVERY_DAMPING = 0.4  # a recovery line keeps this share of its failure scores
QUIET = 0.25  # failure-word strength below which a text reads as a statement, not a complaint
TOPICAL_SHARE = 0.5  # what topic words alone (`filesystem`, `ospf`, `account`) count in such a text


_SENSORS = tuple(_TYPES.index(ft) for ft in (FailureType.HARDWARE_FAN, FailureType.HARDWARE_THERMAL,
                                             FailureType.HARDWARE_PSU))


_Scores = tuple[tuple[float, ...], float, bool, bool, bool, bool]
# Texts scored, from their second sighting on: issues' sample lines are raw lines, nearly all seen
# once (about 560 bytes each with the text, which an LRU of them kept alive).
_SCORED: RepeatCache[str, _Scores] = RepeatCache(32_768)


def _keyword_scores(text: str) -> _Scores:
    scores = _SCORED.get(text)
    if scores is None:
        scores = _score_words(text)
        _SCORED.put(text, scores)
    return scores


def _score_words(text: str) -> _Scores:
    found = grams(words(text))
    totals = [0.0] * len(_TYPES)
    for gram in found:
        for i, weight in _INDEX.get(gram, ()):
            totals[i] += weight
    said = grams(words(_FIELD_NAME.sub(" ", text))) if "=" in text else found  # without field names
    failure = squash(sum(w for g, w in _FAILURE.items() if g in said))
    if any(totals[i] > 0 for i in _SENSORS) and unreadable(text):
        failure = noisy_or(failure, UNREADABLE_WEIGHT)
    return (tuple(totals), failure, bool(found & _RECOVERY), bool(found & _SOFTER), bool(found & _SHARPER),
            bool(said & _INABILITY))


def text_evidence(text: str, rules: RuleSet, template_id: str = "") -> TextEvidence:
    """Score one text by its words and the rules (the header's level is `prior`'s business)."""
    totals, failure, recovered, softer, sharper, unreachable = _keyword_scores(text)
    rule_hint: dict[FailureType, float] = {}
    rule_severity: dict[FailureType, Severity] = {}
    rule_ids = []
    loud: Severity | None = None
    noise = False
    for sig in rules.match(text, template_id):
        rule_ids.append(sig.rule_id)
        noise = noise or sig.ignore
        if not sig.failure_type and not sig.ignore:
            loud = max(loud or sig.severity, sig.severity, key=lambda s: s.rank)
        if sig.failure_type:
            ft = FailureType(sig.failure_type)
            rule_hint[ft] = max(rule_hint.get(ft, 0.0), sig.score)
            rule_severity[ft] = max(rule_severity.get(ft, sig.severity), sig.severity, key=lambda s: s.rank)
    scores: dict[FailureType, float] = {}
    quiet = failure < QUIET
    for ft, total in zip(_TYPES, totals, strict=True):
        # "mounted filesystem", "Entering MASTER STATE": a topic without a complaint is weak evidence
        if quiet and ft is not FailureType.BENIGN and ft not in rule_hint:
            total *= TOPICAL_SHARE
        score = noisy_or(squash(total), rule_hint.get(ft, 0.0))
        if ft is not FailureType.BENIGN and recovered:
            score *= RECOVERY_DAMPING
        scores[ft] = score
    routine = noisy_or(scores[FailureType.BENIGN], 0.5 if recovered else 0.0)
    # Failure words take benign's ground away; they do not pick a type by themselves.
    prior = BENIGN_PRIOR + (NEUTRAL_PRIOR - BENIGN_PRIOR) * (1.0 - failure)
    scores[FailureType.BENIGN] = max(prior, routine) * (1.0 - 0.7 * failure)
    return TextEvidence(
        scores=scores, failure_words=failure, recovered=recovered, softer=softer, sharper=sharper, routine=routine,
        rules=tuple(rule_ids), level=text_level(text), rule_severity=rule_severity, loud=loud,
        noise=noise, unreachable=unreachable,
    )
