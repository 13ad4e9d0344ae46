"""The worker hands its malloc heap's free pages back to the OS (`HEAP_TRIM_SEC`)."""

from __future__ import annotations

import os

import pytest

from streamapp.settings import Settings
from streamapp.worker import heap
from streamapp.worker.app import create_app
from tests.unit.test_flags import timers

CHUNK = 4096  # above pymalloc's 512 bytes: these come from malloc's heap


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(heap._TRIM is None, reason="not glibc: no malloc_trim")
def test_free_pages_between_live_chunks_go_back_to_the_os() -> None:
    """Every 32nd chunk stays alive, pinning the heap around it: the pages freed between them are
    not at the heap's top, so malloc keeps them until trimmed."""
    chunks = [bytearray(CHUNK) for _ in range(16_384)]  # 64 MiB
    kept = chunks[::32]
    del chunks
    before = rss_bytes()
    assert heap.release_free_heap()
    freed = before - rss_bytes()
    assert freed > 0.5 * 16_384 * CHUNK * 31 / 32, f"only {freed >> 20} MiB handed back"
    assert len(kept) == 512


def test_the_trim_timer_follows_its_setting() -> None:
    assert "heap.trim" in timers(create_app(Settings(table_store="memory://")))
    assert "heap.trim" not in timers(create_app(Settings(table_store="memory://", heap_trim_sec=0)))
