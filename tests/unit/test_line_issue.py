"""A per-line candidate is classified as a one-line issue: its line cited, its template the verdict
cache key, its alert id derived from the candidate's."""

from __future__ import annotations

from streamapp.classify import OfflineClassifier
from streamapp.enrichment import issue_alert
from streamapp.issues import line_issue
from streamapp.records import LineCandidate
from streamapp.rules import RuleSet


def test_a_line_candidate_is_a_one_line_issue() -> None:
    raw = "Mar  3 10:00:02 db-07 kernel: blk_update_request: I/O error, dev sdb, sector 1953520"
    line = LineCandidate(
        id="line:17-0", os="linux", raw=raw, templated="blk_update_request: I/O error, dev <*>, sector <*>",
        rule_label="hardware_disk", rule_score=0.85, nearest_distance=1.0, nearest_label="", template_id="t9",
        host="db-07", component="kernel", severity="error", hints={"hardware_disk": 0.85},
    )
    issue = line_issue(line)
    assert (issue.id, issue.issue_key, issue.template_ids, issue.line_count) == ("line:17-0", "linux|kernel|nopid",
                                                                                 ["t9"], 1)
    assert issue.logs == [{"id": "17-0", "templated": line.templated, "raw": raw, "component": "kernel", "pid": "",
                           "template_id": "t9"}]
    verdict = OfflineClassifier(RuleSet.load(None)).classify_issue(issue)
    alert = issue_alert(issue, verdict, "p1", 0.0)
    assert (alert.id, alert.log_ids, alert.failure_type, alert.host) == ("alert-line:17-0", ["17-0"], "hardware_disk",
                                                                        "db-07")
