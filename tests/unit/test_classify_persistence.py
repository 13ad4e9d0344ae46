"""What an on-call engineer reads into a line beyond its words: persistence (a dependency that stays
unreachable at every attempt is an outage), readings that could not be taken, levels and requests for a
person written in the message itself, and field names that only name what is counted. Lines written
here from general knowledge of cluster software, BMCs and desktop OSes."""

from __future__ import annotations

import pytest

from streamapp.classify import OfflineClassifier
from streamapp.classify.features import spoken, text_evidence, unreadable
from streamapp.classify.prior import Policy
from streamapp.records import IssueCandidate
from streamapp.rules import RuleSet
from streamapp.taxonomy import FailureType, Severity

REPEATS = 30


@pytest.fixture(scope="module")
def classifier() -> OfflineClassifier:
    return OfflineClassifier(RuleSet.load(), policy=Policy(repeats=REPEATS))


# A dependency that cannot be reached, at the level its client logs one attempt.
UNREACHABLE = [
    ("WARN", "Unable to open channel to peer 10.0.0.3 at election port 3888"),
    ("WARN", "Failed to renew lease for [client-7] for 64 seconds. Will retry shortly"),
    ("INFO", "Heartbeat request to coordinator timed out after 5000 ms"),
    ("", "storage target ost-12 not responding"),
]


@pytest.mark.parametrize(("level", "text"), UNREACHABLE)
def test_an_unreachable_dependency_that_persists_is_an_outage(classifier: OfflineClassifier, level: str,
                                                              text: str) -> None:
    once = classifier.classify_line(text, level=level, repeats=3)
    assert not once.alert and once.severity is Severity.WARNING, once
    storm = classifier.classify_line(text, level=level, repeats=REPEATS)
    assert storm.alert and storm.failure_type is FailureType.APP_DEPENDENCY, storm
    assert f"persistent: {REPEATS} occurrences" in storm.reason
    if level:  # departing from a stated level says so
        assert storm.reason.startswith(f"header level {level}")


@pytest.mark.parametrize(("level", "text"), [
    # repeated failed logins from outside: background noise for the security tooling, not a page
    ("WARN", "Failed password for invalid user admin from 203.0.113.9 port 52210 ssh2"),
    ("", "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9"),
    # a connection that ended (clients reconnect), not one that cannot be made
    ("WARN", "Connection broken for peer 3, closing socket"),
    ("WARN", "Connection reset by peer 10.0.0.8:5432"),
    # the program states its own level: a threshold warning polled again is still a warning
    ("", "inlet temperature: warning"),
    # the same configuration complaint per request is one fault of the same severity
    ("WARN", "option cache_size is deprecated and was ignored"),
    # debug traces are not for operators, however often they repeat
    ("DEBUG", "probe of 10.0.0.4:9100 timed out"),
])
def test_what_persistence_does_not_escalate(classifier: OfflineClassifier, level: str, text: str) -> None:
    verdict = classifier.classify_line(text, level=level, repeats=10 * REPEATS)
    assert not verdict.alert, verdict
    assert "persistent" not in verdict.reason


def test_persistence_is_off_when_the_policy_says_never() -> None:
    never = OfflineClassifier(RuleSet.load(), policy=Policy(repeats=0))
    assert not never.classify_line(UNREACHABLE[0][1], level="WARN", repeats=10_000).alert


def test_an_issue_counts_its_lines_not_only_its_sample(classifier: OfflineClassifier) -> None:
    """An issue's sample is its head and tail; the lines that show the failure are estimated over all."""
    text = "Unable to open channel to peer 10.0.0.3 at election port 3888"
    logs = [{"id": f"1700000000000-{i}", "raw": text, "templated": text, "template_id": "t1", "level": "WARN"}
            for i in range(20)]

    def issue(count: int) -> IssueCandidate:
        return IssueCandidate(id=f"i-{count}", os="linux", issue_key="linux|quorum|1", templated_summary=text,
                              logs=logs, host="zk-2", component="quorum", line_count=count, template_ids=["t1"])

    verdict = classifier.classify_issue(issue(4 * REPEATS))
    assert verdict.failure_type is FailureType.APP_DEPENDENCY and verdict.severity is Severity.ERROR
    assert "persistent" in verdict.extra["reason"]
    assert classifier.classify_issue(issue(20)).severity is Severity.WARNING


