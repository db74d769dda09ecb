"""A batch of answers written as plain SQLAlchemy Core on one transaction's connection.

Answers are the hot path (thousands a minute in a big room), so they skip the ORM's unit of
work, as the Q&A's votes do (`live.qa.transaction`), and a batch of them shares its reads
and writes (`live.polls.batch`, `live.polls.service.PollService.answer`): each poll is read
once, the participants' stored answers in one query per poll, and at the end the new
answers are inserted (and changed ones updated) in one statement each, the counts moved
once per poll by the sum of the answers' tally differences, and each poll's counts read
back once for the announcement. The answers are checked one after another against what
the batch has written so far, so a participant's second answer in a batch behaves as if it
came after the first; a refused answer (a `SalenError`) changes nothing. The caller holds
the event's version row lock, so nothing races between the reads and the writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from live.errors import SalenError
from live.models.polls import Poll, PollAnswer, PollCount, PollState
from live.polls import domain
from live.polls.domain import EntryStatus, PollKind
from live.polls.messages import Mine, PollView
from live.polls.views import mine, poll_view, results
from live.polls.words import blocked_set, stopwords

POLLS = cast(Table, Poll.__table__)
ANSWERS = cast(Table, PollAnswer.__table__)
COUNTS = cast(Table, PollCount.__table__)
STATES = cast(Table, PollState.__table__)
SELECT_POLL = select(POLLS).where(POLLS.c.id == bindparam("poll"))
SELECT_ANSWERS = select(
    ANSWERS.c.participant, ANSWERS.c.value, ANSWERS.c.key, ANSWERS.c.status
).where(ANSWERS.c.poll_id == bindparam("poll"),
        ANSWERS.c.participant.in_(bindparam("who", expanding=True)))
UPDATE_ANSWER = update(ANSWERS).where(
    ANSWERS.c.poll_id == bindparam("b_poll"), ANSWERS.c.participant == bindparam("b_who")
).values({name: bindparam(f"b_{name}", type_=ANSWERS.c[name].type)
          for name in ("value", "key", "v", "answered_at", "status", "name")})
MOVE = (update(COUNTS).where(COUNTS.c.poll_id == bindparam("poll"), COUNTS.c.key == bindparam("k"))
        .values(n=COUNTS.c.n + bindparam("d")))
SELECT_COUNTS = select(COUNTS.c.key, COUNTS.c.n).where(COUNTS.c.poll_id == bindparam("poll"))
SELECT_BLOCKED = select(STATES.c.blocked_words).where(STATES.c.event_id == bindparam("event"))
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
class Item:
    """One answer to store: whose, to which poll, and the client's idempotency key."""

    poll_id: int
    who: str
    name: str
    key: str
    answer: domain.Answer


@dataclasses.dataclass(slots=True)
class Current:
    """A participant's answer as the batch knows it (stored before, or written in it)."""

    value: Any
    key: str
    status: str
    fields: dict[str, Any] | None = None  # what the batch writes (None: nothing yet)
    new: bool = False  # inserted by the batch (else updated)


