"""Template mining: generic masks, refinement rules, and the miner's online behaviour."""

from __future__ import annotations

import random

import pytest

from streamapp.mining import TemplateChange, TemplateMiner, masking, template_id
from streamapp.mining.masking import Masker
from streamapp.mining.params import parameters
from streamapp.mining.refine import Words, constlike, generalise, merge_token, splittable


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("10.251.73.220:50010", "<*>"),
        ("/10.10.34.11:3888", "<*>"),
        ("fe80::1ff:fe23:4567:890a", "<*>"),
        ("00:11:43:e3:ba:c3", "<*>"),
        ("b9000564-fe1a-409b-b8cc-1e88b294cd1d", "<*>"),
        ("0x7fed806eb5d", "<*>"),
        ("113d3a99c3da401fbd62cc2caa5b96d2", "<*>"),
        ("blk_-6952295868487656571", "<*>"),
        ("attempt_1445144423722_0020_m_000001_0", "<*>"),
        ("12ms", "<*>"),
        ("1.5GB", "<*>"),
        ("1h2m3s", "<*>"),
        ("00:17", "<*>"),
        ("2016-09-28T04:30:30Z", "<*>"),
        ("/var/log/messages", "<*>"),
        ("C:\\Windows\\winsxs\\x.dll", "<*>"),
        ("https://example.org/a?b=1", "<*>"),
        ("ops@example.org", "<*>"),
        ("mail.example.com", "<*>"),
        ("msra-sa-41:9000", "<*>"),
        ("v6.1.7601.23505", "<*>"),
        ("uid=0", "uid=<*>"),
        ("node-246", "node-<*>"),
        ("(true)", "(<*>)"),
        ("CPU#1", "CPU#<*>"),
        # Words stay words, even with digits glued on or dots inside.
        ("t761", "t761"),
        ("HttpServer2", "HttpServer2"),
        ("org.apache.hadoop.io.Text", "org.apache.hadoop.io.Text"),
        ("state.clipTopAmount:180,", "state.clipTopAmount:<*>,"),
        ("terminating", "terminating"),
    ],
)
def test_generic_masks(token, masked) -> None:
    assert Masker().mask_token(token) == masked


def test_lines_alike_but_for_digits_mask_as_their_own_tokens_do() -> None:
    masker = Masker()  # one masker: the second line of each pair comes from the first's digit class
    lines = [
        "eth2 up after 12 ms from 10.0.0.7:80",
        "eth3 up after 47 ms from 10.9.8.1:443",
        "HttpServer2 at 0x1f",
        "HttpServer9 at 0x2e",
        "job_1_2 1x5 v2",
        "job_3_4 7x5 v9",
        "session 30546174_1497092 ok",
    ]
    for line in lines:
        assert masker.tokens(line) == tuple(Masker().mask_token(w) for w in line.split()), line
    assert masker.tokens("eth3 up") != masker.tokens("eth2 up")


def test_a_masked_token_is_kept_once_it_comes_again_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(masking, "_CACHE_LIMIT", 8)
    masker, fresh = Masker(), Masker()
    tokens = [f"user=u{i}x@host" for i in range(20)]
    assert [masker.mask_token(t) for t in tokens] == [fresh.mask_token(t) for t in tokens]
    assert len(masker._cache) == 0 and masker._cache.sighted() <= 8  # each came once: only noted
    assert masker._cache.dropped == 20 - masker._cache.sighted()
    repeated = [masker.mask_token(t) for t in tokens[-4:]]
    assert repeated == [fresh.mask_token(t) for t in tokens[-4:]] and len(masker._cache) == 4
    assert masker.mask_token(tokens[-1]) == repeated[-1]


def test_dates_spread_over_tokens_are_one_value() -> None:
    assert Masker().tokens("connection at Sun Jul  3 10:05:25 2005 from x") == ("connection", "at", "<*>", "from", "x")


def test_long_messages_keep_their_head() -> None:
    tokens = Masker().tokens("word " * 1000)
    assert len(tokens) == 256 and tokens[-1] == "<*>" and tokens[0] == "word"


def test_word_like_tokens() -> None:
    assert constlike("Started") and constlike("(Lifecycle") and constlike("uid=<*>") and constlike("eth0")
    assert not any(map(constlike, ["<*>", "true", "Jul", "KB", "com.apple.foo", "1234", "****", "59U8898", "TLSv1.2"]))


def _split(values: dict[str, int], previous: str = "", following: str = "") -> bool:
    return splittable(set(values), previous, following, lambda: values)


