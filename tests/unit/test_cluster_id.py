"""The KRaft cluster id `scripts/services` formats storage with: the storage tool reads an id led
by '-' as an option, which once failed a CI run."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "services.py"


def test_cluster_ids_are_base64url_uuids_never_led_by_a_dash() -> None:
    spec = importlib.util.spec_from_file_location("services_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    ids = {module.cluster_id() for _ in range(20_000)}  # about 300 raw draws start with '-'
    assert len(ids) == 20_000
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cid) for cid in ids)
