"""Everything stateful in one Salen process, opened at start-up and closed in reverse.

`open_state(settings)` is the app's lifespan: it yields the lifespan state, which
Starlette copies onto every request's and socket's `state`. The typed `AppState`
(`live.state`: settings, database, hub, templates, translations) is under "app"; each
feature's own runtime object (the live socket, the Q&A service, group work, the archive,
the live streams, the outbox...) is under its own key, read into a typed local by the
feature that owns it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from live import archive, confirm, idempotency
from live.assets import install_assets
from live.attendance.online import OnlineFeature, open_attendance
from live.attendance.reminders import open_reminders
from live.captions.handlers import CaptionsFeature
from live.captions.hls import open_hls_captions
from live.captions.recording import draft_tracks
from live.captions.service import CaptionService
from live.db import create_engine, sessionmaker
from live.events.page_cache import PageCache, change_counter
from live.events.player import install as install_player
from live.hub import open_hub
from live.i18n import load_translations
from live.jobs import open_jobs
from live.ops.probe import probing
from live.outbox import open_outbox
from live.polls.handlers import PollsFeature
from live.polls.runtime import open_polls
from live.qa.handlers import QaFeature
from live.qa.runtime import open_qa
from live.ratelimit import Limiter
from live.realtime.connection import Live, open_live
from live.registration.ratelimit import RateLimiter
from live.rooms.handlers import RoomsFeature
from live.rooms.runtime import open_rooms
from live.settings import Settings
from live.state import AppState
from live.streaming.service import finished_recordings
from live.web import create_templates
from stream.manager import LiveStreams

# Template globals that features provide (kept out of live.web, which imports no feature).
TEMPLATE_HELPERS = {"confirmation": confirm.confirmation}


@contextlib.asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """The lifespan state of one process: `AppState` under "app", each feature's object."""
    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        db = sessionmaker(engine)
        jobs = await stack.enter_async_context(open_jobs(db))  # features register jobs on it
        await jobs.every("idempotency.purge", idempotency.PURGE_EVERY, idempotency.purger(db))
        hub = await stack.enter_async_context(open_hub(settings.hub_url))
        shared = AppState(settings=settings, engine=engine, db=db, hub=hub,
                          templates=create_templates(helpers=TEMPLATE_HELPERS),
                          translations=load_translations())
        # Rate limits over connections, and over processes through the hub's Redis.
        limiter = Limiter.for_hub(settings.hub_url)
        stack.push_async_callback(limiter.aclose)
        qa = await stack.enter_async_context(open_qa(db, hub))
        rooms = await stack.enter_async_context(open_rooms(settings, db, hub))
        online = await stack.enter_async_context(open_attendance(db))  # closed after the sockets
        polls = await stack.enter_async_context(open_polls(settings, db, hub, qa))
        captions = CaptionService(db, hub)
        # The live socket's message types: each feature registers its own.
        live = await stack.enter_async_context(open_live(
            settings, db, hub, features=[QaFeature(qa), RoomsFeature(rooms), OnlineFeature(online),
                                PollsFeature(polls), CaptionsFeature(captions)],
            limiter=limiter))
        db_changes = change_counter(settings.database_url)
        if db_changes is not None:
            stack.callback(db_changes.close)
        recordings = archive.Archive(settings, db)
        recordings.on_ready.append(draft_tracks(settings, db, captions))
        stack.push_async_callback(recordings.aclose)
        await recordings.resume_at_start_up()
        install_player(shared.templates)
        install_assets(shared.templates.env, settings)
        streams = await stack.enter_async_context(
            LiveStreams(settings, on_finished=finished_recordings(recordings)))
        await stack.enter_async_context(open_hls_captions(db, hub, streams))
        outbox = await open_outbox(settings, db, jobs)
        await open_reminders(settings, db, jobs, outbox, shared.translations)
        _observe(shared, live, streams, recordings)
        await stack.enter_async_context(probing(hub, shared.metrics))
        yield {
            "app": shared, "live": live, "qa": qa, "rooms": rooms, "jobs": jobs, "polls": polls,
            "registration_limiter": RateLimiter(store=limiter),
            "outbox": outbox, "archive": recordings, "attendance": online, "captions": captions,
            "page_cache": PageCache(), "db_changes": db_changes, "streams": streams,
        }


def _observe(shared: AppState, live: Live, streams: LiveStreams, jobs: archive.Archive) -> None:
    """Hand the app's metrics (`live.ops.metrics`) to the parts that report to them."""
    metrics = shared.metrics
    live.dispatcher.observe = metrics.action
    live.fanout.pace.observer = metrics.tick
    live.counted = metrics.connection
    metrics.watch_streams(streams)
    metrics.watch_jobs(jobs)
