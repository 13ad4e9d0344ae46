"""CPU time of a call, measured in a child process: a per-call budget that a noisy machine does not
break (CPU time, not wall time) and that a call stuck for hours cannot hang (the child is killed
past a generous wall-clock limit, and replaced)."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_CHILD = """
import importlib, json, sys, time
for request in sys.stdin:
    target, args = json.loads(request)
    module, name = target.split(":")
    func = getattr(importlib.import_module(module), name)
    start = time.process_time()
    func(*args)
    print(json.dumps(time.process_time() - start), flush=True)
"""


class CpuMeter:
    """`cpu("pkg.module:function", *args)`: seconds of CPU the call took in the child (args are
    JSON values); fails the test when the child does not answer within `wall_limit_sec`."""

    def __init__(self, wall_limit_sec: float = 20.0) -> None:
        self.wall_limit_sec = wall_limit_sec
        self.proc: subprocess.Popen[str] | None = None

    def cpu(self, target: str, *args: object) -> float:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=REPO)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([target, list(args)]) + "\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=self.wall_limit_sec):
                self.close()
                shown = [a if not isinstance(a, str) or len(a) < 100 else f"<{len(a)} chars>" for a in args]
                pytest.fail(f"{target}{tuple(shown)} did not return within {self.wall_limit_sec} s")
        answer = self.proc.stdout.readline()
        if not answer:
            self.close()
            pytest.fail(f"{target} crashed the child process")
        return float(json.loads(answer))

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
