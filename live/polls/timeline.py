"""Polls on a recording's timeline: where each poll was launched and its results revealed.

The recording page (`live.archive.pages`) lists them beside the audience's questions, each
moment a link that seeks the player, with the revealed result as text. Polls launched and
revealed outside the recording are left out.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from live.models import Recording
from live.models.base import utcnow
from live.models.polls import Poll
from live.polls.domain import PollStatus
from live.polls.messages import PollView
from live.polls.service import full_view


@dataclasses.dataclass(frozen=True)
class PollMoment:
    """One poll of the recorded event: its view and its moments (seconds into the recording)."""

    poll: PollView
    launched: float | None
    revealed: float | None


async def poll_timeline(
    db: async_sessionmaker[AsyncSession], recording: Recording
) -> list[PollMoment]:
    """The event's polls launched or revealed while `recording` ran, in the order launched,
    with their moments in it."""

    def read(session: Session) -> list[PollMoment]:
        polls = session.scalars(
            select(Poll).where(Poll.event_id == recording.event_id,
                               Poll.status != PollStatus.DRAFT, Poll.opened_at.is_not(None))
            .order_by(Poll.opened_at))
        now = utcnow()
        moments = [
            (p, recording.offset_of(p.opened_at),
             recording.offset_of(p.revealed_at) if p.revealed else None)
            for p in polls
        ]
        # A poll run outside the recording (a dry run the day before) is not on its timeline.
        return [PollMoment(full_view(session, p, now), launched, revealed)
                for p, launched, revealed in moments
                if launched is not None or revealed is not None]

    async with db() as session:
        return await session.run_sync(read)
