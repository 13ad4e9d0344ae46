"""`streamapp templates bootstrap` loads a file's templates, with counts, levels, samples and a
failure type, into `templates_<os>` of a real (embedded) Chroma."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from connectors.vectorstore import ChromaVectorStore, open_client
from streamapp.processes import BIN

LINES = [
    "Jun 14 15:16:{s:02d} web-01 kernel: end_request: I/O error, dev sda, sector {n}",
    "Jun 14 15:17:{s:02d} web-01 CRON[{n}]: pam_unix(cron:session): session opened for user root by (uid=0)",
]


def test_bootstrap_loads_templates(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_text("\n".join(LINES[i % 2].format(s=i % 60, n=1000 + i) for i in range(40)) + "\n")
    env = {**os.environ, "CHROMA_PATH": str(tmp_path / "chroma")}
    out = subprocess.run(
        [str(BIN / "streamapp"), "templates", "bootstrap", "--os", "linux", str(log), "--no-progress"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    assert "2 templates loaded into templates_linux" in out.stdout
    store = ChromaVectorStore(open_client(path=tmp_path / "chroma"))
    try:
        items = {i.document: i.metadata for i in store.get("templates", "linux")}
    finally:
        store.close()
    disk = next(m for d, m in items.items() if d and "I/O error" in d)
    cron = next(m for d, m in items.items() if d and "session opened" in d)
    assert disk["count"] == 20 and cron["count"] == 20
    assert disk["failure_type"] == "hardware_disk" and cron["failure_type"] == "benign"
    assert len(json.loads(disk["samples"])) == 3
