"""`LiveStreams`: one per process; the publisher, viewers, recorder and HLS of each stream.

    idle --publish--> live <-> paused --DELETE / publisher gone / no packets--> finalising --> ended
      ^                                                                           |
      +-------------------------- publish again (a new recording) ----------------+

Only one publisher per stream name (the event slug). Viewers exist only while live.
Recordings go to `recordings_dir/streams/{name}/{UTC time}.ts`, finalised next to it as
`.mp4`; live HLS to `recordings_dir/live/{name}/`. Each recording is locked by the process
that records it (`stream.recovery`); a `.ts` whose lock is free belongs to a process that
died and is finalised at start-up or by the periodic sweep (`stream.finishing`).

When the recordings folder fills up or turns read-only, the stream goes on for WebRTC
viewers, the state carries a `Problem`, the live HLS playlist is served ended (what was
written stays playable), and finalising is retried until space returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
import re
import secrets
import shutil
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from live.errors import Conflict, NotFound, Unavailable
from live.settings import Settings
from stream import aiortc_fence
from stream.finishing import FinishedCallback, Finisher
from stream.hls import MIN_LIVE_SEGMENTS, LiveHls, render_playlist
from stream.ice import IceConfig
from stream.peers import PublisherPeer, ViewerPeer
from stream.recorder import TsRecorder
from stream.recovery import NAME_TIME, Problem, RecordingLock, any_alive, storage_problem
from stream.relay import Relay
from stream.sdp import check_offer
from stream.subtitles import LiveSubtitles

log = logging.getLogger(__name__)
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
RETRY_AFTER_NOT_LIVE = "5"
RETRY_AFTER_FULL = "30"
PAUSED_AFTER = 3.0  # seconds without packets before a live stream shows as paused
RETRY_SECONDS = 30.0  # between attempts to finalise while the folder is full or read-only


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
    problem: Problem | None = None
    hls: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for the API and the event page."""
        return {
            "state": self.status.value,
            "viewers": self.viewers,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "hls": self.hls,
            "problem": self.problem.as_dict() if self.problem else None,
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
    subtitles: LiveSubtitles
    started_at: datetime
    started_mono: float
    lock: RecordingLock | None = None
    problem: Problem | None = None
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
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.settings = settings
        self.ice = IceConfig.parse(settings.ice_addresses, settings.ice_servers)
        self.on_finished = on_finished
        self.idle_timeout = idle_timeout
        self.hls_segment_seconds = hls_segment_seconds
        self._live: dict[str, _Live] = {}
        self._viewer_streams: dict[str, str] = {}
        self._ended_at: dict[str, datetime] = {}
        self._stopped_hls: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.finisher = Finisher(self.root, on_finished, self._spawn, retry_seconds)
        self._sweeper: asyncio.Task[None] | None = None

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
        """Check aiortc still has what forwarding needs; finalise recordings left by a crash.

        Every recording whose lock is free is finalised now, whatever its age; the sweep
        then runs every `retry_seconds` for retries and for processes that die later.
        """
        aiortc_fence.check_internals()
        self._drop_stale_hls()
        self.finisher.sweep()
        self._sweeper = asyncio.ensure_future(self.finisher.run())

    def _drop_stale_hls(self) -> None:
        """Live HLS left by a process that died mid-stream: gone, not served as live forever."""
        for folder in self.root.glob("live/*"):
            if NAME.fullmatch(folder.name) and not any_alive(self.root / "streams" / folder.name):
                shutil.rmtree(folder, ignore_errors=True)

    def retry_finalising(self, name: str) -> bool:
        """Try finalising `name`'s stuck recordings now; False if none waits in this process."""
        return self.finisher.retry_now(check_name(name))

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
        ts = self.root / "streams" / name / f"{started.strftime(NAME_TIME)}.ts"
        folder = self.hls_folder(name)
        shutil.rmtree(folder, ignore_errors=True)  # last stream's segments
        self._stopped_hls.pop(name, None)
        self.finisher.forget_failure(name)
        lock, problem = self._lock_recording(ts)
        relay = Relay(
            lambda: live.publisher.request_keyframe() if live.publisher else None,
            keyframe_interval=self.hls_segment_seconds * 1.5,
        )
        subtitles = LiveSubtitles()
        live = _Live(
            name=name,
            subtitles=subtitles,
            session_id=secrets.token_urlsafe(18),
            relay=relay,
            recorder=TsRecorder(ts, lock),
            hls=LiveHls(folder, target=self.hls_segment_seconds, subtitles=subtitles),
            started_at=started,
            started_mono=time.monotonic(),
            lock=lock,
            problem=problem,
        )
        relay.add_sink(live.recorder.put)
        relay.add_sink(live.hls.put)
        return live

    def _lock_recording(self, ts: Path) -> tuple[RecordingLock | None, Problem | None]:
        """The new recording's lock; without one (folder unusable) the stream goes on unrecorded."""
        try:
            return RecordingLock.take(ts, create_folder=True), None
        except OSError as exc:
            problem = storage_problem(exc)
            log.warning("stream %s: cannot record into %s: %s", ts.parent.name, self.root, exc)
            return None, problem

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
        """End the stream when no packet has come for `idle_timeout` seconds; note write failures."""
        while not live.ending:
            await asyncio.sleep(min(self.idle_timeout / 4, 1.0))
            self._check_writers(live)
            last = live.relay.last_packet_at or live.started_mono
            # before the first packet, allow for ICE and DTLS to finish
            limit = self.idle_timeout if live.relay.last_packet_at else self.idle_timeout + 10
            if time.monotonic() - last > limit and not live.ending:
                await self._end(live, "no packets")

    def _check_writers(self, live: _Live) -> None:
        """A recorder or HLS writer that failed: the state says why; HLS is served ended."""
        for sink in (live.recorder, live.hls):
            if sink.error is not None and live.problem is None:
                live.problem = storage_problem(sink.error) or Problem(
                    "storage.error", "Writing the recording or live HLS failed."
                )
                log.warning("stream %s: %s (%s)", live.name, live.problem.message, self.root)
        if live.hls.error is not None and live.name not in self._stopped_hls:
            window = live.hls.segments[-live.hls.window :]
            self._stopped_hls[live.name] = render_playlist(window, ended=True)

    def live_names(self) -> list[str]:
        """The streams live in this process now."""
        return list(self._live)

    def caption(self, name: str, start: float, end: float, text: str) -> bool:
        """Add a caption cue (wall-clock seconds, WebVTT cue text) to a live stream's HLS.

        False when `name` is not live here or has had no packet yet.
        """
        live = self._live.get(name)
        return live is not None and live.subtitles.add_wall(start, end, text)

    def stopped_playlist(self, name: str) -> str | None:
        """The ended HLS playlist to serve instead of the file, once live HLS has failed."""
        return self._stopped_hls.get(name)

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
        await asyncio.gather(
            *(viewer.close() for _, viewer in viewers),
            *([live.publisher.close()] if live.publisher else []),
            return_exceptions=True,
        )
        await asyncio.gather(live.recorder.close(), live.hls.close())
        self._check_writers(live)
        recorded = live.relay.packets > 0 and live.recorder.path.exists()
        if finalise and recorded:
            started = live.recorder.started_at or live.started_at
            self.finisher.add(live.name, live.recorder.path, started, live.lock, live.problem)
            return
        with contextlib.suppress(OSError):
            live.recorder.path.unlink(missing_ok=True)
        if live.lock is not None:
            live.lock.release(remove=True)
        self._ended_at[live.name] = datetime.now(UTC)

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
            hls = live.hls.error is None and len(live.hls.segments) >= MIN_LIVE_SEGMENTS
            problem = live.problem or self.finisher.problem(name)
            return StreamState(name, status, len(live.viewers), live.started_at, None, problem, hls)
        problem = self.finisher.problem(name)
        ended_at = max(
            (t for t in (self._ended_at.get(name), self.finisher.ended_at.get(name)) if t),
            default=None,
        )
        if self.finisher.busy(name):
            return StreamState(name, Status.FINALISING, ended_at=ended_at, problem=problem)
        if ended_at is not None:
            return StreamState(name, Status.ENDED, ended_at=ended_at, problem=problem)
        return StreamState(name, Status.IDLE, problem=problem)

    def audience(self) -> dict[str, int]:
        """WebRTC viewers of each stream published to this process (its publishers)."""
        return {name: len(live.viewers) for name, live in self._live.items()}

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
        """End every stream and wait for recordings to be finalised (one attempt each)."""
        for live in list(self._live.values()):
            await self._end(live, "server stopping")
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.finisher.drain()