def test_names_by_their_look_do_not_split() -> None:
    assert not _split({"'sshd'": 9, "'recidive'": 5}, "Jail")  # quoted: put into the message
    assert not _split({"[sshd]": 9, "[nginx-http-auth]": 5})  # bracketed, lower case
    assert not _split({"web_back": 9, "api_back": 5}, "backend")  # configured, snake_case
    assert not _split({"web01": 9, "db02": 5}, "node")  # numbered members of a pool
    assert not _split({"(web_back/HTTP)": 9, "(api_back/HTTP)": 5}, "<*>")  # inside shared text
    assert _split({"[HID]": 9, "[Accounts]": 5})  # a program's own tags are capitalised
    assert _split({"HTTPS": 9, "SOCKS5": 5}, "<*>")  # not all of them names
    assert _split({"eth0": 9, "wlan0": 5}, "interface")  # devices of a small fixed set


def test_split_only_on_few_distinct_words() -> None:
    assert _split({"Started": 5, "Stopped": 3, "Paused": 2}, "VM")
    assert not _split({"Started": 9}, "VM")
    assert not _split({f"w{i}x": 1 for i in range(20)}, "VM")  # many values: a variable
    assert not _split({"tty=NODEVssh": 4, "tty=console": 2})  # one key, different values
    assert not _split({"true": 5, "false": 5}, "is")  # booleans are values...
    assert _split({"password": 5, "none": 5}, "Failed")  # ...among words they are words


def test_names_after_naming_words_are_values_however_few() -> None:
    assert not _split({"root": 40, "cyrus": 30}, "user")
    assert not _split({"root": 40, "git": 30}, "for", "from")
    assert not _split({"alice": 4, "bob": 4}, "(by")
    # `for invalid user x`: the word after `for` is not the name when a naming noun follows.
    assert _split({"invalid": 30, "authenticating": 20}, "by", "user")


def test_words_after_place_words_split_on_repetition() -> None:
    assert _split({"spawn": 22, "destroy": 21}, "to")
    assert _split({"WindowsUpdateAgent": 64, "SPP": 1}, "client")
    assert not _split({"alpha": 1, "beta": 1}, "to")  # no evidence yet
    assert _split({"RUNNING": 1, "FAILED": 1}, "to")  # enum-style symbols are the program's words


def test_values_that_keep_coming_are_a_variable() -> None:
    # Good-Turing: most lines bring a value seen once, so the next one will too.
    assert not _split({"raven": 4, "ember": 2, "zulu": 1, "quartz": 1, "onyx": 1})
    assert _split({"Started": 40, "Stopped": 30, "Paused": 1})
    assert _split({"begin": 1, "end": 1})  # two values: no evidence either way


def test_tokens_keep_the_text_around_a_value() -> None:
    assert merge_token("uid=0", "uid=12") == "uid=<*>"
    assert merge_token('tag="RILJ",', 'tag="View Lock",') == 'tag="<*>",'
    assert merge_token("(<*>)", "()") == "(<*>)"
    assert merge_token("<*>", "localhost:80") == "<*>"
    assert merge_token("root(uid=0)", "alice(uid=1000)") == "<*>(uid=<*>)"  # built alike: part by part
    assert generalise([("a", "b", "c"), ("a", "x", "c")]) == ("a", "<*>", "c")


def test_templates_whose_words_agree_align_across_lengths() -> None:
    words = Words()
    a = _tokens("<*> close, <*> bytes sent, <*> bytes received, lifetime <*>")
    b = _tokens("<*> close, <*> bytes (<*> KB) sent, <*> bytes received, lifetime <<*> sec")
    assert words.skeleton(a) == words.skeleton(b) == ("close,", "sent,", "received,", "lifetime")
    assert " ".join(words.align([a, b])) == "<*> close, <*> sent, <*> bytes received, lifetime <*>"


def test_a_variable_generalises_and_reports_an_alias() -> None:
    miner = TemplateMiner()
    first = miner.add("Connection from alpha.local closed")
    second = miner.add("Connection from beta.local closed")
    assert first.template == "Connection from alpha.local closed"
    assert second.template == "Connection from <*>.local closed"
    assert second.template_id == template_id("Connection from <*>.local closed")
    assert second.changes == (TemplateChange(first.template_id, second.template_id),)
    assert miner.match("Connection from alpha.local closed").template_id == second.template_id


def test_few_distinct_words_split_a_cluster() -> None:
    miner = TemplateMiner()
    states = ["Started", "Stopped", "Paused"]
    for i in range(30):
        miner.add(f"[instance: {i:08x}-aaaa-bbbb-cccc-dddddddddddd] VM {states[i % 3]} (Lifecycle Event)")
    assert {t.template for t in miner.templates()} == {f"[instance: <*>] VM {s} (Lifecycle Event)" for s in states}


def test_many_distinct_words_are_a_variable() -> None:
    miner = TemplateMiner()
    for name in ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]:
        miner.add(f"login failed for {name} after timeout")
    assert [t.template for t in miner.templates()] == ["login failed for <*> after timeout"]


