"""Request bodies read with a size cap: the API and the console never buffer more than they accept."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body declares or brings more bytes than the endpoint accepts."""


async def capped_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they stream in; BodyTooLarge as soon as `limit` is passed (a declared
    Content-Length over it is refused before reading anything)."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise BodyTooLarge
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        yield chunk


async def capped_body(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes (else BodyTooLarge)."""
    return b"".join([chunk async for chunk in capped_chunks(request, limit)])
