"""The offline classifier's keyword model: weighted phrases per failure type.

Phrases are written naturally and normalised like the text they are matched against (`features.words`:
lower case, letters only, stop words dropped), so "Link is Down" and "link down" are the same phrase.
A text's score for a type is the sum of the weights of the distinct phrases it contains. Weights read
as: ~1.5 the phrase alone names the failure, ~0.8 strong hint, ~0.3 colour that only helps alongside
others. The vocabulary is about how failures read in logs in general (kernel, BMC/SEL, network gear,
Windows, macOS, databases, web servers, JVM), never one data set.
"""

from __future__ import annotations

from streamapp.taxonomy import FailureType as F

VOCABULARY: dict[F, dict[str, float]] = {
    F.HARDWARE_DISK: {
        "sector": 1.0, "sectors": 1.0, "bad sector": 0.8, "reallocated": 1.2, "pending": 0.3,
        "unreadable": 1.0, "offline uncorrectable": 1.5, "medium error": 1.5, "medium": 0.5, "io error": 1.2,
        "io": 0.4, "blk": 0.5, "update request": 0.8, "ata": 0.6, "scsi": 0.3, "sd": 0.4, "sda": 0.6, "sdb": 0.6,
        "sdc": 0.6, "sdd": 0.6, "nvme": 0.6, "disk": 0.6, "drive": 0.6, "hdd": 0.6, "ssd": 0.4, "raid": 0.7,
        "degraded": 0.4, "mdadm": 0.8, "smart": 0.6, "smartd": 0.4, "prefailure": 1.2, "prefail": 1.2,
        "failing": 0.4, "sense key": 1.0, "sense": 0.5, "emask": 1.2, "hard resetting": 1.0, "unc": 1.0,
        "read error": 0.8, "write error": 0.8, "physical disk": 1.2, "virtual disk": 1.0, "predictive": 0.8,
        "harddisk": 1.0, "bad block": 1.2, "controller error": 0.6, "paging operation": 0.8, "lba": 0.6,
        "zpool": 0.5, "vdev": 0.5, "checksum errors": 0.5, "multipath": 0.5, "failed path": 0.8, "lun": 0.4,
        "self test": 0.5, "self check": 0.5, "drive fault": 1.2, "disk failure": 1.2, "block device": 0.4,
        "storage": 0.4, "bay": 0.5,
    },
    F.HARDWARE_MEMORY: {
        "edac": 1.5, "ecc": 1.3, "dimm": 1.2, "sodimm": 1.2, "dram": 0.9, "memory": 0.3, "memory error": 1.0,
        "memory errors": 1.0, "ce": 0.5, "ue": 0.5, "corrected": 0.5, "correctable": 0.8, "uncorrectable": 0.4,
        "csrow": 1.2, "rank": 0.3, "channel": 0.2, "memory controller": 1.0, "memory device": 0.8, "parity": 0.6,
        "scrub": 0.4, "scrubbing": 0.6, "memory module": 1.0, "memory failure": 1.0, "poison": 0.6,
        "multi bit": 0.8, "single bit": 0.8, "mc": 0.3, "hardware corrupted": 0.8,
    },
    F.HARDWARE_CPU: {
        "mce": 1.0, "machine check": 1.5, "mcelog": 0.8, "processor": 0.6, "cpu": 0.3, "ierr": 1.5, "caterr": 1.5,
        "hardware error": 0.8, "bank": 0.5, "mci": 0.6, "mcg": 0.5, "microcode": 0.3, "cache error": 0.8,
        "tlb": 0.6, "internal error": 0.5, "processor core": 1.0, "whea": 0.6, "cache hierarchy": 1.0,
        "core": 0.2, "socket": 0.1, "configuration error": 0.1,
    },
    F.HARDWARE_THERMAL: {
        "temperature": 1.0, "thermal": 1.2, "overheat": 1.5, "overheating": 1.5, "overheated": 1.5,
        "over temperature": 1.5, "overtemp": 1.5, "temp": 0.6, "hot": 0.4, "throttled": 0.6, "throttling": 0.5,
        "celsius": 0.6, "degrees": 0.5, "trip": 0.5, "trip point": 1.0, "critical temperature": 1.5,
        "cooling": 0.5, "heat": 0.8, "inlet": 0.5, "ambient": 0.6, "exhaust": 0.4, "prochot": 1.5,
        "clock throttled": 1.0, "thermal zone": 0.5,
    },
    F.HARDWARE_FAN: {
        "fan": 1.8, "fans": 1.8, "rpm": 1.0, "blower": 1.0, "fan tray": 0.5, "fan speed": 0.5,
    },
    F.HARDWARE_PSU: {
        "psu": 1.8, "power supply": 1.8, "supply": 0.6, "ac lost": 1.2, "input lost": 1.0, "redundancy": 0.5,
        "power redundancy": 1.2, "voltage": 0.9, "volts": 0.6, "undervoltage": 1.5, "overvoltage": 1.5,
        "under voltage": 1.5, "ups": 0.8, "battery": 0.6, "batteries": 0.6, "on battery": 1.2, "mains": 0.8,
        "power failure": 1.2, "power loss": 1.0, "power lost": 1.0, "power": 0.3, "pwr": 0.6, "power input": 1.0,
        "ac power": 0.8, "power unit": 0.8,
    },
    F.NETWORK_LINK: {
        "link down": 1.5, "link": 0.4, "carrier": 0.8, "no carrier": 1.0, "lost carrier": 1.2, "eth": 0.4,
        "en": 0.3, "ens": 0.4, "enp": 0.4, "eno": 0.4, "bond": 0.4, "wlan": 0.4, "igb": 0.4, "ixgbe": 0.4, "mlx": 0.4,
        "bnxt": 0.4, "nic": 0.8, "interface": 0.5, "gigabitethernet": 0.6, "tengigabitethernet": 0.6,
        "ethernet": 0.5, "state down": 1.2, "updown": 0.6, "lineproto": 0.6, "flap": 1.0, "flapping": 1.0,
        "duplex": 0.5, "port": 0.2, "transceiver": 0.8, "sfp": 0.8, "input errors": 0.6, "netdev watchdog": 1.5,
        "transmit": 0.3, "tx": 0.3, "tx timeout": 0.8, "unit hang": 0.8, "errdisable": 1.0, "err disabled": 1.0,
        "link failure": 1.2, "link status": 0.8, "down": 0.4, "autoneg": 0.6, "negotiation": 0.5, "lacp": 0.6,
        "nic link": 1.0, "cable": 0.6, "unplugged": 0.8, "network link": 1.0, "disconnected": 0.3,
        "slave": 0.3, "physical layer": 0.8, "port channel": 0.5,
        # errors counted on a physical link (CRC, symbol, framing: Ethernet, InfiniBand, PCIe AER)
        "link error": 1.2, "crc error": 1.0, "symbol error": 1.0,
    },
    F.NETWORK_DNS: {
        "dns": 1.2, "resolve": 0.8, "resolution": 1.0, "resolver": 1.0, "resolving": 0.8, "lookup": 0.6,
        "nxdomain": 1.5, "servfail": 1.5, "name server": 1.0, "nameserver": 1.0, "named": 0.3, "unbound": 0.3,
        "dnsmasq": 0.3, "getaddrinfo": 1.0, "hostname": 0.3, "name service": 0.8, "unknown host": 1.2,
        "no such host": 1.2, "query": 0.3, "zone": 0.4, "dnssec": 1.0, "rrsig": 0.8, "eai": 0.8,
        "enotfound": 1.0, "domain name": 0.8, "lame": 1.0, "host not found": 1.2, "name resolution": 1.0,
        "could not resolve": 1.0, "gethostbyname": 1.0, "dnskey": 0.8, "recursion": 0.4, "forwarder": 0.5,
    },
    F.NETWORK_ROUTING: {
        "bgp": 1.4, "ospf": 1.4, "isis": 1.0, "eigrp": 1.2, "neighbor": 0.6, "neighbour": 0.6, "nbr": 0.6,
        "adjacency": 1.0, "adjchange": 1.2, "adjchg": 1.2, "peer": 0.3, "route": 0.8, "routes": 0.8,
        "routing": 1.0, "no route": 1.5, "unreachable": 0.7, "network unreachable": 1.2, "hold time": 1.0,
        "holdtime": 1.0, "holdtimer": 1.0, "hold timer": 1.0, "adj chg": 1.2, "prefix": 0.3, "prefixes": 0.4,
        "withdrawn": 0.6, "next hop": 0.8,
        "nexthop": 0.8, "ttl exceeded": 0.8, "vrrp": 0.8, "hsrp": 0.8, "gateway": 0.3, "default route": 1.0,
        "bfd": 1.0, "host unreachable": 1.0, "dead timer": 1.0, "established": 0.2, "idle": 0.2,
        "notification": 0.3,
    },
    F.OS_KERNEL_PANIC: {
        "panic": 1.0, "kernel panic": 2.0, "not syncing": 1.5, "oops": 1.5, "bug": 0.6, "kernel bug": 1.5,
        "call trace": 1.5, "rip": 0.8, "lockup": 1.5, "soft lockup": 1.5, "hard lockup": 1.5, "hung": 0.8,
        "hung task": 1.5, "blocked more": 1.2, "watchdog": 0.6, "nmi": 0.8, "rcu": 0.5, "stall": 0.5,
        "tainted": 1.0, "general protection": 0.8, "null pointer": 0.6, "unable handle": 1.0,
        "paging request": 1.0, "page fault": 0.6, "bugcheck": 1.5, "bug check": 1.5, "blue screen": 1.5,
        "kernel": 0.1, "kdump": 0.8, "vmcore": 0.8, "rebooted without cleanly": 1.5, "cleanly": 0.8,
        "shutdown unexpected": 1.0, "stopped responding": 0.6, "stuck": 0.5, "fatal exception": 1.0,
        "kernel task": 0.5,
    },
    F.OS_OOM: {
        "oom": 1.8, "out memory": 1.6, "killer": 0.8, "killed process": 1.2, "kill process": 1.0,
        "anon rss": 1.0, "rss": 0.5, "memory cgroup": 1.0, "allocation failure": 0.8, "page allocation": 1.2,
        "cannot allocate": 1.2, "allocate memory": 1.2, "enomem": 1.5, "heap space": 1.2, "heap": 0.5,
        "gc overhead": 0.8, "memory pressure": 0.8, "jetsam": 1.5, "low memory": 1.0, "memorystatus": 1.2,
        "swap": 0.4, "memory exhausted": 1.2, "insufficient memory": 1.2, "virtual memory": 0.6,
        "memory limit": 0.8, "sacrifice child": 1.0, "gfp": 0.8, "total vm": 0.8, "oomkilled": 1.8,
        "memory usage": 0.3, "memory": 0.3,
    },
    F.OS_FILESYSTEM_FULL: {
        "no space": 1.8, "space left": 1.2, "disk full": 1.5, "full": 0.5, "quota": 1.2, "enospc": 1.5,
        "free space": 0.8, "low disk": 1.0, "disk space": 1.0, "read only": 1.0, "readonly": 1.0,
        "remounting": 1.0, "ext": 0.6, "fs": 0.4, "xfs": 0.6, "btrfs": 0.5, "filesystem": 0.7,
        "file system": 0.7, "inode": 0.6, "inodes": 0.8, "journal": 0.4, "jbd": 0.6, "corruption": 0.5,
        "fsck": 0.5, "volume": 0.3, "out space": 1.5, "capacity": 0.5, "partition": 0.5,
        "ntfs": 0.4, "corrupt": 0.4, "structure needs cleaning": 1.0, "delete files": 0.6,
        "write failed": 0.4,
    },
    F.APP_CRASH: {
        "segfault": 1.8, "segmentation fault": 1.8, "segmentation": 1.5, "sigsegv": 1.8, "segv": 1.5,
        "sigabrt": 1.5, "abrt": 0.8, "sigbus": 1.2, "sigill": 1.2, "core dumped": 1.5, "dumped core": 1.5,
        "core dump": 1.5, "coredump": 1.5, "crash": 1.2, "crashed": 1.5, "crashing": 1.2, "abort": 0.5,
        "aborted": 0.6, "abnormal": 0.8, "abnormally": 1.0, "unexpectedly": 0.8, "terminated": 0.5,
        "signal": 0.4, "exited": 0.4, "exit code": 0.6, "exit status": 0.6, "main process exited": 0.6,
        "code dumped": 0.8, "code killed": 0.8, "respawning": 0.6, "too quickly": 1.0, "back off": 0.5,
        "backoff": 0.5, "exception": 0.4, "unhandled": 1.0, "uncaught": 1.0, "fatal": 0.3, "traceback": 1.0,
        "stack trace": 0.6, "null pointer": 0.5, "faulting": 1.5, "faulting module": 1.0,
        "application error": 1.0, "stopped working": 1.2, "terminated unexpectedly": 1.5, "traps": 0.8,
        "exited signal": 1.2, "exit signal": 1.2, "killed signal": 0.8, "dumped": 0.8, "exception thread": 1.0,
        "appcrash": 1.5, "crash report": 1.0, "report crash": 1.0, "failed result": 0.4, "exit code failure": 0.4,
        "restart counter": 0.8, "panicked": 1.0, "runtime error": 0.8, "nil pointer": 0.8, "assertion": 0.6,
        "assertion failed": 1.0, "died": 1.0, "process died": 1.2,
    },
    F.APP_CONFIG: {
        "config": 0.5, "configuration": 0.5, "conf": 0.5, "cfg": 0.5, "ini": 0.3, "yaml": 0.4, "yml": 0.4,
        "toml": 0.4, "invalid": 0.6, "syntax": 0.8, "syntax error": 1.0, "parse": 0.5, "parsing": 0.5,
        "unknown directive": 1.5, "directive": 0.8, "unknown option": 1.2, "invalid option": 1.0,
        "invalid value": 1.0, "invalid argument": 0.4, "missing": 0.6, "required": 0.4, "not set": 0.8,
        "undefined": 0.5, "unset": 0.5, "parameter": 0.6, "setting": 0.5, "settings": 0.4, "property": 0.4,
        "no such file": 0.4, "misconfigured": 1.5, "misconfiguration": 1.5, "deprecated": 0.5,
        "unrecognized": 1.0, "unsupported": 0.6, "unknown variable": 1.0, "unknown key": 1.0,
        "environment variable": 0.8,
        "malformed": 0.6, "incompatible": 0.5, "address already use": 1.0, "placeholder": 1.0,
        "cannot load": 0.4, "failed load": 0.4, "unexpected token": 0.8, "expected": 0.3, "key": 0.1,
        "schema": 0.3, "validation": 0.4, "contains errors": 0.8, "not allowed": 0.3, "unknown": 0.2,
        "does not exist": 0.5, "path": 0.1, "file": 0.1, "line": 0.1, "bean": 0.5, "ignoring": 0.3, "cannot find": 0.5,
    },
    F.APP_DEPENDENCY: {
        "connection refused": 1.8, "refused": 1.0, "connect": 0.4, "connection": 0.3, "connecting": 0.4,
        "timed out": 0.5, "timeout": 0.5, "upstream": 1.0, "backend": 0.8, "unavailable": 0.8,
        "service unavailable": 1.2, "bad gateway": 1.4, "gateway timeout": 1.4, "econnrefused": 1.8,
        "econnreset": 1.2, "etimedout": 1.0, "connection reset": 1.0, "reset peer": 0.8, "broken pipe": 0.8,
        "database": 0.5, "db": 0.3, "postgres": 0.25, "postgresql": 0.25, "mysql": 0.25, "redis": 0.25,
        "kafka": 0.25, "mongo": 0.25, "mongodb": 0.25, "elasticsearch": 0.25, "rabbitmq": 0.25, "zookeeper": 0.25,
        "memcached": 0.25, "ldap": 0.25, "jdbc": 0.6, "socket": 0.4, "communications link": 1.5,
        "not connect": 1.2, "unable connect": 1.2, "failed connect": 1.2, "cannot connect": 1.2,
        "lost connection": 1.0, "connection lost": 1.0, "connection closed": 0.5, "retrying": 0.5,
        "retry": 0.3, "circuit breaker": 1.5, "pool": 0.4, "pool exhausted": 1.0, "remote": 0.3,
        "handshake": 0.4, "healthy upstream": 1.5, "live upstreams": 1.5, "dependency": 1.0, "downstream": 0.5,
        "endpoint": 0.3, "unreachable": 0.3, "not available": 0.6, "broker": 0.6, "could not established": 1.0,
        "connect exception": 1.0, "read timed out": 1.0, "attempt connect": 0.8,
        # a peer that stops answering (NFS "server not responding", cluster managers' "node not
        # responding", Windows "the server is not responding")
        "not responding": 1.2, "no response": 0.8, "stopped responding": 0.6,
        # a pool, backend or quorum with no member left to serve (load balancers' "no server
        # available", resolvers' "no servers could be reached", "no brokers available")
        "no server": 1.0, "no server available": 1.2, "no quorum": 1.0,
        # renewing a lease, session, lock or ticket failed: the holder is cut off from the authority
        # that grants it (leader-election leases, distributed locks, Kerberos tickets)
        "failed renew": 1.0, "unable renew": 1.0, "cannot renew": 1.0,
        # a channel is a connection in SSH, gRPC, AMQP and most RPC frameworks
        "open channel": 0.8, "channel": 0.2, "time out": 0.5, "not running": 0.6,
    },
    F.SECURITY_AUTH: {
        "authentication failure": 1.8, "authentication": 0.6, "auth": 0.5, "failed password": 1.8,
        "password": 0.5, "invalid user": 1.8, "illegal user": 1.5, "unauthorized": 1.5, "forbidden": 0.8,
        "denied": 0.8, "permission denied": 1.2, "access denied": 1.5, "login": 0.4, "logon": 0.5,
        "failed login": 1.5, "login failed": 1.5, "account": 0.4, "locked": 0.6, "locked out": 1.2,
        "lockout": 1.2, "break attempt": 1.5, "sudoers": 1.2, "incorrect password": 1.5, "wrong password": 1.5,
        "bad password": 1.2, "password mismatch": 1.5, "credentials": 0.8, "invalid credentials": 1.5,
        "brute force": 1.5, "intrusion": 1.2, "attack": 0.8, "ban": 1.0, "preauth": 0.4, "pam": 0.3,
        "rhost": 0.6, "logname": 0.3, "pre authentication": 1.0, "ntlm": 0.5, "kerberos": 0.5,
        "account failed": 1.2, "failed log": 0.8, "maximum authentication attempts": 1.5,
        "authentication failures": 1.5, "identification string": 1.0, "user unknown": 1.2,
        "unknown user": 1.2, "no such user": 1.2, "avc": 0.8, "apparmor": 0.8, "invalid token": 1.0,
        "token expired": 1.0, "authorization": 0.6, "not authorized": 1.2, "privilege": 0.5,
        "authentication failed": 1.5, "not in sudoers": 0.8, "incorrect password attempts": 0.5,
        "sshd": 0.2, "su": 0.1, "sudo": 0.1, "user": 0.1,
    },
    F.PERFORMANCE: {
        "slow": 1.2, "latency": 1.2, "slow query": 1.5, "took": 0.3, "duration": 0.6, "high load": 1.2,
        "load average": 0.8, "backlog": 1.0, "queue": 0.5, "queue full": 1.0, "throttled": 0.5,
        "throttling": 0.4, "rate limit": 1.0, "rate limited": 1.0, "limiting requests": 1.2, "saturated": 1.0,
        "saturation": 1.0, "degraded": 0.3, "performance": 1.0, "response time": 1.0, "gc pause": 1.0,
        "pause": 0.3, "gc": 0.3, "deadline exceeded": 1.0, "lag": 0.8, "lagging": 1.0, "delay": 0.6,
        "delayed": 0.6, "behind": 0.5, "congestion": 0.8, "busy": 0.5, "overloaded": 1.2, "overload": 1.2,
        "cpu usage": 1.0, "utilization": 0.8, "starvation": 1.0, "starved": 0.8, "too long": 1.0,
        "contention": 0.8, "lock wait": 1.0, "thread pool": 0.6, "skipped frames": 1.2, "too much work": 1.0,
        "too much time": 1.0, "still waiting": 0.6,
        "long running": 0.6, "iowait": 1.0, "thrashing": 1.0, "slowness": 1.2, "slow down": 1.0,
        "percentile": 0.8, "exceeded": 0.3, "threshold": 0.2, "query time": 1.0, "max request workers": 1.0,
        "maxrequestworkers": 1.0, "too many clients": 0.8, "collecting": 0.3, "overhead": 0.4, "spent": 0.3,
        "waiting": 0.3,
    },
    F.BENIGN: {
        "started": 0.8, "starting": 0.6, "stopped": 0.5, "stopping": 0.5, "session opened": 1.5,
        "session closed": 1.5, "new session": 1.5, "removed session": 1.5, "logged out": 1.0, "accepted": 1.2,
        "accepted password": 1.5, "accepted publickey": 1.5, "successfully": 0.8, "success": 0.6,
        "succeeded": 0.8, "completed": 0.6, "complete": 0.4, "finished": 0.6, "reached target": 1.2,
        "listening": 0.8, "ready": 0.5, "connected": 0.4, "link up": 1.0, "state up": 1.0, "restored": 1.0,
        "recovered": 1.0, "cleared": 0.8, "deasserted": 1.2, "normal": 0.6, "ok": 0.5, "info": 0.3,
        "debug": 0.4, "registered": 0.5, "loaded": 0.4, "initialized": 0.6, "enabled": 0.3, "logged": 0.4,
        "logout": 0.8, "bye": 1.0, "disconnected user": 1.0, "received disconnect": 0.8, "cron": 0.4,
        "cmd": 0.4, "rotated": 0.6, "rotating": 0.6, "heartbeat": 0.5, "synchronized": 0.8, "dhcpack": 0.8,
        "lease": 0.4, "renew": 0.4, "configured": 0.3, "gracefully": 1.0, "graceful": 1.0, "reloading": 0.6,
        "reloaded": 0.6, "deactivated successfully": 1.2, "consumed": 0.4, "authenticated": 0.8,
        "successfully logged": 1.5, "entered running state": 1.2, "running state": 0.8, "resuming normal": 1.2,
        "checkpoint": 0.4, "accept connections": 0.8, "connection authorized": 1.0, "opened": 0.4,
        "closed": 0.2, "version": 0.2, "back": 0.3, "online": 0.4, "up": 0.3, "booting": 0.3, "boot": 0.2,
        "installed": 0.4, "upgraded": 0.4, "mounted": 0.5, "saved": 0.3, "passed": 0.5, "running": 0.3,
    },
}

