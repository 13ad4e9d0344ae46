"""The README stays true: its two commands exist, CI runs the test one, and its settings table is
the code's."""

from __future__ import annotations

from streamapp.commands.settings import markdown
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_settings_table_is_the_codes() -> None:
    assert markdown() in README


def test_the_two_commands_are_shown_and_ci_runs_the_test_one() -> None:
    assert "make demo" in README and "make test" in README
    makefile = (REPO / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (REPO / ".ci" / "run").read_text()
