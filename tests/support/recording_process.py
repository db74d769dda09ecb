"""A process that records a live stream until it is killed: `python -m tests.support.recording_process DIR`.

It serves Salen's streaming routes on loopback with `DIR` as the recordings folder,
publishes a synthetic stream to itself and, once the recording has grown, prints one JSON
line: the recording's path and the start its recorder noted. Then it streams on until
the test kills it (SIGKILL: no clean-up runs, as when a server crashes).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from stream import client as whip
from tests.support.streams import KEYS, running_server

GROWN = 50_000  # bytes of recording before the process reports


async def record(folder: Path) -> None:
    """Publish to a server of our own and report the recording once it has grown."""
    async with running_server(folder) as server:
        publisher = await whip.publish(
            server.http, f"{server.url}/whip/seminar", KEYS["seminar"],
            whip.SyntheticVideo(), whip.SyntheticAudio(),
        )
        live = server.streams._live["seminar"]
        while not (live.recorder.path.exists() and live.recorder.path.stat().st_size > GROWN):
            await asyncio.sleep(0.1)
        started = live.recorder.started_at
        print(json.dumps({
            "ts": str(live.recorder.path),
            "started_at": started.isoformat() if started else None,
            "published_at": live.started_at.isoformat(),
        }), flush=True)
        await asyncio.sleep(3600)
        await publisher.close()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
