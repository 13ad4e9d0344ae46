"""The worker's Kafka consumer waits briefly for records (see `streamapp.worker.transport`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streamapp.settings import Settings
from streamapp.worker.app import create_app
from streamapp.worker.transport import FETCH_MAX_WAIT_MS, Transport


async def test_the_workers_consumer_uses_the_short_fetch_wait(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert isinstance(app.transport, Transport)
    consumer = app.consumer._thread._create_consumer(asyncio.get_running_loop())  # not started: no broker needed
    try:
        assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS < 1500  # Faust's own: 1,500 ms
    finally:
        await consumer.stop()
