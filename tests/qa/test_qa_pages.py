"""Q&A pages over HTTP: who may open which page, the participant identity, settings, exports."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlalchemy import select
from starlette.applications import Starlette

from live.identity import Identities
from live.models import Event, Occurrence, ProgrammeItem
from live.models.registration import Attendance, Registration, Status
from live.qa.messages import Approve, Ask, Configure, Done, Now
from live.qa.service import Actor
from tests.support.app import ADMIN, LifespanApp

SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These pages are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def running(demo_app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """An HTTP client and the app's lifespan state (db, qa service) for the demo app."""
    async with demo_app.router.lifespan_context(demo_app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(demo_app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, dict(state or {})


async def event_row(state: dict[str, Any]) -> Event:
    async with state["app"].db() as session:
        event = await session.scalar(select(Event).where(Event.slug == SLUG))
        assert event is not None
        return event


def data_attr(html: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', html)
    assert found, f"{name} missing"
    return found.group(1)


async def test_viewer_page_gives_a_signed_identity(running: Any) -> None:
    """The live page works without an account and keeps one participant across reloads."""
    client, state = running
    first = await client.get(f"/e/{SLUG}/live")
    assert first.status_code == 200
    assert 'data-qa-page="viewer"' in first.text and "qa-viewer.js" in first.text
    identities = Identities(state["app"].settings.secret_key)
    person = identities.load(data_attr(first.text, "data-p"))
    assert person is not None
    again = await client.get(f"/e/{SLUG}/live")
    assert identities.load(data_attr(again.text, "data-p")) == person


async def test_personal_link_carries_the_registrants_name(running: Any) -> None:
    """Arriving with ?r=<registration token>, the viewer is the registrant, with their name."""
    client, state = running
    event = await event_row(state)
    async with state["app"].db() as session, session.begin():
        occurrence = await session.scalar(
            select(Occurrence.id).where(Occurrence.event_id == event.id)
        )
        reg = Registration(
            event_id=event.id,
            occurrence_id=occurrence,
            attendance=Attendance.ONLINE,
            status=Status.CONFIRMED,
            name="Åse Ødegård",
            email="ase@example.org",
        )
        session.add(reg)
    page = await client.get(f"/e/{SLUG}/live", params={"r": reg.token})
    person = Identities(state["app"].settings.secret_key).load(data_attr(page.text, "data-p"))
    assert person is not None and person.id == f"reg:{reg.id}" and person.name == reg.name
    assert f'value="{reg.name}"' in page.text


async def test_viewer_cannot_open_the_moderator_page(running: Any) -> None:
    """Nobody identified goes to the login page; a wrong token is refused with 403."""
    client, _ = running
    anonymous = await client.get(f"/e/{SLUG}/moderate")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/admin/login")
    wrong = await client.get(f"/e/{SLUG}/moderate", params={"token": "guess"})
    assert wrong.status_code == 403


async def test_moderator_link_and_admin_token_open_the_desk(running: Any) -> None:
    """The event's moderator token and SALEN_ADMIN_TOKEN both open the moderator page."""
    client, state = running
    event = await event_row(state)
    by_link = await client.get(
        f"/e/{SLUG}/moderate", params={"token": event.moderator_token, "name": "Kari"}
    )
    assert by_link.status_code == 200 and 'data-qa-page="moderator"' in by_link.text
    assert data_attr(by_link.text, "data-token") == event.moderator_token
    person = Identities(state["app"].settings.secret_key).load(data_attr(by_link.text, "data-p"))
    assert person is not None and person.name == "Kari"
    by_admin = await client.get(f"/e/{SLUG}/moderate", headers=ADMIN)
    assert by_admin.status_code == 200


async def test_display_page_needs_its_key(running: Any) -> None:
    """The big screen needs its key; ?overlay=1 makes it transparent for OBS."""
    client, state = running
    event = await event_row(state)
    assert (await client.get(f"/e/{SLUG}/display")).status_code == 403
    assert (await client.get(f"/e/{SLUG}/display", params={"key": "x"})).status_code == 403
    ok = await client.get(f"/e/{SLUG}/display", params={"key": event.display_token})
    assert ok.status_code == 200 and 'data-qa-page="display"' in ok.text
    assert data_attr(ok.text, "data-key") == event.display_token
    assert 'class="qa-display-body"' in ok.text
    overlay = await client.get(f"/e/{SLUG}/display",
                               params={"key": event.display_token, "overlay": "1", "next": "5"})
    assert 'class="qa-display-body overlay"' in overlay.text
    assert data_attr(overlay.text, "data-count") == "5"


async def test_pages_carry_translated_strings_for_scripts(running: Any) -> None:
    """The scripts' strings come as a JSON blob in the page's language, never as a script."""
    client, _ = running
    page = await client.get(f"/e/{SLUG}/live", params={"lang": "en"})
    blob = re.search(
        r'<script type="application/json" id="qa-texts">(.*?)</script>', page.text, re.DOTALL
    )
    assert blob is not None
    texts = json.loads(blob.group(1))
    assert texts["status_pending"] == "Awaiting moderation"
    assert "<script>" not in page.text  # no inline script: CSP allows 'self' only


def qa_texts(html: str) -> dict[str, Any]:
    blob = re.search(r'<script type="application/json" id="qa-texts">(.*?)</script>', html,
                     re.DOTALL)
    assert blob is not None
    found: dict[str, Any] = json.loads(blob.group(1))
    return found


async def test_vote_counts_are_plurals_from_babel_in_both_languages(running: Any) -> None:
    """The scripts get Babel's singular and plural vote counts: "1 stemme" / "2 stemmer",
    "1 vote" / "2 votes"; and the unnamed actors' words, in the page's language."""
    client, _ = running
    nb = qa_texts((await client.get(f"/e/{SLUG}/live", params={"lang": "nb"})).text)
    en = qa_texts((await client.get(f"/e/{SLUG}/live", params={"lang": "en"})).text)
    assert (nb["votes_one"], nb["votes_other"]) == ("{n} stemme", "{n} stemmer")
    assert (en["votes_one"], en["votes_other"]) == ("{n} vote", "{n} votes")
    assert (nb["by_anonymous"], nb["new_one"], nb["new_other"]) == ("anonym deltaker",
                                                                   "{n} ny", "{n} nye")


async def test_closed_qa_is_said_before_the_form_and_disables_it(running: Any) -> None:
    """With Q&A closed the page says so above the form and renders the form disabled,
    before any script runs; open again, the notice is hidden and the form usable."""
    client, state = running
    event = await event_row(state)
    mod = Actor(Identities("k").new("Mona"), moderator=True)
    await client.get(f"/e/{SLUG}/live")  # sets Q&A up for the event
    await state["qa"].configure(event.id, mod, Configure(id=1, open=False))
    closed = (await client.get(f"/e/{SLUG}/live", params={"lang": "en"})).text
    notice = closed.index("data-closed-notice")
    assert notice < closed.index("data-ask-form")
    assert re.search(r"data-closed-notice\s*>", closed)  # not hidden
    assert re.search(r"data-ask-fields\s+disabled", closed)
    await state["qa"].configure(event.id, mod, Configure(id=2, open=True))
    opened = (await client.get(f"/e/{SLUG}/live", params={"lang": "en"})).text
    assert re.search(r"data-closed-notice\s+hidden", opened)
    assert not re.search(r"data-ask-fields\s+disabled", opened)


async def test_settings_need_an_organiser(running: Any) -> None:
    """The settings page sends anonymous people to log in and refuses moderator links."""
    client, state = running
    event = await event_row(state)
    assert (await client.get(f"/admin/events/{SLUG}/qa")).status_code == 303
    refused = await client.get(f"/admin/events/{SLUG}/qa", params={"token": event.moderator_token})
    assert refused.status_code == 403
    assert (await client.get(f"/admin/events/{SLUG}/qa.csv")).status_code == 303


async def test_settings_form_changes_the_rules(running: Any) -> None:
    """Saving the form switches pre-moderation, anonymity, length, and one item's Q&A off."""
    client, state = running
    event = await event_row(state)
    form = await client.get(f"/admin/events/{SLUG}/qa", headers=ADMIN)
    assert form.status_code == 200
    assert f"/e/{SLUG}/display?key={event.display_token}" in form.text
    csrf = data_attr(form.text, 'name="csrf_token" value')
    async with state["app"].db() as session:
        items = list(
            await session.scalars(
                select(ProgrammeItem.id).where(ProgrammeItem.event_id == event.id)
            )
        )
    fields = {"csrf_token": csrf, "open": "on", "max_length": "120"}
    fields |= {f"item_{i}": "on" for i in items[1:]}
    saved = await client.post(f"/admin/events/{SLUG}/qa", data=fields, headers=ADMIN)
    assert saved.status_code == 303
    snapshot = await state["qa"].snapshot(event.id, moderator=False)
    assert snapshot.settings.premoderation is False and snapshot.settings.anonymous is False
    assert snapshot.settings.max_length == 120 and snapshot.settings.closed_items == [items[0]]
    bad = await client.post(
        f"/admin/events/{SLUG}/qa", headers=ADMIN, data={"csrf_token": csrf, "max_length": "3"}
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text


async def test_settings_form_refuses_a_missing_csrf_token(running: Any) -> None:
    """A post without the session's CSRF token changes nothing."""
    client, _ = running
    refused = await client.post(
        f"/admin/events/{SLUG}/qa", headers=ADMIN, data={"max_length": "100"}
    )
    assert refused.status_code == 403


async def test_exports_contain_the_times(running: Any) -> None:
    """CSV and JSON exports list each question with asked, approved, on-air and answered times."""
    client, state = running
    event = await event_row(state)
    qa = state["qa"]
    await qa.ensure(event.id)
    identities = Identities(state["app"].settings.secret_key)
    viewer = Actor(identities.new("Ola"))
    moderator = Actor(identities.new("Kari"), moderator=True, label="Kari")
    asked = await qa.ask(event.id, viewer, Ask(id=1, text="=What about roads?", name="Ola"))
    await qa.moderate(event.id, moderator, Approve(id=1, question=asked.id))
    await qa.panel(event.id, moderator, Now(id=1, question=asked.id))
    await qa.panel(event.id, moderator, Done(id=1, question=asked.id))
    as_json = await client.get(f"/admin/events/{SLUG}/qa.json", headers=ADMIN)
    assert as_json.status_code == 200
    assert "attachment" in as_json.headers["content-disposition"]
    (row,) = as_json.json()
    assert row["status"] == "answered" and row["name"] == "Ola"
    for column in ("asked_at", "approved_at", "on_air_at", "answered_at"):
        assert row[column], column
    as_csv = await client.get(f"/admin/events/{SLUG}/qa.csv", headers=ADMIN)
    assert as_csv.headers["content-type"].startswith("text/csv")
    (line,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert line["text"] == "'=What about roads?"  # defused for spreadsheets
    assert line["answered_at"] == row["answered_at"]
    assert (await client.get(f"/admin/events/{SLUG}/qa.xml", headers=ADMIN)).status_code == 404


def test_bokmal_catalogue_covers_the_pages() -> None:
    """Every string of the Q&A templates has a bokmål translation in the catalogue."""
    root = Path(__file__).resolve().parents[2]
    with (root / "live/locale/nb/LC_MESSAGES/messages.po").open("rb") as f:
        catalogue = read_po(f, locale="nb")
    translated = {m.id for m in catalogue if m.id and m.string}
    paths = [*sorted((root / "templates" / "qa").glob("*.html")), root / "templates/admin/qa.html"]
    wanted = {
        message[1]
        for path in paths
        for message in extract_from_file(
            "jinja2", str(path), options={"extensions": "jinja2.ext.i18n"}
        )
    }
    assert wanted and wanted <= translated, sorted(wanted - translated)
