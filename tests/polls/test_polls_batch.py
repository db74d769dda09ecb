"""Group-committed poll answers through the service, on SQLite and PostgreSQL: concurrent
answers share transactions, each keeps its own result or error, a failed batch stores none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from live.db import Writer
from live.errors import Conflict, Invalid, NotFound, SalenError
from live.hub import Hub
from live.identity import Participant
from live.models.polls import PollAnswer, PollState
from live.polls import answering
from live.polls.batch import GroupCommit
from live.polls.domain import Answer, PollKind, Spec
from live.polls.messages import Mine, PollView
from live.polls.service import PollService, recount, stored_counts
from live.qa.service import Actor
from live.realtime.channels import polls_mod_channel

MOD = Actor(Participant("mod-1", "Mona"), moderator=True)
CHOICE = Spec(PollKind.SINGLE, "Buss eller bane?", ("Buss", "Bane", "Begge"))


def viewer(n: int | str) -> Actor:
    return Actor(Participant(f"viewer-{n}", f"Viewer {n}"))


async def version(writer: Writer, event_id: int) -> int:
    def read(session: Session) -> int:
        state = session.get(PollState, event_id)
        assert state is not None
        return state.version

    return await writer.run(read)


async def stored(writer: Writer, poll_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    """The poll's counts as stored, as recounted from its answers, and its answer rows."""

    def read(session: Session) -> tuple[dict[str, int], dict[str, int], int]:
        rows = session.query(PollAnswer).filter_by(poll_id=poll_id).count()
        return stored_counts(session, poll_id), recount(session, poll_id), rows

    return await writer.run(read)


async def queued(service: PollService, event_id: int, *calls: Callable[[], Any]) -> list[Any]:
    """Start the calls while the event's transaction is taken, so they queue for one batch."""
    async with service._lock(event_id):  # as if an earlier transaction were still running
        tasks = [asyncio.ensure_future(call()) for call in calls]
        await asyncio.sleep(0)
    return await asyncio.gather(*tasks, return_exceptions=True)


async def poll_of(service: PollService, event_id: int, poll_id: int) -> PollView:
    return next(p for p in await service.all_polls(event_id) if p.id == poll_id)


async def test_concurrent_answers_share_transactions(
    service: PollService, writer: Writer, hub: Hub, event_id: int
) -> None:
    """200 answers at once: every one acknowledged and counted, in fewer transactions."""
    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    before, (batches, items) = await version(writer, event_id), service.answer_batches
    mine = await asyncio.gather(*(
        service.answer(event_id, viewer(n), poll.id, Answer(choices=(n % 3,)), key=f"k{n}")
        for n in range(200)))
    assert [m.choices for m in mine] == [[n % 3] for n in range(200)]
    counts, recounted, rows = await stored(writer, poll.id)
    assert counts == recounted == {"0": 67, "1": 67, "2": 66} and rows == 200
    versions = await version(writer, event_id) - before
    ran = service.answer_batches[0] - batches
    assert 1 <= versions == ran < 200 and service.answer_batches[1] - items == 200
    notices = await hub.history(polls_mod_channel(event_id), before)
    assert notices is not None and len(notices) == versions  # one announcement per batch
    view = await poll_of(service, event_id, poll.id)
    assert view.answers == 200 and view.results is not None
    assert view.results.counts == [67, 67, 66]


async def test_one_refused_answer_leaves_the_rest_of_its_batch(
    service: PollService, writer: Writer, event_id: int
) -> None:
    """In one batch, bad answers get their own errors while the good ones are stored."""
    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    words = await service.create(event_id, MOD, Spec(PollKind.WORDS, "Ett ord?"), launch=True)
    before = await version(writer, event_id)
    outcomes = await queued(
        service, event_id,
        lambda: service.answer(event_id, viewer(1), poll.id, Answer(choices=(0,))),
        lambda: service.answer(event_id, viewer(2), poll.id, Answer(choices=(7,))),
        lambda: service.answer(event_id, viewer(3), words.id, Answer(words=("x" * 41,))),
        lambda: service.answer(event_id, viewer(4), 9999, Answer(choices=(0,))),
        lambda: service.answer(event_id, viewer(5), words.id, Answer(words=("Grønn",))),
        lambda: service.answer(event_id, viewer(6), poll.id, Answer(choices=(2,))),
    )
    codes = [o.code if isinstance(o, SalenError) else type(o).__name__ for o in outcomes]
    assert codes == ["Mine", "poll.out_of_range", "poll.too_long", "poll.not_found", "Mine",
                     "Mine"]
    assert isinstance(outcomes[1], Invalid) and isinstance(outcomes[3], NotFound)
    assert await version(writer, event_id) == before + 1
    assert (await stored(writer, poll.id))[0] == {"0": 1, "2": 1}
    assert (await stored(writer, words.id))[0] == {"w:grønn": 1}