# Words any failure uses. They do not say which type; they say the line is not routine.
FAILURE_WORDS: dict[str, float] = {
    "error": 0.6, "errors": 0.5, "err": 0.4, "fail": 0.6, "failed": 0.7, "failure": 0.7, "fatal": 0.8,
    "critical": 0.7, "crit": 0.5, "emerg": 0.8, "alert": 0.4, "panic": 0.8, "unable": 0.5, "cannot": 0.5,
    "could not": 0.5, "denied": 0.5, "refused": 0.6, "timeout": 0.5, "timed out": 0.6, "exception": 0.5,
    "warning": 0.3, "warn": 0.3, "lost": 0.5, "down": 0.4, "degraded": 0.5, "invalid": 0.4, "abort": 0.5,
    "corrupt": 0.5, "bad": 0.3, "unexpected": 0.4, "severe": 0.6, "not responding": 0.6, "asserted": 0.5,
    "exceeded": 0.3, "killed": 0.4, "no": 0.1, "not": 0.1, "mismatch": 0.3, "unreachable": 0.5, "fault": 0.5,
    "faulty": 0.6, "loss": 0.4, "stall": 0.5, "hang": 0.5, "hung": 0.5, "stuck": 0.5, "starvation": 0.5,
    "exhausted": 0.5, "retried": 0.3, "unavailable": 0.5, "disconnected": 0.3, "killing": 0.4, "overflow": 0.4,
    "dropped": 0.3, "expired": 0.3, "rejected": 0.4, "missing": 0.4, "broken": 0.5, "violation": 0.4,
    "abnormal": 0.5, "alarm": 0.4, "lockup": 0.6, "too high": 0.4, "too low": 0.4, "too long": 0.4,
    "not found": 0.3, "slow": 0.3, "problem": 0.5, "died": 0.6, "full": 0.3, "intervention required": 0.6,
    "time out": 0.6, "no response": 0.5, "not running": 0.4, "no server": 0.4, "inconsistent": 0.4,
}

