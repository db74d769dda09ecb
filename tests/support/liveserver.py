"""Serve any ASGI app over real HTTP/WebSocket on loopback for browser and socket tests.

uvicorn runs as a task in the caller's event loop, so the app's lifespan state (engine,
hub, relays) lives in the same loop as the test and the test may touch it directly.
The flip side: a test must not block the loop while it waits on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from live.server import SalenWebSocket

STARTUP_TIMEOUT = 30.0


class LiveServerError(RuntimeError):
    """The live server failed to start (for instance its lifespan startup raised)."""


def _bound_socket() -> socket.socket:
    # Binding before uvicorn starts means the port is ours; no race for a "free" port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn.Server that leaves pytest's SIGINT/SIGTERM handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install no signal handlers: the test runner owns them."""
        yield


def _recording_lifespan_errors(app: ASGIApp, errors: list[BaseException]) -> ASGIApp:
    """Wrap `app` so an exception from its lifespan can be re-raised to the test."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:
            if scope["type"] == "lifespan":
                errors.append(exc)
            raise

    return wrapper


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    # uvicorn calls sys.exit() when the lifespan startup fails; inside a task that would
    # escape the event loop and end the whole test run.
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:
        raise LiveServerError(f"uvicorn exited with status {exc.code}") from None


async def _wait_started(
    server: uvicorn.Server, task: asyncio.Task[None], errors: list[BaseException]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while not server.started:
        if task.done():
            cause = errors[0] if errors else task.exception()
            raise LiveServerError(f"app failed to start: {cause!r}") from cause
        if loop.time() > deadline:
            raise LiveServerError("uvicorn did not start in time")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def serve_app(
    app: ASGIApp,
    *,
    lifespan: str = "on",
    ws_ping_interval: float | None = None,
    ws: type[asyncio.Protocol] | str = SalenWebSocket,
) -> AsyncIterator[str]:
    """Run `app` under uvicorn on 127.0.0.1 and yield its base URL (no trailing slash).

    WebSockets are served by `ws`, by default Salen's protocol as `salen serve` runs it.
    """
    sock = _bound_socket()
    errors: list[BaseException] = []
    config = uvicorn.Config(
        _recording_lifespan_errors(app, errors),
        log_config=None,
        lifespan=lifespan,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        ws=ws,
        ws_ping_interval=ws_ping_interval,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(_serve(server, sock), name="salen-live-server")
    port = sock.getsockname()[1]
    try:
        await _wait_started(server, task, errors)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await task
        except LiveServerError:
            pass  # already reported by _wait_started
        finally:
            sock.close()
