"""A connecting viewer's polls snapshot: its own answers are read only where there are polls."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from live.polls.domain import Answer
from live.polls.service import PollService
from tests.polls.test_polls_batch import CHOICE, MOD, viewer


async def test_a_crowd_joining_an_event_without_polls_reads_no_answers(
    service: PollService, event_id: int
) -> None:
    """Without polls the snapshot reads no answers (a reconnect storm pays nothing for
    polls it does not have); once a poll exists the viewer's own answer is in it."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)  # every engine: reader and writer
    try:
        empty = await service.snapshot(event_id, moderator=False,
                                       participant=viewer(1).participant)
        assert empty.polls == [] and empty.mine == []
        assert not [s for s in statements if "poll_answers" in s]
        poll = await service.create(event_id, MOD, CHOICE, launch=True)
        await service.answer(event_id, viewer(1), poll.id, Answer(choices=(1,)), key="k1")
        statements.clear()
        mine = await service.snapshot(event_id, moderator=False,
                                      participant=viewer(1).participant)
        assert [m.poll for m in mine.mine] == [poll.id]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


async def test_a_viewer_at_a_known_version_is_answered_from_memory(
    service: PollService, event_id: int
) -> None:
    """Once read at a version, a viewer's snapshot at that version (the fan-out room's) costs
    no statement, unless the viewer's own answers are to be shown; a moderator's, a newer
    version and a timed poll that may have closed read the database."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    poll = await service.create(event_id, MOD, CHOICE, launch=True)
    first = await service.snapshot(event_id, moderator=False)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        again = await service.snapshot(event_id, moderator=False, current=first.pv)
        assert again == first and [p.id for p in again.polls] == [poll.id]
        assert statements == []
        await service.snapshot(event_id, moderator=False, participant=viewer(2).participant,
                               current=first.pv)
        assert [s for s in statements if "poll_answers" in s]  # a known viewer's own answers
        for kwargs in ({"moderator": True}, {"moderator": False, "current": first.pv + 1}):
            statements.clear()
            await service.snapshot(event_id, **kwargs)
            assert statements, kwargs
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    await service.create(event_id, MOD, dataclasses.replace(CHOICE, duration=60), launch=True)
    timed = await service.snapshot(event_id, moderator=False)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        statements.clear()
        await service.snapshot(event_id, moderator=False, current=timed.pv)
        assert statements  # an open timed poll may have closed since: read again
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
