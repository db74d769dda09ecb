"""The operator's endpoints: `/healthz`, `/readyz` and `/metrics`.

    GET /healthz   200 {"status": "ok"}: the process runs and answers (a liveness probe).
    GET /readyz    200 {"status": "ready", "checks": {...}} when the database, the hub and
                   the recordings folder are usable; otherwise 503 with Retry-After and
                   {"code": "unavailable", "message": "...", "checks": {...}}, each check
                   "ok" or the line saying what is wrong (a load balancer's readiness probe).
    GET /metrics   the process's metrics in Prometheus' text format. With
                   SALEN_METRICS_TOKEN set: only with `Authorization: Bearer <token>` (401
                   otherwise); without: only to clients on loopback (403 otherwise).

They answer machines, so their errors are always JSON. nginx does not pass `/metrics` on
(deploy/nginx/salen.conf): Prometheus scrapes each worker on its own port.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.ops.health import check_database, check_hub, check_recordings
from live.ops.metrics import CONTENT_TYPE
from live.state import app_state

RETRY_AFTER = "5"
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    """The process is up."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """The database, the hub and the recordings folder are usable, or 503 naming which is not."""
    state = app_state(request)
    names = ("database", "hub", "recordings")
    problems = await asyncio.gather(
        check_database(state.engine), check_hub(state.hub),
        check_recordings(Path(state.settings.recordings_dir)))
    checks = {name: problem or "ok" for name, problem in zip(names, problems, strict=True)}
    failed = [problem for problem in problems if problem]
    if not failed:
        return JSONResponse({"status": "ready", "checks": checks}, headers=NO_STORE)
    body = {"code": "unavailable", "message": "Not ready: " + "; ".join(failed), "checks": checks}
    return JSONResponse(body, status_code=503, headers={**NO_STORE, "Retry-After": RETRY_AFTER})


async def metrics(request: Request) -> Response:
    """The process's metrics, for a bearer of the metrics token or a client on loopback."""
    state = app_state(request)
    token = state.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            return _refuse(401, "metrics.token", "The metrics need the metrics token: "
                           "Authorization: Bearer <SALEN_METRICS_TOKEN>.",
                           {"WWW-Authenticate": 'Bearer realm="salen-metrics"'})
    elif not _loopback(request.client.host if request.client else ""):
        return _refuse(403, "metrics.forbidden", "Without SALEN_METRICS_TOKEN the metrics "
                       "answer only on loopback.")
    return Response(state.metrics.render(), media_type=CONTENT_TYPE, headers=NO_STORE)


def _refuse(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status,
                        headers={**NO_STORE, **(headers or {})})


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"], name="healthz"),
    Route("/readyz", readyz, methods=["GET", "HEAD"], name="readyz"),
    Route("/metrics", metrics, methods=["GET"], name="metrics"),
]
