"""`streamapp demo`: the analyzer end to end on simulated incidents (or a log file you name).

Starts the local services (scripts/services), a worker and the API; feeds the lines through the
Redis stream `logs` in real time; shows issues and alerts as they arrive; prints a scorecard
(simulated traffic) and where to look (the console, with its login token), then keeps the worker
and the API running until Ctrl-C (or SIGTERM), which stops both cleanly; `--exit` ends right after
the scorecard instead. Everything of one run lives under its own prefix.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import redis
from tqdm import tqdm

from streamapp.auth import new_token
from streamapp.commands.feeding import feed
from streamapp.processes import BIN, Proc, free_port, worker_process
from streamapp.records import Alert, ClosedIssue, IssueCandidate
from streamapp.scorecard import Detection, score
from streamapp.settings import Settings, settings_for_env
from streamapp.simulate import SOURCE_FORMATS, Scenario


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the analyzer end to end on simulated traffic or a log file")
    p.add_argument("--file", type=Path, help="a log file to analyze instead of simulated traffic")
    p.add_argument("--format", default="linux", help="format of --file: a preset or a Loghub format string")
    p.add_argument("--rate", type=float, default=400.0, help="lines/s fed from --file")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of simulated traffic")
    p.add_argument("--sim-rate", type=float, default=40.0, help="routine lines/s of simulated traffic")
    p.add_argument("--incidents", type=int, default=10, help="incidents injected into simulated traffic")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--exit", action="store_true",
                   help="stop the worker and the API right after the scorecard (scripts, tests)")
    p.add_argument("--scorecard-json", type=Path, help="also write the scorecard to this file as JSON")
    p.set_defaults(func=run)


def port_or_free(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def top_hint(hints: dict[str, float]) -> str:
    """The failure type the rules point at most strongly ("" when none)."""
    return max(hints.items(), key=lambda kv: kv[1])[0] if hints else ""


class Watcher:
    """Prints new issue candidates and alerts as they appear on their Redis streams."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.s = client, settings
        self.last = {"issues_candidates": "0-0", "alerts": "0-0"}
        self.issues: list[IssueCandidate] = []
        self.alerts: list[Alert] = []

    def poll(self) -> None:
        for name, cls in (("issues_candidates", IssueCandidate), ("alerts", Alert)):
            for eid, fields in self.client.xrange(self.s.redis_key(name), min=f"({self.last[name]}"):
                self.last[name] = eid.decode()
                rec = cls.from_redis(fields)
                if isinstance(rec, Alert):
                    self.alerts.append(rec)
                    tqdm.write(
                        f"  ALERT {rec.severity:8} {rec.failure_type:24} {rec.host or '-':10} {rec.summary[:90]}"
                    )
                else:
                    self.issues.append(rec)
                    hint = top_hint(rec.hints) or "-"
                    tqdm.write(f"  issue {rec.severity:8} {hint:24} {rec.host or '-':10} {rec.issue_key} "
                               f"({rec.line_count} lines)")

    def accounted(self) -> int:
        closed = self.client.xrange(self.s.redis_key(self.s.stream_issues_closed))
        return sum({c.id: c.line_count for c in (ClosedIssue.from_redis(f) for _, f in closed)}.values())


def run(args: argparse.Namespace) -> int:
    repo = Path.cwd()
    if (repo / "scripts" / "services").exists():
        up = subprocess.run([str(repo / "scripts" / "services"), "up"], check=False)
        if up.returncode:
            return up.returncode  # the script said what is missing, on one line
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    workdir = repo / ".state" / "demo" / run_id
    token = new_token()
    formats = {"user-file": args.format} if args.file else SOURCE_FORMATS
    env = {
        "STREAMAPP_ID": f"demo{run_id}", "TOPIC_PREFIX": f"demo{run_id}.", "STREAM_PREFIX": f"demo{run_id}.",
        "DATA_DIR": str(workdir / "worker"), "CHROMA_PATH": str(workdir / "chroma"), "ISSUE_INACTIVITY_SEC": "5",
        "SOURCE_FORMATS": json.dumps(formats), "ADMIN_TOKEN": token,
        "WEB_PORT": str(port_or_free(6066)), "API_PORT": str(port_or_free(8080)),
    }
    s = settings_for_env(env)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the demo like Ctrl-C does
    print(f"streamapp demo {run_id}: starting a worker and the API (logs in {workdir})", flush=True)
    children: list[Proc] = []
    try:
        children.append(worker_process(env, workdir / "worker.log"))
        children[-1].wait_ready()
        children.append(Proc([str(BIN / "streamapp"), "api"], env, workdir / "api.log", "Uvicorn running"))
        children[-1].wait_ready()
        watch = Watcher(redis.Redis.from_url(s.redis_url), s)
        card = simulate_and_score(args, watch, s, env, token)
        if args.scorecard_json:
            args.scorecard_json.write_text(json.dumps(card, indent=2))
        if not args.exit:
            print(f"\nThe worker and the API keep running (logs in {workdir}). Press Ctrl-C to stop them.", flush=True)
            return keep_running(children, watch)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return 130
    finally:
        stop(children)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def simulate_and_score(args: argparse.Namespace, watch: Watcher, s: Settings, env: dict[str, str],
                       token: str) -> dict:
    """Feed the traffic, wait until every line is accounted for (or 3 minutes), print the scorecard."""
    scenario = None
    if args.file:
        lines = args.file.read_text(errors="replace").splitlines()
        items = ((i / args.rate, "user-file", line) for i, line in enumerate(lines))
        total = len(lines)
        incident_of: list[str] = []
    else:
        scenario = Scenario(duration=args.duration, rate=args.sim_rate, incidents=args.incidents, seed=args.seed,
                            start=datetime.now(UTC))
        sim = list(scenario.lines())
        items = ((x.at, x.source, x.line) for x in sim)
        total = len(sim)
        incident_of = [x.incident for x in sim]
    started = time.monotonic()
    ids = feed(watch.client, s, items, total, watch.poll)
    deadline = time.monotonic() + 180
    while watch.accounted() < total and time.monotonic() < deadline:
        watch.poll()
        time.sleep(0.5)
    time.sleep(2)
    watch.poll()
    return report(watch, scenario, ids, incident_of, total, time.monotonic() - started, s, env, token)


