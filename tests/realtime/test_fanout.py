"""Fan-out: one merged frame per tick for viewers, moderators at once, slow viewers dropped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest

from live.hub import Entry, Hub, open_hub
from live.qa.domain import QaStatus
from live.qa.messages import CloseCode, QuestionView, Update, coalesce, encode
from live.realtime import fanout as fanout_module
from live.realtime.catchup import Watermark
from live.realtime.channels import qa_mod_channel as mod_channel
from live.realtime.channels import qa_public_channel as public_channel
from live.realtime.conn import Conn
from live.realtime.fanout import Fanout, Tick
from live.realtime.tick import Pacing, TickPace

EVENT = 7


class Socket:
    """A stand-in for the ASGI side of one WebSocket: records frames, can block writes."""

    def __init__(self, *, blocked: bool = False) -> None:
        self.frames: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.unblock = asyncio.Event()
        if not blocked:
            self.unblock.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.unblock.wait()
        self.messages.append(message)
        self.frames.append(message["text"])

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def conn(self, *, moderator: bool = False, max_backlog: int = 16) -> Conn:
        return Conn(self.send, self.close, moderator=moderator, max_backlog=max_backlog)


def update(v: int, qid: int, votes: int = 0, status: QaStatus = QaStatus.APPROVED) -> bytes:
    return encode(
        Update(v=v, questions=[QuestionView(id=qid, v=v, status=status, text="Q?", votes=votes)])
    )


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


@pytest.fixture
async def fanout(hub: Hub) -> AsyncIterator[Fanout]:
    # A tick that never fires by itself: tests flush the room explicitly.
    async with Fanout(hub, coalesce, tick_seconds=3600, min_tick_seconds=3600) as opened:
        yield opened


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


async def test_viewers_get_one_merged_frame_per_tick(hub: Hub, fanout: Fanout) -> None:
    """Three notices in one tick become one frame, the same text object for every viewer."""
    sockets = [Socket() for _ in range(3)]
    async with (
        fanout.join(EVENT, sockets[0].conn()) as room,
        fanout.join(EVENT, sockets[1].conn()),
        fanout.join(EVENT, sockets[2].conn()),
    ):
        await hub.publish(public_channel(EVENT), Entry(1, 0, update(1, 10)))
        await hub.publish(public_channel(EVENT), Entry(2, 1, update(2, 10, votes=1)))
        await hub.publish(public_channel(EVENT), Entry(4, 2, update(4, 11)))
        await until(lambda: len(room.pending) == 3)
        assert room.flush() == 3
        assert room.flush() == 0  # nothing new: nothing sent
    assert [len(s.frames) for s in sockets] == [1, 1, 1]
    assert sockets[0].messages[0] is sockets[1].messages[0] is sockets[2].messages[0]
    frame = msgspec.json.decode(sockets[0].frames[0])
    assert frame["v"] == 4
    assert {q["id"]: q.get("votes", 0) for q in frame["questions"]} == {10: 1, 11: 0}


def versions(sock: Socket) -> list[tuple[int, list[int]]]:
    """Each frame's version and question ids."""
    frames = [msgspec.json.decode(f) for f in sock.frames]
    return [(f["v"], sorted(q["id"] for q in f["questions"])) for f in frames]


