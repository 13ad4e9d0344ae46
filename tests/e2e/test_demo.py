"""`make demo`'s command on a shortened scenario: it starts what it needs, finds the injected
incidents with the offline classifier, and prints the scorecard."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from streamapp.processes import BIN
from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def test_short_demo_finds_the_incidents(services: None, tmp_path: Path) -> None:
    card_path = tmp_path / "scorecard.json"
    out = subprocess.run(
        [str(BIN / "streamapp"), "demo", "--duration", "30", "--incidents", "6", "--sim-rate", "25",
         "--scorecard-json", str(card_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "=== scorecard ===" in out.stdout and "=== where to look ===" in out.stdout
    card = json.loads(card_path.read_text())
    print(json.dumps(card, indent=1))
    assert card["basis"] == "alerts" and card["incidents"] == 6
    assert card["lines_in_issues"] == card["lines_fed"], "every line accounted for"
    assert card["precision"] >= 0.8 and card["recall"] >= 0.8
