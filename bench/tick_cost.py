"""Where a tick's CPU goes: `python -m bench.tick_cost [--viewers 5000] [--bytes 1024 200]`.

N loopback TCP connections on one uvloop loop (the loop uvicorn picks), each given one
frame per round through the fan-out's own `Room`/`Tick`/`Conn` path onto a stand-in for the
server's raw socket (`live.server.SalenSocket`'s checks, on the plain transport), and, in
the same rounds, by a bare `transport.write` loop (what any asyncio server pays at least).
Rounds alternate between the two; between rounds the client ends are drained, off the clock.
CPU is the loop thread's (`time.thread_time`). The difference is the fan-out's own Python
per viewer; the rest is the transport and the kernel's `send`. Nothing here reads the
frames while they are sent, so the kernel's cost of waking a reader on another core (the
benchmark's load generator) is not in these figures: `perf` on `salen serve` in a fan-out
run shows it (bench/results/realistic.md).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from typing import Any

import uvloop

from live.hub import Entry
from live.realtime.conn import Conn
from live.realtime.fanout import Room, Tick
from live.realtime.rawframes import text_frame


class _Protocol:
    close_sent = disconnected = False
    handshake_complete = True


class StandIn:
    """`live.server.SalenSocket`'s `write` and `buffered` on a plain transport."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, transport: Any) -> None:
        self._protocol, self._transport = _Protocol(), transport

    def write(self, frame: bytes) -> bool:
        protocol, transport = self._protocol, self._transport
        if protocol.close_sent or protocol.disconnected or transport.is_closing():
            return False
        if not protocol.handshake_complete:
            return False
        transport.write(frame)
        return True

    def buffered(self) -> int:
        return int(self._transport.get_write_buffer_size())

    def abort_later(self) -> None:
        pass


async def _connect(n: int) -> tuple[list[Any], list[socket.socket], asyncio.AbstractServer]:
    loop = asyncio.get_running_loop()
    transports: list[Any] = []

    class Accepting(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            transports.append(transport)

    server = await loop.create_server(Accepting, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    clients = []
    for i in range(n):
        client = socket.create_connection(("127.0.0.1", port))
        client.setblocking(False)
        clients.append(client)
        while i % 200 == 199 and len(transports) < i - 50:
            await asyncio.sleep(0.001)
    while len(transports) < n:
        await asyncio.sleep(0.01)
    return transports, clients, server


def _drain(clients: list[socket.socket]) -> None:
    for client in clients:
        try:
            while client.recv(1 << 16):
                pass
        except BlockingIOError:
            pass


async def measure(n: int, size: int, rounds: int) -> dict[str, float]:
    """µs of CPU per viewer: the fan-out's tick and the bare transport loop, `size`-byte frames."""
    transports, clients, server = await _connect(n)

    async def nothing(*_: Any) -> None:
        pass

    room = Room(1, lambda notices: bytes(notices[0]).decode())
    for transport in transports:
        room.viewers.add(Conn(nothing, nothing, raw=StandIn(transport)))
    text = '{"type":"update","v":1,"questions":[],"pad":"' + "x" * max(0, size - 50) + '"}'
    frame = text_frame(text)

    def tick(v: int) -> None:
        room.add(Entry(v, v - 1, text.encode()))
        one = Tick(room)
        one.write(len(one.conns))
        one.finish()

    variants = {"fan-out tick": tick, "transport.write loop": lambda _: [t.write(frame) for t in transports]}
    tick(1)  # warm
    _drain(clients)
    cpu = dict.fromkeys(variants, 0.0)
    for r in range(rounds):
        for name, body in variants.items():
            began = time.thread_time()
            body(r + 2)
            cpu[name] += time.thread_time() - began
            _drain(clients)
    for client in clients:
        client.close()
    server.close()
    return {name: seconds / rounds / n * 1e6 for name, seconds in cpu.items()}


def main() -> None:
    """Print one line per frame size."""
    parser = argparse.ArgumentParser(prog="python -m bench.tick_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--bytes", type=int, nargs="+", default=[1024, 200])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for size in args.bytes:
        got = uvloop.run(measure(args.viewers, size, args.rounds))
        print(f"{args.viewers:,} viewers, {size:,}-byte frames: "
              + ", ".join(f"{name} {us:.2f} µs a viewer" for name, us in got.items()))


if __name__ == "__main__":
    main()
