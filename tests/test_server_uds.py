"""`salen serve --uds`: a Unix socket beside the TCP port, for nginx on the same machine.

What nginx says of the client (X-Forwarded-For, X-Forwarded-Proto) is believed on the Unix
socket, which only the socket file's owner and group may open, and not over TCP unless the
address is a trusted proxy (`SALEN_TRUSTED_PROXIES`). Checked on a real uvicorn server
listening on both, as `live.server.run` starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from live.server import Server, UnixSocketProxy, bind_unix, proxy_options
from tests.support.servers import free_port
from tests.test_server import QuietServer

ROOT = Path(__file__).resolve().parents[1]

FORWARDED = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}


async def whoami(request: Request) -> JSONResponse:
    client = request.client.host if request.client else None
    return JSONResponse({"client": client, "scheme": request.url.scheme})


def app() -> UnixSocketProxy:
    return UnixSocketProxy(Starlette(routes=[Route("/", whoami)]))


@contextlib.asynccontextmanager
async def both(path: Path) -> AsyncIterator[str]:
    """The app on a TCP port and on the Unix socket `path`; yields the TCP URL."""
    # As `salen serve` without SALEN_TRUSTED_PROXIES: no TCP address is a trusted proxy.
    config = uvicorn.Config(app(), host="127.0.0.1", port=0, log_config=None, lifespan="off",
                            **proxy_options(""))
    server = QuietServer(config)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    unix = bind_unix(str(path), 16)
    task = asyncio.create_task(server.serve(sockets=[tcp, unix]))
    try:
        while not server.started:
            assert not task.done()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{tcp.getsockname()[1]}/"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        tcp.close()
        unix.close()


async def test_forwarded_client_is_believed_on_the_unix_socket_only(tmp_path: Path) -> None:
    path = tmp_path / "worker.sock"
    async with both(path) as url:
        transport = httpx.AsyncHTTPTransport(uds=str(path))
        async with httpx.AsyncClient(transport=transport) as unix, httpx.AsyncClient() as tcp:
            through_unix = (await unix.get("http://salen/", headers=FORWARDED)).json()
            through_tcp = (await tcp.get(url, headers=FORWARDED)).json()
    assert through_unix == {"client": "203.0.113.5", "scheme": "https"}
    assert through_tcp == {"client": "127.0.0.1", "scheme": "http"}


def test_the_socket_is_for_owner_and_group_and_replaces_only_a_stale_socket(
    tmp_path: Path,
) -> None:
    path = tmp_path / "worker.sock"
    first = bind_unix(str(path), 16)
    first.close()  # as a worker killed with SIGKILL leaves it
    second = bind_unix(str(path), 16)
    try:
        mode = os.stat(path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660
    finally:
        second.close()
    live = bind_unix(str(path), 16)
    try:
        with pytest.raises(OSError, match="another process listens"):
            bind_unix(str(path), 16)  # a second worker given the same path
    finally:
        live.close()
    other = tmp_path / "notes.txt"
    other.write_text("not a socket")
    with pytest.raises(OSError, match="not a socket"):
        bind_unix(str(other), 16)
    assert other.read_text() == "not a socket"


async def test_a_websocket_through_the_unix_socket_sees_the_forwarded_client(
    tmp_path: Path,
) -> None:
    """The live socket's per-address limits see each viewer, not one shared address."""
    seen: list[str | None] = []

    async def endpoint(websocket: WebSocket) -> None:
        seen.append(websocket.client.host if websocket.client else None)
        await websocket.accept()
        await websocket.close()

    config = uvicorn.Config(UnixSocketProxy(Starlette(routes=[WebSocketRoute("/ws", endpoint)])),
                            log_config=None, lifespan="off")
    server = QuietServer(config)
    path = tmp_path / "ws.sock"
    unix = bind_unix(str(path), 16)
    task = asyncio.create_task(server.serve(sockets=[unix]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(b"GET /ws HTTP/1.1\r\nHost: salen\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
        status = await reader.readline()
        writer.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        unix.close()
    assert status.startswith(b"HTTP/1.1 101"), status
    assert seen == ["198.51.100.7"]


def test_serve_refuses_a_unix_socket_with_several_workers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALEN_")} | {
        "SALEN_HUB_URL": "redis://127.0.0.1:1/0",
        "SALEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}",
        "SALEN_RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "live.cli", "serve", "--workers", "2", "--uds",
         str(tmp_path / "w.sock")], check=False, env=env, capture_output=True, text=True, timeout=60,
        cwd=ROOT)
    assert done.returncode == 2
    assert "--uds serves one process" in done.stderr


def test_run_listens_on_both(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`live.server.run(uds=...)` hands uvicorn the TCP socket and the Unix one."""
    from live import server as live_server

    handed: list[list[socket.socket]] = []

    def fake_run(self: Server, sockets: list[socket.socket] | None = None) -> None:
        handed.append(list(sockets or []))
        self.started = True

    monkeypatch.setattr(Server, "run", fake_run)
    path = tmp_path / "w.sock"
    live_server.run("live.app:create_app", factory=True, host="127.0.0.1", port=0, uds=str(path))
    families = [s.family for s in handed[0]]
    for sock in handed[0]:
        sock.close()
    assert families == [socket.AF_INET, socket.AF_UNIX]


def serve_env(tmp_path: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SALEN_")} | {
        "SALEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}",
        "SALEN_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "SALEN_OUTBOX_DIR": str(tmp_path / "outbox"), "SALEN_SECRET_KEY": "uds-test",
        "PYTHONPATH": str(ROOT),
    }


def test_a_stopped_worker_removes_its_socket_and_a_killed_ones_is_replaced(
    tmp_path: Path,
) -> None:
    """SIGTERM (systemd's stop): the socket file goes. SIGKILL leaves it; the next start
    replaces it and answers on it."""
    sockets = Path(tempfile.mkdtemp(prefix="salen-", dir="/tmp"))
    path = sockets / "w.sock"
    try:
        for stop in (signal.SIGKILL, signal.SIGTERM):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "live.cli", "serve", "--port", str(port), "--uds",
                 str(path)], env=serve_env(tmp_path), cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda: _health(path), process)
            finally:
                process.send_signal(stop)
                process.wait(timeout=30)
            assert path.exists() == (stop == signal.SIGKILL)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _health(path: Path) -> bool:
    """Does `salen serve` answer /healthz on the Unix socket `path`?"""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: salen\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


def wait_for(ready: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None, "salen serve exited"
        assert time.monotonic() < deadline, "no answer on the socket"
        time.sleep(0.2)


@pytest.mark.parametrize("case", ["not a socket", "no folder"])
def test_serve_names_a_path_it_cannot_listen_on(tmp_path: Path, case: str) -> None:
    if case == "not a socket":
        path = tmp_path / "notes.txt"
        path.write_text("kept")
    else:
        path = tmp_path / "missing" / "w.sock"
    done = subprocess.run(
        [sys.executable, "-m", "live.cli", "serve", "--port", str(free_port()), "--uds",
         str(path)], check=False, env=serve_env(tmp_path), capture_output=True, text=True,
        timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: --uds: ") and "Traceback" not in done.stderr
    assert case.split()[-1] in done.stderr.splitlines()[0] or "does not exist" in done.stderr
