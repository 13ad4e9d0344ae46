"""Labelled log lines of systems that are not in Loghub, written from general log knowledge.

Each system is a list of message templates as the programs print them (sshd, PAM, a web server,
the kernel, DHCP/NTP/DNS daemons, a mail server, a database, a Java service, a storage stack),
with how often each is printed. A `{a|b}` choice is template text: each alternative is a
template of its own (`Failed password` and `Failed publickey` are two messages). A `{kind}`
slot is a value, drawn from an open pool of that kind: user names, host names, addresses, paths,
ids and numbers keep taking new values as the stream grows, with the few common ones frequent
(`root` far more often than `oracle`), as in real logs. The truth of a line is its template with
`<*>` for each value, in the Loghub annotation style (`uid=<*>`, `port <*>`).

Nothing here is copied from a log dataset: the templates are the messages the programs are
known to print, the values are generated. `bench/mine_accuracy.py` scores the miner on them as
an out-of-sample check; nothing is tuned on their scores.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable

# Systems: (relative frequency, template). Frequencies follow the usual long tail of logs.
# fmt: off
SYSTEMS: dict[str, list[tuple[float, str]]] = {
    "sshd": [
        (30, "Failed password for {user} from {ip} port {port} ssh2"),
        (25, "Failed password for invalid user {user} from {ip} port {port} ssh2"),
        (8, "Failed {publickey|none|keyboard-interactive/pam} for {user} from {ip} port {port} ssh2"),
        (6, "Failed {none|keyboard-interactive/pam} for invalid user {user} from {ip} port {port} ssh2"),
        (12, "Accepted {password|publickey} for {user} from {ip} port {port} ssh2"),
        (20, "Invalid user {user} from {ip} port {port}"),
        (18, "Connection closed by {ip} port {port} [preauth]"),
        (6, "Connection closed by invalid user {user} {ip} port {port} [preauth]"),
        (6, "Connection closed by authenticating user {user} {ip} port {port} [preauth]"),
        (15, "Received disconnect from {ip} port {port}:11: {Bye Bye|disconnected by user} [preauth]"),
        (8, "Disconnected from {ip} port {port} [preauth]"),
        (6, "Disconnected from invalid user {user} {ip} port {port} [preauth]"),
        (6, "Disconnected from user {user} {ip} port {port}"),
        (10, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"),
        (8, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}"),
        (5, "pam_unix(sshd:auth): check pass; user unknown"),
        (10, "pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"),
        (10, "pam_unix(sshd:session): session closed for user {user}"),
        (4, "PAM {num} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"),
        (3, "Disconnecting authenticating user {user} {ip} port {port}: Too many authentication failures [preauth]"),
        (3, "error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2 [preauth]"),
        (3, "error: maximum authentication attempts exceeded for invalid user {user} from {ip} port {port} ssh2 [preauth]"),
        (4, "reverse mapping checking getaddrinfo for {fqdn} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!"),
        (3, "Address {ip} maps to {fqdn}, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!"),
        (3, "Did not receive identification string from {ip} port {port}"),
        (2, "Unable to negotiate with {ip} port {port}: no matching key exchange method found. [preauth]"),
        (2, "Bad protocol version identification '{word}' from {ip} port {port}"),
        (2, "Server listening on {ip} port {port}."),
        (1, "Received signal 15; terminating."),
        (2, "User {user} from {ip} not allowed because not listed in AllowUsers"),
        (2, "fatal: Timeout before authentication for {ip} port {port}"),
        (1, "Postponed publickey for {user} from {ip} port {port} ssh2 [preauth]"),
    ],
    "auth": [
        (20, "pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)"),
        (20, "pam_unix(cron:session): session closed for user {user}"),
        (6, "pam_unix(su:session): session opened for user {user}(uid={uid}) by {user}(uid={uid})"),
        (5, "pam_unix(su:session): session closed for user {user}"),
        (4, "pam_unix(su:auth): authentication failure; logname={user} uid={uid} euid=0 tty={tty} ruser={user} rhost=  user={user}"),
        (6, "pam_unix(sudo:session): session opened for user {root}(uid=0) by {user}(uid={uid})"),
        (6, "pam_unix(sudo:session): session closed for user {root}"),
        (8, "{user} : TTY={tty} ; PWD={path} ; USER=root ; COMMAND={path}"),
        (3, "{user} : {num} incorrect password attempts ; TTY={tty} ; PWD={path} ; USER=root ; COMMAND={path}"),
        (2, "{user} : user NOT in sudoers ; TTY={tty} ; PWD={path} ; USER=root ; COMMAND={path}"),
        (5, "(root) CMD ({path} {path})"),
        (3, "({user}) CMD ({path})"),
        (4, "New session {num} of user {user}."),
        (4, "Removed session {num}."),
        (3, "Session {num} logged out. Waiting for processes to exit."),
        (2, "Successful su for {user} by {user}"),
        (2, "FAILED SU (to {user}) {user} on {tty}"),
        (2, "+ {tty} {user}:{user}"),
        (1, "new user: name={user}, UID={uid}, GID={uid}, home={path}, shell={path}, from={tty}"),
        (1, "new group: name={user}, GID={uid}"),
        (1, "delete user '{user}'"),
        (1, "password for '{user}' changed by '{user}'"),
        (2, "gkr-pam: unable to locate daemon control file"),
        (2, "gkr-pam: stashed password to try later in open session"),
        (1, "pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty={tty} ruser= rhost="),
        (1, "FAILED LOGIN {num} FROM {tty} FOR {user}, Authentication failure"),
        (1, "ROOT LOGIN on '{tty}'"),
    ],
    "httpd": [
        (20, "[client {ip}] File does not exist: {path}"),
        (10, "[client {ip}] Directory index forbidden by Options directive: {path}"),
        (6, "[client {ip}] script not found or unable to stat: {path}"),
        (4, "[client {ip}] client denied by server configuration: {path}"),
        (3, "[client {ip}] Invalid URI in request {GET|POST|HEAD} {path} HTTP/1.1"),
        (3, "[client {ip}] request failed: error reading the headers"),
        (2, "[client {ip}] (104)Connection reset by peer: core_output_filter: writing data to the network"),
        (2, "[client {ip}] PHP Warning:  {word}() expects parameter 1 to be string, array given in {path} on line {num}"),
        (2, "[client {ip}] PHP Notice:  Undefined variable: {word} in {path} on line {num}"),
        (2, "[client {ip}] AH01630: client denied by server configuration: {path}"),
        (2, "[client {ip}] user {user} not found: {path}"),
        (2, '[client {ip}] user {user}: authentication failure for "{path}": Password Mismatch'),
        (4, "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting"),
        (2, "Apache/{version} (Unix) configured -- resuming normal operations"),
        (2, "Command line: '{path} -D FOREGROUND'"),
        (2, "caught SIGTERM, shutting down"),
        (2, "SIGHUP received.  Attempting to restart"),
        (1, "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. Set the 'ServerName' directive globally to suppress this message"),
        (6, "child pid {pid} exit signal Segmentation fault (11)"),
        (4, '{num}#{num}: *{num} connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: {fqdn}, request: "GET {path} HTTP/1.1", upstream: "{url}", host: "{fqdn}"'),
        (4, 'open() "{path}" failed (2: No such file or directory), client: {ip}, server: {fqdn}, request: "GET {path} HTTP/1.1", host: "{fqdn}"'),
        (3, 'upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: {fqdn}, request: "{GET|POST} {path} HTTP/1.1", upstream: "{url}", host: "{fqdn}"'),
        (2, 'limiting requests, excess: {float} by zone "{word}", client: {ip}, server: {fqdn}, request: "GET {path} HTTP/1.1", host: "{fqdn}"'),
        (2, "SSL_do_handshake() failed (SSL: error:{hexid}:SSL routines:ssl3_get_client_hello:no shared cipher) while SSL handshaking, client: {ip}, server: {ip}:443"),
        (2, '{num}#{num}: *{num} client intended to send too large body: {num} bytes, client: {ip}, server: {fqdn}, request: "POST {path} HTTP/1.1", host: "{fqdn}"'),
        (1, "mod_fcgid: process {path}({pid}) exit(communication error), get unexpected signal 11"),
        (1, "mod_fcgid: read data timeout in {num} seconds"),
    ],
    "kernel": [
        (8, "{word}[{pid}]: segfault at {hex} ip {hex} sp {hex} error {num} in {lib}[{hexid}+{hexid}]"),
        (6, "Out of memory: Killed process {pid} ({word}) total-vm:{num}kB, anon-rss:{num}kB, file-rss:{num}kB, shmem-rss:{num}kB"),
        (4, "{word} invoked oom-killer: gfp_mask={hex}, order=0, oom_score_adj=0"),
        (6, "{iface} NIC Link is Up {num} Mbps Full Duplex, Flow Control: {Rx/Tx|None}"),
        (4, "{iface}: Link is Down"),
        (4, "IPv6: ADDRCONF(NETDEV_CHANGE): {iface}: link becomes ready"),
        (5, "[UFW BLOCK] IN={iface} OUT= MAC={mac} SRC={ip} DST={ip} LEN={num} TOS={hex} PREC={hex} TTL={num} ID={num} PROTO={proto} SPT={port} DPT={port}"),
        (4, "EXT4-fs ({dev}): mounted filesystem with ordered data mode. Opts: (null)"),
        (3, "EXT4-fs error (device {dev}): ext4_find_entry:{num}: inode #{num}: comm {word}: reading directory lblock 0"),
        (3, "sd {scsi}: [{dev}] {num} 512-byte logical blocks: ({num} GB/{num} GiB)"),
        (3, "sd {scsi}: [{dev}] Attached SCSI disk"),
        (3, "blk_update_request: I/O error, dev {dev}, sector {num}"),
        (2, "Buffer I/O error on dev {dev}, logical block {num}, async page read"),
        (3, "usb {usb}: new high-speed USB device number {num} using xhci_hcd"),
        (2, "usb {usb}: USB disconnect, device number {num}"),
        (2, "usb-storage {usb}:1.0: USB Mass Storage device detected"),
        (3, "nf_conntrack: table full, dropping packet"),
        (3, "TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.  Check SNMP counters."),
        (2, "perf: interrupt took too long ({num} > {num}), lowering kernel.perf_event_max_sample_rate to {num}"),
        (2, "INFO: task {word}:{pid} blocked for more than {num} seconds."),
        (2, "mce: [Hardware Error]: Machine check events logged"),
        (2, "EDAC MC0: {num} CE memory read error on CPU_SrcID#0_Ha#0_Chan#{num}_DIMM#{num} (channel:{num} slot:{num} page:{hex} offset:{hex} grain:32 syndrome:{hex})"),
        (2, "CPU{num}: Core temperature above threshold, cpu clock throttled (total events = {num})"),
        (2, "CPU{num}: Core temperature/speed normal"),
        (2, 'audit: type=1400 audit({float}:{num}): apparmor="DENIED" operation="open" profile="{path}" name="{path}" pid={pid} comm="{word}" requested_mask="r" denied_mask="r" fsuid={uid} ouid=0'),
        (1, "device {iface} entered promiscuous mode"),
        (1, "device {iface} left promiscuous mode"),
        (1, "bond0: link status definitely {up|down} for interface {iface}, {num} Mbps full duplex"),
    ],
    "netd": [
        (12, "DHCPREQUEST for {ip} from {mac} via {iface}"),
        (12, "DHCPACK on {ip} to {mac} via {iface}"),
        (6, "DHCPDISCOVER from {mac} via {iface}"),
        (6, "DHCPOFFER on {ip} to {mac} via {iface}"),
        (2, "DHCPNAK on {ip} to {mac} via {iface}"),
        (2, "DHCPINFORM from {ip} via {iface}"),
        (2, "DHCPRELEASE of {ip} from {mac} via {iface} (found)"),
        (2, "uid lease {ip} for client {mac} is duplicate on {ip}/{num}"),
        (4, "synchronized to {ip}, stratum {num}"),
        (3, "kernel time sync status change {num}"),
        (2, "no servers reachable"),
        (3, "Listen normally on {num} {iface} {ipport}"),
        (6, "client {ip}#{port} ({fqdn}): query (cache) '{fqdn}/{A|AAAA|MX|TXT}/IN' denied"),
        (4, "client {ip}#{port}: query: {fqdn} IN {A|AAAA|PTR} + ({ip})"),
        (3, "lame server resolving '{fqdn}' (in '{fqdn}'?): {ip}#{port}"),
        (2, "zone {fqdn}/IN: loaded serial {num}"),
        (2, "zone {fqdn}/IN: sending notifies (serial {num})"),
        (2, "transfer of '{fqdn}/IN' from {ip}#{port}: Transfer completed: {num} messages, {num} records, {num} bytes, {float} secs ({num} bytes/sec)"),
        (2, "error (network unreachable) resolving '{fqdn}/A/IN': {ip}#{port}"),
        (3, "Received SNMP packet(s) from UDP: [{ip}]:{port}->[{ip}]:{port}"),
        (2, "Connection from UDP: [{ip}]:{port}->[{ip}]:{port}"),
        (2, "{iface}: carrier {acquired|lost}"),
        (2, "{iface}: leased {ip} for {num} seconds"),
    ],
    "mail": [
        (15, "{qid}: from=<{email}>, size={num}, nrcpt=1 (queue active)"),
        (12, "{qid}: to=<{email}>, relay={fqdn}[{ip}]:25, delay={num}, delays={delays}, dsn=2.0.0, status=sent (250 2.0.0 OK {word})"),
        (6, "{qid}: to=<{email}>, relay=none, delay={num}, delays={delays}, dsn=4.4.1, status=deferred (connect to {fqdn}[{ip}]:25: Connection timed out)"),
        (3, "{qid}: to=<{email}>, relay={fqdn}[{ip}]:25, delay={num}, delays={delays}, dsn=5.1.1, status=bounced (host {fqdn}[{ip}] said: 550 5.1.1 <{email}>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command))"),
        (12, "{qid}: removed"),
        (10, "{qid}: client={fqdn}[{ip}]"),
        (10, "{qid}: message-id=<{email}>"),
        (12, "connect from {fqdn}[{ip}]"),
        (12, "disconnect from {fqdn}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
        (4, "lost connection after CONNECT from {fqdn}[{ip}]"),
        (4, "warning: {fqdn}[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
        (3, "NOQUEUE: reject: RCPT from {fqdn}[{ip}]: 554 5.7.1 <{email}>: Relay access denied; from=<{email}> to=<{email}> proto=ESMTP helo=<{fqdn}>"),
        (3, "warning: hostname {fqdn} does not resolve to address {ip}: Name or service not known"),
        (3, "Anonymous TLS connection established from {fqdn}[{ip}]: {tlsver} with cipher {cipher} (256/256 bits)"),
        (6, "imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip={ip}, mpid={pid}, TLS, session=<{sess}>"),
        (4, "imap({user}): Logged out in={num} out={num}"),
        (3, "imap-login: Disconnected (auth failed, 1 attempts in {num} secs): user=<{user}>, method=PLAIN, rip={ip}, lip={ip}, TLS, session=<{sess}>"),
        (2, "pop3-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip={ip}, mpid={pid}, session=<{sess}>"),
        (2, "pop3({user}): Disconnected: Logged out top=0/0, retr=0/0, del=0/{num}, size={num}"),
        (1, "statistics: max connection rate 1/60s for (smtp:{ip}) at Jan 12 03:04:05"),
    ],
    "db": [
        (10, "connection received: host={ip} port={port}"),
        (10, "connection authorized: user={user} database={user}"),
        (6, "disconnection: session time: {clock} user={user} database={user} host={ip} port={port}"),
        (4, 'password authentication failed for user "{user}"'),
        (3, 'no pg_hba.conf entry for host "{ip}", user "{user}", database "{user}", SSL off'),
        (3, 'database "{user}" does not exist'),
        (3, 'role "{user}" does not exist'),
        (4, "duration: {float} ms  statement: SELECT * FROM {word} WHERE id = {num}"),
        (3, 'relation "{word}" does not exist at character {num}'),
        (3, 'duplicate key value violates unique constraint "{word}_pkey"'),
        (3, "checkpoint complete: wrote {num} buffers ({float}%); 0 WAL file(s) added, {num} removed, {num} recycled; write={float} s, sync={float} s, total={float} s"),
        (2, 'automatic vacuum of table "{word}.public.{word}": index scans: {num}'),
        (2, 'automatic analyze of table "{word}.public.{word}" system usage: CPU: user: {float} s, system: {float} s, elapsed: {float} s'),
        (2, "could not receive data from client: Connection reset by peer"),
        (2, "unexpected EOF on client connection with an open transaction"),
        (2, "terminating connection due to administrator command"),
        (2, "database system is ready to accept connections"),
        (1, "database system was shut down at {date} {clock} UTC"),
        (3, "Access denied for user '{user}'@'{ip}' (using password: {yesno})"),
        (3, "Aborted connection {num} to db: '{user}' user: '{user}' host: '{ip}' (Got an error reading communication packets)"),
        (2, "Got an error reading communication packets"),
        (2, "InnoDB: Buffer pool(s) load completed at {num} {clock}"),
        (1, "Slave SQL for channel '': Error 'Duplicate entry '{num}' for key 'PRIMARY'' on query. Default database: '{user}'. Query: 'INSERT INTO {word} VALUES ({num})', Error_code: 1062"),
    ],
    "service": [
        (12, "Started {word} in {float} seconds (JVM running for {float})"),
        (12, "GET {path} completed with status {num} in {num} ms"),
        (8, "POST {path} completed with status {num} in {num} ms"),
        (6, "Request {uuid} from {user} failed: {Timeout|Unauthorized|NotFound}"),
        (6, "Cache miss for key {word}:{num}, loading from database"),
        (5, "Cache hit for key {word}:{num}"),
        (5, "User {user} logged in from {ip}"),
        (5, "User {user} logged out"),
        (4, 'Sending e-mail to {email} with subject "{word}"'),
        (4, "Job {uuid} {started|finished|cancelled} after {num} ms"),
        (4, "Retrying connection to {fqdn}:{port} (attempt {num} of 5)"),
        (3, "Connection to {fqdn}:{port} {established|lost|refused}"),
        (3, "HikariPool-1 - Connection {jobj} marked as broken because of SQLSTATE(08006), ErrorCode(0)"),
        (3, "Pod {pod} in namespace {word} is {Running|Pending|Terminating}"),
        (3, "Container {word} in pod {pod} restarted {num} times"),
        (3, 'Pulling image "{image}"'),
        (2, 'Successfully pulled image "{image}" in {dur}'),
        (2, 'Liveness probe failed: Get "http://{ip}:{port}/healthz": context deadline exceeded'),
        (2, "Readiness probe failed: HTTP probe failed with statuscode: {num}"),
        (2, "Scaled {up|down} replica set {pod} to {num}"),
        (2, 'Exception in thread "{thread}" java.lang.NullPointerException'),
        (2, "Uploaded {path} ({num} bytes) to bucket {word}"),
        (2, "Token for {email} expires at {num}"),
        (1, "Shutdown hook invoked, stopping {num} workers"),
        (1, "Loaded {num} feature flags from {url}"),
    ],
    "storage": [
        (10, "Device: {disk} [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from {num} to {num}"),
        (6, "Device: {disk} [SAT], SMART Usage Attribute: 190 Airflow_Temperature_Cel changed from {num} to {num}"),
        (4, "Device: {disk} [SAT], {num} Currently unreadable (pending) sectors"),
        (3, "Device: {disk} [SAT], {num} Offline uncorrectable sectors"),
        (3, "Device: {disk} [SAT], SMART Prefailure Attribute: 1 Raw_Read_Error_Rate changed from {num} to {num}"),
        (6, "md/raid1:{md}: Disk failure on {dev}, disabling device."),
        (4, "md: recovery of RAID array {md}"),
        (4, "md: {md}: recovery done."),
        (3, "md/raid:{md}: read error corrected ({num} sectors at {num} on {dev})"),
        (5, "zfs: pool {word} scrub {started|finished} ({num} errors)"),
        (3, "zed: eid={num} class={zclass} pool='{word}' vdev={dev} size={num} offset={num} priority={num} err=0 flags={hex}"),
        (4, "nfs: server {host} not responding, still trying"),
        (4, "nfs: server {host} OK"),
        (3, "multipathd: {mpath}: remaining active paths: {num}"),
        (3, "multipathd: checker failed path {num}:{num} in map {mpath}"),
        (3, "lvm: Logical volume {lv} successfully resized."),
        (2, "XFS ({dev}): Metadata corruption detected at {sym}, xfs_inode block {hex}"),
        (2, "XFS ({dev}): Ending clean mount"),
        (2, "iscsid: connection{num}:0 is operational now"),
        (2, "iscsid: Kernel reported iSCSI connection {num}:0 error (1022 - Invalid or unknown error code) state (3)"),
        (2, "quota exceeded for user {user} on {path}"),
        (1, "Snapshot {snap} created in {num} ms"),
    ],
}
# fmt: on

# Systems written after the miner's rules were, and scored once as they were written: nothing in
# the miner was changed for them (bench/mine_accuracy.py reports them apart).
# fmt: off
LATER: dict[str, list[tuple[float, str]]] = {
    "systemd": [
        (20, "Started Session {num} of user {user}."),
        (10, "Removed slice User Slice of UID {uid}."),
        (10, "Created slice User Slice of UID {uid}."),
        (6, "{svc}.service: Main process exited, code=exited, status={num}/FAILURE"),
        (6, "{svc}.service: Failed with result 'exit-code'."),
        (4, "{svc}.service: Scheduled restart job, restart counter is at {num}."),
        (4, "{svc}.service: Succeeded."),
        (3, "{svc}.service: Consumed {float}s CPU time."),
        (3, "Stopped {Daily apt upgrade and clean activities|Message of the Day|Rotate log files}."),
        (3, "Starting {Daily apt upgrade and clean activities|Message of the Day|Rotate log files}..."),
        (2, "Reloading."),
        (2, "Startup finished in {float}s (kernel) + {float}s (userspace) = {float}s."),
        (2, "New session {num} of user {user}."),
        (2, "Session {num} logged out. Waiting for processes to exit."),
        (1, "Received SIGHUP; reloading configuration."),
    ],
    "haproxy": [
        (8, "Server {backend}/{server} is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: {num}ms. {num} active and 0 backup servers left. {num} sessions active, 0 requeued, 0 remaining in queue."),
        (8, "Server {backend}/{server} is UP, reason: Layer7 check passed, code: 200, check duration: {num}ms. {num} active and 0 backup servers online. 0 sessions requeued, 0 total in queue."),
        (3, "backend {backend} has no server available!"),
        (2, "Proxy {backend} started."),
        (2, "Stopping backend {backend} in {num} ms."),
        (4, "Connect from {ip}:{port} to {ip}:{port} ({backend}/HTTP)"),
        (2, "Health check for server {backend}/{server} failed, reason: Layer7 timeout, check duration: {num}ms, status: 0/2 DOWN."),
        (1, "Loading success."),
    ],
    "fail2ban": [
        (20, "NOTICE [{jail}] Ban {ip}"),
        (15, "NOTICE [{jail}] Unban {ip}"),
        (25, "INFO [{jail}] Found {ip} - {date} {clock}"),
        (3, "NOTICE [{jail}] Restore Ban {ip}"),
        (2, "INFO Jail '{jail}' started"),
        (2, "INFO Jail '{jail}' stopped"),
        (2, "NOTICE [{jail}] {ip} already banned"),
        (1, "INFO Exiting Fail2ban"),
    ],
    "kafka": [
        (10, "[Log partition={topic}-{num}, dir={path}] Rolled new log segment at offset {num} in {num} ms."),
        (8, "[Log partition={topic}-{num}, dir={path}] Deleting segment files LogSegment(baseOffset={num}, size={num}, lastModifiedTime={num}, largestRecordTimestamp=Some({num}))"),
        (6, "[GroupCoordinator {num}]: Preparing to rebalance group {group} in state PreparingRebalance with old generation {num} (__consumer_offsets-{num}) (reason: Adding new member {member} with group instance id None)"),
        (6, "[GroupCoordinator {num}]: Stabilized group {group} generation {num} (__consumer_offsets-{num}) with {num} members"),
        (4, "[GroupCoordinator {num}]: Member {member} in group {group} has failed, removing it from the group"),
        (4, "[Partition {topic}-{num} broker={num}] Shrinking ISR from {num},{num},{num} to {num},{num}. Leader: (highWatermark: {num}, endOffset: {num}). Out of sync replicas: (brokerId: {num}, endOffset: {num})."),
        (3, "[Partition {topic}-{num} broker={num}] Expanding ISR from {num},{num} to {num},{num},{num}"),
        (2, "[Controller id={num}] Processing automatic preferred replica leader election"),
        (2, "[KafkaServer id={num}] started"),
    ],
}
# fmt: on


# Systems written after the rules of issue 14 changed, as a held-out check of them: other kinds of
# software (a web server's access log, a key-value store, a message broker, a container engine, a
# firewall, cloud-init, the kubelet, a VPN server). Written and committed before the miner was run
# on them, scored once (bench/mine_accuracy.py reports them apart); nothing is changed for them.
# In key=value and quoted structured logs every field's value is a value; words that name another
# event (a method, a key type) are alternatives `{a|b}`.
# fmt: off
HELDOUT: dict[str, list[tuple[float, str]]] = {
    "access": [
        (50, '{ip} - {ruser} [{clf}] "GET {urlpath} {httpver}" {status} {num} "{referer}" "{ua}"'),
        (12, '{ip} - {ruser} [{clf}] "POST {urlpath} {httpver}" {status} {num} "{referer}" "{ua}"'),
        (4, '{ip} - {ruser} [{clf}] "HEAD {urlpath} {httpver}" {status} 0 "-" "{ua}"'),
        (2, '{ip} - {ruser} [{clf}] "PUT {urlpath} {httpver}" {status} {num} "-" "{ua}"'),
        (2, '{ip} - - [{clf}] "-" 400 0 "-" "-"'),
    ],
    "redis": [
        (10, "{num} changes in {num} seconds. Saving..."),
        (10, "Background saving started by pid {pid}"),
        (10, "DB saved on disk"),
        (8, "Fork CoW for RDB: current {num} MB, peak {num} MB, average {num} MB"),
        (10, "Background saving terminated with success"),
        (4, "Connection with replica {ip}:{port} lost."),
        (4, "Replica {ip}:{port} asks for synchronization"),
        (3, "Full resync requested by replica {ip}:{port}"),
        (3, "Starting BGSAVE for SYNC with target: disk"),
        (3, "Synchronization with replica {ip}:{port} succeeded"),
        (3, "Connecting to MASTER {ip}:{port}"),
        (3, "MASTER <-> REPLICA sync started"),
        (2, "Error condition on socket for SYNC: Connection refused"),
        (2, "Client id={num} addr={ip}:{port} laddr={ip}:6379 fd={num} name={rname} age={num} idle={num} flags=N db=0 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=0 obl=0 oll={num} omem={num} events=rw cmd=psync scheduled to be closed ASAP for overcoming of output buffer limits."),
        (1, "Redis version={version}, bits=64, commit={hexid}, modified=0, pid={pid}, just started"),
        (1, "Server initialized"),
        (1, "Ready to accept connections tcp"),
        (1, "Received {SIGTERM|SIGINT} scheduling shutdown..."),
        (1, "Saving the final RDB snapshot before exiting."),
        (1, "Redis is now ready to exit, bye bye..."),
        (1, "Loading RDB produced by version {version}"),
        (1, "RDB age {num} seconds"),
        (1, "Done loading RDB, keys loaded: {num}, keys expired: {num}."),
        (1, "DB loaded from disk: {float} seconds"),
        (1, "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection from {ip}:{port} aborted."),
    ],
    "rabbitmq": [
        (15, "accepting AMQP connection <{erlpid}> ({ip}:{port} -> {ip}:5672)"),
        (15, "connection <{erlpid}> ({ip}:{port} -> {ip}:5672): user '{user}' authenticated and granted access to vhost '{vhost}'"),
        (12, "closing AMQP connection <{erlpid}> ({ip}:{port} -> {ip}:5672, vhost: '{vhost}', user: '{user}')"),
        (6, "closing AMQP connection <{erlpid}> ({ip}:{port} -> {ip}:5672): client unexpectedly closed TCP connection"),
        (3, "Error on AMQP connection <{erlpid}> ({ip}:{port} -> {ip}:5672, vhost: '{vhost}', user: '{user}', state: running), channel 0: operation none caused a connection exception connection_forced: \"broker forced connection closure with reason 'shutdown'\""),
        (3, "Channel error on connection <{erlpid}> ({ip}:{port} -> {ip}:5672, vhost: '{vhost}', user: '{user}'), channel {num}: operation queue.declare caused a channel exception precondition_failed: inequivalent arg 'x-queue-type' for queue '{queue}' in vhost '{vhost}': received none but current is the value 'quorum' of type 'longstr'"),
        (4, "Mirrored queue '{queue}' in vhost '{vhost}': Adding mirror on node {rnode}: <{erlpid}>"),
        (3, "Mirrored queue '{queue}' in vhost '{vhost}': Synchronising: {num} messages to synchronise"),
        (3, "queue '{queue}' in vhost '{vhost}': granting vote for {rnode} with last indexterm {num}:{num} for term {num} previous term was {num}"),
        (2, "Setting permissions for user '{user}' in vhost '{vhost}'"),
        (1, "Creating user '{user}'"),
        (1, "Deleting user '{user}'"),
        (1, "Adding vhost '{vhost}' (description: '{word}', tags: [])"),
        (2, "node {rnode} up"),
        (2, "node {rnode} down: {atom}"),
        (1, "Keeping {rnode} listeners: the node is already back"),
        (1, "Statistics database started."),
        (1, "Server startup complete; {num} plugins started."),
        (1, "Memory high watermark set to {num} MiB ({num} bytes) of {num} MiB ({num} bytes) total"),
        (1, "memory resource limit alarm set on node {rnode}."),
        (1, "memory resource limit alarm cleared on node {rnode}"),
        (1, "Free disk space is insufficient. Free bytes: {num}. Limit: {num}"),
    ],
    "dockerd": [
        (20, 'time="{isotime}" level=info msg="ignoring event" container={cid} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"'),
        (12, 'time="{isotime}" level=info msg="shim disconnected" id={cid} namespace=moby'),
        (10, 'time="{isotime}" level=warning msg="cleaning up after shim disconnected" id={cid} namespace=moby'),
        (10, 'time="{isotime}" level=info msg="starting signal loop" namespace=moby path=/run/containerd/io.containerd.runtime.v2.task/moby/{cid} pid={pid} runtime=io.containerd.runc.v2'),
        (6, 'time="{isotime}" level=info msg="Container failed to exit within {num}s of signal 15 - using the force" container={cid}'),
        (4, 'time="{isotime}" level=error msg="Handler for POST /v1.{num}/containers/{cid}/start returned error: driver failed programming external connectivity on endpoint {cname} ({cid}): Bind for 0.0.0.0:{port} failed: port is already allocated"'),
        (3, 'time="{isotime}" level=error msg="Not continuing with pull after error: manifest unknown: manifest unknown"'),
        (3, 'time="{isotime}" level=info msg="Attempting next endpoint for pull after error: manifest unknown"'),
        (3, 'time="{isotime}" level=warning msg="Error getting v2 registry: Get \\"https://{fqdn}/v2/\\": dial tcp: lookup {fqdn}: no such host"'),
        (3, 'time="{isotime}" level=error msg="stream copy error: reading from a closed fifo"'),
        (3, 'time="{isotime}" level=info msg="Removing stale sandbox {hexid} ({cid})"'),
        (2, 'time="{isotime}" level=warning msg="Failed to allocate and map port {port}-{port}: Bind for 0.0.0.0:{port} failed: port is already allocated"'),
        (1, 'time="{isotime}" level=info msg="Loading containers: start."'),
        (1, 'time="{isotime}" level=info msg="Loading containers: done."'),
        (1, 'time="{isotime}" level=warning msg="Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."'),
        (1, 'time="{isotime}" level=info msg="API listen on /run/docker.sock"'),
        (1, 'time="{isotime}" level=info msg="Daemon has completed initialization"'),
        (1, 'time="{isotime}" level=info msg="Processing signal \'terminated\'"'),
    ],
    "asa": [
        (20, "%ASA-6-302013: Built {inbound|outbound} TCP connection {num} for {zone}:{ip}/{port} ({ip}/{port}) to {zone}:{ip}/{port} ({ip}/{port})"),
        (20, "%ASA-6-302014: Teardown TCP connection {num} for {zone}:{ip}/{port} to {zone}:{ip}/{port} duration {clock} bytes {num} {teardown}"),
        (10, "%ASA-6-302015: Built {inbound|outbound} UDP connection {num} for {zone}:{ip}/{port} ({ip}/{port}) to {zone}:{ip}/{port} ({ip}/{port})"),
        (10, "%ASA-6-302016: Teardown UDP connection {num} for {zone}:{ip}/{port} to {zone}:{ip}/{port} duration {clock} bytes {num}"),
        (10, '%ASA-4-106023: Deny {tcp|udp} src {zone}:{ip}/{port} dst {zone}:{ip}/{port} by access-group "{acl}" [{hex}, {hex}]'),
        (4, "%ASA-2-106001: Inbound TCP connection denied from {ip}/{port} to {ip}/{port} flags SYN  on interface {zone}"),
        (3, "%ASA-4-419002: Duplicate TCP SYN from {zone}:{ip}/{port} to {zone}:{ip}/{port} with different initial sequence number"),
        (5, "%ASA-6-305011: Built dynamic {TCP|UDP} translation from {zone}:{ip}/{port} to {zone}:{ip}/{port}"),
        (5, "%ASA-6-305012: Teardown dynamic {TCP|UDP} translation from {zone}:{ip}/{port} to {zone}:{ip}/{port} duration {clock}"),
        (2, "%ASA-3-710003: {TCP|UDP} access denied by ACL from {ip}/{port} to {zone}:{ip}/{port}"),
        (1, '%ASA-6-605005: Login permitted from {ip}/{port} to {zone}:{ip}/ssh for user "{user}"'),
        (1, "%ASA-5-111008: User '{user}' executed the '{asacmd}' command."),
        (1, "%ASA-6-113004: AAA user authentication Successful : server =  {ip} : user = {user}"),
    ],
    "cloudinit": [
        (4, "Cloud-init v. {version} running '{stage}' at {rfcdate}. Up {float} seconds."),
        (2, "Cloud-init v. {version} finished at {rfcdate}. Datasource {datasource}.  Up {float} seconds"),
        (12, "Running module {ccmod} with frequency {freq}"),
        (2, "Generating public/private {rsa|ecdsa|ed25519} key pair."),
        (2, "Your identification has been saved in {path}"),
        (2, "Your public key has been saved in {path}.pub"),
        (2, "The key fingerprint is:"),
        (2, "SHA256:{b64} root@{host}"),
        (3, "Calling '{url}' failed [{num}/120s]: request error [('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))]"),
        (2, "Crawl of metadata service took {float} seconds"),
        (2, "Setting hostname to {fqdn} ({host})"),
        (2, "Adding user {user}"),
        (4, "Writing to {path} - wb: [644] {num} bytes"),
        (3, "Attempting to load yaml from string of length {num} with allowed root types (<class 'dict'>,)"),
        (2, "Read {num} bytes from {path}"),
        (1, "No 'reboot' entry found in {path}"),
    ],
    "kubelet": [
        (8, 'kubelet.go:2457] "SyncLoop ADD" source="api" pods=["{ns}/{kpod}"]'),
        (10, 'kubelet.go:2464] "SyncLoop UPDATE" source="api" pods=["{ns}/{kpod}"]'),
        (6, 'kubelet.go:2473] "SyncLoop DELETE" source="api" pods=["{ns}/{kpod}"]'),
        (6, 'kubelet.go:2467] "SyncLoop REMOVE" source="api" pods=["{ns}/{kpod}"]'),
        (5, 'kuberuntime_container.go:745] "Killing container with a grace period" pod="{ns}/{kpod}" podUID={uuid} containerName="{cname}" containerID="containerd://{cid}" gracePeriod={num}'),
        (8, 'prober.go:107] "Probe failed" probeType="{probe}" pod="{ns}/{kpod}" podUID={uuid} containerName="{cname}" probeResult="failure" output="Get \\"http://{ip}:{port}/healthz\\": dial tcp {ip}:{port}: connect: connection refused"'),
        (6, 'pod_workers.go:1294] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"{cname}\\" with CrashLoopBackOff: \\"back-off {dur} restarting failed container={cname} pod={kpod}_{ns}({uuid})\\"" pod="{ns}/{kpod}" podUID={uuid}'),
        (6, 'scope.go:117] "RemoveContainer" containerID="{cid}"'),
        (4, 'reconciler_common.go:258] "operationExecutor.VerifyControllerAttachedVolume started for volume \\"{vol}\\" (UniqueName: \\"kubernetes.io/projected/{uuid}-{vol}\\") pod \\"{kpod}\\" (UID: \\"{uuid}\\") " pod="{ns}/{kpod}"'),
        (1, 'kubelet_node_status.go:493] "Fast updating node status as it just became ready"'),
        (2, 'eviction_manager.go:346] "Eviction manager: attempting to reclaim" resourceName="{resource}"'),
        (3, 'log.go:194] "Failed to get system container stats" err="failed to get cgroup stats for \\"/system.slice/{svc}.service\\": failed to get container info for \\"/system.slice/{svc}.service\\": unknown container \\"/system.slice/{svc}.service\\"" containerName="/system.slice/{svc}.service"'),
        (2, 'kubelet.go:2430] "Housekeeping took longer than expected" err="housekeeping took too long" expected="1s" actual="{dur}"'),
        (3, 'cpu_manager.go:395] "RemoveStaleState: removing container" podUID="{uuid}" containerName="{cname}"'),
    ],
    "openvpn": [
        (8, "{ip}:{port} TLS: Initial packet from [AF_INET]{ip}:{port}, sid={hexid} {hexid}"),
        (6, "{ip}:{port} VERIFY OK: depth=1, CN={word} CA"),
        (6, "{ip}:{port} VERIFY OK: depth=0, CN={cn}"),
        (6, "{ip}:{port} peer info: IV_VER={version}"),
        (6, "{ip}:{port} [{cn}] Peer Connection Initiated with [AF_INET]{ip}:{port}"),
        (6, "{cn}/{ip}:{port} MULTI_sva: pool returned IPv4={ip}, IPv6=(Not enabled)"),
        (6, "{cn}/{ip}:{port} MULTI: Learn: {ip} -> {cn}/{ip}:{port}"),
        (6, "{cn}/{ip}:{port} MULTI: primary virtual IP for {cn}/{ip}:{port}: {ip}"),
        (6, "{cn}/{ip}:{port} Data Channel: using negotiated cipher '{cipher2}'"),
        (5, "{cn}/{ip}:{port} PUSH: Received control message: 'PUSH_REQUEST'"),
        (5, "{cn}/{ip}:{port} SENT CONTROL [{cn}]: 'PUSH_REPLY,route-gateway {ip},topology subnet,ping 10,ping-restart 120,ifconfig {ip} 255.255.255.0,peer-id {num},cipher AES-256-GCM' (status=1)"),
        (4, "{cn}/{ip}:{port} SIGUSR1[soft,ping-restart] received, client-instance restarting"),
        (3, "{cn}/{ip}:{port} Connection reset, restarting [0]"),
        (3, "{ip}:{port} TLS Error: TLS key negotiation failed to occur within 60 seconds (check your network connectivity)"),
        (3, "{ip}:{port} TLS Error: TLS handshake failed"),
        (2, "{ip}:{port} VERIFY ERROR: depth=0, error=certificate has expired: CN={cn}, serial={num}"),
        (2, "Authenticate/Decrypt packet error: packet HMAC authentication failed"),
    ],
}
# fmt: on


# fmt: off
_NAMES = [
    "root", "admin", "test", "user", "guest", "oracle", "postgres", "mysql", "ubuntu", "pi", "git", "ftp",
    "www-data", "nobody", "backup", "support", "deploy", "jenkins", "ansible", "nagios", "tomcat", "hadoop", "elastic", "redis",
    "apache", "nginx", "operator", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "jsmith", "mjones", "abrown", "kwilson", "tlee",
]
_WORDS = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
    "yankee", "zulu", "amber", "cobalt", "copper", "ember", "frost", "granite", "harbor", "iris", "jade", "lotus",
    "marble", "nectar", "onyx", "pearl", "quartz", "raven", "sable", "tundra",
]
# fmt: on
_TLDS = ("com", "net", "org", "io", "de")


def _zipf(rnd: random.Random, pool: list[str], fresh: Callable[[random.Random], str], new_rate: float) -> str:
    """A value from an open pool: the first ones most often, a new one now and then."""
    if rnd.random() < new_rate or not pool:
        pool.append(fresh(rnd))
        return pool[-1]
    return pool[min(int(rnd.paretovariate(1.2)) - 1, len(pool) - 1)]


def _letters(rnd: random.Random, lo: int = 3, hi: int = 8) -> str:
    return "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(lo, hi)))


class _Values:
    """Fresh values of each kind, from open pools that keep growing."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.users = list(_NAMES)
        rnd.shuffle(self.users)
        self.users.remove("root")
        self.users.insert(0, "root")
        self.words = list(_WORDS)
        rnd.shuffle(self.words)
        self.hosts: list[str] = []
        self.services = ["nginx", "postgresql", "docker", "ssh", "cron", "apt-daily", "logrotate", "certbot"]
        self.topics = ["orders", "payments", "audit-log", "clicks", "inventory"]
        self.groups: list[str] = []

    def __call__(self, kind: str) -> str:
        r = self.rnd
        if kind == "user":
            return _zipf(r, self.users, lambda x: _letters(x, 3, 9), 0.05)
        if kind == "root":  # the user of sudo sessions: a value that happens to be always the same
            return "root"
        if kind == "word":
            return _zipf(r, self.words, lambda x: _letters(x, 4, 10), 0.05)
        if kind == "host":
            return _zipf(r, self.hosts, lambda x: f"{_letters(x, 3, 6)}{x.randint(1, 40):02d}", 0.1)
        if kind == "fqdn":
            return f"{_letters(r, 3, 8)}.{_letters(r, 4, 9)}.{r.choice(_TLDS)}"
        if kind == "ip":
            return ".".join(str(r.randint(1, 254)) for _ in range(4))
        if kind == "port":
            return str(r.randint(1024, 65535))
        if kind in ("num", "pid"):
            return str(int(r.paretovariate(0.6))) if kind == "num" else str(r.randint(300, 65000))
        if kind == "uid":
            return str(r.choice((0, 0, 1000, 1001, 33, 48, r.randint(1000, 5000))))
        if kind == "hex":
            return "0x" + "".join(r.choice("0123456789abcdef") for _ in range(r.choice((8, 12, 16))))
        if kind == "path":
            return (
                "/"
                + "/".join(_letters(r, 2, 8) for _ in range(r.randint(2, 5)))
                + r.choice(("", ".php", ".log", ".html"))
            )
        if kind == "uuid":
            h = "".join(r.choice("0123456789abcdef") for _ in range(32))
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if kind == "email":
            return f"{_letters(r, 3, 8)}@{_letters(r, 4, 9)}.{r.choice(_TLDS)}"
        if kind == "url":
            return f"http://{self('ip')}:{self('port')}{self('path')}"
        if kind == "mac":
            return ":".join(f"{r.randint(0, 255):02x}" for _ in range(6))
        if kind == "iface":
            return r.choice(("eth", "eno", "ens", "wlan", "enp0s")) + str(r.randint(0, 9))
        if kind == "dev":
            return "sd" + r.choice("abcdefgh") + str(r.randint(1, 9))
        if kind == "disk":
            return "/dev/sd" + r.choice("abcdefgh")
        if kind == "md":
            return f"md{r.randint(0, 9)}"
        if kind == "scsi":
            return f"{r.randint(0, 9)}:0:{r.randint(0, 9)}:0"
        if kind == "usb":
            return f"{r.randint(1, 4)}-{r.randint(1, 8)}"
        if kind == "tty":
            return r.choice(("pts/", "tty")) + str(r.randint(0, 20))
        if kind == "float":
            return f"{r.expovariate(0.2):.{r.choice((1, 2, 3))}f}"
        if kind == "clock":
            return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        if kind == "date":
            return f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if kind == "dur":
            return f"{r.expovariate(0.3):.3f}s"
        if kind == "delays":
            return "/".join(f"{r.expovariate(5):.2g}" for _ in range(4))
        if kind == "ipport":
            return f"{self('ip')}:{self('port')}"
        if kind == "hexid":
            return "".join(r.choice("0123456789abcdef") for _ in range(r.choice((6, 8, 10))))
        if kind == "sess":
            return "".join(r.choice(string.ascii_letters + string.digits + "+/") for _ in range(16))
        if kind == "pod":
            return f"{self('word')}-{self('hexid')}-{''.join(r.choice(string.ascii_lowercase + string.digits) for _ in range(5))}"
        if kind == "image":
            return f"{self('fqdn')}/{self('word')}:{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}"
        if kind == "thread":
            return r.choice(("pool-{}-thread-{}", "http-nio-8080-exec-{}{}", "worker-{}-{}")).format(
                r.randint(1, 9), r.randint(1, 99)
            )
        if kind == "jobj":
            return f"org.postgresql.jdbc.PgConnection@{self('hexid')}"
        if kind == "version":
            return f"2.4.{r.randint(1, 62)}"
        if kind == "lib":
            return r.choice(("libc-2.31.so", "libpthread-2.31.so", "libstdc++.so.6.0.28", f"{self('word')}.so"))
        if kind == "sym":
            return f"xfs_{self('word')}+0x{r.randint(1, 999):x}/0x{r.randint(1000, 4000):x}"
        if kind == "snap":
            return f"{self('word')}@auto-{self('date')}"
        if kind == "lv":
            return f"vg{r.randint(0, 3)}/lv_{self('word')}"
        if kind == "mpath":
            return "mpath" + r.choice(string.ascii_lowercase)
        if kind == "zclass":
            return r.choice(("checksum", "io", "delay", "probe_failure"))
        if kind == "yesno":
            return r.choice(("YES", "NO"))
        if kind == "proto":
            return r.choice(("TCP", "UDP", "ICMP"))
        if kind == "tlsver":
            return r.choice(("TLSv1.2", "TLSv1.3"))
        if kind == "cipher":
            return r.choice(("ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"))
        if kind == "svc":
            return _zipf(r, self.services, lambda x: f"{_letters(x, 4, 9)}", 0.02)
        if kind == "jail":
            return r.choice(("sshd", "sshd", "sshd", "nginx-http-auth", "postfix-sasl", "recidive"))
        if kind == "backend":
            return r.choice(("web_back", "api_back", "static_back"))
        if kind == "server":
            return f"{r.choice(('web', 'api', 'app'))}{r.randint(1, 6):02d}"
        if kind == "topic":
            return _zipf(r, self.topics, lambda x: _letters(x, 4, 10), 0.02)
        if kind == "group":
            return _zipf(r, self.groups, lambda x: f"{_letters(x, 4, 8)}-consumers", 0.05)
        if kind == "member":
            return f"consumer-{r.randint(1, 9)}-{self('uuid')}"
        if kind == "qid":
            return "".join(r.choice("0123456789ABCDEF") for _ in range(10))
        if kind in _HELD_KINDS:
            return _HELD_KINDS[kind](self)
        raise KeyError(kind)


