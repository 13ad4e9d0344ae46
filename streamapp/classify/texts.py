"""The words of an offline verdict: summary, root-cause hypothesis and recommended action per failure
type, filled with what the evidence names (host, component, device, peer, user, process, line count,
the key message), so an on-call engineer can act without opening the logs first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from streamapp.taxonomy import FailureType as F

KEY_MESSAGE_CHARS = 160


@dataclass(frozen=True)
class Wording:
    title: str
    cause: str
    action: str


WORDING: dict[F, Wording] = {
    F.HARDWARE_DISK: Wording(
        "Disk or storage errors",
        "A drive{thing} is failing or its path (cable, controller, backplane) is faulty: the kernel or SMART "
        "reports media, I/O or RAID-member errors.",
        "Check SMART (`smartctl -a`) and controller/RAID status for{thing_or_drive}, make sure backups and "
        "redundancy are intact, and schedule the drive's replacement."),
    F.HARDWARE_MEMORY: Wording(
        "Memory (ECC/DIMM) errors",
        "A memory module{thing} is producing ECC errors; corrected errors that repeat usually precede "
        "uncorrectable ones.",
        "Read the EDAC/SEL counters to find the DIMM{thing}, reseat or replace it in the next window; "
        "replace at once if errors are uncorrectable."),
    F.HARDWARE_CPU: Wording(
        "Processor machine-check errors",
        "The processor{thing} reported machine-check or internal errors (hardware, microcode or firmware).",
        "Decode the MCE (mcelog/rasdaemon), update BIOS and microcode, and have the vendor check the CPU "
        "and board if errors repeat."),
    F.HARDWARE_THERMAL: Wording(
        "Over-temperature",
        "Components{thing} run above their thermal threshold: cooling, airflow or ambient temperature is "
        "insufficient.",
        "Check fans, airflow, filters and room temperature for the host; reduce load or shut down before a "
        "thermal trip."),
    F.HARDWARE_FAN: Wording(
        "Fan failure",
        "A fan{thing} stopped or runs outside its speed range, so cooling is reduced.",
        "Check the BMC sensor readings and replace the fan{thing}; watch temperatures until it is done."),
    F.HARDWARE_PSU: Wording(
        "Power supply problem",
        "A power supply{thing} lost input or failed, or the voltage is out of range; redundancy may be lost.",
        "Check the PSU status and its input feed (cable, PDU, UPS); replace the supply or restore power to "
        "regain redundancy."),
    F.NETWORK_LINK: Wording(
        "Network link down",
        "The link{thing} lost carrier or is flapping: cable, optic, NIC, switch port or its peer.",
        "Check the interface{thing} counters and the switch port, then reseat or replace the cable/optic; "
        "fail over if the host is single-homed."),
    F.NETWORK_DNS: Wording(
        "Name resolution failures",
        "Names{thing} cannot be resolved: the resolver or upstream DNS servers are unreachable, failing, or "
        "the record is missing.",
        "Test resolution from the host (`dig`/`resolvectl query`), check the configured resolvers and the "
        "zone for{thing_or_name}."),
    F.NETWORK_ROUTING: Wording(
        "Routing problem",
        "A routing adjacency{thing} went down or a destination became unreachable (peer, timers, link or "
        "policy).",
        "Check the neighbour{thing} state and logs on both ends (hold timers, BFD, interface), and the "
        "routes that were withdrawn."),
    F.OS_KERNEL_PANIC: Wording(
        "Kernel crash or hang",
        "The kernel hit a fatal error, lockup or hung task{thing} (driver bug, hardware fault or resource "
        "deadlock).",
        "Collect the full trace/crash dump (kdump), check for a matching kernel or driver fix, and check the "
        "hardware if it repeats."),
    F.OS_OOM: Wording(
        "Out of memory",
        "Memory ran out and the OOM killer (or runtime) stopped a process{thing}: a leak, a traffic spike or "
        "limits set too low.",
        "Find what grew (per-process memory, cgroup limits){thing_for}, then raise the limit, add memory or "
        "fix the leak."),
    F.OS_FILESYSTEM_FULL: Wording(
        "Filesystem full or failing",
        "A filesystem{thing} ran out of space or inodes, or hit errors and went read-only.",
        "Free space (logs, caches, old data) or grow the volume{thing}; if it remounted read-only, check it "
        "with fsck/xfs_repair during a window."),
    F.APP_CRASH: Wording(
        "Process crash",
        "A process{thing} crashed or exited abnormally (bug, bad input or a library fault).",
        "Look at the core dump or stack trace{thing_for}, check recent deploys, and roll back or fix; make "
        "sure the restart policy is not hiding a loop."),
    F.APP_CONFIG: Wording(
        "Configuration error",
        "A setting{thing} is invalid or missing, so a service cannot start or behaves wrongly.",
        "Validate the configuration{thing} (the service's config test), fix the named setting and reload; "
        "compare with the last known good version."),
    F.APP_DEPENDENCY: Wording(
        "Dependency unavailable",
        "A service this component depends on{thing} refuses connections, times out or is down.",
        "Check the health of the dependency{thing} and the path to it (ports, firewall, pool limits); retry "
        "with backoff and fail over if there is a replica."),
    F.SECURITY_AUTH: Wording(
        "Authentication failures",
        "Logins are failing{thing}: wrong credentials, an expired account, or someone guessing passwords.",
        "Check whether the attempts{thing} are expected; block or rate-limit the source if not, and verify "
        "the account's credentials and lockout policy."),
    F.PERFORMANCE: Wording(
        "Performance degradation",
        "The component{thing} is slow or saturated: load, contention, GC or a slow dependency.",
        "Check latency and saturation metrics for the component{thing}, find the slow operation, and add "
        "capacity or shed load."),
    F.BENIGN: Wording(
        "Routine activity",
        "Normal operation (sessions, service start/stop, successful logins, informational messages).",
        "No action needed."),
}

# What the evidence names, per type: the first pattern that matches a key message (most specific
# pattern first, key messages in order of strength) fills `{thing}`.
_P = re.compile
_THINGS: dict[F, tuple[re.Pattern[str], ...]] = {
    F.HARDWARE_DISK: (
        _P(r"\b((?:sd[a-z]+|hd[a-z]|vd[a-z]|nvme\d+n\d+|md\d+|dm-\d+)\d*|Harddisk\d+)\b"),
        _P(r"\b((?:physical )?disk [\w:/.-]*\d|drive \d+)", re.I),
    ),
    F.HARDWARE_MEMORY: (_P(r"([\w#]*DIMM[\w#]*)"), _P(r"\b(Memory Module \d+|csrow\d+|MC\d+)", re.I)),
    F.HARDWARE_CPU: (_P(r"\b(CPU ?#?\d+|Processor \d+|Processor #0x[0-9a-f]+)", re.I), _P(r"\b(Bank \d+)", re.I)),
    F.HARDWARE_THERMAL: (
        _P(r"\b(CPU ?\d+|thermal_zone\d+|FPC \d+|Sensor \d+)", re.I), _P(r"\b(Inlet|Exhaust|Chassis)\b"),
    ),
    F.HARDWARE_FAN: (_P(r"\b(fan(?: tray)? ?(?:#\s*)?(?:0x[0-9a-f]+|\d+\w*))", re.I),),
    F.HARDWARE_PSU: (
        _P(r"\b(power supply ?#?(?:0x[0-9a-f]+|\w*\d\w*))", re.I), _P(r"\b(PSU ?#?\d\w*|PS ?\d+)\b", re.I),
    ),
    F.NETWORK_LINK: (_P(r"\b((?:eth|ens|enp|eno|em|bond|wlan|en|ae|xe-|ge-)[\w/.:-]*\d|(?:Ten|Forty|Hundred)?"
                        r"Gig\w*Ethernet[\d/.]+|Ethernet[\d/.]+|Te[\d/.]+\d|Port-channel\d+)", re.I),),
    F.NETWORK_DNS: (
        _P(r"(?:resolv\w* |for (?:the name )?|host(?:name)?:? |lookup |query \w+ for |address for )['\"(]?"
           r"([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.I),
        _P(r"[<'\"(]([a-z0-9-]+(?:\.[a-z0-9-]+)+)\.?[\s>'\")/:]", re.I),
    ),
    F.NETWORK_ROUTING: (_P(r"\b(?:neighbou?r|nbr|peer)\s+(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]{6,})", re.I),),
    F.OS_KERNEL_PANIC: (_P(r"\b(?:task |comm: |\[)([\w./-]+:\d+)", re.I),),
    F.OS_OOM: (_P(r"(?:Killed process \d+ |killing\w* \w+ pid \d+ |process \d+ )\(?\[?([\w./-]+)", re.I),),
    F.OS_FILESYSTEM_FULL: (_P(r"\((?:device )?([\w-]+)\)"), _P(r"\b([A-Z]:) disk"), _P(r"(/[\w./-]+)")),
    F.APP_CRASH: (_P(r"\b([\w.-]+)\[\d+\]: segfault|Faulting application name: ([\w.-]+)|"
                    r"\b([\w@.-]+)\.service|Process \d+ \(([\w.-]+)\)|The (.+?) service", re.I),),
    F.APP_CONFIG: (_P(r"(/[\w./-]+\.(?:conf|cfg|ini|ya?ml|json|toml|properties|service))|"
                      r"(?:directive|option|parameter|key(?: name)?|placeholder) [\"']?([\w.${}-]+)", re.I),),
    F.APP_DEPENDENCY: (_P(r"upstream: \"?([^\",\s]+)|(?:to|connect to|host) ([\w.-]+:\d+)|"
                          r"(\d{1,3}(?:\.\d{1,3}){3}:\d+)", re.I),),
    F.SECURITY_AUTH: (_P(r"\b(?:for (?:invalid user |illegal user )?|user[= ]\"?)([\w.@-]+)\"?"
                         r"(?: from ([\w.:-]+))?", re.I),),
    F.PERFORMANCE: (_P(r"\b(CPU ?\d+|queue \S+|zone \S+)", re.I),),
}
_SPACES = re.compile(r"\s+")


def thing(failure: F, messages: list[str]) -> str:
    """What the evidence names for this failure type (a device, peer, user ...), or ''."""
    for pattern in _THINGS.get(failure, ()):
        for message in messages:
            if m := pattern.search(message):
                found = [g for g in m.groups() if g]
                if failure is F.SECURITY_AUTH and len(found) == 2:
                    return f"{found[0]} from {found[1]}"
                if found:
                    return found[0].strip("'\"")
    return ""


def key_message(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= KEY_MESSAGE_CHARS else text[: KEY_MESSAGE_CHARS - 1] + "…"


def render(failure: F, *, host: str, component: str, lines: int, messages: list[str],
           neighbour: str = "") -> tuple[str, str, str]:
    """Summary, root-cause hypothesis and recommended action."""
    wording = WORDING[failure]
    named = thing(failure, messages)
    where = f" on {host}" if host else ""
    origin = f" from {component}" if component else ""
    count = f"{lines} line{'s' if lines != 1 else ''}{origin}"
    summary = f"{wording.title}{where}{f' ({named})' if named else ''}: {count}"
    if messages:
        summary += f'; key message: "{key_message(messages[0])}"'
    if neighbour:
        summary += f"; matches known issue {neighbour}"
    fill = {
        "thing": f" ({named})" if named else "",
        "thing_or_drive": f" {named}" if named else " the drive",
        "thing_or_name": f" {named}" if named else " the failing names",
        "thing_for": f" for {named}" if named else "",
    }
    return summary, wording.cause.format(**fill), wording.action.format(**fill)