def keep_running(children: list[Proc], watch: Watcher) -> int:
    """Show alerts as they keep coming until Ctrl-C (0); 1 if the worker or the API died."""
    try:
        while True:
            for child in children:
                if child.popen.poll() is not None:
                    print(f"{Path(child.argv[0]).name} exited with {child.popen.returncode}; "
                          f"its log: {child.log_path}", flush=True)
                    return 1
            watch.poll()
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0


def stop(children: list[Proc]) -> None:
    """SIGTERM each child (the API first, then the worker) and wait for it: the clean shutdown."""
    if not children:
        return
    print("stopping the API and the worker ...", flush=True)
    for child in reversed(children):
        while True:
            try:
                child.terminate()
                break
            except KeyboardInterrupt:  # a second Ctrl-C while waiting: still wait for a clean stop
                continue
            except subprocess.TimeoutExpired:
                child.kill()
                break
    print("stopped", flush=True)


def report(watch: Watcher, scenario: Scenario | None, ids: dict[int, str], incident_of: list[str], total: int,
           elapsed: float, s: Settings, env: dict[str, str], token: str) -> dict:
    """Print the scorecard and where to look; return the scorecard's figures."""
    accounted = watch.accounted()
    figures: dict = {"lines_fed": total, "lines_in_issues": accounted, "seconds": round(elapsed, 1),
                     "issue_candidates": len(watch.issues), "alerts": len(watch.alerts)}
    print("\n=== scorecard ===")
    print(f"lines fed {total}, in closed issues {accounted}, in {elapsed:.0f}s ({accounted / elapsed:.0f} lines/s)")
    print(f"issue candidates {len(watch.issues)}, alerts {len(watch.alerts)}")
    if scenario is not None:
        lines_of: dict[str, set[str]] = {}
        for i, inc in enumerate(incident_of):
            if inc and i in ids:
                lines_of.setdefault(inc, set()).add(ids[i])
        incidents = {x.id: (str(x.failure_type), frozenset(lines_of.get(x.id, ()))) for x in scenario.incidents}
        if watch.alerts:
            dets = [Detection(a.id, a.host, a.failure_type, frozenset(a.log_ids)) for a in watch.alerts]
            basis = "alerts"
        else:
            dets = [Detection(c.id, c.host, top_hint(c.hints),
                              frozenset(i["id"] for i in c.logs)) for c in watch.issues]
            basis = "issue candidates (top rule hint; no alerts yet)"
        card = score(incidents, dets)
        figures.update(incidents=card.incidents, detected=card.detected, precision=card.precision,
                       recall=card.recall, misses=list(card.misses), false_detections=list(card.false_detections),
                       basis=basis)
        print(f"incidents injected {card.incidents}, detected {card.detected}  (from {basis})")
        print(f"precision {card.precision:.2f}  recall {card.recall:.2f}")
        for x in scenario.incidents:
            mark = "missed" if x.id in card.misses else "found"
            print(f"  {x.id} {x.failure_type:24} {x.host:10} {mark}")
    api, web = f"http://127.0.0.1:{env['API_PORT']}", f"http://127.0.0.1:{env['WEB_PORT']}"
    print("\n=== where to look ===")
    print(f"console        {api}/console/login   (login token: {token})")
    print(f"API            {api}/alerts  {api}/healthz  {api}/readyz   (Authorization: Bearer <the token>)")
    print(f"table views    {web}/issues/  {web}/prototypes/   (same token)")
    streams = ("logs", "issues_candidates", "clusters_candidates", "alerts")
    print(f"Redis streams  {', '.join(s.redis_key(n) for n in streams)}", flush=True)
    return figures
