"""`make demo`'s command on a shortened scenario: it starts what it needs, finds the injected
incidents with the offline classifier, prints the scorecard and the console's URL and login
token, keeps serving until Ctrl-C, and then leaves nothing running that it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from streamapp.processes import BIN
from tests.conftest import REPO

pytestmark = pytest.mark.e2e


class Output:
    """The demo's output, read line by line on a thread as it runs."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, proc: subprocess.Popen, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            assert proc.poll() is None, f"demo exited with {proc.returncode}:\n{self.text[-4000:]}"
            assert time.monotonic() < deadline, f"no {marker!r} after {timeout}s:\n{self.text[-4000:]}"
            time.sleep(0.5)
        return self.text


def processes_of(run_id: str) -> set[int]:
    """Pids whose environment carries this demo run's prefix: every process the demo started."""
    mark = f"STREAM_PREFIX=demo{run_id}.".encode()
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def console_login(console_login_url: str, token: str) -> httpx.Client:
    http = httpx.Client(timeout=30)
    form = http.get(console_login_url)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    answer = http.post(console_login_url, data={"csrf": csrf[1], "token": token, "next": ""})
    assert answer.status_code == 303, answer.text
    return http


def test_demo_scores_serves_the_console_until_ctrl_c_then_stops_all_it_started(
    services: None, tmp_path: Path
) -> None:
    card_path = tmp_path / "scorecard.json"
    demo = subprocess.Popen(
        [str(BIN / "streamapp"), "demo", "--duration", "30", "--incidents", "6", "--sim-rate", "25",
         "--scorecard-json", str(card_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    out = Output(demo)
    started: set[int] = set()
    try:
        text = out.wait_for("Press Ctrl-C", demo, timeout=600)
        assert "=== scorecard ===" in text and "=== where to look ===" in text
        card = json.loads(card_path.read_text())
        print(json.dumps(card, indent=1))
        assert card["basis"] == "alerts" and card["incidents"] == 6
        assert card["lines_in_issues"] == card["lines_fed"], "every line accounted for"
        assert card["precision"] >= 0.8 and card["recall"] >= 0.8

        run_id = re.search(r"streamapp demo (\d+):", text)[1]  # type: ignore[index]
        started = processes_of(run_id)
        assert len(started) >= 2, "the worker and the API are still running"
        login = re.search(r"console\s+(http://\S+/console/login)\s+\(login token: (\S+)\)", text)
        assert login, text[-2000:]
        http = console_login(login[1], login[2])
        try:
            page = http.get(login[1].replace("/login", "/alerts"))
        finally:
            http.close()
        assert page.status_code == 200
        shown = re.findall(r'<tr class="sev-', page.text)
        printed = re.findall(r"ALERT \S+\s+(\S+)", text)
        assert len(shown) >= min(len(printed), 20) > 0
        assert set(printed) <= set(re.findall(r"<td>([a-z_]+)</td>", page.text))

        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's foreground group
        assert demo.wait(timeout=120) == 0, out.text[-3000:]
        out.thread.join(timeout=10)
        assert "stopping the API and the worker" in out.text and out.text.rstrip().endswith("stopped")
        alive = started & processes_of(run_id)
        assert not alive, f"still running after Ctrl-C: {alive}"
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in started & processes_of(run_id if started else ""):
            os.kill(pid, signal.SIGKILL)