def test_variable_length_values_do_not_split_a_template() -> None:
    miner = TemplateMiner()
    lines = [
        "a.example.com:80 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
        "b.example.com:80 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02",
        "c.example.com:443 close, 403 bytes sent, 426 bytes received, lifetime <1 sec",
    ]
    miner.add_many(lines)
    ids = {miner.match(line).template_id for line in lines}
    assert len(ids) == 1
    assert miner.match(lines[0]).template == "<*> close, <*> sent, <*> received, lifetime <*>"


def test_templates_are_counted() -> None:
    miner = TemplateMiner()
    miner.add_many(["disk /dev/sda full", "disk /dev/sdb full", "fan ok", "disk /dev/sdc full"])
    assert [(t.template, t.count) for t in miner.templates()] == [("disk <*> full", 3), ("fan ok", 1)]


def test_batches_and_single_lines_agree() -> None:
    lines = [f"job {i} took {i * 3} ms on node-{i % 4}" for i in range(50)] + ["shutting down", "shutting up"]
    one, many = TemplateMiner(), TemplateMiner()
    assert [one.add(x) for x in lines] == many.add_many(lines)


@pytest.mark.parametrize("bound", [None, 10])
def test_caches_never_change_an_answer(bound: int | None) -> None:
    class Uncached(TemplateMiner):
        def _fresh(self, seen):  # type: ignore[no-untyped-def]
            return None  # every line takes the full path: tree search, counting, refinement

    rnd = random.Random(7)
    words = ["start", "stop", "open", "close", "read", "write", "sync", "drop", "load", "save"]
    forms = [tuple(rnd.sample(words, 4)) for _ in range(30)]  # same token counts: units compete
    lines = []
    for i in range(3000):
        a, b, c, d = forms[int(rnd.paretovariate(1.0)) % len(forms)]
        lines.append(f"{a} {b} {rnd.choice(['disk', 'fan', f'user{i % 97}'])} {c} {i % 13} {d}")
    cached, uncached = TemplateMiner(max_clusters=bound), Uncached(max_clusters=bound)
    assert cached.add_many(lines) == uncached.add_many(lines)
    assert cached.to_state() == uncached.to_state() and cached.evicted == uncached.evicted


def test_a_line_is_remembered_once_it_comes_again() -> None:
    miner = TemplateMiner()
    miner.add_many(["session opened for user alice", "session opened for user bob"])
    assert not len(miner._lines)  # each line came once: only its hash was noted
    miner.add("session opened for user alice")
    assert "session opened for user alice" in miner._lines and len(miner._lines) == 1
    assert ("session", "opened", "for", "user", "alice") in miner._shapes
    assert miner.add("session opened for user alice") == miner.match("session opened for user alice")


def test_memory_stays_bounded_and_cached_lines_survive_rekeying() -> None:
    miner = TemplateMiner()
    w = "abcdef"  # six values per position: as many as a split may take
    lines = [
        f"config reload of a{w[i % 6]}x b{w[i // 6 % 6]}y c{w[i // 36 % 6]}z e{w[i // 216 % 2]}v d{i}w saved in full"
        for i in range(3000)
    ]
    first = miner.add_many(lines)
    again = miner.add_many(lines)  # every line now comes from the caches
    assert [r.template_id for r in again] == [miner.match(line).template_id for line in lines]
    assert len({r.template_id for r in first[-100:]}) <= len({r.template_id for r in first[:100]})
    (unit,) = miner._tree.id_to_cluster.values()
    assert unit.dropped and len(unit.patterns) <= 256  # 432 combinations: a position was dropped
    assert sum(p.count for p in unit.patterns.values()) == 6000
    assert TemplateMiner.from_state(miner.to_state()).to_state() == miner.to_state()


def test_match_learns_nothing() -> None:
    miner = TemplateMiner()
    miner.add("cache hit ratio 0.93")
    assert miner.match("totally new line") is None
    assert miner.match("cache hit ratio 0.5").template == "cache hit ratio <*>"
    assert [t.count for t in miner.templates()] == [1]


def test_parameters_are_the_wildcard_values() -> None:
    assert parameters("User <*> logged in from <*>", "User bob logged in from 10.0.0.1") == ("bob", "10.0.0.1")
    assert parameters("took <*> ms, uid=<*>", "took 12 ms, uid=5") == ("12", "5")
    assert parameters("at <*> done", "at Sun Jul 3 10:05:25 2005 done") == ("Sun Jul 3 10:05:25 2005",)
    miner = TemplateMiner()
    miner.add("restart of worker 3 failed")
    assert miner.add("restart of worker 7 failed").parameters == ("7",)
