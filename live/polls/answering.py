"""One answer's writes, as plain SQLAlchemy Core on the action's connection.

Answers are the hot path (thousands a minute in a big room), so they skip the ORM's unit of
work, as the Q&A's votes do (`live.qa.transaction`): read the poll and the participant's
answer, write the answer, move the poll's counts by the tally difference, and read the
counts back for the announcement. The caller holds the event's version row lock
(`live.polls.service.PollService._act`), so nothing races between the reads and writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from live.models.polls import Poll, PollAnswer, PollCount
from live.polls import domain
from live.polls.domain import EntryStatus, PollKind
from live.polls.messages import PollView
from live.polls.views import poll_view, results

POLLS = cast(Table, Poll.__table__)
ANSWERS = cast(Table, PollAnswer.__table__)
COUNTS = cast(Table, PollCount.__table__)
SELECT_POLL = select(POLLS).where(POLLS.c.id == bindparam("poll"))
SELECT_ANSWER = select(ANSWERS.c.id, ANSWERS.c.value, ANSWERS.c.key, ANSWERS.c.status).where(
    ANSWERS.c.poll_id == bindparam("poll"), ANSWERS.c.participant == bindparam("who"))
MOVE = (update(COUNTS).where(COUNTS.c.poll_id == bindparam("poll"), COUNTS.c.key == bindparam("k"))
        .values(n=COUNTS.c.n + bindparam("d")))
SELECT_COUNTS = select(COUNTS.c.key, COUNTS.c.n).where(COUNTS.c.poll_id == bindparam("poll"))
POLL_TOUCH = update(POLLS).where(POLLS.c.id == bindparam("poll")).values(
    answers=bindparam("answers"), v=bindparam("v"))


@dataclasses.dataclass(slots=True)
class PollRow:
    """A poll as read for an answer (the attributes the rules and views read)."""

    id: int
    event_id: int
    item_id: int | None
    kind: str
    question: str
    options: list[str]
    max_choices: int | None
    scale: int
    anonymous: bool
    final: bool
    moderated: bool
    survey: bool
    status: str
    revealed: bool
    duration: int | None
    answers: int
    position: int
    v: int
    created_at: dt.datetime
    opened_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    revealed_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """What an answer left: the value stored, and the poll's new view (None: unchanged)."""

    poll: PollRow
    value: Any
    view: PollView | None


def read_poll(connection: Connection, event_id: int, poll_id: int) -> PollRow | None:
    """The poll, when it belongs to the event."""
    row = connection.execute(SELECT_POLL, {"poll": poll_id}).mappings().first()
    if row is None or row["event_id"] != event_id:
        return None
    return PollRow(**row)


def store(
    connection: Connection, poll: PollRow, who: str, name: str, key: str,
    answer: domain.Answer, stop: frozenset[str], blocked: frozenset[str],
    v: int, now: dt.datetime,
) -> Stored:
    """Check and write one participant's answer to an open poll; move the counts."""
    old = connection.execute(SELECT_ANSWER, {"poll": poll.id, "who": who}).first()
    if old is not None and key and old.key == key:
        return Stored(poll, old.value, None)  # a retry of the answer already stored
    domain.check_change(poll, old is not None)
    value = domain.clean_answer(poll, answer, stop, blocked)
    if old is not None and old.value == value:
        return Stored(poll, value, None)
    status = EntryStatus.PENDING if poll.moderated else EntryStatus.APPROVED
    fields = {"value": value, "key": key, "v": v, "answered_at": now, "status": status,
              "name": "" if poll.anonymous else name[:200]}
    before: dict[str, int] = {}
    if old is None:
        connection.execute(insert(ANSWERS), {**fields, "poll_id": poll.id, "participant": who,
                                             "starred": False})
        poll.answers += 1
    else:
        if domain.counted(poll, old.status):
            before = domain.tally(poll.kind, old.value)
        connection.execute(update(ANSWERS).where(ANSWERS.c.id == old.id).values(fields))
    after = domain.tally(poll.kind, value) if domain.counted(poll, status) else {}
    move_counts(connection, poll.id, domain.difference(before, after))
    poll.v = v
    connection.execute(POLL_TOUCH, {"poll": poll.id, "answers": poll.answers, "v": v})
    return Stored(poll, value, view(connection, poll, now))


def move_counts(connection: Connection, poll_id: int, change: dict[str, int]) -> None:
    """Add `change` to the poll's counts (rows made as needed, emptied ones removed)."""
    for k, d in change.items():
        if connection.execute(MOVE, {"poll": poll_id, "k": k, "d": d}).rowcount == 0:
            connection.execute(insert(COUNTS), {"poll_id": poll_id, "key": k, "n": d})
    if any(d < 0 for d in change.values()):
        connection.execute(delete(COUNTS).where(COUNTS.c.poll_id == poll_id, COUNTS.c.n == 0))


def view(connection: Connection, poll: PollRow, now: dt.datetime) -> PollView:
    """The poll's full view after the answer (choices, ratings, words, ranks: no entries)."""
    counts = {k: n for k, n in connection.execute(SELECT_COUNTS, {"poll": poll.id})}
    entries: list[Any] = []
    if poll.kind == PollKind.TEXT:
        entries = list(connection.execute(
            select(ANSWERS).where(ANSWERS.c.poll_id == poll.id)
            .order_by(ANSWERS.c.id.desc()).limit(200)))
    return poll_view(poll, results(poll, counts, entries), now)  # type: ignore[arg-type]