def test_a_reading_that_could_not_be_taken_is_a_failure_of_its_sensor(classifier: OfflineClassifier) -> None:
    assert classifier.classify_line("Fan speeds ( 3552 3534 3375 **** 3515 3479 )").failure_type is \
        FailureType.HARDWARE_FAN
    assert classifier.classify_line("Fan speeds ( 3552 3534 3375 **** 3515 3479 )").alert
    assert classifier.classify_line("PSU2 input voltage: N/A").alert
    assert not classifier.classify_line("Fan speeds ( 3552 3534 3375 3600 3515 3479 )").alert
    # asterisks or N/A beside no sensor say nothing
    assert not classifier.classify_line("password: ******** accepted for deploy").alert
    assert not classifier.classify_line("proxy: N/A, direct connection").alert


def test_masked_values_that_say_something_are_put_back_into_the_template() -> None:
    template = "Fan speeds ( <*> <*> <*> <*> )"
    assert spoken(template, ("3552", "****", "3375", "N/A")) == "Fan speeds ( <*> **** <*> N/A )"
    assert spoken(template, ("3552", "3534", "3375", "3400")) == template
    assert spoken(template, ("****",)) == template  # values that do not line up: untouched
    # a state word the model reads is put back; names, hosts, numbers and ids are not
    state = "Interface <*>, changed state to <*>"
    assert spoken(state, ("Gi1/0/14", "down")) == "Interface <*>, changed state to down"
    assert spoken(state, ("Gi1/0/14", "up")) == "Interface <*>, changed state to up"
    assert spoken("session opened for user <*> by <*>", ("kxqz", "uid=0")) == "session opened for user <*> by <*>"
    assert spoken("job <*> <*>", ("0x3fa2", "FAILED")) == "job <*> FAILED"
    assert unreadable("fan 3: no reading") and not unreadable("fan 3: 4200 RPM") and not unreadable("a***b")


def test_field_names_are_not_complaints() -> None:
    """`errors=0` counts errors; only a value could say something is wrong."""
    stats = text_evidence("engine state: errors=0 failures=0 locked=NO processed=120", RuleSet.load())
    said = text_evidence("engine state: 3 errors, last failure unrecoverable", RuleSet.load())
    assert stats.failure_words < 0.25 < said.failure_words


def test_a_level_or_a_request_written_in_the_message_speaks_without_a_header(classifier: OfflineClassifier) -> None:
    critical = classifier.classify_line("chassis inlet temperature: critical")
    assert critical.alert and critical.failure_type is FailureType.HARDWARE_THERMAL
    assert not classifier.classify_line("chassis inlet temperature: warning").alert
    # asks for a person, whatever its words name: a failure of the closest type
    ask = classifier.classify_line("en1: manual intervention required!")
    assert ask.alert and "operator-action" in ask.rules
    halt = classifier.classify_line("boot of partition 4 halted: cannot continue")
    assert halt.alert and "cannot-continue" in halt.rules


@pytest.mark.parametrize("text", [
    "wlan0: link down, disassociated from 00:11:22:33:44:55 (reason 8: station leaving)",
    "Wi-Fi: Link Down on en0. Reason 8 (Disassociated because station leaving).",
    "wpa_supplicant: wlan0: CTRL-EVENT-DISCONNECTED reason=3 deauthenticated locally",
])
def test_a_wifi_client_leaving_its_network_is_routine(classifier: OfflineClassifier, text: str) -> None:
    verdict = classifier.classify_line(text)
    assert not verdict.alert, verdict
    assert classifier.classify_line("eth0: Link is Down").alert  # a wired server link is another matter
