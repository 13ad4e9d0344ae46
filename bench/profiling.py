"""Sampling a worker with py-spy during a bench phase, and where its time went, stage by stage.

`Profile(pid, prefix)` records the process (every thread, idle stacks included) into
`<prefix>.svg` (a flame graph to look at) and `<prefix>.txt` (collapsed stacks) until `stop()`.
`summary(path)` reads collapsed stacks and returns a table: the event-loop thread's samples split
by stage (the outermost pipeline frame: bridge, consumer, aggregator, ...) and, within the loop, by
kind (the innermost frame that says what the work is: mining, JSON, Kafka client, ...), plus the
busy share of the other threads (executors). Run alone on a saved file:

    .venv/bin/python bench/profiling.py artifacts/e2e-before.txt
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"

# The stage: the outermost pipeline frame (searched from the root of the stack) ...
STAGES = [
    ("bridge_in", "bridge in"),
    ("bridge_out", "bridge out"),
    ("redis_streams", "bridge out"),
    (" agents/consumer", "consumer"),
    (" agents/issues_aggregator", "aggregator"),
    (" agents/clustering", "clustering"),
    (" agents/cluster_enricher", "cluster enricher"),
    (" agents/enricher", "enricher"),
    (" agents/automations", "automations"),
    (" agents/patterns", "patterns"),
    (" agents/", "other agents"),
    (" bench/noop_app", "no-op agent"),
]
# ... or, outside the pipeline's code, the outermost library frame of the loop's callback.
MACHINERY = [
    ("faust/tables", "table changelog"),
    ("faust/stores", "table changelog"),
    ("aiokafka/producer", "Kafka produce"),
    ("faust/transport/producer", "Kafka produce"),
    ("aiokafka/consumer", "Kafka fetch"),
    ("faust/transport", "Kafka fetch"),
    ("aiokafka", "Kafka client, other"),
    ("faust/", "Faust streams"),
    ("mode/", "Faust streams"),
]
# Innermost frame that says what the work is (searched from the leaf of the stack).
KINDS = [
    ("selectors.py", "idle (select)"),
    (" streamapp/mining", "mining"),
    (" streamapp/parsing", "parsing"),
    (" streamapp/rules", "rule signals"),
    (" streamapp/issues", "issue building"),
    (" streamapp/batches", "batch records"),
    (" streamapp/classify", "classifier"),
    (" streamapp/clustering", "clustering"),
    ("chromadb", "vector store"),
    (" connectors/vectorstore", "vector store"),
    ("rocksdict", "RocksDB"),
    ("faust/tables", "tables"),
    ("json", "JSON"),
    ("orjson", "JSON"),
    ("faust/models", "Faust records"),
    ("faust/serializers", "Faust records"),
    (" streamapp/records", "records"),
    ("aiokafka", "Kafka client"),
    ("kafka/", "Kafka client"),
    ("redis/", "Redis client"),
    ("faust/", "Faust machinery"),
    ("mode/", "Faust machinery"),
    ("selector_events", "socket I/O"),
    ("asyncio", "asyncio"),
    (" streamapp/", "other project code"),
    (" agents/", "other project code"),
    (" connectors/", "other project code"),
]
_FRAME_FILE = re.compile(r"\(([^)]*)\)$")


class Profile:
    """py-spy attached to a running process until stop(): a flame graph and collapsed stacks."""

    def __init__(self, pid: int, prefix: Path, rate: int = 50) -> None:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        common = ["record", "--pid", str(pid), "--idle", "--nonblocking", "--rate", str(rate)]
        self.procs = [
            subprocess.Popen([str(PY_SPY), *common, "-f", "flamegraph", "-o", f"{prefix}.svg"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([str(PY_SPY), *common, "--threads", "-f", "raw", "-o", f"{prefix}.txt"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]

    def stop(self) -> str:
        """Stop sampling (py-spy writes its files on SIGINT); returns the summary."""
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            p.wait(60)
        path = Path(f"{self.prefix}.txt")
        return summary(path) if path.exists() else f"(no profile written at {path})"


def _files(stack: str) -> list[str]:
    frames = []
    for frame in stack.split(";"):
        m = _FRAME_FILE.search(frame.strip())
        frames.append(f"{frame.split(' (')[0]} {m.group(1) if m else ''}")
    return frames


def _callback(frames: list[str]) -> list[str]:
    """The frames of what the event loop is running (below its last `Handle._run`)."""
    runs = [i for i, f in enumerate(frames) if f.startswith("Handle._run ")]
    return frames[runs[-1] + 1 :] if runs else frames


def _first(frames: list[str], rules: list[tuple[str, str]], default: str) -> str:
    """The first frame any rule matches (frames in the order given)."""
    for frame in frames:
        for needle, name in rules:
            if needle in frame:
                return name
    return default


def _stage(frames: list[str]) -> str:
    """The first stage rule any frame matches (rules in order: the specific before the generic,
    so the guard every agent runs through does not hide which agent it is)."""
    for needle, name in STAGES:
        if any(needle in frame for frame in frames):
            return name
    return ""


def summary(path: Path) -> str:
    """Shares of samples by stage and by kind for the event-loop thread, and the other threads'
    busy share, from py-spy's collapsed stacks (`--threads`)."""
    per_thread: dict[str, Counter[str]] = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        thread, _, rest = stack.partition(";")
        per_thread.setdefault(thread, Counter())[rest] += int(count)
    if not per_thread:
        return "(empty profile)"
    # The worker's loop runs in the main thread (mode starts a few helper threads with loops of their own).
    loop_thread = next((t for t in per_thread if t.endswith("MainThread")), max(per_thread, key=lambda t: sum(
        n for s, n in per_thread[t].items() if "run_forever" in s)))
    loop = per_thread.pop(loop_thread)
    total = sum(loop.values())
    stages: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for stack, n in loop.items():
        frames = _files(stack)
        kind = _first(list(reversed(frames)), KINDS, "other")
        stage = _stage(frames) or _first(_callback(frames), MACHINERY, "event loop, other")
        stages["idle (select)" if kind == "idle (select)" else stage] += n
        kinds[kind] += n
    others_busy = sum(n for c in per_thread.values() for s, n in c.items() if not _idle_stack(s))
    out = [f"event-loop thread: {total} samples"]
    out.append("  by stage: " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in stages.most_common()))
    out.append("  by kind:  " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in kinds.most_common(14)))
    out.append(f"other threads busy: {others_busy} samples ({100 * others_busy / total:.0f}% of the loop's)")
    return "\n".join(out)


def _idle_stack(stack: str) -> bool:
    leaf = stack.rsplit(";", 1)[-1]
    idle = ("wait (threading.py", "_worker (concurrent", "select", "poll", "sleep", "get (queue", "waitpid")
    return any(w in leaf for w in idle)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}:\n{summary(Path(arg))}")
