"""Minimal Python peer: a `websockets` server that fans each change out with `broadcast()`.

    python bench/peer_ws.py PORT

Viewers connect to `/`; a publisher connects to `/?pub=1` and each `{"seq": k}` it sends
becomes one ~200-byte JSON frame written to every viewer with `websockets.broadcast()`
(no per-socket compression, like Salen); `{"seq": k, "bytes": n}` pads the frame to about n
bytes (the realistic workload's frames). The same frames the Node peer sends.
"""

from __future__ import annotations

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

PAD = "x" * 150


async def main(port: int) -> None:
    """Serve until killed."""
    viewers: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if "pub=1" in (ws.request.path if ws.request else ""):
            async for data in ws:
                change = json.loads(data)
                size = change.get("bytes")
                pad = "x" * max(0, size - 50) if size else PAD
                frame = json.dumps({"type": "update", "v": change["seq"], "questions": [], "pad": pad},
                                   separators=(",", ":"))
                broadcast(viewers, frame)
            return
        viewers.add(ws)
        try:
            await ws.send('{"type": "snapshot", "v": 0}')
            await ws.wait_closed()
        finally:
            viewers.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096):
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