async def test_notice_during_a_round_joins_it_for_the_rest(hub: Hub, fanout: Fanout) -> None:
    """A notice arriving between slices is in the frame of every viewer not yet written;
    the ones written before it get it in the next round, and nobody gets two frames a round."""
    sockets = [Socket() for _ in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            room = await stack.enter_async_context(fanout.join(EVENT, sock.conn()))
        room.add(Entry(1, 0, update(1, 10)))
        tick = Tick(room)
        assert tick.write(2) == 2
        room.add(Entry(2, 1, update(2, 11)))
        late = Socket()  # joins during the round: its snapshot is read after this point
        await stack.enter_async_context(fanout.join(EVENT, late.conn()))
        assert tick.write(2) == 2 and tick.finished
        tick.finish()
        assert sorted(versions(s) for s in sockets) == [[(1, [10])]] * 2 + [[(2, [10, 11])]] * 2
        assert room.flush() == 2  # only the two written before the notice arrived
        assert room.flush() == 0 and room.pending == []
    assert sorted(versions(s) for s in sockets) == (
        [[(1, [10]), (2, [11])]] * 2 + [[(2, [10, 11])]] * 2
    )
    assert late.frames == []


async def test_order_of_arrival_not_version_decides(hub: Hub, fanout: Fanout) -> None:
    """Notices from two processes may arrive out of version order: none is skipped."""
    sock = Socket()
    async with fanout.join(EVENT, sock.conn()) as room:
        room.add(Entry(6, 4, update(6, 1)))
        room.flush()
        room.add(Entry(5, 4, update(5, 2)))
        room.flush()
    assert versions(sock) == [(6, [1]), (5, [2])]


async def test_tick_task_lets_notices_in_between_slices(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick task yields between slices: a notice published while the first viewer is
    written reaches the other two in the same round, the first one a round later."""
    monkeypatch.setattr(fanout_module, "TICK_SLICE", 1)
    publishing: list[asyncio.Task[None]] = []

    class Trigger(Socket):
        """The first frame written to any of them publishes the next notice."""

        async def send(self, message: dict[str, Any]) -> None:
            await super().send(message)
            if not publishing:
                notice = Entry(2, 1, update(2, 11))
                publishing.append(asyncio.create_task(hub.publish(public_channel(EVENT), notice)))

    sockets = [Trigger() for _ in range(20)]
    async with Fanout(hub, coalesce, tick_seconds=0.01) as fanout, contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            await stack.enter_async_context(fanout.join(EVENT, sock.conn()))
        await hub.publish(public_channel(EVENT), Entry(1, 0, update(1, 10)))
        await until(lambda: all(s.frames and versions(s)[-1][0] == 2 for s in sockets))
        await asyncio.sleep(0.05)  # no further frames come
    early = [versions(s) for s in sockets if len(s.frames) == 2]
    joined = [versions(s) for s in sockets if len(s.frames) == 1]
    assert len(early) + len(joined) == 20 and early and joined
    assert early == [[(1, [10]), (2, [11])]] * len(early)
    assert joined == [[(2, [10, 11])]] * len(joined)


async def test_a_failed_tick_sends_the_viewers_it_missed_to_resync(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick that raises part-way (provoked: nothing in a healthy room does) closes the
    viewers it did not write with SLOW "resync", so they reconnect and replay rather than
    silently miss the notice; the viewer it did write stays."""
    monkeypatch.setattr(fanout_module, "TICK_SLICE", 1)
    write = Tick.write
    slices: list[int] = []

    def second_slice_fails(self: Tick, count: int) -> int:
        slices.append(count)
        if len(slices) == 2:
            raise RuntimeError("provoked")
        return write(self, count)

    monkeypatch.setattr(Tick, "write", second_slice_fails)
    sockets = [Socket() for _ in range(3)]
    async with Fanout(hub, coalesce, tick_seconds=0.01) as fanout, contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            await stack.enter_async_context(fanout.join(EVENT, sock.conn()))
        await hub.publish(public_channel(EVENT), Entry(1, 0, update(1, 10)))
        await until(lambda: sum(s.closed is not None for s in sockets) == 2)
        room = fanout.room(EVENT)
        assert room is not None and room.pending == []
        written = [s for s in sockets if s.frames]
        assert len(written) == 1 and written[0].closed is None
        assert versions(written[0]) == [(1, [10])]
        missed = [s for s in sockets if s not in written]
        assert all(s.closed == (CloseCode.SLOW, "resync") and not s.frames for s in missed)


async def test_moderators_get_notices_at_once(hub: Hub, fanout: Fanout) -> None:
    """A moderators' notice is forwarded without waiting for a tick; viewers get none of it."""
    mod, viewer = Socket(), Socket()
    async with fanout.join(EVENT, mod.conn(moderator=True)), fanout.join(EVENT, viewer.conn()):
        await hub.publish(mod_channel(EVENT), Entry(1, 0, update(1, 5, status=QaStatus.PENDING)))
        await until(lambda: len(mod.frames) == 1)
        fanout.room(EVENT).flush()  # type: ignore[union-attr]
    assert '"pending"' in mod.frames[0] and viewer.frames == []


async def test_slow_viewer_is_dropped_without_stalling_others(hub: Hub, fanout: Fanout) -> None:
    """A viewer whose socket blocks is closed with SLOW once its backlog is full."""
    slow, fast = Socket(blocked=True), Socket()
    async with (
        fanout.join(EVENT, slow.conn(max_backlog=2)) as room,
        fanout.join(EVENT, fast.conn()),
    ):
        for v in range(1, 6):
            await hub.publish(public_channel(EVENT), Entry(v, v - 1, update(v, v)))
            await until(lambda: len(room.pending) == 1)
            room.flush()
        await until(lambda: slow.closed is not None)
    assert len(fast.frames) == 5
    assert slow.closed is not None and slow.closed[0] == CloseCode.SLOW
    assert slow.frames == []


async def test_blocked_write_finishes_in_order(hub: Hub, fanout: Fanout) -> None:
    """A briefly blocked viewer gets its queued frames in order once the socket drains."""
    sock = Socket(blocked=True)
    async with fanout.join(EVENT, sock.conn()) as room:
        for v in range(1, 4):
            await hub.publish(public_channel(EVENT), Entry(v, v - 1, update(v, v)))
            await until(lambda: len(room.pending) == 1)
            room.flush()
        sock.unblock.set()
        await until(lambda: len(sock.frames) == 3)
    assert [msgspec.json.decode(f)["v"] for f in sock.frames] == [1, 2, 3]


async def test_pushes_wait_for_the_snapshot(hub: Hub, fanout: Fanout) -> None:
    """While a snapshot is prepared pushes are held; afterwards only newer ones are sent."""
    sock = Socket()
    conn = sock.conn(moderator=True)
    conn.begin_sync()
    async with fanout.join(EVENT, conn):
        await hub.publish(mod_channel(EVENT), Entry(1, 0, update(1, 1)))
        await hub.publish(mod_channel(EVENT), Entry(2, 1, update(2, 2)))
        await asyncio.sleep(0.01)
        assert sock.frames == []
        conn.synced(1, '{"type":"snapshot","v":1}')
    assert [msgspec.json.decode(f)["v"] for f in sock.frames] == [1, 2]
    assert msgspec.json.decode(sock.frames[0])["type"] == "snapshot"


async def test_room_is_released_when_empty(fanout: Fanout) -> None:
    """The last connection leaving an event ends its hub subscriptions."""
    async with fanout.join(EVENT, Socket().conn()):
        assert fanout.room(EVENT) is not None
    assert fanout.room(EVENT) is None


async def test_ticks_flush_by_themselves(hub: Hub) -> None:
    """With a short tick, a published notice reaches a viewer without an explicit flush."""
    sock = Socket()
    async with Fanout(hub, coalesce, tick_seconds=0.01) as fanout, fanout.join(EVENT, sock.conn()):
        await hub.publish(public_channel(EVENT), Entry(1, 0, update(1, 1)))
        await until(lambda: len(sock.frames) == 1)
    assert msgspec.json.decode(sock.frames[0])["questions"][0]["id"] == 1


async def test_ticks_report_their_pacing_and_the_load_around_them(hub: Hub) -> None:
    """Each tick tells the pace's observer its frames and the pacing it followed, with the
    room's latency target; CPU the process spends between ticks counts as the rest's load."""
    rests: list[float] = []

    class Recording(TickPace):
        def pacing(self, viewers: int, rest: float = 0.0) -> Pacing:
            rests.append(rest)
            return super().pacing(viewers, rest)

    told: list[tuple[float, int, Pacing]] = []
    sock = Socket()
    async with Fanout(hub, coalesce, latency_target=0.1) as fanout:
        fanout.pace = Recording(fanout.pace.floor, fanout.pace.ceiling, fanout.pace.target)
        fanout.pace.observer = lambda seconds, frames, paced: told.append((seconds, frames, paced))
        async with fanout.join(EVENT, sock.conn()):
            for v in (1, 2, 3):
                sum(i * i for i in range(200_000))  # the process busy between ticks
                await hub.publish(public_channel(EVENT), Entry(v, v - 1, update(v, 10 + v)))
                await until(lambda v=v: len(sock.frames) == v)
    assert [frames for _, frames, _ in told] == [1, 1, 1]
    assert all(paced.worst <= 0.1 and not paced.over for _, _, paced in told)
    assert rests[0] == 0.0 and rests[-1] > 0.0


async def test_room_knows_the_newest_public_version(hub: Hub, fanout: Fanout) -> None:
    """Public notices (and versions read while subscribed) raise `public_v`; a lost channel forgets it."""
    async with fanout.join(EVENT, Socket().conn()) as room:
        assert room.public_v is None
        room.known_public(3)
        await hub.publish(public_channel(EVENT), Entry(5, 3, update(5, 1)))
        await until(lambda: room.public_v == 5)
        room.known_public(4)
        assert room.public_v == 5
        room.lost(public_channel(EVENT))
        room.known_public(6)  # not subscribed: a notice might be passing unseen
        assert room.public_v is None


class HeldRaw:
    """A transport that takes raw frames but whose ASGI sends never finish."""

    def __init__(self) -> None:
        self.aborts = 0

    def write(self, frame: bytes) -> bool:
        return True

    def buffered(self) -> int:
        return 0

    def abort_later(self) -> None:
        self.aborts += 1


async def test_backlog_overflow_also_cuts_the_transport() -> None:
    """A connection dropped for a full backlog on the ASGI path is also cut at the transport
    (`abort_later`), as on the raw path, so its kernel buffers are freed."""
    closes: list[int] = []
    stuck: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        await stuck

    async def close(code: int, reason: str) -> None:
        closes.append(code)

    raw = HeldRaw()
    conn = Conn(send, close, raw=raw, max_backlog=2)
    for _ in range(4):
        conn.send("x")
    await asyncio.sleep(0)
    assert conn.closed and raw.aborts == 1 and closes == [CloseCode.SLOW]
    stuck.cancel()


def test_watermark_moves_only_along_an_unbroken_chain() -> None:
    """Notices ahead of a gap wait; once the missing one arrives they all count."""
    mark = Watermark()
    mark.saw(Entry(5, 4, b""))
    assert mark.v is None  # not known yet
    mark.reach(3)
    mark.saw(Entry(6, 5, b""))  # 4 not yet seen
    assert mark.v == 3
    mark.saw(Entry(4, 3, b""))
    assert mark.v == 6


async def test_a_lost_channel_catches_up_from_the_database_and_drops_nobody(hub: Hub) -> None:
    """When a channel comes back after being lost, the room asks `catch_up` for what came
    after the last version it heard in full, and its viewers get it; nobody is closed."""
    asked: list[tuple[int | None, bool]] = []

    async def catch_up(event: int, since: int | None, moderators: bool) -> tuple[int, str | None]:
        asked.append((since, moderators))
        if since is None:
            return 1, None
        return 3, update(3, 9).decode()

    sock = Socket()
    async with (
        Fanout(hub, coalesce, tick_seconds=0.01, min_tick_seconds=0.01, catch_up=catch_up) as fan,
        fan.join(EVENT, sock.conn()) as room,
    ):
        await until(lambda: len(asked) == 2)
        await hub.publish(public_channel(EVENT), Entry(2, 1, update(2, 8)))
        await until(lambda: len(sock.frames) == 1)
        room.lost(public_channel(EVENT))
        room.live(public_channel(EVENT))
        await until(lambda: len(sock.frames) == 2)
        assert asked[-1] == (2, False)
        assert msgspec.json.decode(sock.frames[1])["questions"][0]["id"] == 9
        assert sock.closed is None
