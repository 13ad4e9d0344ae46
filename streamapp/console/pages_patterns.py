"""The patterns page: templates of one OS (or one host) by how they move, as the worker counts them.

    GET /console/patterns[?os=&host=&status=new|rising|falling|steady|all&offset=]

New patterns (first seen after the OS's warm-up) come first, then rising, falling and steady ones.
The parameters are checked as the worker's `GET /patterns/` checks them; a bad one is a message
on the page and is not sent on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from streamapp.console.web import as_dict, as_list, page, render, settings_of
from streamapp.console.worker import worker_get
from streamapp.patterns import STATUSES, pattern_query

PAGE_SIZE = 50


@page
async def patterns(request: Request) -> Response:
    settings = settings_of(request)
    problems: list[str] = []
    params = {k: v for k, v in request.query_params.items() if v.strip()}
    try:
        query = pattern_query({**params, "limit": str(PAGE_SIZE)})
    except ValueError as exc:
        problems.append(str(exc))
        query = pattern_query({"limit": str(PAGE_SIZE)})
    listing = await worker_get(settings, "/patterns/")
    oses = [str(o) for o in as_list(as_dict(listing.data).get("oses"))]
    os_name = query["os"] or (oses[0] if oses else "")
    data: dict[str, Any] = {}
    error = listing.error
    if os_name and not error:
        sent = {"os": os_name, "status": query["status"], "offset": query["offset"], "limit": PAGE_SIZE}
        if query["host"]:
            sent["host"] = query["host"]
        answer = await worker_get(settings, "/patterns/", sent)
        data, error = as_dict(answer.data), answer.error
    rows = [r for r in as_list(data.get("items")) if isinstance(r, dict)]
    return render(
        request, "patterns.html", oses=sorted({*oses, os_name} - {""}), os_name=os_name, host=query["host"] or "",
        chosen=query["status"], statuses=["all", *STATUSES], rows=rows, data=data, counts=as_dict(data.get("counts")),
        worker_error=error, problems=problems, offset=query["offset"], next_offset=data.get("next_offset"),
    )