class Batch:
    """The answers of one transaction, which holds the event's version `v`."""

    def __init__(self, connection: Connection, event_id: int, items: list[Item], v: int,
                 now: dt.datetime) -> None:
        self.connection, self.event_id, self.v, self.now = connection, event_id, v, now
        self._whos: dict[int, list[str]] = {}
        for item in items:
            self._whos.setdefault(item.poll_id, []).append(item.who)
        self._polls: dict[int, PollRow | None] = {}
        self._current: dict[tuple[int, str], Current] = {}
        self._moves: dict[int, dict[str, int]] = {}
        self._touched: dict[int, PollRow] = {}
        self._blocked: frozenset[str] | None = None

    def answer(self, item: Item) -> Mine:
        """Check `item` against the batch so far and note its writes; raises if refused."""
        poll = self._poll(item.poll_id)
        domain.check_answerable(poll, item.poll_id, self.now)
        assert poll is not None
        old = self._current.get((poll.id, item.who))
        if old is not None and item.key and old.key == item.key:
            return mine(poll, old.value)  # type: ignore[arg-type]  # a retry of the stored answer
        domain.check_change(poll, old is not None)
        value = domain.clean_answer(poll, item.answer, stopwords(), self._blocked_words(poll))
        if old is not None and old.value == value:
            return mine(poll, value)  # type: ignore[arg-type]
        status = EntryStatus.PENDING if poll.moderated else EntryStatus.APPROVED
        fields = {"value": value, "key": item.key, "v": self.v, "answered_at": self.now,
                  "status": status, "name": "" if poll.anonymous else item.name[:200]}
        before: dict[str, int] = {}
        if old is None:
            old = self._current[poll.id, item.who] = Current(value, item.key, status, new=True)
            poll.answers += 1
        elif domain.counted(poll, old.status):
            before = domain.tally(poll.kind, old.value)
        after = domain.tally(poll.kind, value) if domain.counted(poll, status) else {}
        moves = self._moves.setdefault(poll.id, {})
        for k, d in domain.difference(before, after).items():
            moves[k] = moves.get(k, 0) + d
        old.value, old.key, old.status, old.fields = value, item.key, status, fields
        poll.v = self.v
        self._touched[poll.id] = poll
        return mine(poll, value)  # type: ignore[arg-type]

    def write(self) -> list[PollView]:
        """Write what the answers changed; the new view of each poll they changed."""
        connection = self.connection
        inserts, updates = [], []
        for (poll_id, who), current in self._current.items():
            if current.fields is None:
                continue
            if current.new:
                inserts.append({**current.fields, "poll_id": poll_id, "participant": who,
                                "starred": False})
            else:
                updates.append({f"b_{k}": x for k, x in current.fields.items()}
                               | {"b_poll": poll_id, "b_who": who})
        if inserts:
            connection.execute(insert(ANSWERS), inserts)
        if updates:
            connection.execute(UPDATE_ANSWER, updates)
        for poll in self._touched.values():
            move_counts(connection, poll.id, {k: d for k, d in
                                              self._moves.get(poll.id, {}).items() if d})
            connection.execute(POLL_TOUCH, {"poll": poll.id, "answers": poll.answers,
                                            "v": self.v})
        return [view(connection, poll, self.now) for poll in self._touched.values()]

    def _poll(self, poll_id: int) -> PollRow | None:
        """The poll (once per batch), with its answers of the batch's participants."""
        if poll_id in self._polls:
            return self._polls[poll_id]
        poll = read_poll(self.connection, self.event_id, poll_id)
        self._polls[poll_id] = poll
        if poll is not None:
            rows = self.connection.execute(
                SELECT_ANSWERS, {"poll": poll_id, "who": sorted(set(self._whos[poll_id]))})
            for who, value, key, status in rows:
                self._current[poll_id, who] = Current(value, key, status)
        return poll

    def _blocked_words(self, poll: PollRow) -> frozenset[str]:
        if poll.kind != PollKind.WORDS:
            return frozenset()
        if self._blocked is None:
            words = self.connection.execute(SELECT_BLOCKED, {"event": self.event_id}).scalar()
            self._blocked = blocked_set(words or [])
        return self._blocked


def answer_all(batch: Batch, items: list[Item]) -> list[Mine | SalenError]:
    """Each item's stored answer, or the error that refused it (the others still count)."""
    outcomes: list[Mine | SalenError] = []
    for item in items:
        try:
            outcomes.append(batch.answer(item))
        except SalenError as refused:
            outcomes.append(refused)
    return outcomes


def read_poll(connection: Connection, event_id: int, poll_id: int) -> PollRow | None:
    """The poll, when it belongs to the event."""
    row = connection.execute(SELECT_POLL, {"poll": poll_id}).mappings().first()
    if row is None or row["event_id"] != event_id:
        return None
    return PollRow(**row)


def move_counts(connection: Connection, poll_id: int, change: dict[str, int]) -> None:
    """Add `change` to the poll's counts (rows made as needed, emptied ones removed)."""
    for k, d in change.items():
        if connection.execute(MOVE, {"poll": poll_id, "k": k, "d": d}).rowcount == 0:
            connection.execute(insert(COUNTS), {"poll_id": poll_id, "key": k, "n": d})
    if any(d < 0 for d in change.values()):
        connection.execute(delete(COUNTS).where(COUNTS.c.poll_id == poll_id, COUNTS.c.n == 0))


def view(connection: Connection, poll: PollRow, now: dt.datetime) -> PollView:
    """The poll's full view after the answers (open text: with its newest entries)."""
    counts = {k: n for k, n in connection.execute(SELECT_COUNTS, {"poll": poll.id})}
    entries: list[Any] = []
    if poll.kind == PollKind.TEXT:
        entries = list(connection.execute(
            select(ANSWERS).where(ANSWERS.c.poll_id == poll.id)
            .order_by(ANSWERS.c.id.desc()).limit(200)))
    return poll_view(poll, results(poll, counts, entries), now)  # type: ignore[arg-type]
