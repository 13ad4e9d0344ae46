"""A log with no incident stays quiet: a mail and system server's routine day, written here from general
knowledge of sendmail, postfix, named, ntpd and friends (no header level, as plain syslog has none).
Delivery reports about one message or one remote peer are the remote side's business, not an alert."""

from __future__ import annotations

import pytest

from streamapp.classify import OfflineClassifier
from streamapp.rules import RuleSet

ROUTINE = """\
sendmail[1022]: alias database /etc/aliases rebuilt by root
sendmail[1022]: /etc/aliases: 47 aliases, longest 10 bytes, 539 bytes total
sendmail[3211]: j8F2x1Ab003211: from=<a@example.net>, size=3021, class=0, nrcpts=1, relay=mail.example.net
sendmail[3212]: j8F2x1Ab003212: to=<b@example.com>, delay=00:00:01, mailer=local, stat=Sent
sendmail[3211]: j8F2x1Ab003211: SYSERR(root): collect: I/O error on connection from mail.example.net
sendmail[3211]: j8F2x1Ab003211: collect: premature EOM: Connection reset by mail.example.net
sendmail[3211]: j8F2x1Ab003211: timeout waiting for input from mail.example.net during client DATA phase
sendmail[3211]: j8F2x1Ab003211: to=<x@example.org>, stat=Deferred: Connection refused by mx.example.org.
sendmail[3211]: j8F2x1Ab003211: to=<x@example.org>, stat=Host unknown (Name server: example.invalid: host not found)
sendmail[3211]: j8F2x1Ab003211: to=<x@example.org>, stat=User unknown
sendmail[3211]: j8F2x1Ab003211: ruleset=check_rcpt, arg1=<x@example.org>, reject=550 5.7.1 Relaying denied
sendmail[3213]: j8F2x1Ab003213: lost input channel from [192.0.2.9] to MTA after rcpt
postfix/smtp[881]: connect to mx.example.org[192.0.2.9]:25: Connection refused
postfix/smtp[881]: 4F2A1C: to=<a@b.example>, relay=none, delay=30, status=deferred (connection timed out)
postfix/smtpd[77]: warning: hostname unknown.example does not resolve to address 192.0.2.10
postfix/smtpd[77]: lost connection after EHLO from unknown[192.0.2.11]
postfix/qmgr[90]: 4F2A1C: removed
spamd[2031]: spamd: identified spam (7.3/5.0) for nobody:99 in 1.2 seconds, 3021 bytes.
dovecot: imap-login: Login: user=<joe>, method=PLAIN, rip=192.0.2.3
named[522]: lame server resolving 'example.net' (in 'example.net'?): 192.0.2.30#53
named[522]: unexpected RCODE (SERVFAIL) resolving 'example.org/A/IN': 192.0.2.31#53
named[522]: zone example.com/IN: loaded serial 2024010101
ntpd[2201]: synchronized to 192.0.2.20, stratum 2
kernel: martian source 192.0.2.255 from 192.0.2.1, on dev eth0
kernel: printk: 12 messages suppressed.
kernel: nfs: server fs01 OK
dhcpd: DHCPREQUEST for 192.0.2.40 from 00:11:22:33:44:55 via eth0
gdm(pam_unix)[2803]: authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost=
sshd[4410]: Failed password for invalid user guest from 192.0.2.77 port 51022 ssh2
su(pam_unix)[2404]: session opened for user news by (uid=0)
crond(pam_unix)[2100]: session closed for user root
smartd[2201]: Device: /dev/hda, SMART Usage Attribute: 194 Temperature_Celsius changed from 56 to 57
cups: cupsd shutdown succeeded
snmpd[2456]: Received TERM or STOP signal...  shutting down...
irqbalance: irqbalance startup succeeded
kernel: Bluetooth: HCI socket layer initialized
logrotate: rotating log /var/log/maillog, log->rotateCount is 4
syslogd 1.4.1: restart.
""".splitlines()

INCIDENT = [
    "kernel: sd 0:0:0:0: [sda] I/O error, dev sda, sector 81231",
    "kernel: Out of memory: Killed process 3121 (sendmail)",
    "kernel: EXT3-fs error (device sda1): ext3_journal_start_sb: Detected aborted journal",
]


@pytest.fixture(scope="module")
def classifier() -> OfflineClassifier:
    return OfflineClassifier(RuleSet.load())


def test_a_routine_day_raises_nothing(classifier: OfflineClassifier) -> None:
    flagged = [line for line in ROUTINE if classifier.classify_line(line).alert]
    assert len(ROUTINE) >= 35
    assert not flagged, flagged


def test_real_failures_in_the_same_log_still_alert(classifier: OfflineClassifier) -> None:
    for line in INCIDENT:
        assert classifier.classify_line(line).alert, line
