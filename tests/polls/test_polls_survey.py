"""The feedback survey: mailed once per confirmed registrant, answered through the personal link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from live.models import Event, Occurrence
from live.models.registration import Attendance, Registration, Status
from live.settings import Settings
from tests.support.app import ADMIN, LifespanApp

SLUG = "verksted-regional-utvikling"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These pages are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def running(demo_app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with demo_app.router.lifespan_context(demo_app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(demo_app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, dict(state or {})


async def register(state: dict[str, Any], name: str, status: Status) -> str:
    async with state["app"].db() as session, session.begin():
        event = await session.scalar(select(Event).where(Event.slug == SLUG))
        assert event is not None
        occurrence = await session.scalar(select(Occurrence).where(Occurrence.event_id == event.id))
        assert occurrence is not None
        row = Registration(event_id=event.id, occurrence_id=occurrence.id, name=name,
                           email=f"{name.lower()}@example.no", status=status,
                           attendance=Attendance.IN_PERSON, locale="en")
        session.add(row)
        await session.flush()
        return row.token


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found
    return found.group(1)


async def send(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get(f"/admin/events/{SLUG}/polls", headers=ADMIN)
    return await client.post(f"/admin/events/{SLUG}/polls", headers=ADMIN,
                             data={"csrf_token": csrf(page.text), "action": "survey"})


async def test_survey_is_mailed_once_to_confirmed_registrants(
    running: Any, settings: Settings
) -> None:
    """Confirmed registrants get one mail with their personal link; sending again adds none."""
    client, state = running
    token = await register(state, "Kari", Status.CONFIRMED)
    await register(state, "Ola", Status.CANCELLED)
    assert (await send(client)).status_code == 303
    mails = sorted(Path(settings.outbox_dir).rglob("*.eml"))
    assert len(mails) == 1
    mail = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    body = mail.get_body()
    assert body is not None and f"/e/{SLUG}/feedback?r={token}" in body.get_content()
    assert "kari@example.no" in str(mail["To"])
    await send(client)
    assert len(sorted(Path(settings.outbox_dir).rglob("*.eml"))) == 1


async def test_personal_link_answers_the_survey_and_a_bad_link_is_refused(running: Any) -> None:
    """The form stores a rating and a text for the registrant; an unknown token gets 404."""
    client, state = running
    token = await register(state, "Kari", Status.CONFIRMED)
    await send(client)
    page = await client.get(f"/e/{SLUG}/feedback", params={"r": token})
    assert page.status_code == 200
    empty = await client.post(f"/e/{SLUG}/feedback", params={"r": token},
                              data={"csrf_token": csrf(page.text)})
    assert empty.status_code == 422 and "ds-error-summary" in empty.text
    saved = await client.post(f"/e/{SLUG}/feedback", params={"r": token}, data={
        "csrf_token": csrf(page.text), "rating": "4", "text": "=Mer tid til grupper"})
    assert saved.status_code == 303
    polls = [p for p in await state["polls"].service.all_polls(
        await _event_id(state)) if p.survey]
    assert [p.answers for p in polls] == [1, 1]
    assert polls[0].results is not None and polls[0].results.average == 4
    assert (await client.get(f"/e/{SLUG}/feedback", params={"r": "nope"})).status_code == 404
    report = await client.get(f"/admin/events/{SLUG}/innspill", headers=ADMIN)
    assert "=Mer tid til grupper" in report.text
    live = await state["polls"].service.snapshot(await _event_id(state), moderator=False)
    assert not any(p.survey for p in live.polls)


async def _event_id(state: dict[str, Any]) -> int:
    async with state["app"].db() as session:
        found = await session.scalar(select(Event.id).where(Event.slug == SLUG))
        assert found is not None
        return found
