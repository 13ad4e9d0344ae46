"""`POST /telemetry/telegraf`: Telegraf's `outputs.http` pushes metrics and log events here.

    Authorization: Bearer <token>   the token the source was created with (401 without it)
    X-Telegraf-Agent: <agent id>    required when the source's config sets `agent_id` (403 otherwise)
    Content-Encoding: gzip          optional; any other coding but identity is a 415

The body is JSON (batch or single metric) or influx line protocol, whatever the Content-Type says.
A body over MAX_BODY_BYTES on the wire or MAX_DECODED_BYTES decompressed is a 413; one that does not
parse is a 400 naming the line or field; a metric whose `host` tag the source does not allow makes
the whole batch a 403. Accepted batches answer 200 `{accepted, log_lines, metric_lines, duplicate}`:
log events become log lines on `logs`, other metrics `telegraf` metric payload lines. Telegraf
re-sends a batch after any non-2xx; a re-send within DEDUPE_TTL_SEC is answered 200 and not written
again. Advise users to put 400, 403 and 413 in `non_retryable_statuscodes` (a re-send cannot help).
"""

from __future__ import annotations

import asyncio
import hmac
import time
import zlib

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.telegraf_intake import TelegrafSink, TelegrafSource, TelegrafTokens
from streamapp.api import sources
from streamapp.api.alerts import failed_attempt, too_many_failures
from streamapp.api.bodies import BodyTooLarge, capped_chunks
from streamapp.api.errors import ApiError, error
from streamapp.auth import bearer
from streamapp.telegraf import HostNotAllowed, MalformedBody, accept

AGENT_HEADER = "x-telegraf-agent"
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DECODED_BYTES = 16 * 1024 * 1024  # gzip bombs stop here: decompression is streamed and capped
DEDUPE_TTL_SEC = 3600
_GZIP = frozenset({"gzip", "x-gzip"})
_IDENTITY = frozenset({"", "identity"})


async def telegraf(request: Request) -> Response:
    source = await _source(request)
    if isinstance(source, Response):
        return source
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in _GZIP | _IDENTITY:
        return error(415, f"Content-Encoding {encoding[:40]!r} is not supported (gzip or identity)")
    body = await read_body(request, gzipped=encoding in _GZIP)
    try:
        batch = await asyncio.to_thread(
            accept, body, time.time(), source.config.get("allowed_hosts") or [], source.name
        )
    except MalformedBody as exc:
        return error(400, str(exc), where=exc.where)
    except HostNotAllowed as exc:
        return error(403, str(exc), host=exc.host)
    sink = TelegrafSink(request.app.state.alerts.client, request.app.state.settings, DEDUPE_TTL_SEC)
    written = await sink.write_once(source, batch)
    return JSONResponse({"accepted": batch.metrics, "log_lines": len(batch.log_lines),
                         "metric_lines": len(batch.payload_lines), "duplicate": not written})


async def _source(request: Request) -> TelegrafSource | Response:
    """The source of the bearer token (401 otherwise), checked against its `agent_id` (403)."""
    token = bearer(request.headers.get("authorization"))
    if token is None:
        return error(401, "a Telegraf source token is required (Authorization: Bearer <token>)",
                     headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    if getattr(state, "telegraf_tokens", None) is None:
        state.telegraf_tokens = TelegrafTokens()

    async def stored_hashes() -> dict[str, tuple[str, str, dict]]:
        return await (await sources.source_store(request)).token_hashes()

    if throttled := too_many_failures(request):
        return throttled
    source = await state.telegraf_tokens.source(token, stored_hashes)
    if source is None:
        failed_attempt(request)
        return error(401, "unknown or disabled Telegraf source token", headers={"WWW-Authenticate": "Bearer"})
    agent = str(source.config.get("agent_id") or "")
    presented = request.headers.get(AGENT_HEADER, "")
    if agent and not hmac.compare_digest(agent.encode(), presented.encode()):
        return error(403, f"this token belongs to one Telegraf agent: send its id in {AGENT_HEADER}")
    return source


async def read_body(request: Request, gzipped: bool) -> bytes:
    """The body, decompressed while it streams in; 413 as soon as either limit is passed."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if gzipped else None
    out = bytearray()
    try:
        async for chunk in capped_chunks(request, MAX_BODY_BYTES):
            if inflater is None:
                out += chunk
            else:
                _inflate(inflater, chunk, out)
    except BodyTooLarge:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes") from None
    if inflater is not None and not inflater.eof:
        raise ApiError(400, "body: truncated gzip stream", where="body")
    return bytes(out)


def _inflate(inflater: zlib._Decompress, chunk: bytes, out: bytearray) -> None:
    data = chunk
    while data:
        if inflater.eof:
            raise ApiError(400, "body: data after the end of the gzip stream", where="body")
        try:
            out += inflater.decompress(data, MAX_DECODED_BYTES - len(out) + 1)
        except zlib.error:
            raise ApiError(400, "body: not a valid gzip stream", where="body") from None
        if len(out) > MAX_DECODED_BYTES:
            raise ApiError(413, f"body larger than {MAX_DECODED_BYTES} bytes once decompressed")
        data = inflater.unconsumed_tail or inflater.unused_data


routes = [Route("/telemetry/telegraf", telegraf, methods=["POST"])]
