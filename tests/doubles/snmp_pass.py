"""snmpd `pass_persist` helper: answers get/getnext from an snmpsim-style `.snmprec` file
(`OID|TYPE|VALUE` lines), re-read whenever the file changes, so a test can move counters,
flip an interface down or drop a row between two polls of a real agent.

Run by snmpd, not imported: `pass_persist -p 1 <subtree> <python> snmp_pass.py <file.snmprec>`.
"""

from __future__ import annotations

import os
import sys

# snmprec type tags -> the type words of the pass protocol.
TYPES = {"2": "integer", "4": "string", "6": "objectid", "65": "counter", "66": "gauge", "67": "timeticks",
         "70": "counter64"}


def load(path: str) -> dict[tuple[int, ...], tuple[str, str]]:
    rows = {}
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            if raw.strip() and not raw.startswith("#"):
                oid, tag, value = raw.rstrip("\n").split("|", 2)
                kind = TYPES[tag]
                rows[key(oid)] = (kind, "." + value.lstrip(".") if kind == "objectid" else value)
    return rows


def key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.strip().strip(".").split("."))


def answer(rows: dict, command: str, oid: tuple[int, ...]) -> str:
    nearest = min((k for k in rows if k > oid), default=None)
    found = (oid if oid in rows else None) if command == "get" else nearest
    if found is None:
        return "NONE"
    kind, value = rows[found]
    return f".{'.'.join(map(str, found))}\n{kind}\n{value}"


def main(path: str) -> None:
    stamp, rows = None, {}
    for line in sys.stdin:
        command = line.strip()
        if command == "PING":
            print("PONG", flush=True)
            continue
        oid = key(sys.stdin.readline())
        if command == "set":
            sys.stdin.readline()
            print("not-writable", flush=True)
            continue
        st = os.stat(path)
        if (st.st_ino, st.st_mtime_ns, st.st_size) != stamp:
            stamp, rows = (st.st_ino, st.st_mtime_ns, st.st_size), load(path)
        print(answer(rows, command, oid), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
