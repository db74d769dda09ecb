"""The bare Starlette handler the page benchmark compares against: the same bytes, no work.

    BENCH_BODY=page.html uvicorn bench.bare_http:app
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["BENCH_BODY"]).read_bytes()


async def page(request: Request) -> Response:
    """Return the stored page."""
    return Response(BODY, media_type="text/html; charset=utf-8")


app = Starlette(routes=[Route("/{path:path}", page)])
