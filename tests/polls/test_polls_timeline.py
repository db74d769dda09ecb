"""Polls on a recording's timeline (live.polls.timeline): the polls run while it recorded."""

from __future__ import annotations

import datetime as dt

from starlette.applications import Starlette

from live.db import create_engine, sessionmaker
from live.models import Recording, RecordingState
from live.models.polls import Poll
from live.polls.domain import PollKind, PollStatus
from live.polls.timeline import poll_timeline
from live.settings import Settings
from tests.events.test_page_cache import event_id

SLUG = "verksted-regional-utvikling"


async def test_a_poll_run_before_the_recording_is_not_on_its_timeline(
    demo_app: Starlette, settings: Settings
) -> None:
    """The demo's dry run of yesterday is left out; a poll launched during the recording is in."""
    event = await event_id(settings, SLUG)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    recording = Recording(event_id=event, state=RecordingState.READY, title="Verkstedet",
                          source="stream", started_at=start, duration=600.0, chapters=[])
    launched = Poll(event_id=event, kind=PollKind.SINGLE, question="Under opptaket",
                    options=["Ja", "Nei"], status=PollStatus.OPEN, v=1,
                    opened_at=start + dt.timedelta(minutes=2))
    engine = create_engine(settings.database_url)
    db = sessionmaker(engine)
    try:
        async with db() as session, session.begin():
            session.add_all([recording, launched])
        moments = await poll_timeline(db, recording)
    finally:
        await engine.dispose()
    assert [(m.poll.question, m.launched) for m in moments] == [("Under opptaket", 120.0)]
