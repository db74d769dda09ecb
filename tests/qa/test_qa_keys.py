"""Idempotency keys of the Q&A's creating actions, and its catch-up from the database."""
# ruff: noqa: F811  (the fixtures of test_qa_service, imported, are the tests' parameters)

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live import idempotency
from live.errors import Conflict
from live.models import ClientAction
from live.qa.domain import QaStatus
from live.qa.messages import Ask, Reject
from live.qa.service import QaService
from tests.qa.test_qa_service import (  # noqa: F401  (the fixtures)
    MOD,
    OTHER,
    VIEWER,
    approved,
    db,
    event_id,
    hub,
    qa,
    reader,
    writer,
)


async def test_an_ask_retried_under_its_key_is_one_question(qa: QaService, event_id: int) -> None:
    """`qa.ask` sent again with the same idempotency key (a lost reply) returns the first
    question: one question, one version; another key asks again."""
    first = await qa.ask(event_id, VIEWER, Ask(id=1, text="Once?", key="k-1"))
    v = await qa.version(event_id, moderator=True)
    again = await qa.ask(event_id, VIEWER, Ask(id=2, text="Once?", key="k-1"))
    assert again.id == first.id and await qa.version(event_id, moderator=True) == v
    other = await qa.ask(event_id, OTHER, Ask(id=3, text="Once?", key="k-1"))  # another person
    assert other.id != first.id
    assert len((await qa.snapshot(event_id, moderator=True)).questions) == 2


async def test_a_key_reused_for_another_action_is_refused(qa: QaService, event_id: int) -> None:
    """An idempotency key already used to ask cannot vote: `idempotency.reused`."""
    qid = await approved(qa, event_id)
    await qa.ask(event_id, VIEWER, Ask(id=1, text="Mine", key="same"))
    with pytest.raises(Conflict) as reused:
        await qa.vote(event_id, VIEWER, qid, key="same")
    assert reused.value.code == "idempotency.reused"


async def test_a_vote_retried_after_an_unvote_changes_nothing(
    qa: QaService, event_id: int
) -> None:
    """A vote retried under its key after the voter took it back does not vote again."""
    qid = await approved(qa, event_id)
    await qa.vote(event_id, OTHER, qid, key="v-1")
    await qa.vote(event_id, OTHER, qid, up=False, key="v-2")
    await qa.vote(event_id, OTHER, qid, key="v-1")
    votes = {q.id: q.votes for q in (await qa.snapshot(event_id, moderator=True)).questions}
    assert votes[qid] == 0


async def test_an_expired_key_acts_again_and_is_purged(
    qa: QaService, event_id: int, db: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys are kept for `KEEP`: after that the same key asks again, and the purge job
    forgets the old rows."""
    first = await qa.ask(event_id, VIEWER, Ask(id=1, text="Then", key="old"))
    monkeypatch.setattr(idempotency, "KEEP", dt.timedelta(0))
    again = await qa.ask(event_id, VIEWER, Ask(id=2, text="Now", key="old"))
    assert again.id != first.id
    await idempotency.purger(db)(None)  # type: ignore[arg-type]
    async with db() as session:
        assert (await session.scalars(select(ClientAction))).all() == []


async def test_catch_up_reads_every_change_after_a_version(qa: QaService, event_id: int) -> None:
    """`catch_up` gives the channel's version and one update of every change after `since`:
    viewers get public questions (and tombstones), moderators pending ones too."""
    shown = await approved(qa, event_id, "Seen before")
    since = await qa.version(event_id, moderator=True)
    public_since = await qa.version(event_id, moderator=False)
    pending = await qa.ask(event_id, VIEWER, Ask(id=1, text="Pending", name="Ada"))
    later = await approved(qa, event_id, "Approved later")
    await qa.moderate(event_id, MOD, Reject(id=1, question=shown))
    v, mod = await qa.catch_up(event_id, since, moderator=True)
    assert mod is not None and v == await qa.version(event_id, moderator=True)
    assert {q.id for q in mod.questions} == {pending.id, later, shown}
    public_v, public = await qa.catch_up(event_id, public_since, moderator=False)
    assert public is not None and public.v == public_v
    assert {q.id: q.status for q in public.questions} == {
        later: QaStatus.APPROVED, shown: QaStatus.REJECTED}
    assert await qa.catch_up(event_id, v, moderator=True) == (v, None)
    assert await qa.catch_up(event_id, None, moderator=False) == (public_v, None)
