"""Online attendance from the live page: who joined and for how long, written in batches.

A connection to `/ws/events/{slug}` joins a tally once it is synced and leaves it when it
closes (`OnlineFeature`'s `start`/`close` hooks; nothing runs per frame or per message). A
registrant is known by the participant their personal link made (`reg:<id>`, signed, see
`live.identity`); everybody else is counted per event without a name. Each tally keeps
how many connections are open, the sum of their start times and the seconds of closed
ones, so the seconds watched by any number of connections are known at any moment without
a timer per connection; a registrant's several tabs in one process count once.

`Attendance.flush()` runs every `FLUSH_SECONDS` in each process (one task, not a job: the
tallies live in this process) and writes what changed since the last flush in one
transaction: one upsert row per registrant whose minutes crossed a step (`STEP_MINUTES`)
or who joined, and one row per event for anonymous viewers. So 10,000 viewers cost one
transaction a minute, and a registrant's row is written at most once per step. A flush that
fails keeps its numbers for the next one; what a process held when it is killed without
closing (minutes since its last flush) is lost. Not counted: the same registrant in two
processes at once is two viewers' minutes; moderators and the big screen are not viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.attendance.domain import coarse_minutes
from live.models.attendance import OnlineAttendance, OnlineAudience
from live.models.base import utcnow
from live.models.registration import Registration
from live.realtime.beat import sleep_beats
from live.realtime.connection import Feature, Session

log = logging.getLogger(__name__)

FLUSH_SECONDS = 60.0
Key = tuple[int, int | None]  # (event id, registration id or None for anonymous)


class Tally:
    """The connections of one registrant (or of an event's anonymous viewers) in this process.

    Anonymous: every connection counts, `starts` is the sum of the open ones' start times.
    A registrant: time runs while at least one of their connections is open, from `starts`.
    """

    __slots__ = ("closed", "credited", "joined_at", "joins", "named", "open", "starts")

    def __init__(self, named: bool, joined_at: dt.datetime) -> None:
        self.named = named
        self.open = 0
        self.starts = 0.0
        self.closed = 0.0  # seconds of time that ended
        self.credited = 0  # minutes already handed to a flush
        self.joins = 0  # joins not yet written
        self.joined_at = joined_at  # the first join not yet written

    def seconds(self, now: float) -> float:
        """Seconds watched until `now`."""
        if self.named:
            return self.closed + (now - self.starts if self.open else 0.0)
        return self.closed + self.open * now - self.starts

    def join(self, now: float) -> None:
        if self.named:
            if self.open == 0:
                self.starts = now
                self.joins += 1
        else:
            self.starts += now
            self.joins += 1
        self.open += 1

    def leave(self, started: float, now: float) -> None:
        self.open -= 1
        if not self.named:
            self.starts -= started
            self.closed += now - started
        elif self.open == 0:
            self.closed += now - self.starts


@dataclass(frozen=True)
class Change:
    """What one flush writes for one tally."""

    event_id: int
    registration_id: int | None
    joins: int
    minutes: int
    joined_at: dt.datetime


@dataclass
class Attendance:
    """The process's tallies and their periodic flush; see the module."""

    db: async_sessionmaker[AsyncSession]
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], dt.datetime] = utcnow
    every: float = FLUSH_SECONDS
    tallies: dict[Key, Tally] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def join(self, key: Key) -> float:
        """A connection opened; returns its start, to hand back to `leave`."""
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally(key[1] is not None, self.wall())
        elif tally.joins == 0:
            tally.joined_at = self.wall()
        now = self.clock()
        tally.join(now)
        return now

    def leave(self, key: Key, started: float) -> None:
        """A connection that joined at `started` closed."""
        tally = self.tallies.get(key)
        if tally is not None and tally.open > 0:
            tally.leave(started, self.clock())

    def collect(self) -> list[Change]:
        """Take what changed since the last collect; forget tallies with nothing open."""
        now = self.clock()
        changes = []
        for key, tally in list(self.tallies.items()):
            total = coarse_minutes(tally.seconds(now)) if tally.named else int(
                tally.seconds(now) // 60)
            minutes = total - tally.credited
            if minutes > 0 or tally.joins:
                changes.append(Change(key[0], key[1], tally.joins, minutes, tally.joined_at))
                tally.credited, tally.joins = total, 0
            if tally.open == 0:
                del self.tallies[key]
        return changes

    def restore(self, changes: Sequence[Change]) -> None:
        """Give back what a failed flush could not write, to go with the next one."""
        for change in changes:
            key = (change.event_id, change.registration_id)
            tally = self.tallies.get(key)
            if tally is None:
                tally = self.tallies[key] = Tally(key[1] is not None, change.joined_at)
            tally.credited -= change.minutes
            tally.joins += change.joins
            tally.joined_at = min(tally.joined_at, change.joined_at)

    async def flush(self) -> int:
        """Write what changed in one transaction; returns how many rows it touched."""
        changes = self.collect()
        if not changes:
            return 0
        try:
            await write(self.db, changes, self.wall())
        except Exception:
            self.restore(changes)
            raise
        return len(changes)

    async def _loop(self) -> None:
        while True:
            await sleep_beats(self.every)
            try:
                await self.flush()
            except Exception as error:  # noqa: BLE001  (the database may be briefly away)
                log.warning("online attendance: flush failed, kept for the next: %r", error)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="salen-attendance")

    async def stop(self) -> None:
        """Stop the loop and write what is left (open connections counted until now)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception as error:  # noqa: BLE001  (shutting down: say so, do not fail it)
            log.warning("online attendance: last flush failed: %r", error)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def write(
    db: async_sessionmaker[AsyncSession], changes: Sequence[Change], now: dt.datetime
) -> None:
    """Upsert the registrants' rows and the events' anonymous counts, in one transaction.

    A registration of another event (a browser remembered from elsewhere) or one deleted
    meanwhile is left out.
    """
    named = [c for c in changes if c.registration_id is not None]
    anonymous: dict[int, tuple[int, int]] = {}
    for c in changes:
        if c.registration_id is None:
            joins, minutes = anonymous.get(c.event_id, (0, 0))
            anonymous[c.event_id] = (joins + c.joins, minutes + c.minutes)
    async with db() as session, session.begin():
        valid: set[tuple[int, int]] = set()
        if named:
            rows = await session.execute(
                select(Registration.id, Registration.event_id).where(
                    Registration.id.in_({c.registration_id for c in named})))
            valid = {(event_id, reg_id) for reg_id, event_id in rows}
        values = [
            {"registration_id": c.registration_id, "event_id": c.event_id,
             "joined_at": c.joined_at, "last_seen_at": now, "minutes": c.minutes}
            for c in named if (c.event_id, c.registration_id) in valid
        ]
        if values:
            insert = _insert(session, OnlineAttendance)
            table = OnlineAttendance.__table__
            await session.execute(insert.on_conflict_do_update(
                index_elements=["registration_id"],
                set_={
                    "minutes": table.c.minutes + insert.excluded.minutes,
                    "last_seen_at": insert.excluded.last_seen_at,
                    "joined_at": func.min(table.c.joined_at, insert.excluded.joined_at)
                    if session.get_bind().dialect.name == "sqlite"
                    else func.least(table.c.joined_at, insert.excluded.joined_at),
                },
            ), values)
        if anonymous:
            insert = _insert(session, OnlineAudience)
            table = OnlineAudience.__table__
            await session.execute(insert.on_conflict_do_update(
                index_elements=["event_id"],
                set_={"joins": table.c.joins + insert.excluded.joins,
                      "minutes": table.c.minutes + insert.excluded.minutes},
            ), [{"event_id": e, "joins": j, "minutes": m} for e, (j, m) in anonymous.items()])


class Watch:
    """One connection's place in a tally: its key, and its start once it has joined."""

    __slots__ = ("key", "started")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.started: float | None = None


