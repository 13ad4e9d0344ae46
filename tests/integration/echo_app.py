"""The real app plus one test agent: every batch of lines becomes an issue candidate and an alert,
so a test can watch records travel Redis -> Kafka -> agent -> Kafka -> Redis in a real worker."""

from __future__ import annotations

import hashlib
import time

from streamapp.records import Alert, IssueCandidate, LineBatch, RawLine
from streamapp.worker.app import create_app

app = create_app()
topics = app.pipeline_topics


@app.agent(topics.logs, name="tests.echo")
async def echo(stream):
    async for batch in stream.take(50, within=0.5):
        lines: list[RawLine] = [x for value in batch for x in LineBatch.loads(value).lines]
        cid = hashlib.blake2b("|".join(x.id for x in lines).encode(), digest_size=8).hexdigest()
        items = [
            {"id": x.id, "templated": x.line, "raw": x.line, "component": "echo", "pid": "", "time": 0} for x in lines
        ]
        await topics.issues_candidates.send(key=cid, value=IssueCandidate(
            id=cid, os="linux", issue_key="linux|echo|nopid", templated_summary=" \n".join(x.line for x in lines),
            logs=items, line_count=len(lines),
        ))
        await topics.alerts.send(key=cid, value=Alert(
            id=f"a-{cid}", type="issue", os="linux", failure_type="application_crash", confidence=0.5,
            result={"summary": "echo"}, issue_key="linux|echo|nopid", log_ids=[x.id for x in lines],
            created_at=time.time(),
        ))
