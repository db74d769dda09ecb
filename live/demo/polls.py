"""Demo polls: the upcoming workshop's prepared and finished ones, and the debate's recorded ones.

For the workshop "Verksted for regional utvikling", the prepared poll (multiple choice) waits
in the admin for a moderator to launch it; the finished word cloud (a dry run the day before
the demo was loaded) is closed and revealed, with the answers of twelve demo participants and
counts recounted from them, so the exports, the report and the display have something to show.

The past debate's polls (`RECORDED_POLLS`, added at their moments in its demo recording by
`live.demo.recording.add_recording_polls`) were launched, closed and revealed during the
debate, so the recording page shows them on its timeline with their results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, select
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
    answers = [domain.Answer(words=tuple(words)) for words in WORDS]
    _answer(session, finished, answers, ended + dt.timedelta(seconds=20), every=9.0)


def _answer(
    session: AsyncSession, poll: Poll, answers: list[domain.Answer], first: dt.datetime,
    every: float,
) -> None:
    """Demo participants' `answers` to `poll` (the first at `first`, then one each `every`
    seconds), and the counts recounted from them."""
    values = []
    for n, answer in enumerate(answers):
        value = domain.clean_answer(poll, answer, stopwords(), frozenset())
        values.append(value)
        session.add(PollAnswer(poll_id=poll.id, participant=f"demo-{n}", value=value, v=poll.v,
                               answered_at=first + dt.timedelta(seconds=every * n)))
    for key, count in domain.recount(poll.kind, values).items():
        session.add(PollCount(poll_id=poll.id, key=key, n=count))


@dataclasses.dataclass(frozen=True)
class RecordedPoll:
    """A poll run during the debate: in which part of the recording, and seconds into that
    part it was launched, closed and its results shown."""

    part: int
    launched: float
    closed: float
    revealed: float
    kind: PollKind
    question: str
    options: list[str]
    answers: list[domain.Answer]


# The debate's parts are those of `live.demo.recording.PARTS`: 1 the debate, 2 the vote.
RECORDED_POLLS = [
    RecordedPoll(
        1, 4.0, 20.0, 21.0, PollKind.SINGLE, "Hvilket delmål i planen er viktigst for deg?",
        ["Kultur", "Samferdsel", "Kompetanse og tannhelse", "Næring og internasjonalt samarbeid"],
        [domain.Answer(choices=(c,)) for c in (3, 1, 3, 2, 0, 3, 1, 2, 3, 1, 3, 2, 3, 0)]),
    RecordedPoll(
        2, 2.0, 10.0, 11.0, PollKind.RATING, "Hvor godt forklarte debatten planen? (1–5)", [],
        [domain.Answer(rating=r) for r in (4, 5, 3, 4, 4, 2, 5, 4, 3, 4, 5)]),
]


async def add_recorded_polls(
    session: AsyncSession, event_id: int, parts: list[tuple[dt.datetime, int | None]]
) -> None:
    """The debate's `RECORDED_POLLS`, run at their moments; `parts` holds each part's start
    (wall clock, as the recording's questions have it) and programme item."""
    state = await session.get(PollState, event_id)
    if state is None:
        state = PollState(event_id=event_id, version=0, blocked_words=[])
        session.add(state)
    for position, spec in enumerate(RECORDED_POLLS, start=1):
        start, item = parts[spec.part]
        state.version += 1
        poll = Poll(
            event_id=event_id, item_id=item, kind=spec.kind, question=spec.question,
            options=spec.options, position=position, v=state.version, status=PollStatus.CLOSED,
            revealed=True, answers=len(spec.answers),
            opened_at=start + dt.timedelta(seconds=spec.launched),
            closed_at=start + dt.timedelta(seconds=spec.closed),
            revealed_at=start + dt.timedelta(seconds=spec.revealed),
        )
        session.add(poll)
        await session.flush()
        seconds = (spec.closed - spec.launched - 2.0) / len(spec.answers)
        first = start + dt.timedelta(seconds=spec.launched + 1.0)
        _answer(session, poll, spec.answers, first, seconds)


async def has_recorded_polls(session: AsyncSession, event_id: int) -> bool:
    """Whether the debate has its demo polls."""
    return bool(await session.scalar(select(Poll.id).where(
        Poll.event_id == event_id, Poll.question.in_([p.question for p in RECORDED_POLLS]))))


async def remove_recorded_polls(session: AsyncSession, event_id: int) -> None:
    """Remove the debate's demo polls (a half-made demo recording is made again)."""
    await session.execute(delete(Poll).where(
        Poll.event_id == event_id, Poll.question.in_([p.question for p in RECORDED_POLLS])))