# Phrases that say something could not be reached or used at all (an attempt that did not succeed),
# as opposed to an event that ended a working state (`connection broken`, `reset`, `closed`, `lost`,
# an exception): an inability that repeats means the dependency is still down at every attempt, an
# ended connection that repeats is churn a client recovers from by reconnecting. `prior` escalates only
# the former when it persists.
INABILITY: tuple[str, ...] = (
    "cannot", "unable", "could not", "failed", "fail", "not responding", "no response", "timed out", "time out",
    "unreachable", "unavailable", "not available", "no server", "refused", "not running", "no route",
)

# Phrases that report a recovery: the failure words in such a line describe the past.
RECOVERY: tuple[str, ...] = (
    "link up", "state up", "restored", "recovered", "cleared", "deasserted", "back online", "back normal",
    "returned normal", "speed normal", "back mains", "power back", "resuming normal", "neighbor up",
    "neighbour up", "adjacency up", "peer up", "session up", "came up", "now up", "mains returned",
    "power returned", "power restored", "loading done", "link ok", "status ok", "state ok",
)

# Phrases that soften or sharpen the severity a failure type usually carries.
SOFTER: tuple[str, ...] = (
    "corrected", "correctable", "warning threshold", "non critical", "noncritical", "will retry",
    "retrying", "predictive", "prefailure", "deprecated", "ignoring", "ce memory", "ce error", "deferred",
    "still trying", "try again later", "temporarily",
)
SHARPER: tuple[str, ...] = (
    "uncorrectable", "uncorrected", "fatal", "panic", "critical", "shutting down", "emergency",
    "non recoverable", "nonrecoverable", "back up data", "failed smart", "break attempt", "brute force",
    "maximum authentication attempts", "too many authentication", "more authentication failures", "read only",
    "not syncing", "ue memory", "ue error", "manual intervention", "intervention required",
)