async def test_a_participants_answers_in_one_batch_are_sequential(
    service: PollService, writer: Writer, event_id: int
) -> None:
    """The same participant twice in a batch: changed in turn, or refused where final."""
    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    final = await service.create(event_id, MOD, Spec(PollKind.RATING, "Karakter?", final=True),
                                 launch=True)
    one = viewer("one")
    outcomes = await queued(
        service, event_id,
        lambda: service.answer(event_id, one, poll.id, Answer(choices=(0,)), key="a"),
        lambda: service.answer(event_id, one, poll.id, Answer(choices=(1,)), key="b"),
        lambda: service.answer(event_id, one, final.id, Answer(rating=4), key="c"),
        lambda: service.answer(event_id, one, final.id, Answer(rating=2), key="d"),
    )
    assert [o.choices for o in outcomes[:2]] == [[0], [1]]
    assert isinstance(outcomes[2], Mine) and outcomes[2].rating == 4
    assert isinstance(outcomes[3], Conflict) and outcomes[3].code == "poll.answered"
    assert await stored(writer, poll.id) == ({"1": 1}, {"1": 1}, 1)
    assert await stored(writer, final.id) == ({"4": 1}, {"4": 1}, 1)
    view = await poll_of(service, event_id, poll.id)
    assert view.answers == 1


async def test_retries_with_the_same_key_count_once(
    service: PollService, writer: Writer, event_id: int
) -> None:
    """A retried answer (same key) in the same batch or a later one is counted once."""
    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    answer = lambda: service.answer(event_id, viewer(1), poll.id, Answer(choices=(1,)), key="k1")
    first = await queued(service, event_id, answer, answer, answer)
    assert [m.choices for m in first] == [[1], [1], [1]]
    after_first = await version(writer, event_id)
    assert (await service.answer(event_id, viewer(1), poll.id, Answer(choices=(1,)),
                                 key="k1")).choices == [1]
    assert await version(writer, event_id) == after_first  # nothing new: no version
    assert await stored(writer, poll.id) == ({"1": 1}, {"1": 1}, 1)
    assert (await poll_of(service, event_id, poll.id)).answers == 1


async def test_a_failing_batch_stores_none_of_its_answers(
    service: PollService, writer: Writer, event_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error after a batch's first writes fails every answer of it; none stays."""
    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    await service.answer(event_id, viewer(0), poll.id, Answer(choices=(0,)))
    before = await version(writer, event_id)

    def broken(*_: object) -> None:  # the fault: the counts' update fails (disk, server)
        raise sa_exc.OperationalError("UPDATE poll_counts", {}, Exception("disk I/O error"))

    monkeypatch.setattr(answering, "move_counts", broken)
    outcomes = await queued(service, event_id, *(
        (lambda n=n: service.answer(event_id, viewer(n), poll.id, Answer(choices=(n % 3,))))
        for n in range(1, 6)))
    assert all(isinstance(o, sa_exc.OperationalError) for o in outcomes)
    monkeypatch.undo()
    assert await version(writer, event_id) == before
    assert await stored(writer, poll.id) == ({"0": 1}, {"0": 1}, 1)
    again = await service.answer(event_id, viewer(1), poll.id, Answer(choices=(2,)))
    assert again.choices == [2]
    assert await stored(writer, poll.id) == ({"0": 1, "2": 1}, {"0": 1, "2": 1}, 2)


async def test_a_caller_gone_before_its_batch_is_left_out() -> None:
    """An answer whose caller was cancelled while queued is not run; the others are."""
    ran: list[list[str]] = []
    lock = asyncio.Lock()

    async def run(event_id: int, items: list[str]) -> list[str | Exception]:
        ran.append(items)
        return [item.upper() for item in items]

    commit = GroupCommit[str, str](run, lambda event_id: lock)
    async with lock:  # an earlier transaction of the event is still running
        tasks = [asyncio.ensure_future(commit.submit(1, item)) for item in "abc"]
        await asyncio.sleep(0)
        tasks[1].cancel()
    assert [await tasks[0], await tasks[2]] == ["A", "C"]
    assert ran == [["a", "c"]] and (commit.batches, commit.items) == (1, 2)


async def test_stopping_cancels_the_queued_answers() -> None:
    """When the process stops, answers still queued are cancelled, not left waiting."""
    lock = asyncio.Lock()

    async def run(event_id: int, items: list[str]) -> list[str | Exception]:
        return list(items)

    commit = GroupCommit[str, str](run, lambda event_id: lock)
    async with lock:
        task = asyncio.ensure_future(commit.submit(1, "a"))
        await asyncio.sleep(0)
        commit.aclose()
    with pytest.raises(asyncio.CancelledError):
        await task
