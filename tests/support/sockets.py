"""WebSockets opened by hand on loopback, and the kernel's view of a TCP connection.

A handshake written by hand leaves no client library's objects in the test process (so a
test may count the server's), and a socket that never reads shows what the server does
with a client that stopped reading. `tcp_state` reads Linux's /proc/net/tcp.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

HANDSHAKE = (
    "GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
ESTABLISHED = "01"  # a state of /proc/net/tcp (FIN_WAIT1 is "04", FIN_WAIT2 "05")


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def ask(port: int, path: str = "", rcvbuf: int | None = None) -> socket.socket:
    """Send a WebSocket handshake by hand: no client library keeps objects on this side."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, HANDSHAKE.format(path=path).encode())
    return sock


async def accepted(sock: socket.socket) -> None:
    """Read the handshake's response, and not a byte beyond it."""
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 1), 10)
        assert chunk, response
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response


async def handshake(port: int, path: str = "", rcvbuf: int | None = None) -> socket.socket:
    """A WebSocket opened by hand."""
    sock = await ask(port, path, rcvbuf)
    await accepted(sock)
    return sock


def tcp_state(local_port: int, remote_port: int) -> str | None:
    """The kernel's state of the loopback socket between these ports, None when gone."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            for row in list(rows)[1:]:
                local, remote, state = row.split()[1:4]
                if (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)) == (
                    local_port,
                    remote_port,
                ):
                    return state
    return None