class OnlineFeature(Feature[Watch | None]):
    """The live socket's part: join a tally once a viewer is synced, leave it on close.

    Joining in `start` (not `open`) means a connection that failed before its first frame,
    whose `close` the endpoint does not call, never joined: no tally counts it forever.
    """

    def __init__(self, attendance: Attendance) -> None:
        self.attendance = attendance

    async def open(self, session: Session) -> Watch | None:
        if session.moderator or session.read_only:
            return None  # the desk and the big screen are not the audience
        return Watch((session.event_id, registrant_id(session.participant.id)))

    async def start(self, state: Watch | None) -> None:
        if state is not None and state.started is None:
            state.started = self.attendance.join(state.key)

    async def close(self, state: Watch | None) -> None:
        if state is not None and state.started is not None:
            self.attendance.leave(state.key, state.started)
            state.started = None


def registrant_id(participant_id: str) -> int | None:
    """The registration a participant id names (`reg:<id>`), or None for anyone else."""
    prefix, _, number = participant_id.partition(":")
    return int(number) if prefix == "reg" and number.isdigit() and len(number) < 12 else None


@contextlib.asynccontextmanager
async def open_attendance(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Attendance]:
    """The process's online attendance for the app's lifespan, flushed at the end."""
    attendance = Attendance(db)
    attendance.start()
    try:
        yield attendance
    finally:
        await attendance.stop()
