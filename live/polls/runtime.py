"""The polls' per-process state for the app's lifespan: the service and its own fan-out.

Polls have their own hub channels (`polls:{event}:public` / `:mod`) and their own fan-out
(`live.realtime.fanout.Fanout` with those channels and `live.polls.messages.coalesce`), so
viewers get merged `polls.update` frames in ticks, never one per vote, and the Q&A's
versions and replays stay the Q&A's alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import open_reader, open_writer
from live.hub import Hub
from live.identity import Participant
from live.polls.messages import coalesce
from live.polls.service import PollService
from live.qa.messages import Ask, Enqueue, QuestionView
from live.qa.service import Actor, QaService
from live.realtime.channels import polls_mod_channel, polls_public_channel
from live.realtime.fanout import Fanout
from live.settings import Settings


@dataclasses.dataclass(frozen=True)
class Polls:
    """The polls of this process: the service, and the fan-out of their pushes."""

    service: PollService
    fanout: Fanout


def polls_channels(event_id: int) -> tuple[str, str]:
    """The polls' public and moderators' channels of an event."""
    return polls_public_channel(event_id), polls_mod_channel(event_id)


def to_panel(qa: QaService):  # type: ignore[no-untyped-def]
    """Send an "innspill" to the panel: asked from the floor, then put at the queue's end."""

    async def forward(event_id: int, actor: Actor, text: str, name: str) -> QuestionView:
        floor = Actor(Participant(id=actor.participant.id, name=name), moderator=True,
                      label=actor.label)
        question = await qa.ask(event_id, floor, Ask(id=0, text=text, name=name))
        await qa.panel(event_id, actor, Enqueue(id=0, question=question.id))
        return question

    return forward


@contextlib.asynccontextmanager
async def open_polls(
    settings: Settings, db: async_sessionmaker[AsyncSession], hub: Hub, qa: QaService | None
) -> AsyncIterator[Polls]:
    """`Polls` for the lifespan: writer and reader threads, and the fan-out's ticks."""
    async with open_writer(db) as writer, open_reader(db) as reader:
        service = PollService(db, hub, writer, reader,
                              forward=None if qa is None else to_panel(qa))
        try:
            async with Fanout(hub, coalesce, settings.tick_seconds, settings.tick_min_seconds,
                              channels=polls_channels) as fanout:
                yield Polls(service, fanout)
        finally:
            service.aclose()
