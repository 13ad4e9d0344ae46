"""Bad input is mined or rejected with a reason, never an exception out of the miner."""

from __future__ import annotations

import random

import pytest

from streamapp.cli import main
from streamapp.mining import TemplateMiner


def _corpus() -> list[object]:
    rnd = random.Random(3)
    garbage = bytes(rnd.randrange(256) for _ in range(4096))
    return [
        "",
        "   \t  ",
        "\x00\x00\x00\x00",
        "disk\x00 sda failed",
        "x" * 1_000_000,
        "word " * 200_000,
        "a" * 300 + " b",
        b"\xff\xfe\xc3\x28 bad utf-8".decode("utf-8", errors="replace"),
        garbage.decode("utf-8", errors="replace"),
        garbage.decode("latin-1"),
        garbage.decode("utf-8", errors="surrogateescape"),
        "\ud800 lone surrogate",
        "\u202e right-to-left \u200b zero width",
        "((((((((((((((((((((",
        "<*> <*> looks like a template",
        "=" * 50,
        None,
        b"bytes are not text",
    ]


def test_every_bad_input_is_mined_or_rejected() -> None:
    miner = TemplateMiner()
    for item in _corpus() * 2:
        result = miner.add(item)  # type: ignore[arg-type]
        assert (result.template_id is None) == (result.rejected is not None)
        assert result.template_id is None or result.template
        miner.match(item)  # type: ignore[arg-type]
        assert isinstance(result.parameters, tuple)
    reasons = {r.rejected for r in miner.add_many(_corpus())}  # type: ignore[arg-type]
    assert {"empty", "binary", "not text"} <= reasons
    restored = TemplateMiner.from_state(miner.to_state())
    assert restored.templates() == miner.templates()


@pytest.mark.parametrize(
    ("message", "reason"),
    [("", "empty"), ("\x00" * 10, "binary"), ("\ufffd" * 10 + "ab", "binary"), (None, "not text")],
)
def test_rejections_carry_a_reason(message, reason) -> None:
    result = TemplateMiner().add(message)
    assert result.template_id is None and result.rejected == reason


def test_huge_lines_keep_their_head() -> None:
    result = TemplateMiner().add("fatal error in module core: " + "A" * 1_000_000)
    assert result.template.startswith("fatal error in module core:")


def test_cli_survives_a_garbage_file(tmp_path, capsys) -> None:
    log = tmp_path / "bad.log"
    log.write_bytes(
        b"\n".join([b"ok line 1", b"", b"\x00\x01\x02\x03\x04", b"\xff" * 100, b"x" * 1_000_000, b"ok line 2"])
    )
    out = tmp_path / "out.csv"
    assert main(["mine", "--format", "linux", str(log), "-o", str(out)]) == 0
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "LineId,EventTemplate,TemplateId" and len(rows) == 7
    assert rows[2] == "2,," and rows[3] == "3,,"
    assert "rejected: 2 binary, 1 empty" in capsys.readouterr().err


def test_cli_mines_json_lines_by_their_message_key(tmp_path) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text(
        "\n".join(
            [
                '{"ts": 1, "event": "user 17 logged in", "level": "info"}',
                '{"ts": 2, "event": "user 42 logged in", "level": "info"}',
                "not json at all",
                '{"ts": 3, "msg": "ignored key", "event": "cache flushed"}',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["mine", "--format", "json", "--message-key", "event", str(log), "-o", str(out)]) == 0
    rows = [line.split(",") for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert [r[1] for r in rows] == ["user <*> logged in", "user <*> logged in", "not json at all", "cache flushed"]
    assert rows[0][2] == rows[1][2] != rows[3][2]
