"""Database engine and sessions: SQLite (default) or PostgreSQL, both through asyncio.

Besides the async sessions, a `Writer` runs a whole transaction written as plain
synchronous code: `transact` hands it a Core `Connection` (the Q&A actions), `run` an ORM
`Session` (snapshots). On a SQLite file it runs in one call on a thread of its own
(`ThreadWriter`), so a transaction costs one hand-off between the event loop and a thread
instead of one or more per statement through aiosqlite. Elsewhere the same function runs
through `AsyncConnection.run_sync` (or `AsyncSession.run_sync`), on the loop.

A SQLite file is opened three ways, each set up by `_sqlite_pragmas`: the async engine
(aiosqlite: pages, APIs, everything else), the writer's thread (`open_writer`: Q&A
actions) and the reader's thread (`open_reader`: snapshots and versions, so reads never
queue behind writes). Each thread keeps one connection open for both `run` and `transact`.

`is_unavailable` tells a database that refuses for now (a SQLite file another writer holds
past `BUSY_TIMEOUT`, a PostgreSQL that is down or unreachable) from a fault in Salen: the
HTTP edge and the socket dispatcher answer it with `unavailable` (503, `Retry-After`).
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from live.workthread import WorkThread

T = TypeVar("T")


# Seconds a SQLite connection waits for another writer before giving up ("locked"); the
# request then gets `unavailable` (`is_unavailable`).
BUSY_TIMEOUT = 30.0


# Words of a driver's error that mean "not now" rather than "wrong": SQLite's locked or busy
# file, a PostgreSQL connection refused, closed or shutting down.
_NOT_NOW = ("locked", "busy", "connect", "connection", "shutting down", "terminat", "closed")
_UNREACHABLE = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH,
                errno.ETIMEDOUT, errno.ECONNABORTED}


def is_unavailable(exc: BaseException) -> bool:
    """Is `exc` the database refusing for now (locked, down, unreachable)? Then the client
    should try again later; it is no fault in Salen."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        text = str(exc.orig).lower()
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) and any(
            word in text for word in _NOT_NOW)
    if isinstance(exc, sa_exc.TimeoutError | ConnectionError):
        return True  # the pool's wait for a connection, or the socket to the server
    if isinstance(exc, OSError):
        return exc.errno in _UNREACHABLE or "connect call failed" in str(exc).lower()
    return False


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine with foreign keys, WAL (synchronous=NORMAL) and a busy timeout on SQLite."""
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    kwargs.setdefault("connect_args", {"timeout": BUSY_TIMEOUT})
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite's advice for WAL (sqlite.org/pragma.html#pragma_synchronous): a commit is
    # durable if Salen crashes, and the file never corrupts, but it does not wait for the
    # disk; a power cut can take back the last commits. FULL (the default) syncs the log on
    # every commit, a cost every moderator action would pay; PostgreSQL is the choice where
    # the last commits must survive a power cut (README, Configuration).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Writer(Protocol):
    """Runs `fn` in one transaction: committed when it returns, rolled back when it raises.

    `run` hands `fn` an ORM session; `transact` a bare connection, for Core statements only.
    """

    engine: Engine  # where its statements go (tests listen to them)

    async def run(self, fn: Callable[[Session], T]) -> T: ...

    async def transact(self, fn: Callable[[Connection], T]) -> T: ...


class LoopWriter:
    """`fn` through `AsyncSession.run_sync` (`run`) or `AsyncConnection.run_sync`
    (`transact`): each statement awaits the driver on the loop."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db
        self._engine: AsyncEngine = db.kw["bind"]
        self.engine: Engine = self._engine.sync_engine

    async def run(self, fn: Callable[[Session], T]) -> T:
        async with self._db() as session:
            return await session.run_sync(_in_transaction, fn)

    async def transact(self, fn: Callable[[Connection], T]) -> T:
        async with self._engine.begin() as connection:
            return await connection.run_sync(fn)


class ThreadWriter:
    """`fn` in one call on a thread of its own, with one synchronous SQLite connection.

    One thread: SQLite takes one writer at a time anyway, and its connection never
    changes threads. Other connections (aiosqlite's, other processes') wait for each other
    through SQLite's busy timeout.
    """

    def __init__(self, url: str, thread_name: str = "salen-sqlite") -> None:
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        self.engine = create_sync_engine(sync_url, connect_args={"timeout": BUSY_TIMEOUT})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self._thread = WorkThread(thread_name)
        # The thread's connection, kept open between transactions (used on the thread only).
        self._connection: Connection | None = None

    async def run(self, fn: Callable[[Session], T]) -> T:
        return await self._thread.call(self._call, fn)

    def _call(self, fn: Callable[[Session], T]) -> T:
        # The session begins and commits its own transaction on the thread's connection.
        with Session(self._connect(), expire_on_commit=False) as session:
            return _in_transaction(session, fn)

    async def transact(self, fn: Callable[[Connection], T]) -> T:
        return await self._thread.call(self._begin, fn)

    def _begin(self, fn: Callable[[Connection], T]) -> T:
        connection = self._connect()
        with connection.begin():
            return fn(connection)

    def _connect(self) -> Connection:
        connection = self._connection
        if connection is None or connection.invalidated:
            if connection is not None:
                connection.close()
            connection = self._connection = self.engine.connect()
        return connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()

    async def aclose(self) -> None:
        """Close the connections on their own thread, then end the thread."""
        await self._thread.aclose(self._close)


def _in_transaction(session: Session, fn: Callable[[Session], T]) -> T:
    with session.begin():
        return fn(session)


@contextlib.asynccontextmanager
async def open_writer(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Writer]:
    """The writer for `db`'s database: a thread on a SQLite file, the loop elsewhere."""
    async with _open_runner(db, "salen-sqlite") as writer:
        yield writer


@contextlib.asynccontextmanager
async def open_reader(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Writer]:
    """Like `open_writer`, for reads: on a SQLite file, a second thread and connection."""
    async with _open_runner(db, "salen-sqlite-read") as reader:
        yield reader


@contextlib.asynccontextmanager
async def _open_runner(
    db: async_sessionmaker[AsyncSession], thread_name: str
) -> AsyncIterator[Writer]:
    url = db.kw["bind"].url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield LoopWriter(db)
        return
    runner = ThreadWriter(url.render_as_string(hide_password=False), thread_name)
    try:
        yield runner
    finally:
        await runner.aclose()
