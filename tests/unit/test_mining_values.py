"""What is a value and what is template text, from general log knowledge (no dataset lines).

A message prints the same words every time and values that change: user and host names, paths,
hex and numeric ids, e-mail and IP addresses. However many distinct values a position has seen,
two or forty, they are one template. Words that name a different event (`Failed password` and
`Failed publickey`, `Accepted` and `Failed`) are different templates, whatever the values do.
"""

from __future__ import annotations

import itertools
import random
import uuid

import pytest

from bench.mine_corpus import generate
from streamapp.mining import TemplateMiner

USERS = ["root", "git", "ftp", "mysql", "admin", "oracle", "postgres", "ubuntu", "deploy", "backup"]
HOSTS = ["web01", "web02", "db1", "alpha", "bastion", "build-7", "gw", "mx2", "nas", "proxy"]
COUNTS = (2, 3, 5, 8, 40)
PAIRS = [c + d for c in "abcdefghijklmnopqrstuvwxyz" for d in "xyz"]


def _values(kind: str, n: int) -> list[str]:
    """`n` distinct values of a kind, the first ones real-looking, then more of the same shape."""
    rnd = random.Random(f"{kind}/{n}")
    if kind == "user":
        return (USERS + [f"user{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + [f"svc{c}x" for c in "abcdefgh"])[:n]
    if kind == "host":
        return (HOSTS + [f"node-{i}" for i in range(40)])[:n]
    if kind == "path":
        return [f"/var/lib/{rnd.choice(['app', 'db', 'cache'])}/{i:04d}/data.bin" for i in range(n)]
    if kind == "hex":
        return [f"{rnd.getrandbits(48):012x}" for _ in range(n)]
    if kind == "number":
        return [str(rnd.randint(1000, 99999)) for _ in range(n)]
    if kind == "email":
        return [f"{u}@example.org" for u in (USERS + [f"u{i}" for i in range(40)])[:n]]
    if kind == "ip":
        return [f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}" for _ in range(n)]
    if kind == "ipv6":
        return [f"2001:db8:{rnd.getrandbits(16):x}::{rnd.getrandbits(16):x}" for _ in range(n)]
    if kind == "fqdn":  # a few well-known service names under a few domains
        names = ["mail", "www", "api", "db", "cdn", "smtp", "vpn", "git"]
        return [f"{names[i % 8]}.{['example.com', 'corp.local', 'example.org'][i // 8 % 3]}" for i in range(n)]
    if kind == "uuid":
        return [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(n)]
    if kind == "jail":  # names an operator configured, which the program quotes or brackets
        return (["sshd", "recidive", "nginx-http-auth", "postfix-sasl"] + [f"jail{w}" for w in PAIRS])[:n]
    if kind == "pool":  # members of a pool, numbered
        return [f"{['web', 'db', 'cache', 'worker'][i % 4]}{i:02d}" for i in range(n)]
    if kind == "config":  # configured names in snake_case
        return [f"{w}_{['back', 'pool', 'queue'][i % 3]}" for i, w in enumerate((USERS + PAIRS)[:n])]
    raise KeyError(kind)


# Messages as programs print them, with the value in one position: `{v}`.
MESSAGES = {
    "user": [
        "Failed password for {v} from 10.0.0.{i} port 5{i}22 ssh2",
        "Accepted publickey for {v} from 10.0.0.{i} port 5{i}22 ssh2",
        "pam_unix(sshd:session): session opened for user {v} by (uid=0)",
        "Invalid user {v} from 192.168.1.{i} port 4{i}00",
        "Connection closed by invalid user {v} 10.1.1.{i} port 6{i}01 [preauth]",
    ],
    "host": [
        "Connection from {v} port 5{i}22 on 10.0.0.1 port 22",
        "Received disconnect from {v} port 4{i}11:11: Bye Bye [preauth]",
        "Cannot resolve host {v}, retrying",
    ],
    "path": ["Deleting file {v}", "open({v}) failed: Permission denied"],
    "hex": ["transaction {v} committed in 3 ms", "lock {v} released by worker 4"],
    "number": ["job {v} finished with exit code 0", "Session {v} logged out. Waiting for processes to exit."],
    "email": ["Sending report to {v}", "message from {v} queued as 7F3A2B1C09"],
    "ip": ["Connection from {v} closed", "Blocked {v} after 5 failed attempts"],
    "ipv6": ["Connection from {v} closed", "Accepted password for root from {v} port 22 ssh2"],
    "fqdn": ["Connecting to {v} port 443", "lookup {v} failed: no such host"],
    "uuid": ["request {v} finished in 12 ms", "Deleting instance {v}"],
    "jail": ["Jail '{v}' started", "NOTICE [{v}] Ban 10.0.0.{i}"],
    "pool": ["node {v} is not responding", "Server api_back/{v} is DOWN, {i} active servers left."],
    "config": ["backend {v} has no server available!", "Proxy {v} started."],
}
CASES = [(kind, message, n) for kind, messages in MESSAGES.items() for message in messages for n in COUNTS]


def _mine(lines: list[str]) -> TemplateMiner:
    miner = TemplateMiner()
    miner.add_many(lines)
    return miner


@pytest.mark.parametrize(("kind", "message", "count"), CASES)
def test_values_in_one_position_stay_one_template(kind, message, count) -> None:
    values = _values(kind, count)
    # Every value several times, round-robin, and the most common one far more often (as `root`
    # is among user names): repetition is what tempts a miner to take values for words.
    picks = [values[i % count] for i in range(6 * count)] + [values[0]] * 30
    lines = [message.format(v=v, i=i % 9) for i, v in enumerate(picks)]
    miner = _mine(lines)
    templates = {miner.match(line).template for line in lines}
    assert len(templates) == 1, templates
    (template,) = templates
    assert "<*>" in template.split()[message.split().index(next(t for t in message.split() if "{v}" in t))]


@pytest.mark.parametrize("users", [2, 5, 40])
def test_a_different_method_word_is_a_different_template(users) -> None:
    names = _values("user", users)
    lines = [
        f"{verb} {method} for {name} from 10.2.{i % 7}.{i % 250} port {40000 + i} ssh2"
        for i, (verb, method, name) in enumerate(
            itertools.islice(
                itertools.cycle(itertools.product(["Failed", "Accepted"], ["password", "publickey"], names)), 400
            )
        )
    ]
    lines += [f"Failed none for invalid user {names[i % users]} from 10.3.0.{i} port 22 ssh2" for i in range(20)]
    lines += [f"Failed password for invalid user {names[i % users]} from 10.3.1.{i} port 22 ssh2" for i in range(20)]
    miner = _mine(lines)
    assert {t.template for t in miner.templates()} == {
        "Failed password for <*> from <*> port <*> ssh2",
        "Failed publickey for <*> from <*> port <*> ssh2",
        "Accepted password for <*> from <*> port <*> ssh2",
        "Accepted publickey for <*> from <*> port <*> ssh2",
        "Failed none for invalid user <*> from <*> port <*> ssh2",
        "Failed password for invalid user <*> from <*> port <*> ssh2",
    }


def test_http_methods_and_states_are_words() -> None:
    lines = [
        f"{m} /api/v1/items/{i} completed with status 200 in {i % 50} ms"
        for i, m in zip(range(300), itertools.cycle(["GET", "POST", "DELETE"]))
    ]
    lines += [
        f"[instance: {i:08x}-aaaa-4bbb-8ccc-dddddddddddd] VM {s} (Lifecycle Event)"
        for i, s in zip(range(60), itertools.cycle(["Started", "Stopped", "Paused"]))
    ]
    miner = _mine(lines)
    assert len(miner.templates()) == 6


def test_a_split_that_turns_out_to_be_a_variable_merges_back_with_aliases() -> None:
    miner = TemplateMiner()
    first = [miner.add(f"worker {name} is ready") for name in ["alpha", "beta"] * 3]
    assert len({r.template_id for r in first}) == 2  # two names, each repeated: two words so far
    later = [miner.add(f"worker {name} is ready") for name in [f"w{c}x" for c in "cdefghijklmn"]]
    assert later[-1].template == "worker <*> is ready"
    aliased = {change.old_id: change.new_id for r in later for change in r.changes}
    assert {aliased.get(r.template_id, r.template_id) for r in first} <= {later[-1].template_id} | set(aliased)
    assert {miner.match(f"worker {n} is ready").template_id for n in ["alpha", "beta", "wcx"]} == {
        later[-1].template_id
    }


@pytest.mark.parametrize("system", ["sshd", "auth", "service"])
def test_streaming_batches_and_restarts_agree(system) -> None:
    lines, _ = generate(system, 3000, seed=3)
    one = TemplateMiner()
    singles = [one.add(line) for line in lines]
    batched = TemplateMiner()
    batches = [r for i in range(0, len(lines), 1000) for r in batched.add_many(lines[i : i + 1000])]
    assert singles == batches
    half = TemplateMiner()
    half.add_many(lines[:1234])
    resumed = TemplateMiner.from_state(half.to_state()).add_many(lines[1234:])
    assert resumed == singles[1234:]
