"""A running streaming server for the media tests: WHIP/WHEP/HLS routes on loopback uvicorn.

`running_server` serves Salen's streaming routes (stream keys `KEYS`) with a fresh
`LiveStreams` and yields a `Harness`; `decoded_video` reads a WHEP viewer's frame numbers.
`small_disk` mounts a small tmpfs (root only) for the full-disk tests.
`GUARD` bounds every wait so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import av
import httpx
import uvicorn
from aiortc import MediaStreamTrack
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from live.settings import Settings
from live.streaming.whip import routes
from stream import client as whip
from stream.manager import LiveStreams

KEYS = {"seminar": "s3cret-key", "other": "other-key"}
GUARD = 20.0  # seconds before a wait is declared hung (not a performance assertion)


@dataclasses.dataclass
class Harness:
    """A running server and what the test needs to reach it."""

    url: str
    streams: LiveStreams
    finished: asyncio.Queue[tuple[str, Path, datetime]]
    http: httpx.AsyncClient


async def _check_key(request: object, slug: str, token: str) -> bool | None:
    if slug not in KEYS:
        return None
    return token == KEYS[slug]


@contextlib.asynccontextmanager
async def running_server(
    tmp_path: Path, extra_routes: Sequence[BaseRoute] = (), retry_seconds: float = 30.0
) -> AsyncIterator[Harness]:
    """Salen's streaming routes in a tiny Starlette app, served by uvicorn on loopback."""
    settings = Settings(recordings_dir=tmp_path, ice_addresses="127.0.0.1", webrtc_viewer_limit=3)
    finished: asyncio.Queue[tuple[str, Path, datetime]] = asyncio.Queue()
    holder: list[LiveStreams] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        async with LiveStreams(
            settings,
            on_finished=lambda *args: finished.put_nowait(args),
            idle_timeout=2.0,
            hls_segment_seconds=1.0,
            retry_seconds=retry_seconds,
        ) as streams:
            holder.append(streams)
            yield {"streams": streams}

    app = Starlette(routes=[*routes(_check_key), *extra_routes], lifespan=lifespan)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        yield Harness(url, holder[0], finished, http)
    uv.should_exit = True
    await task
    sock.close()


async def decoded_video(tracks: asyncio.Queue[MediaStreamTrack], frames: int) -> list[int]:
    """Frame numbers of the first `frames` pictures a viewer decodes."""
    while True:
        track = await tracks.get()
        if track.kind == "video":
            break
    numbers = []
    for _ in range(frames):
        frame = await track.recv()
        assert isinstance(frame, av.VideoFrame)
        numbers.append(whip.read_frame_number(frame))
    return numbers


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "8m", *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (made if missing) until exit; needs root."""
    # No skip: a disk-full test that does not run proves nothing (CI runs as root).
    assert os.geteuid() == 0, "mounting a tmpfs needs root: run the tests as root (as CI does)"
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """A ballast file that leaves about `leave` bytes free on `folder`'s file system."""
    ballast = folder / "ballast"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with ballast.open("wb") as out:
        out.truncate(0)
        chunk = b"\0" * (1 << 16)
        for _ in range(max(free - leave, 0) // len(chunk)):
            out.write(chunk)
    return ballast
