"""Preparing polls in the admin, exports (CSV, .xlsx, no formulas) and the innspill report."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from starlette.applications import Starlette

from live.identity import Participant
from live.models import Event
from live.polls.domain import Answer, PollKind, Spec
from live.qa.service import Actor
from tests.support.app import ADMIN, LifespanApp

SLUG = "verksted-regional-utvikling"
MOD = Actor(Participant("m", "Mona"), moderator=True)


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


async def event_id(state: dict[str, Any]) -> int:
    async with state["app"].db() as session:
        found = await session.scalar(select(Event.id).where(Event.slug == SLUG))
        assert found is not None
        return found


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found
    return found.group(1)


async def test_organiser_prepares_a_poll_and_bad_forms_are_reshown(running: Any) -> None:
    """A valid form saves a draft poll; one option only re-shows the form with a summary."""
    client, state = running
    page = await client.get(f"/admin/events/{SLUG}/polls", headers=ADMIN)
    assert page.status_code == 200
    token = csrf(page.text)
    bad = await client.post(f"/admin/events/{SLUG}/polls", headers=ADMIN, data={
        "csrf_token": token, "kind": "single", "question": "Hvilken?", "options": "Bare én"})
    assert bad.status_code == 422 and "ds-error-summary" in bad.text and "Bare én" in bad.text
    good = await client.post(f"/admin/events/{SLUG}/polls", headers=ADMIN, data={
        "csrf_token": token, "kind": "single", "question": "<b>Hvilken?</b>",
        "options": "Vei\nBane", "anonymous": "on"})
    assert good.status_code == 303
    listed = await client.get(f"/admin/events/{SLUG}/polls", headers=ADMIN)
    assert "&lt;b&gt;Hvilken?&lt;/b&gt;" in listed.text and "<b>Hvilken" not in listed.text
    polls = await state["polls"].service.all_polls(await event_id(state))
    assert [(p.question, p.status.value) for p in polls][-1] == ("<b>Hvilken?</b>", "draft")


async def test_viewers_cannot_open_the_poll_admin(running: Any) -> None:
    """Without an organiser's rights the page and exports are refused."""
    client, _ = running
    assert (await client.get(f"/admin/events/{SLUG}/polls")).status_code == 303
    assert (await client.get(f"/admin/events/{SLUG}/polls.csv")).status_code == 303


async def _run_poll(state: dict[str, Any]) -> int:
    service = state["polls"].service
    eid = await event_id(state)
    poll = await service.create(eid, MOD, Spec(PollKind.MULTIPLE, "=Hva?", ("=SUM(A1)", "Bane")),
                                launch=True)
    for who, choices in (("a", (0,)), ("b", (0, 1))):
        await service.answer(eid, Actor(Participant(who, "")), poll.id, Answer(choices=choices))
    return int(poll.id)


async def test_exports_hold_counts_without_formulas(running: Any) -> None:
    """CSV and .xlsx give each option's count; text starting with = is not a formula."""
    client, state = running
    poll_id = await _run_poll(state)
    got = await client.get(f"/admin/events/{SLUG}/polls.csv?poll={poll_id}", headers=ADMIN)
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [(r["answer"], r["count"]) for r in rows] == [("'=SUM(A1)", "2"), ("Bane", "1")]
    assert rows[0]["question"] == "'=Hva?"
    book = await client.get(f"/admin/events/{SLUG}/polls.xlsx?poll={poll_id}", headers=ADMIN)
    sheets = load_workbook(io.BytesIO(book.content))
    results = list(sheets["Results"].iter_rows(values_only=True))
    assert ("'=SUM(A1)", 2) in [(r[5], r[6]) for r in results]
    assert all(c.data_type != "f" for row in sheets["Answers"].iter_rows() for c in row)
    assert len(list(sheets["Answers"].iter_rows())) == 3
    assert (await client.get(f"/admin/events/{SLUG}/polls.pdf", headers=ADMIN)).status_code == 404


async def test_innspill_report_lists_polls_and_questions(running: Any) -> None:
    """The printable report shows each run poll's results, escaped; group work without rooms
    says so instead of leaving its heading empty; the title is the largest heading."""
    client, state = running
    await _run_poll(state)
    page = await client.get(f"/admin/events/{SLUG}/innspill", headers=ADMIN)
    assert page.status_code == 200
    assert "=SUM(A1): 2" in page.text and "Spørsmål som ble stilt" in page.text
    assert "Ingen gruppearbeid." in page.text
    assert '<h1 class="ds-heading" data-size="md">' in page.text
    assert 'data-size="md"' not in page.text.split("<h1", 1)[1].split("</h1>", 1)[1]


async def test_demo_has_a_prepared_and_a_finished_poll(running: Any) -> None:
    """The workshop's demo polls: one draft, one closed word cloud whose counts are its answers'."""
    from sqlalchemy.orm import Session

    from live.models.polls import Poll
    from live.polls.service import recount, stored_counts

    _, state = running
    polls = await state["polls"].service.all_polls(await event_id(state))
    assert [(p.status.value, p.revealed) for p in polls] == [("draft", False), ("closed", True)]
    cloud = polls[1]
    assert cloud.results is not None and cloud.results.words[0].text == "kompetanse"

    def counts(session: Session) -> tuple[dict[str, int], dict[str, int]]:
        assert session.get(Poll, cloud.id) is not None
        return stored_counts(session, cloud.id), recount(session, cloud.id)

    async with state["app"].db() as session:
        stored, recounted = await session.run_sync(counts)
    assert stored == recounted and stored["w:kompetanse"] == 5


async def test_recording_page_shows_launch_and_reveal_moments(running: Any) -> None:
    """A poll launched and revealed during a recording appears with links that seek to them."""
    import datetime as dt

    from live.models import Recording
    from live.models.polls import Poll

    client, state = running
    async with state["app"].db() as session:
        recording = await session.scalar(select(Recording).where(Recording.started_at.is_not(None)))
        assert recording is not None
    poll = await state["polls"].service.create(
        recording.event_id, MOD, Spec(PollKind.SINGLE, "<i>Enig?</i>", ("Ja", "Nei")), launch=True)
    await state["polls"].service.step(recording.event_id, MOD, poll.id, "reveal")
    start = recording.started_at + dt.timedelta(seconds=recording.cut_start)
    async with state["app"].db() as session, session.begin():
        row = await session.get(Poll, poll.id)
        assert row is not None
        row.opened_at, row.revealed_at = start + dt.timedelta(seconds=30), start + dt.timedelta(
            seconds=40)
    page = await client.get(f"/recordings/{recording.id}")
    assert page.status_code == 200
    assert "&lt;i&gt;Enig?&lt;/i&gt;" in page.text
    assert 'href="?t=30"' in page.text and 'href="?t=40"' in page.text


async def test_the_list_names_kinds_and_states_in_the_readers_language(running: Any) -> None:
    """The demo's polls read "Flervalg · Forberedt" and "Ordsky · Stengt · vist" in bokmål,
    never the stored words ("multiple", "draft", "closed")."""
    client, _ = running
    page = await client.get(f"/admin/events/{SLUG}/polls", headers=ADMIN, params={"lang": "nb"})
    table = page.text.split("data-polls-table", 1)[1].split("</table>", 1)[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    assert cells[1:3] == ["Flervalg", "Forberedt"] and cells[6:8] == ["Ordsky", "Stengt · vist"]
