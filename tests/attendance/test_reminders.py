"""Reminders through a real SMTP server: once each across apps, processes and restarts."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.app import create_app
from live.attendance.codes import checkin_png
from live.attendance.domain import checkin_code
from live.attendance.reminders import LEAD, SCAN_EVERY
from live.db import create_engine, sessionmaker
from live.jobs import Scheduler
from live.models import Occurrence, SentReminder
from tests.attendance.support import People, people
from tests.support.app import make_settings
from tests.support.servers import free_port
from tests.support.smtp import Inbox, smtp_server

ROOT = Path(__file__).resolve().parents[2]
DB = async_sessionmaker[AsyncSession]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    port = free_port()
    with smtp_server(port) as inbox:
        yield inbox, port


def by_recipient(inbox: Inbox) -> dict[str, EmailMessage]:
    return {to[0]: m for to, m in zip(inbox.recipients, inbox.messages, strict=True)}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


async def run_app(database_url: str, folder: Path, port: int, now: dt.datetime) -> None:
    """One server's lifespan: register the jobs, move its clock to `now`, run what is due."""
    folder.mkdir(exist_ok=True)
    app = create_app(make_settings(database_url, folder, smtp_url=f"smtp://127.0.0.1:{port}"))
    async with app.router.lifespan_context(app) as state:
        jobs: Scheduler = state["jobs"]
        jobs.clock = lambda: now
        for _ in range(3):
            await jobs.run_due()


async def test_reminders_go_once_across_two_apps_and_a_restart(
    db: DB, database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """The day before: each confirmed registrant and the organisers get one mail, never two."""
    inbox, port = smtp
    seeded = await people(db)
    now = seeded.starts_at - LEAD + dt.timedelta(hours=1)  # and the deadline has passed
    app_a, app_b = (create_app(make_settings(
        database_url, tmp_path / name, smtp_url=f"smtp://127.0.0.1:{port}")) for name in "ab")
    async with app_a.router.lifespan_context(app_a) as one, \
            app_b.router.lifespan_context(app_b) as two:
        both: list[Scheduler] = [one["jobs"], two["jobs"]]
        for jobs in both:
            jobs.clock = lambda: now
        await asyncio.gather(*(jobs.run_due() for jobs in both for _ in range(3)))
    assert sorted(r[0] for r in inbox.recipients) == [
        "arrangor@example.no", "kari@example.no", "ola@example.no"]
    await run_app(database_url, tmp_path / "c", port, now + SCAN_EVERY * 2)  # a restart
    await run_app(database_url, tmp_path / "d", port, now + dt.timedelta(hours=12))
    assert len(inbox.messages) == 3
    async with db() as session:
        keys = sorted(await session.scalars(select(SentReminder.key)))
    assert keys == sorted([
        f"day_before:{seeded.seeded.elverum}:{seeded.online.id}",
        f"day_before:{seeded.seeded.elverum}:{seeded.room.id}",
        f"deadline:{seeded.seeded.elverum}",
    ])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_reminders_carry_the_stream_link_or_the_check_in_code(
    db: DB, database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """Online: the live page through the personal link; in the room: the QR code; both: .ics."""
    inbox, port = smtp
    seeded = await people(db)
    await run_app(database_url, tmp_path / "a", port, seeded.starts_at - LEAD + SCAN_EVERY)
    mails = by_recipient(inbox)
    online, room = mails["ola@example.no"], mails["kari@example.no"]
    assert online["Subject"] == "Påminnelse: Regional konferanse i morgen"
    assert f"http://testserver/e/konf/live?r={seeded.online.token}" in text_of(online)
    assert "SALEN-CI" not in text_of(online)
    code = checkin_code(seeded.room.id, seeded.room.token)
    assert code in text_of(room)
    html = room.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    [image] = [p for p in room.walk() if p.get_content_type() == "image/png"]
    assert f'src="cid:{str(image["Content-ID"]).strip("<>")}"' in str(html.get_content())
    assert image.get_content() == checkin_png(code)
    for message in (online, room):
        assert [p.get_filename() for p in message.iter_attachments()] == ["invitation.ics"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_deadline_summary_counts_rooms_online_waiting_and_diets(
    db: DB, database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """When the deadline passes the organisers get the numbers, not before."""
    inbox, port = smtp
    seeded = await people(db)
    async with db() as session:
        occurrence = await session.get_one(Occurrence, seeded.seeded.elverum)
        deadline = occurrence.registration_deadline
    assert deadline is not None
    await run_app(database_url, tmp_path / "a", port, deadline - dt.timedelta(minutes=1))
    assert inbox.messages == []
    await run_app(database_url, tmp_path / "b", port, deadline + SCAN_EVERY)
    [summary] = inbox.messages
    assert inbox.recipients == [["arrangor@example.no"]]
    body = text_of(summary)
    for line in ("2 bekreftede deltakere", "I salen: 1", "Digitalt: 1", "På venteliste: 1",
                 "- Glutenfri: 1", "- Tema 1: 2", "/admin/events/konf/registrations"):
        assert line in body


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_reminders_queued_while_smtp_is_down_go_once_after_a_restart(
    db: DB, database_url: str, tmp_path: Path
) -> None:
    """Queued and recorded while the server is away; after a restart, delivered once each."""
    seeded = await people(db)
    port = free_port()  # nothing listens yet
    now = seeded.starts_at - LEAD + SCAN_EVERY
    await run_app(database_url, tmp_path / "a", port, now)
    with smtp_server(port) as inbox:
        await run_app(database_url, tmp_path / "b", port, now + dt.timedelta(hours=2))
        await run_app(database_url, tmp_path / "c", port, now + dt.timedelta(hours=4))
    assert sorted(r[0] for r in inbox.recipients) == [
        "arrangor@example.no", "kari@example.no", "ola@example.no"]


def test_reminders_go_once_across_two_processes_and_a_restart(
    database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """Two OS processes released together, then a third later: three mails in all."""
    inbox, port = smtp

    async def prepare() -> People:
        engine = create_engine(database_url)
        try:
            return await people(sessionmaker(engine))
        finally:
            await engine.dispose()

    seeded = asyncio.run(prepare())
    now = seeded.starts_at - LEAD + dt.timedelta(minutes=1)
    run_processes(database_url, tmp_path, port, now, 2)
    assert sorted(r[0] for r in inbox.recipients) == [
        "arrangor@example.no", "kari@example.no", "ola@example.no"]
    run_processes(database_url, tmp_path, port, now + dt.timedelta(hours=1), 1)
    assert len(inbox.messages) == 3


def run_processes(url: str, tmp_path: Path, port: int, now: dt.datetime, n: int) -> None:
    """Start `n` reminder processes, release them together once ready, wait for them."""
    tag = f"{now:%H%M%S}"
    go = tmp_path / f"go-{tag}"
    ready = [tmp_path / f"ready-{tag}-{i}" for i in range(n)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.reminder_process", url, now.isoformat(),
             f"smtp://127.0.0.1:{port}", str(tmp_path / "outbox"), str(r), str(go)],
            cwd=ROOT, env=env)
        for r in ready
    ]
    try:
        for _ in range(1200):
            if all(r.exists() for r in ready) or any(c.poll() is not None for c in children):
                break
            time.sleep(0.05)
        go.touch()
        codes = [c.wait(120) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert codes == [0] * n
