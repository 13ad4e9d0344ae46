"""The fixed vocabulary of verdicts: failure types and severities, shared by rules, classifiers,
alerts and automations (so a rule, an LLM answer and an operator correction mean the same thing)."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str | None, default: Severity | None = None) -> Severity:
        """Map the many spellings of log levels (syslog, Java, Windows, journald) to ours."""
        key = (text or "").strip().lower()
        return _ALIASES.get(key, default if default is not None else cls.INFO)


_RANK = {s: i for i, s in enumerate(Severity)}
_ALIASES: dict[str, Severity] = {
    **{k: Severity.DEBUG for k in ("debug", "trace", "verbose", "finest", "finer", "fine", "d", "v")},
    **{k: Severity.INFO for k in ("info", "information", "informational", "notice", "i", "ok", "normal")},
    **{k: Severity.WARNING for k in ("warn", "warning", "w", "minor", "caution")},
    **{k: Severity.ERROR for k in ("error", "err", "e", "severe", "fail", "failed", "failure", "major")},
    **{k: Severity.CRITICAL for k in ("crit", "critical", "fatal", "f", "alert", "emerg", "emergency", "panic")},
}


# The words a log header's level field uses, by vocabulary (lower-cased). Only these count as a
# stated level: a format's `<Level>` field may hold something else (a host name, a state), and an
# unknown value means "no level stated", never `info`.
HEADER_LEVELS: dict[str, dict[str, Severity]] = {
    "syslog": {"emerg": Severity.CRITICAL, "emergency": Severity.CRITICAL, "alert": Severity.CRITICAL,
               "crit": Severity.CRITICAL, "err": Severity.ERROR, "error": Severity.ERROR,
               "warning": Severity.WARNING, "warn": Severity.WARNING, "notice": Severity.INFO,
               "info": Severity.INFO, "debug": Severity.DEBUG},
    "log4j": {"fatal": Severity.CRITICAL, "error": Severity.ERROR, "warn": Severity.WARNING,
              "info": Severity.INFO, "debug": Severity.DEBUG, "trace": Severity.DEBUG},
    "java.util.logging": {"severe": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO,
                          "config": Severity.INFO, "fine": Severity.DEBUG, "finer": Severity.DEBUG,
                          "finest": Severity.DEBUG},
    "python": {"critical": Severity.CRITICAL, "error": Severity.ERROR, "warning": Severity.WARNING,
               "info": Severity.INFO, "debug": Severity.DEBUG},
    # Android logcat and glog/klog: one letter (A = assert)
    "android": {"a": Severity.CRITICAL, "f": Severity.CRITICAL, "e": Severity.ERROR, "w": Severity.WARNING,
                "i": Severity.INFO, "d": Severity.DEBUG, "v": Severity.DEBUG},
    # Windows event levels, and CBS/CSI logs' `Info`
    "windows": {"critical": Severity.CRITICAL, "error": Severity.ERROR, "warning": Severity.WARNING,
                "information": Severity.INFO, "informational": Severity.INFO, "info": Severity.INFO,
                "verbose": Severity.DEBUG, "audit failure": Severity.WARNING, "audit success": Severity.INFO},
    # BMC / supercomputer RAS logs (e.g. Blue Gene): FAILURE and SEVERE rank with ERROR
    "bmc": {"fatal": Severity.CRITICAL, "failure": Severity.ERROR, "severe": Severity.ERROR,
            "error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO},
    # .NET (Serilog, Microsoft.Extensions.Logging), Go (zap, logrus), Rust (log/tracing)
    "dotnet/go/rust": {"fatal": Severity.CRITICAL, "panic": Severity.CRITICAL, "dpanic": Severity.CRITICAL,
                       "error": Severity.ERROR, "warning": Severity.WARNING, "warn": Severity.WARNING,
                       "information": Severity.INFO, "info": Severity.INFO, "debug": Severity.DEBUG,
                       "trace": Severity.DEBUG, "verbose": Severity.DEBUG},
}
_HEADER: dict[str, Severity] = {word: sev for table in HEADER_LEVELS.values() for word, sev in table.items()}
_SYSLOG_NUMERIC = (Severity.CRITICAL, Severity.CRITICAL, Severity.CRITICAL, Severity.ERROR, Severity.WARNING,
                   Severity.INFO, Severity.INFO, Severity.DEBUG)


def header_severity(value: str | None) -> Severity | None:
    """The severity a line's header level field states, or None when it states none we know.

    Words of the vocabularies in `HEADER_LEVELS` (any case, brackets and a trailing colon ignored)
    and syslog/journald numeric priorities 0-7; anything else (`combo`, `-`, a number past 7) is
    not a level."""
    key = (value or "").strip().strip("[]<>:").strip().lower()
    if len(key) == 1 and key.isdigit():
        return _SYSLOG_NUMERIC[int(key)] if int(key) < len(_SYSLOG_NUMERIC) else None
    return _HEADER.get(key)


def max_severity(*values: Severity | str) -> Severity:
    return max((Severity(v) for v in values), key=lambda s: s.rank, default=Severity.INFO)


class FailureType(StrEnum):
    """What broke. `benign` is a verdict too: noise an operator should not be paged for."""

    HARDWARE_DISK = "hardware_disk"
    HARDWARE_MEMORY = "hardware_memory"
    HARDWARE_CPU = "hardware_cpu"
    HARDWARE_THERMAL = "hardware_thermal"
    HARDWARE_FAN = "hardware_fan"
    HARDWARE_PSU = "hardware_psu"
    NETWORK_LINK = "network_link"
    NETWORK_DNS = "network_dns"
    NETWORK_ROUTING = "network_routing"
    OS_KERNEL_PANIC = "os_kernel_panic"
    OS_OOM = "os_oom"
    OS_FILESYSTEM_FULL = "os_filesystem_full"
    APP_CRASH = "app_crash"
    APP_CONFIG = "app_config"
    APP_DEPENDENCY = "app_dependency"
    SECURITY_AUTH = "security_auth"
    PERFORMANCE = "performance_degradation"
    BENIGN = "benign"

    @property
    def is_hardware(self) -> bool:
        return self.value.startswith("hardware_")

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    FailureType.HARDWARE_DISK: "disk or storage controller failing: I/O, SMART, RAID, medium errors",
    FailureType.HARDWARE_MEMORY: "memory errors: ECC corrected/uncorrected, EDAC, DIMM faults",
    FailureType.HARDWARE_CPU: "processor faults: machine check exceptions, CPU errors, throttling faults",
    FailureType.HARDWARE_THERMAL: "overheating: temperature above threshold, thermal shutdown",
    FailureType.HARDWARE_FAN: "fan failure or fan speed out of range",
    FailureType.HARDWARE_PSU: "power supply lost, redundancy lost, voltage out of range",
    FailureType.NETWORK_LINK: "network link down/flapping, NIC errors, carrier lost",
    FailureType.NETWORK_DNS: "name resolution failures",
    FailureType.NETWORK_ROUTING: "routing problems: BGP/OSPF neighbour down, no route to host",
    FailureType.OS_KERNEL_PANIC: "kernel panic, oops, BUG, hung tasks, watchdog lockups",
    FailureType.OS_OOM: "out of memory: OOM killer, allocation failures",
    FailureType.OS_FILESYSTEM_FULL: "filesystem or quota full, no space left, read-only remount",
    FailureType.APP_CRASH: "a process crashed: segfault, core dump, abnormal exit, restart loop",
    FailureType.APP_CONFIG: "misconfiguration: invalid config, missing file or parameter",
    FailureType.APP_DEPENDENCY: "a dependency failing: connection refused/timeouts to a service",
    FailureType.SECURITY_AUTH: "authentication failures, brute force, permission denied, intrusion",
    FailureType.PERFORMANCE: "slowness: high latency, queue backlog, CPU/load saturation",
    FailureType.BENIGN: "normal operation or noise; nothing to act on",
}
