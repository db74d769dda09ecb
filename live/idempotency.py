"""Idempotency keys: a retried creating action gets its first result, not a duplicate.

A client may send `key` (1 to 64 characters of its choosing, a random one per action) with
each creating action on the live socket (`qa.ask`, `qa.vote`, `qa.unvote`, `room.note.add`).
The action and a `client_actions` row keyed by event, participant and key commit in one
transaction, so a retry with the same key (after a reply lost to a dropped connection) finds
the row and is answered with what the first created. Each feature's actions on an event
already run one at a time (the version row's lock), so two retries cannot both act.

Keys are kept for `KEEP` and then purged by the job `idempotency.purge`; a key sent again
after that acts again. A key reused for another kind of action is refused with
`idempotency.reused`. Both the Q&A's synchronous transactions (`recall`, `remember`) and
the rooms' async sessions (`recall_async`, `remember_async`) use the same statements.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import Conflict
from live.jobs import Handler, JobRun
from live.models.base import utcnow
from live.models.plumbing import ClientAction

KEEP = dt.timedelta(hours=24)
PURGE_EVERY = dt.timedelta(hours=1)


@dataclasses.dataclass(frozen=True, slots=True)
class Done:
    """An action already done under a key: what it was and the id of what it created."""

    action: str
    result_id: int | None


def _same(event_id: int, participant: str, key: str) -> Any:
    return and_(ClientAction.event_id == event_id, ClientAction.participant == participant,
                ClientAction.key == key)


def _find(event_id: int, participant: str, key: str) -> Any:
    return select(ClientAction.action, ClientAction.result_id).where(
        _same(event_id, participant, key), ClientAction.created_at >= utcnow() - KEEP)


def _forget_expired(event_id: int, participant: str, key: str) -> Any:
    return delete(ClientAction).where(
        _same(event_id, participant, key), ClientAction.created_at < utcnow() - KEEP)


def _insert(event_id: int, participant: str, key: str, action: str, result_id: int | None) -> Any:
    return insert(ClientAction).values(event_id=event_id, participant=participant, key=key,
                                       action=action, result_id=result_id, created_at=utcnow())


def _done(row: Any, action: str) -> Done | None:
    if row is None:
        return None
    if row.action != action:
        raise Conflict("This idempotency key was used for another action.",
                       code="idempotency.reused")
    return Done(row.action, row.result_id)


def recall(connection: Connection, event_id: int, participant: str, key: str,
           action: str) -> Done | None:
    """The action done under `key`, if any (in the action's own transaction)."""
    return _done(connection.execute(_find(event_id, participant, key)).first(), action)


def remember(connection: Connection, event_id: int, participant: str, key: str, action: str,
             result_id: int | None = None) -> None:
    """Record that `action` was done under `key`, creating `result_id`."""
    connection.execute(_forget_expired(event_id, participant, key))
    connection.execute(_insert(event_id, participant, key, action, result_id))


async def recall_async(session: AsyncSession, event_id: int, participant: str, key: str,
                       action: str) -> Done | None:
    """`recall` in an async session's transaction."""
    return _done((await session.execute(_find(event_id, participant, key))).first(), action)


async def remember_async(session: AsyncSession, event_id: int, participant: str, key: str,
                         action: str, result_id: int | None = None) -> None:
    """`remember` in an async session's transaction."""
    await session.execute(_forget_expired(event_id, participant, key))
    await session.execute(_insert(event_id, participant, key, action, result_id))


def purger(db: async_sessionmaker[AsyncSession]) -> Handler:
    """The job that forgets keys older than `KEEP`."""

    async def purge(run: JobRun) -> None:
        async with db() as session, session.begin():
            await session.execute(delete(ClientAction).where(
                ClientAction.created_at < utcnow() - KEEP))

    return purge
