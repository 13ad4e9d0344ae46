"""The line's own header level: vocabularies map as documented, unknown values are no level, and the
classifier departs from a stated level only with a reason in the verdict."""

from __future__ import annotations

import json

import pytest

from streamapp.classify import OfflineClassifier
from streamapp.classify.subjects import from_line, header_context
from streamapp.parsing import LineFormat, parse_line
from streamapp.rules import RuleSet
from streamapp.taxonomy import HEADER_LEVELS, FailureType, Severity, header_severity

S = Severity
# (vocabulary, words as that software writes them, the severity each maps to)
DOCUMENTED = [
    ("syslog", ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"],
     [S.CRITICAL, S.CRITICAL, S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.INFO, S.DEBUG]),
    ("syslog PRI / journald PRIORITY", ["0", "1", "2", "3", "4", "5", "6", "7"],
     [S.CRITICAL, S.CRITICAL, S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.INFO, S.DEBUG]),
    ("log4j / logback", ["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"],
     [S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.DEBUG, S.DEBUG]),
    ("java.util.logging", ["SEVERE", "WARNING", "INFO", "CONFIG", "FINE", "FINER", "FINEST"],
     [S.ERROR, S.WARNING, S.INFO, S.INFO, S.DEBUG, S.DEBUG, S.DEBUG]),
    ("python logging", ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"],
     [S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.DEBUG]),
    ("android logcat / glog", ["A", "F", "E", "W", "I", "D", "V"],
     [S.CRITICAL, S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.DEBUG, S.DEBUG]),
    ("windows event levels", ["Critical", "Error", "Warning", "Information", "Verbose", "Info"],
     [S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.DEBUG, S.INFO]),
    ("bmc / ras logs", ["FATAL", "FAILURE", "SEVERE", "ERROR", "WARNING", "INFO"],
     [S.CRITICAL, S.ERROR, S.ERROR, S.ERROR, S.WARNING, S.INFO]),
    (".net / go / rust", ["Fatal", "panic", "dpanic", "Error", "Warning", "Information", "Debug", "Trace"],
     [S.CRITICAL, S.CRITICAL, S.CRITICAL, S.ERROR, S.WARNING, S.INFO, S.DEBUG, S.DEBUG]),
]


@pytest.mark.parametrize(("vocabulary", "words", "expected"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_header_levels_map_as_documented(vocabulary: str, words: list[str], expected: list[Severity]) -> None:
    assert [header_severity(w) for w in words] == expected, vocabulary
    # any case, with the brackets or colon some headers put around it
    assert [header_severity(f"[{w.upper()}]:") for w in words] == expected


def test_documented_vocabularies_are_the_shipped_ones() -> None:
    assert len(HEADER_LEVELS) >= 8
    for table in HEADER_LEVELS.values():
        for word, severity in table.items():
            assert header_severity(word) is severity, word


@pytest.mark.parametrize("value", ["combo", "node-12", "-", "", None, "8", "42", "user", "R00-M1-N4", "RAS"])
def test_values_that_are_not_levels_mean_no_level(value: str | None) -> None:
    assert header_severity(value) is None


def test_a_level_field_holding_a_host_is_no_level_for_the_classifier() -> None:
    """Loghub's Linux format names the host field `<Level>`: its `combo` must not read as info."""
    fmt = LineFormat.from_spec(r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>")
    parsed = parse_line("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown", fmt)
    assert parsed.level == "combo" and header_severity(parsed.level) is None
    as_json = parse_line(json.dumps({"PRIORITY": "3", "MESSAGE": "unit failed"}), LineFormat.from_spec("json"))
    assert header_severity(as_json.level) is Severity.ERROR


@pytest.fixture(scope="module")
def classifier() -> OfflineClassifier:
    return OfflineClassifier(RuleSet.load())


# Routine work, failures, and text that says nothing either way.
TEXTS = [
    "session opened for user root by (uid=0)", "Started Session 42 of user alice.", "Job 17 completed successfully",
    "Accepted publickey for deploy from 198.51.100.7 port 50522 ssh2", "Link is Up - 1000 Mbps Full Duplex",
    "client 10.0.0.5 disconnected", "Received SIGTERM; shutting down gracefully", "Configuration reloaded",
    "Out of memory: Killed process 3121 (postgres)", "end_request: I/O error, dev sdb, sector 81231",
    "worker 7 state=3 flags=0x1c", "plain text", "x", "",
]


@pytest.mark.parametrize("level", ["FATAL", "ERROR", "E", "SEVERE", "crit", "err", "3"])
def test_an_explicit_error_line_never_becomes_benign_without_a_reason(classifier: OfflineClassifier,
                                                                    level: str) -> None:
    benign = 0
    for text in TEXTS:
        verdict = classifier.classify_line(text, level=level)
        if verdict.failure_type is FailureType.BENIGN or not verdict.alert:
            benign += 1
            assert verdict.reason.startswith(f"header level {level}"), (text, verdict)
            assert "routine" in verdict.reason
        else:
            assert verdict.severity.rank >= Severity.ERROR.rank
    assert benign >= 3, "routine lines are recognised as routine despite the level"
    issue = classifier.classify(from_line("session opened for user root by (uid=0)", level=level))
    assert issue.failure_type is FailureType.BENIGN and issue.extra["reason"].startswith("header level")


@pytest.mark.parametrize("level", ["INFO", "I", "DEBUG", "notice", "6"])
def test_an_explicit_info_line_becomes_an_alert_only_with_a_reason(classifier: OfflineClassifier, level: str) -> None:
    for text in [*TEXTS, "Kernel panic - not syncing: Fatal exception", "connection refused"]:
        verdict = classifier.classify_line(text, level=level)
        if verdict.severity.rank >= Severity.ERROR.rank:
            assert verdict.reason.startswith(f"header level {level}") and str(verdict.failure_type) in verdict.reason
    assert not classifier.classify_line("connection refused", level=level).alert
    panic = classifier.classify_line("Kernel panic - not syncing: Fatal exception", level=level)
    assert panic.alert and panic.failure_type is FailureType.OS_KERNEL_PANIC and "kernel-panic" in panic.reason


def test_without_a_level_the_words_decide(classifier: OfflineClassifier) -> None:
    assert classifier.classify_line("end_request: I/O error, dev sdb, sector 81231").alert
    assert not classifier.classify_line("session opened for user root by (uid=0)").alert
    assert classifier.classify_line("Out of memory: Killed process 3121 (postgres)").reason == ""


def test_header_context_keeps_event_words_and_drops_ids() -> None:
    extra = [("State", "temperature"), ("Flag", "1"), ("Node", "QuorumPeer[myid=1]/0:0:0:2181"),
             ("Label", "KERNDTLB"), ("Kind", "state_change.unavailable")]
    assert header_context("gige", extra) == "gige temperature state_change.unavailable"
    assert header_context("org.apache.hadoop.hdfs.DFSClient") == "DFSClient"
    assert header_context(None) == ""
