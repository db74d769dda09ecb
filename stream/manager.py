"""`LiveStreams`: one per process; the publisher, viewers, recorder and HLS of each stream.

    idle --publish--> live <-> paused --DELETE / publisher gone / no packets--> finalising --> ended
      ^                                                                           |
      +-------------------------- publish again (a new recording) ----------------+

Only one publisher per stream name (the event slug). Viewers exist only while live.
Recordings go to `recordings_dir/streams/{name}/{UTC time}.ts`, finalised next to it as
`.mp4`; live HLS to `recordings_dir/live/{name}/`. A `.ts` without its `.mp4` found at
start-up (the server died mid-stream) is finalised then, once unchanged for a minute.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import logging
import re
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from live.errors import Conflict, NotFound, Unavailable
from live.settings import Settings
from stream import aiortc_fence
from stream.finalise import finalise_recording
from stream.hls import LiveHls
from stream.ice import IceConfig
from stream.peers import PublisherPeer, ViewerPeer
from stream.recorder import TsRecorder
from stream.relay import Relay
from stream.sdp import check_offer

log = logging.getLogger(__name__)
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
FinishedCallback = Callable[[str, Path, datetime], Awaitable[None] | None]
RETRY_AFTER_NOT_LIVE = "5"
RETRY_AFTER_FULL = "30"
PAUSED_AFTER = 3.0  # seconds without packets before a live stream shows as paused
ORPHAN_AGE = 60.0  # seconds without writes before a .ts found at start-up is finalised


class Status(enum.StrEnum):
    """Where a stream is in its life."""

    IDLE = "idle"
    LIVE = "live"
    PAUSED = "paused"
    FINALISING = "finalising"
    ENDED = "ended"


@dataclasses.dataclass(frozen=True, slots=True)
class StreamState:
    """What the event page shows about a stream."""

    name: str
    status: Status
    viewers: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for the API and the event page."""
        return {
            "state": self.status.value,
            "viewers": self.viewers,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    """A WHIP or WHEP session: its id (the resource URL's last part) and our SDP answer."""

    id: str
    answer: str


@dataclasses.dataclass(eq=False)
class _Live:
    name: str
    session_id: str
    relay: Relay
    recorder: TsRecorder
    hls: LiveHls
    started_at: datetime
    started_mono: float
    publisher: PublisherPeer | None = None
    viewers: dict[str, ViewerPeer] = dataclasses.field(default_factory=dict)
    ending: bool = False


def check_name(name: str) -> str:
    """Return `name` if it is a valid stream name (an event slug); NotFound otherwise."""
    if not NAME.fullmatch(name):
        raise NotFound(f"No stream named {name!r}.", code="stream.unknown")
    return name


class LiveStreams:
    """Every live stream of this process. Use `async with LiveStreams(settings) as streams`."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_finished: FinishedCallback | None = None,
        idle_timeout: float = 10.0,
        hls_segment_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.ice = IceConfig.parse(settings.ice_addresses, settings.ice_servers)
        self.on_finished = on_finished
        self.idle_timeout = idle_timeout
        self.hls_segment_seconds = hls_segment_seconds
        self._live: dict[str, _Live] = {}
        self._viewer_streams: dict[str, str] = {}
        self._finalising: dict[str, int] = {}
        self._ended_at: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def root(self) -> Path:
        """Folder of recordings (`streams/`) and live HLS (`live/`)."""
        return Path(self.settings.recordings_dir)

    def hls_folder(self, name: str) -> Path:
        """Where the live HLS of `name` is written."""
        return self.root / "live" / check_name(name)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Check aiortc still has what forwarding needs; finalise recordings left by a crash."""
        aiortc_fence.check_internals()
        now = time.time()
        for ts in sorted(self.root.glob("streams/*/*.ts")):
            modified = ts.stat().st_mtime
            # a file still growing may belong to another process sharing the folder
            if not ts.with_suffix(".mp4").exists() and now - modified > ORPHAN_AGE:
                started = datetime.fromtimestamp(modified, UTC)
                self._spawn(self._finalise(ts.parent.name, ts, started))

    # -- publishing -------------------------------------------------------------------

    async def publish(self, name: str, offer_sdp: str) -> Session:
        """Accept a publisher for `name`; Conflict if one is already live."""
        check_name(name)
        offer = check_offer(offer_sdp, "publish")
        if name in self._live:
            raise Conflict(f"Stream {name!r} already has a publisher.", code="stream.busy")
        live = self._new_live(name)
        self._live[name] = live
        publisher = PublisherPeer(self.ice, live.relay, lambda why: self._gone(live, why))
        live.publisher = publisher
        try:
            answer = await publisher.answer(offer)
        except BaseException:
            await self._end(live, "offer refused", finalise=False)
            raise
        self._spawn(self._watch(live))
        log.info("stream %s: publisher %s connected", name, live.session_id)
        return Session(live.session_id, answer)

    def _new_live(self, name: str) -> _Live:
        started = datetime.now(UTC)
        ts = self.root / "streams" / name / f"{started:%Y%m%dT%H%M%S%fZ}.ts"
        folder = self.hls_folder(name)
        shutil.rmtree(folder, ignore_errors=True)  # last stream's segments
        relay = Relay(
            lambda: live.publisher.request_keyframe() if live.publisher else None,
            keyframe_interval=self.hls_segment_seconds * 1.5,
        )
        live = _Live(
            name=name,
            session_id=secrets.token_urlsafe(18),
            relay=relay,
            recorder=TsRecorder(ts),
            hls=LiveHls(folder, target=self.hls_segment_seconds),
            started_at=started,
            started_mono=time.monotonic(),
        )
        relay.add_sink(live.recorder.put)
        relay.add_sink(live.hls.put)
        return live

    async def end_publish(self, name: str, session_id: str) -> None:
        """End the stream (WHIP DELETE); NotFound unless `session_id` is its publisher."""
        live = self._live.get(name)
        if live is None or not secrets.compare_digest(live.session_id, session_id):
            raise NotFound("No such publishing session.", code="stream.session")
        await self._end(live, "publisher hung up")

    def _gone(self, live: _Live, why: str) -> None:
        if not live.ending and not self._closed:
            self._spawn(self._end(live, why))

    async def _watch(self, live: _Live) -> None:
        """End the stream when no packet has come for `idle_timeout` seconds."""
        while not live.ending:
            await asyncio.sleep(min(self.idle_timeout / 4, 1.0))
            last = live.relay.last_packet_at or live.started_mono
            # before the first packet, allow for ICE and DTLS to finish
            limit = self.idle_timeout if live.relay.last_packet_at else self.idle_timeout + 10
            if time.monotonic() - last > limit and not live.ending:
                await self._end(live, "no packets")

    async def _end(self, live: _Live, why: str, finalise: bool = True) -> None:
        if live.ending:
            return
        live.ending = True
        log.info("stream %s: ending (%s)", live.name, why)
        if self._live.get(live.name) is live:
            del self._live[live.name]
        live.relay.close()
        viewers = list(live.viewers.items())
        live.viewers.clear()
        for session_id, viewer in viewers:
            self._viewer_streams.pop(session_id, None)
        if finalise and live.relay.packets:
            self._finalising[live.name] = self._finalising.get(live.name, 0) + 1
        await asyncio.gather(
            *(viewer.close() for _, viewer in viewers),
            *([live.publisher.close()] if live.publisher else []),
            return_exceptions=True,
        )
        await asyncio.gather(live.recorder.close(), live.hls.close())
        if finalise and live.relay.packets:
            self._spawn(
                self._finalise(live.name, live.recorder.path, live.started_at, counted=True)
            )
        else:
            live.recorder.path.unlink(missing_ok=True)
            self._ended_at[live.name] = datetime.now(UTC)

    async def _finalise(
        self, name: str, ts: Path, started_at: datetime, counted: bool = False
    ) -> None:
        if not counted:
            self._finalising[name] = self._finalising.get(name, 0) + 1
        try:
            if not ts.exists():
                return
            mp4 = await asyncio.to_thread(finalise_recording, ts)
            log.info("stream %s: recording finalised as %s", name, mp4)
            if self.on_finished is not None:
                result = self.on_finished(name, mp4, started_at)
                if inspect.isawaitable(result):
                    await result
        except Exception:
            log.exception("stream %s: finalising %s failed", name, ts)
        finally:
            self._finalising[name] -= 1
            if not self._finalising[name]:
                del self._finalising[name]
            self._ended_at[name] = datetime.now(UTC)

    # -- viewing ----------------------------------------------------------------------

    async def add_viewer(self, name: str, offer_sdp: str) -> Session:
        """A WHEP viewer; Conflict (Retry-After) when not live, Unavailable when full."""
        check_name(name)
        offer = check_offer(offer_sdp, "view")
        live = self._live.get(name)
        if live is None:
            raise Conflict(
                f"Stream {name!r} is not live.",
                code="stream.not_live",
                headers={"Retry-After": RETRY_AFTER_NOT_LIVE},
            )
        if len(self._viewer_streams) >= self.settings.webrtc_viewer_limit:
            raise Unavailable(
                "Too many WebRTC viewers; use HLS.",
                code="stream.viewer_limit",
                headers={"Retry-After": RETRY_AFTER_FULL},
            )
        session_id = secrets.token_urlsafe(18)
        viewer = ViewerPeer(self.ice, live.relay, lambda why: self._viewer_gone(session_id))
        live.viewers[session_id] = viewer
        self._viewer_streams[session_id] = name
        try:
            answer = await viewer.answer(offer)
        except BaseException:
            await self._drop_viewer(session_id)
            raise
        return Session(session_id, answer)

    async def remove_viewer(self, name: str, session_id: str) -> None:
        """Hang up on a viewer (WHEP DELETE); NotFound if there is no such session."""
        if self._viewer_streams.get(session_id) != name:
            raise NotFound("No such viewing session.", code="stream.session")
        await self._drop_viewer(session_id)

    async def _drop_viewer(self, session_id: str) -> None:
        name = self._viewer_streams.pop(session_id, None)
        live = self._live.get(name) if name is not None else None
        viewer = live.viewers.pop(session_id, None) if live else None
        if viewer is not None:
            await viewer.close()

    def _viewer_gone(self, session_id: str) -> None:
        if session_id in self._viewer_streams and not self._closed:
            self._spawn(self._drop_viewer(session_id))

    # -- state and shutdown -----------------------------------------------------------

    def state(self, name: str) -> StreamState:
        """The stream's status, viewer count and times."""
        live = self._live.get(name)
        if live is not None:
            last = live.relay.last_packet_at
            quiet = last is not None and time.monotonic() - last > PAUSED_AFTER
            status = Status.PAUSED if quiet else Status.LIVE
            return StreamState(name, status, len(live.viewers), live.started_at)
        if name in self._finalising:
            return StreamState(name, Status.FINALISING, ended_at=self._ended_at.get(name))
        if name in self._ended_at:
            return StreamState(name, Status.ENDED, ended_at=self._ended_at[name])
        return StreamState(name, Status.IDLE)

    @property
    def viewer_count(self) -> int:
        """WebRTC viewers across all streams of this process."""
        return len(self._viewer_streams)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("stream background task failed", exc_info=task.exception())

    async def aclose(self) -> None:
        """End every stream and wait for recordings to be finalised."""
        for live in list(self._live.values()):
            await self._end(live, "server stopping")
        self._closed = True
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
