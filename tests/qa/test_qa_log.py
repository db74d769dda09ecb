"""The moderators' log: every action stored with its own time and actor, in the moderators'
snapshot after a reload and in each update; never on the viewers' side; names, never ids."""

from __future__ import annotations

import datetime as dt

from live.hub import Hub
from live.identity import Participant
from live.qa.messages import Approve, Ask, Edit, Enqueue, decode_update
from live.qa.service import Actor, QaService
from live.realtime.channels import qa_mod_channel as mod_channel
from tests.qa.test_qa_service import (  # noqa: F401  (fixtures)
    MOD,
    VIEWER,
    db,
    event_id,
    hub,
    qa,
    reader,
    writer,
)


async def test_every_action_is_in_the_snapshot_with_its_own_time(
    qa: QaService, event_id: int  # noqa: F811
) -> None:
    """Three actions on one question are three log lines (not only the last), each with the
    time it happened, all before the snapshot was read; viewers get no log."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Why?", name="Ada"))
    await qa.moderate(event_id, MOD, Approve(id=2, question=q.id))
    await qa.moderate(event_id, MOD, Edit(id=3, question=q.id, text="Why so?"))
    read_at = dt.datetime.now(dt.UTC)
    log = (await qa.snapshot(event_id, moderator=True)).log
    assert [(e.action, e.by, e.question) for e in log] == [
        ("ask", "Ada", q.id), ("approve", "Mona", q.id), ("edit", "Mona", q.id),
    ]
    times = [dt.datetime.fromisoformat(e.at) for e in log]
    assert times == sorted(times) and len(set(times)) == 3
    assert all(t.tzinfo is not None and t <= read_at for t in times)
    viewer = await qa.snapshot(event_id, moderator=False, participant=VIEWER.participant)
    assert viewer.log == []


async def test_updates_carry_the_actions_and_unnamed_actors_have_no_id(
    qa: QaService, hub: Hub, event_id: int  # noqa: F811
) -> None:
    """The moderators' update carries the action's log line; an unnamed moderator or
    participant is logged without a name, never as a participant id."""
    unnamed = Actor(Participant("5bop8pxyz"), moderator=True)
    async with hub.subscribe(mod_channel(event_id)) as mod:
        q = await qa.ask(event_id, Actor(Participant("5bop8pabc")), Ask(id=1, text="Hm?"))
        await qa.moderate(event_id, unnamed, Approve(id=2, question=q.id))
        await qa.panel(event_id, unnamed, Enqueue(id=3, question=q.id))
        updates = [decode_update((await mod.get()).data) for _ in range(3)]
    assert [[(e.action, e.by) for e in u.log] for u in updates] == [
        [("ask", "")], [("approve", "")], [("enqueue", "")],
    ]
    assert all("5bop8p" not in str(u) for u in updates)


async def test_the_log_names_an_asker_as_the_question_does(
    qa: QaService, event_id: int  # noqa: F811
) -> None:
    """An asker is logged by the name they gave, and by none when they ask anonymously, even
    with a personal link that knows their name (the log must not unmask them)."""
    known = Actor(Participant("p-kari", name="Kari Nordmann"))
    await qa.ask(event_id, VIEWER, Ask(id=1, text="Hvorfor?", name="Åse Øvergård"))
    await qa.ask(event_id, known, Ask(id=2, text="Hvordan?", anonymous=True))
    await qa.ask(event_id, known, Ask(id=3, text="Når?"))
    log = (await qa.snapshot(event_id, moderator=True)).log
    assert [e.by for e in log] == ["Åse Øvergård", "", "Kari Nordmann"]