def _pick(v: _Values, name: str, fresh: Callable[[random.Random], str], seed: list[str], rate: float) -> str:
    """A value from an open pool kept on `v` (created on first use, so the older systems draw the
    same numbers as before)."""
    pools: dict[str, list[str]] = v.__dict__.setdefault("held_pools", {})
    if name not in pools:
        pools[name] = list(seed)
    return _zipf(v.rnd, pools[name], fresh, rate)


def _hexs(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


_MONTH3 = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/7.88.1",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "kube-probe/1.27",
    "Prometheus/2.47.0",
)
_HELD_KINDS: dict[str, Callable[[_Values], str]] = {
    "ruser": lambda v: "-" if v.rnd.random() < 0.9 else v("user"),
    "clf": lambda v: (
        f"{v.rnd.randint(1, 28):02d}/{v.rnd.choice(_MONTH3)}/2024:{v('clock')} +0000"
    ),
    "urlpath": lambda v: v.rnd.choice(("/", "/index.html", "/favicon.ico", "/api/v1/orders", "/login"))
    if v.rnd.random() < 0.4
    else v("path") + (f"?id={v.rnd.randint(1, 99999)}" if v.rnd.random() < 0.3 else ""),
    "httpver": lambda v: v.rnd.choice(("HTTP/1.1", "HTTP/1.1", "HTTP/2.0", "HTTP/1.0")),
    "status": lambda v: v.rnd.choice(("200", "200", "200", "304", "301", "404", "403", "500", "502")),
    "referer": lambda v: "-" if v.rnd.random() < 0.6 else f"https://{v('fqdn')}{v('path')}",
    "ua": lambda v: v.rnd.choice(_UAS),
    "rname": lambda v: v.rnd.choice(("", "", "sentinel", "replica")),
    "erlpid": lambda v: f"0.{v.rnd.randint(100, 99999)}.{v.rnd.choice((0, 0, 1, 2))}",
    "vhost": lambda v: _pick(v, "vhost", lambda r: _letters(r, 3, 8), ["/", "prod", "staging", "orders"], 0.01),
    "queue": lambda v: _pick(
        v,
        "queue",
        lambda r: f"{_letters(r, 4, 8)}.{r.choice(('created', 'retry', 'dlq', 'events'))}",
        ["orders.created", "payments.retry", "email_notifications", "celery", "audit.events"],
        0.05,
    ),
    "rnode": lambda v: f"rabbit@{v.rnd.choice(('rmq-0', 'rmq-1', 'rmq-2', 'mq01', 'mq02'))}",
    "atom": lambda v: v.rnd.choice(("connection_closed", "net_tick_timeout", "noconnection")),
    "isotime": lambda v: f"{v('date')}T{v('clock')}.{v.rnd.randint(0, 999999999):09d}Z",
    "cid": lambda v: _hexs(v.rnd, 64),
    "cname": lambda v: _pick(
        v,
        "cname",
        lambda r: f"{_letters(r, 3, 8)}{r.choice(('', '-1', '_1', '-worker'))}",
        ["nginx", "app", "redis", "postgres", "sidecar", "web-1", "myapp_db_1"],
        0.05,
    ),
    "zone": lambda v: v.rnd.choice(("outside", "outside", "inside", "inside", "dmz", "mgmt", "guest")),
    "teardown": lambda v: v.rnd.choice(("TCP FINs", "TCP FINs", "TCP Reset-O", "TCP Reset-I", "SYN Timeout")),
    "acl": lambda v: v.rnd.choice(("outside_access_in", "inside_access_out", "dmz_access_in", "global_access")),
    "asacmd": lambda v: v.rnd.choice(("show running-config", "write memory", "configure terminal", "show vpn-sessiondb")),
    "stage": lambda v: v.rnd.choice(("init-local", "init", "modules:config", "modules:final")),
    "rfcdate": lambda v: (
        f"{v.rnd.choice(('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'))}, {v.rnd.randint(1, 28):02d} "
        f"{v.rnd.choice(_MONTH3)} 2024 {v('clock')} +0000"
    ),
    "datasource": lambda v: v.rnd.choice(
        ("DataSourceEc2", "DataSourceNoCloud [seed=/dev/sr0][dsmode=net]", "DataSourceOpenStack [net,ver=2]")
    ),
    "ccmod": lambda v: (
        lambda m: f"{m} (<module 'cloudinit.config.cc_{m.replace('-', '_')}' from "
        f"'/usr/lib/python3/dist-packages/cloudinit/config/cc_{m.replace('-', '_')}.py'>)"
    )(
        v.rnd.choice(
            (
                "ssh-authkey-fingerprints", "keys-to-console", "phone-home", "final-message", "power-state-change",
                "write-files", "growpart", "resizefs", "set-hostname", "update-hostname", "users-groups", "ssh",
                "apt-configure", "ntp", "timezone", "runcmd", "scripts-user", "package-update-upgrade-install",
            )
        )
    ),
    "freq": lambda v: v.rnd.choice(("once-per-instance", "once-per-instance", "always", "once")),
    "b64": lambda v: "".join(v.rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(43)),
    "ns": lambda v: _pick(
        v, "ns", lambda r: _letters(r, 4, 10), ["default", "kube-system", "monitoring", "ingress-nginx", "payments"], 0.02
    ),
    "kpod": lambda v: _pick(
        v,
        "kpod",
        lambda r: f"{_letters(r, 3, 9)}-{_hexs(r, 9)}-{''.join(r.choice(string.ascii_lowercase + string.digits) for _ in range(5))}",
        [],
        0.15,
    ),
    "probe": lambda v: v.rnd.choice(("Readiness", "Liveness", "Startup")),
    "dur": lambda v: f"{v.rnd.choice((10, 20, 40, 80, 160, 300))}s" if v.rnd.random() < 0.7 else f"{v.rnd.expovariate(0.5):.6f}s",
    "vol": lambda v: v.rnd.choice(("kube-api-access-", "config-volume-", "data-")) + "".join(
        v.rnd.choice(string.ascii_lowercase + string.digits) for _ in range(5)
    ),
    "resource": lambda v: v.rnd.choice(("memory", "ephemeral-storage", "nodefs")),
    "cn": lambda v: _pick(
        v,
        "cn",
        lambda r: f"{_letters(r, 3, 7)}{r.choice(('', '-laptop', '_phone', '-vpn'))}",
        ["client1", "alice-laptop", "bob_phone", "jdoe", "office-gw"],
        0.05,
    ),
    "cipher2": lambda v: v.rnd.choice(("AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305")),
}


_SLOT = re.compile(r"\{([^{}]*)\}")


def _expand(template: str) -> list[str]:
    """Each `{a|b}` choice makes templates of their own; `{kind}` slots stay."""
    m = next((m for m in _SLOT.finditer(template) if "|" in m.group(1)), None)
    if m is None:
        return [template]
    return [x for alt in m.group(1).split("|") for x in _expand(template[: m.start()] + alt + template[m.end() :])]


def generate(system: str, n: int, seed: int = 1) -> tuple[list[str], list[str]]:
    """`n` messages of a system and the truth template of each."""
    rnd = random.Random(f"{system}/{seed}")
    values = _Values(rnd)
    templates = {**SYSTEMS, **LATER, **HELDOUT}[system]
    forms = [(w / len(alts), t) for w, tpl in templates for alts in [_expand(tpl)] for t in alts]
    weights = [w for w, _ in forms]
    messages, truth = [], []
    for _, form in rnd.choices(forms, weights, k=n):
        messages.append(_SLOT.sub(lambda m: values(m.group(1)), form))
        truth.append(_SLOT.sub("<*>", form))
    return messages, truth
