"""Demo polls for the workshop "Verksted for regional utvikling": one prepared, one finished.

The prepared poll (multiple choice) waits in the admin for a moderator to launch it; the
finished word cloud (a dry run the day before the demo was loaded) is closed and revealed,
with the answers of twelve demo participants and counts recounted from them, so the
exports, the report and the display have something to show.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import NotFound
from live.events.service import find_event
from live.models import Event
from live.models.polls import Poll, PollAnswer, PollCount, PollState
from live.polls import domain
from live.polls.domain import PollKind, PollStatus
from live.polls.words import stopwords

DEMO_POLLS_EVENT = "verksted-regional-utvikling"
PREPARED = ("Hva bør verkstedet prioritere i dag?", [
    "Samstyring på tvers av sektorer", "Bærekraftsmålene i planarbeidet",
    "Kompetanse i distriktene", "Erfaringsdeling mellom fylkene"])
FINISHED = "Hva er det viktigste for regional utvikling i din region? (inntil tre ord)"
WORDS = [
    ["Kompetanse", "samarbeid"], ["kompetanse", "Bolig"], ["Samarbeid", "grønn omstilling"],
    ["Grønn  omstilling", "kompetanse"], ["infrastruktur"], ["Bolig", "arbeidsplasser"],
    ["samarbeid"], ["Arbeidsplasser", "kompetanse"], ["grønn omstilling"],
    ["Ungdom", "bolig"], ["samstyring", "samarbeid"], ["kompetanse", "ungdom"],
]


async def add_demo_polls(db: async_sessionmaker[AsyncSession]) -> str | None:
    """Add the workshop's prepared and finished polls unless it has polls; returns the admin
    page's address, or None when there was nothing to add (or the event is gone)."""
    async with db() as session, session.begin():
        try:
            event = await find_event(session, DEMO_POLLS_EVENT)
        except NotFound:
            return None
        if await session.scalar(select(Poll.id).where(Poll.event_id == event.id)):
            return None
        await _add_polls(session, event)
    return f"/admin/events/{DEMO_POLLS_EVENT}/polls"


async def _add_polls(session: AsyncSession, event: Event) -> None:
    # The workshop lies ahead: the finished poll is a dry run the day before the demo loads,
    # so that a poll launched in the demo is newer and takes the big screen.
    ended = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    question, options = PREPARED
    session.add(PollState(event_id=event.id, version=2, blocked_words=[]))
    session.add(Poll(event_id=event.id, kind=PollKind.MULTIPLE, question=question,
                     options=options, max_choices=2, position=1, v=1))
    finished = Poll(
        event_id=event.id, kind=PollKind.WORDS, question=FINISHED, options=[], position=2, v=2,
        status=PollStatus.CLOSED, revealed=True, answers=len(WORDS), opened_at=ended,
        closed_at=ended + dt.timedelta(minutes=3), revealed_at=ended + dt.timedelta(minutes=3),
    )
    session.add(finished)
    await session.flush()
    values = []
    for n, words in enumerate(WORDS):
        value = domain.clean_answer(finished, domain.Answer(words=tuple(words)), stopwords(),
                                    frozenset())
        values.append(value)
        session.add(PollAnswer(poll_id=finished.id, participant=f"demo-{n}", value=value, v=2,
                               answered_at=ended + dt.timedelta(seconds=20 + 9 * n)))
    for key, count in domain.recount(finished.kind, values).items():
        session.add(PollCount(poll_id=finished.id, key=key, n=count))
