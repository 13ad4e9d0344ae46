"""Shared fixtures: where the shared data lives (one setting), skip rules for it, and the Hypothesis profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis fails an example slower than 200 ms by default: a wall-clock bound that a loaded
# machine breaks. Property tests check what they state, never how fast.
settings.register_profile("streamapp", deadline=None)
settings.load_profile("streamapp")

# Real-service fixtures (services, env, settings, redis) for tests/integration and tests/e2e.
pytest_plugins = ["tests.support.fixtures"]

REPO = Path(__file__).resolve().parent.parent
# The one setting tests use to find shared data (Loghub samples, Redfish mockup).
SHARED_DIR = Path(os.environ.get("STREAMAPP_SHARED_DIR", REPO.parent / "shared")).resolve()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require(path: Path) -> Path:
    if not path.exists():
        msg = f"shared data not found at {path} (set STREAMAPP_SHARED_DIR)"
        if IN_CI:
            pytest.fail(msg + "; CI must have it")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def loghub_dir() -> Path:
    """`<shared>/data/loghub-2k`: real labelled logs (research licence: read, never copy)."""
    return _require(SHARED_DIR / "data" / "loghub-2k")


@pytest.fixture(scope="session")
def redfish_mockup_dir() -> Path:
    """`<shared>/data/redfish-mockup/public-rackmount1`: the DMTF mockup."""
    return _require(SHARED_DIR / "data" / "redfish-mockup" / "public-rackmount1")


@pytest.fixture(scope="session")
def shared_tools_dir() -> Path:
    """`<shared>/tools`: the Loghub scorer and the line generator."""
    return _require(SHARED_DIR / "tools")
