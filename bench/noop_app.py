"""The bridge ceiling: the real app with every stage off and one agent that only counts the
lines it receives (Redis `logs` -> inbound bridge -> Kafka -> this agent, which decodes each
batch record as the consumer does)."""

from __future__ import annotations

import redis.asyncio as aioredis

from streamapp.records import LineBatch
from streamapp.worker.app import create_app

app = create_app()
_counter = app.settings.redis_key("bench:noop:count")


@app.agent(app.pipeline_topics.logs, name="bench.noop")
async def count(stream):  # type: ignore[no-untyped-def]
    client = aioredis.from_url(app.settings.redis_url)
    async for batch in stream.take(100, within=0.2):
        await client.incrby(_counter, sum(len(LineBatch.loads(value).lines) for value in batch))
