"""Registration pages over HTTP: the form, refusals, the personal page, organiser pages, outbox."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import icalendar
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from live.db import create_engine, sessionmaker
from live.models import Occurrence
from live.models.registration import Registration, Status
from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.fagdag import COUNTY, OSLO, SLUG, add_event


async def count_registrations(settings: Settings, status: Status | None = None) -> int:
    """Registrations stored for the test event (optionally in one status)."""
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            query = select(func.count()).select_from(Registration).where(
                Registration.event.has(slug=SLUG))  # the demo has registrations of its own
            if status is not None:
                query = query.where(Registration.status == status)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Page tests are about pages: SQLite only (the service's tests cover both databases)."""
    return sqlite_url


@pytest.fixture
async def fagdag(demo_app: Starlette, settings: Settings) -> str:
    """The test event, added after the demo was copied in."""
    await add_event(settings)
    return SLUG


@pytest.fixture
async def web(fagdag: str, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client, reading English pages."""
    client.cookies.set("salen_lang", "en")
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def text_of(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def person(n: int, **extra: str) -> dict[str, str]:
    return {
        "occurrence": "hamar",
        "attendance": "in_person",
        "name": f"Person {n}",
        "email": f"p{n}@example.no",
        "organisation": f"Kommune {n}",
        "theme": "tema-a",
        **extra,
    }


async def register(web: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    """Open the form, then submit it with the page's CSRF token."""
    form = await web.get(f"/e/{SLUG}/register")
    return await web.post(f"/e/{SLUG}/register", data={"csrf_token": csrf_of(form.text), **data})


async def registered(web: httpx.AsyncClient, data: dict[str, str]) -> str:
    """Register and follow to the personal page; returns its path."""
    response = await register(web, data)
    assert response.status_code == 303, text_of(response.text)[:2000]
    return str(response.headers["location"])


async def test_form_shows_places_per_occurrence_and_mode(web: httpx.AsyncClient) -> None:
    """The form lists each date with places left per mode, closed dates disabled, and the
    organisation list, themes, diet and the organiser's question."""
    await registered(web, person(1, occurrence="gjovik"))
    page = await web.get(f"/e/{SLUG}/register")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "In the room: 1 of 1 places left" in text
    assert "Online: places available" in text
    assert "In the room: 9 of 10 places left" in text
    assert re.search(r'id="f-occurrence-lillehammer"[^>]*disabled', page.text)
    assert "Registration is closed for this date." in text
    assert f'<option value="{COUNTY}">' in page.text
    assert 'list="organisations"' in page.text
    assert "<legend>Theme for the group work</legend>" in page.text
    assert 'name="diet"' in page.text and "Food is served in Hamar, Gjøvik." in text
    assert 'name="answers.allergy"' in page.text


async def test_register_confirms_mails_and_normalises_organisation(
    web: httpx.AsyncClient, settings: Settings
) -> None:
    """A registration lands on the personal page as confirmed, with the organisation typed
    loosely matched to the known one, and a confirmation mail in the outbox."""
    path = await registered(
        web,
        person(
            1,
            organisation="  innlandet   FYLKESKOMMUNE ",
            diet="Vegetar",
            **{"answers.allergy": "Nøtter"},
        ),
    )
    assert path.startswith("/r/")
    page = await web.get(path)
    text = text_of(page.text)
    assert "Thank you for registering." in text and "Confirmed: you have a place." in text
    assert f"Organisation {COUNTY}" in text and "Allergies Nøtter" in text
    assert page.headers["cache-control"] == "no-store"
    assert "Thank you for registering." not in text_of((await web.get(path)).text)
    mails = list((settings.outbox_dir).glob("*.eml"))
    assert len(mails) == 1 and b"Registration confirmed: Fagdag" in mails[0].read_bytes()


async def test_full_occurrence_waitlists_with_position(web: httpx.AsyncClient) -> None:
    """When the room is full the answer is the waiting list with the exact position."""
    await registered(web, person(1))
    second = await web.get(await registered(web, person(2)))
    third = await web.get(await registered(web, person(3)))
    assert "You are number 1 on the waiting list." in text_of(second.text)
    assert "You are number 2 on the waiting list." in text_of(third.text)
    form = text_of((await web.get(f"/e/{SLUG}/register")).text)
    assert "In the room: full – you will be put on the waiting list (2 waiting)" in form


async def test_quota_refusal_names_the_count_and_saves_nothing(
    web: httpx.AsyncClient, settings: Settings
) -> None:
    """The fifth person from a county is refused with "4 of 4" on the form, nothing saved."""
    for n in range(4):
        await registered(web, person(n, organisation=COUNTY, occurrence="gjovik"))
    response = await register(web, person(9, organisation=COUNTY, occurrence="gjovik"))
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Innlandet fylkeskommune has already used its 4 of 4 places." in text
    assert "Person 0" not in text  # other people's names are never shown
    assert 'value="p9@example.no"' in response.text  # the form keeps what was typed
    assert await count_registrations(settings) == 4


async def test_deadline_passed_is_refused_with_the_date(
    web: httpx.AsyncClient, settings: Settings
) -> None:
    """A date whose deadline passed is refused with the deadline's day and month."""
    response = await register(web, person(1, occurrence="lillehammer"))
    assert response.status_code == 422
    deadline = dt.datetime.now(OSLO) - dt.timedelta(days=1)
    expected = f"The registration deadline passed on {deadline.day} {deadline:%B}."
    assert expected in text_of(response.text)
    assert 'data-code="registration.deadline_passed"' in response.text
    assert await count_registrations(settings) == 0


async def test_bad_fields_get_messages_in_the_ui_language(
    web: httpx.AsyncClient, settings: Settings
) -> None:
    """Missing and malformed fields: 422, a message by each field (here in bokmål),
    tied to the input with aria-describedby, and nothing saved."""
    web.cookies.set("salen_lang", "nb")
    response = await register(web, person(1, name="", email="not-an-address", theme=""))
    assert response.status_code == 422
    html = response.text
    error = '<p class="ds-validation-message field-error" data-color="danger" id="f-{}-error">{}</p>'
    assert error.format("name", "Må fylles ut.") in html
    assert error.format("email", "Ikke en gyldig e-postadresse.") in html
    assert re.search(
        r'id="f-email"[^>]*aria-describedby="f-email-error"[^>]*aria-invalid="true"', html
    )
    assert await count_registrations(settings) == 0


async def test_error_summary_names_the_fields(web: httpx.AsyncClient) -> None:
    """The summary above the form names each field in error and links to it."""
    web.cookies.set("salen_lang", "nb")
    response = await register(web, person(1, name="", organisation=""))
    summary = response.text.split('id="problem-h"')[1].split("</div>")[0]
    assert '<a class="ds-link" href="#f-name">Navn: Må fylles ut.</a>' in summary
    assert '<a class="ds-link" href="#f-organisation">Organisasjon: Må fylles ut.</a>' in summary


async def test_missing_theme_is_a_field_error(web: httpx.AsyncClient) -> None:
    """An event with themes needs one chosen; the message sits in the theme fieldset."""
    response = await register(web, person(1, theme=""))
    assert response.status_code == 422
    assert ('<p class="ds-validation-message field-error" data-color="danger" id="f-theme-error">'
            "Choose a theme for the group work.</p>") in response.text


async def test_form_without_csrf_token_is_refused(
    web: httpx.AsyncClient, settings: Settings
) -> None:
    """A post without the form's token is refused and saves nothing."""
    await web.get(f"/e/{SLUG}/register")
    response = await web.post(f"/e/{SLUG}/register", data=person(1))
    assert response.status_code == 403
    assert await count_registrations(settings) == 0


async def test_change_moves_and_promotes_the_waitlist(web: httpx.AsyncClient) -> None:
    """Moving the confirmed person to another date gives their place to the first waiting."""
    first = await registered(web, person(1))
    second = await registered(web, person(2))
    page = await web.get(first)
    response = await web.post(
        first,
        data={
            "csrf_token": csrf_of(page.text),
            "occurrence": "gjovik",
            "attendance": "in_person",
            "theme": "tema-b",
            "diet": "Glutenfri",
        },
    )
    assert response.status_code == 303
    text = text_of((await web.get(first)).text)
    assert "Your registration was changed." in text and "Gjøvik" in text
    assert "Tema B" in text and "Glutenfri" in text
    assert "Confirmed: you have a place." in text_of((await web.get(second)).text)


async def test_change_into_a_closed_date_is_refused_on_the_page(web: httpx.AsyncClient) -> None:
    """A move past the deadline is refused with the reason and the registration is kept."""
    path = await registered(web, person(1))
    page = await web.get(path)
    response = await web.post(
        path,
        data={
            "csrf_token": csrf_of(page.text),
            "occurrence": "lillehammer",
            "attendance": "in_person",
        },
    )
    assert response.status_code == 422
    assert "The registration deadline passed on" in text_of(response.text)
    assert "Hamar" in text_of((await web.get(path)).text).split("Change your registration")[0]


async def test_cancel_frees_the_place(web: httpx.AsyncClient, settings: Settings) -> None:
    """Cancelling shows a confirmation, the link stops working, the first waiting moves up."""
    first = await registered(web, person(1))
    second = await registered(web, person(2))
    page = await web.get(first)
    response = await web.post(first + "/cancel",
                              data={"csrf_token": csrf_of(page.text), "confirm": "yes"})
    assert response.status_code == 200
    assert "Registration cancelled" in text_of(response.text)
    assert (await web.get(first)).status_code == 404
    assert "Confirmed: you have a place." in text_of((await web.get(second)).text)
    subjects = b"".join(p.read_bytes() for p in settings.outbox_dir.glob("*.eml"))
    assert b"Registration cancelled: Fagdag" in subjects and b"You have a place: Fagdag" in subjects


async def test_cancel_without_javascript_asks_on_a_confirm_page(
        web: httpx.AsyncClient, settings: Settings) -> None:
    """A cancel posted without `confirm` leads to a confirm page and keeps the place; its
    button cancels, its other link goes back to the personal page."""
    path = await registered(web, person(1))
    page = await web.get(path)
    assert "<dialog" in page.text and 'data-confirm-form="registration.cancel"' in page.text
    asked = await web.post(path + "/cancel", data={"csrf_token": csrf_of(page.text)})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/registration.cancel{path}/cancel"
    assert await count_registrations(settings, Status.CONFIRMED) == 1
    confirm = await web.get(asked.headers["location"])
    assert "Cancel your registration?" in text_of(confirm.text)
    assert f'action="{path}/cancel"' in confirm.text and f'href="{path}"' in confirm.text
    done = await web.post(path + "/cancel",
                          data={"csrf_token": csrf_of(confirm.text), "confirm": "yes"})
    assert "Registration cancelled" in text_of(done.text)
    assert await count_registrations(settings, Status.CANCELLED) == 1


async def test_delete_my_data_removes_the_row(web: httpx.AsyncClient, settings: Settings) -> None:
    """'Delete my data' asks first (nothing deleted without the answer), then cancels and
    deletes the registration itself."""
    path = await registered(web, person(1))
    page = await web.get(path)
    asked = await web.post(path + "/delete", data={"csrf_token": csrf_of(page.text)})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/registration.delete{path}/delete"
    assert await count_registrations(settings) == 1
    confirm = await web.get(asked.headers["location"])
    assert "Delete your data?" in confirm.text
    response = await web.post(path + "/delete",
                              data={"csrf_token": csrf_of(page.text), "confirm": "yes"})
    assert response.status_code == 200 and "Your data is deleted" in response.text
    assert await count_registrations(settings) == 0


async def test_delete_after_cancelling(web: httpx.AsyncClient, settings: Settings) -> None:
    """The page after cancelling offers to delete the data, and that deletes the row."""
    path = await registered(web, person(1))
    page = await web.get(path)
    cancelled = await web.post(path + "/cancel",
                               data={"csrf_token": csrf_of(page.text), "confirm": "yes"})
    assert f'action="{path}/delete"' in cancelled.text
    assert await count_registrations(settings, Status.CANCELLED) == 1
    deleted = await web.post(path + "/delete",
                             data={"csrf_token": csrf_of(cancelled.text), "confirm": "yes"})
    assert deleted.status_code == 200 and "Your data is deleted" in deleted.text
    assert await count_registrations(settings) == 0
    again = await web.post(path + "/delete",
                           data={"csrf_token": csrf_of(cancelled.text), "confirm": "yes"})
    assert again.status_code == 404


async def test_calendar_entry_in_oslo_time(web: httpx.AsyncClient) -> None:
    """The .ics download parses back with the event's local start and time zone."""
    path = await registered(web, person(1))
    response = await web.get(path + "/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    start = event.decoded("dtstart")
    assert str(start.tzinfo) in ("Europe/Oslo", "CET") and start.hour == 9
    assert event["summary"] == "Fagdag"


async def test_waitlisted_has_no_calendar_entry(web: httpx.AsyncClient) -> None:
    """Without a place there is no .ics link and the download says why."""
    await registered(web, person(1))
    path = await registered(web, person(2))
    assert "calendar.ics" not in (await web.get(path)).text
    assert (await web.get(path + "/calendar.ics")).status_code == 404


async def test_organiser_list_requires_an_organiser(web: httpx.AsyncClient) -> None:
    """Anonymous people are sent to the login page; a stranger's token gets 403."""
    url = f"/admin/events/{SLUG}/registrations"
    anonymous = await web.get(url)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/admin/login")
    stranger = await web.get(url, headers={"Authorization": "Bearer not-the-token"})
    assert stranger.status_code == 403
    assert (await web.get(url, headers=ADMIN)).status_code == 200


async def test_organiser_list_counts_and_filters(web: httpx.AsyncClient) -> None:
    """The list counts per date and mode, per organisation, theme and diet, and filters."""
    await registered(web, person(1, diet="Vegan"))
    await registered(web, person(2, organisation=COUNTY))
    await registered(web, person(3, occurrence="gjovik", theme="tema-b"))
    url = f"/admin/events/{SLUG}/registrations"
    page = await web.get(url, headers=ADMIN)
    text = text_of(page.text)
    assert "Hamar" in text and "1 of 1 confirmed, 1 waiting" in text
    assert "1 of 10 confirmed" in text
    assert f"{COUNTY} 1" in text and "Tema A 2" in text and "Vegan 1" in text
    waiting = text_of((await web.get(url + "?status=waitlisted", headers=ADMIN)).text)
    listed = waiting.split("Participant list")[1]
    assert "Person 2" in listed and "Person 1" not in listed and "number 1" in listed
    form = (await web.get(url + "?cancelled=1", headers=ADMIN)).text
    assert re.search(r'id="f-cancelled"[^>]*value="1" checked', form)
    by_theme = text_of((await web.get(url + "?theme=Tema+B", headers=ADMIN)).text)
    assert "Person 3" in by_theme.split("Participant list")[1]
    assert "Person 1" not in by_theme.split("Participant list")[1]


async def test_downloads_from_the_list(web: httpx.AsyncClient) -> None:
    """The list links to CSV and Excel files with the participants."""
    await registered(web, person(1, name="Åse Ødegård"))
    page = await web.get(f"/admin/events/{SLUG}/registrations", headers=ADMIN)
    links = re.findall(r'href="(/api/events/fagdag/registrations\.(?:csv|xlsx))"', page.text)
    assert sorted(links) == [
        f"/api/events/{SLUG}/registrations.csv",
        f"/api/events/{SLUG}/registrations.xlsx",
    ]
    csv_file = await web.get(links[0] if links[0].endswith("csv") else links[1], headers=ADMIN)
    assert csv_file.status_code == 200 and "Åse Ødegård" in csv_file.content.decode("utf-8-sig")
    xlsx = await web.get(f"/api/events/{SLUG}/registrations.xlsx", headers=ADMIN)
    sheet = load_workbook(io.BytesIO(xlsx.content))["Participants"]
    assert "Åse Ødegård" in [cell.value for cell in sheet["F"]]


async def organiser_token(web: httpx.AsyncClient) -> str:
    page = await web.get(f"/admin/events/{SLUG}/registrations", headers=ADMIN)
    return csrf_of(page.text)


async def test_organiser_adds_moves_and_removes(web: httpx.AsyncClient) -> None:
    """By hand: add past the deadline, move someone, remove someone (the waitlist moves up)."""
    token = await organiser_token(web)
    base = f"/admin/events/{SLUG}/registrations"
    added = await web.post(
        base, headers=ADMIN, data={"csrf_token": token, **person(1, occurrence="lillehammer")}
    )
    assert added.status_code == 303
    await registered(web, person(2))
    await registered(web, person(3))
    page = text_of((await web.get(base, headers=ADMIN)).text)
    assert "Person 1" in page and "Lillehammer" in page
    listing = (await web.get(base, headers=ADMIN)).text
    ids = {
        name: number
        for number, name in re.findall(r'registrations/(\d+)/edit">(Person \d)', listing)
    }
    moved = await web.post(
        f"{base}/{ids['Person 3']}/edit",
        headers=ADMIN,
        data={
            "csrf_token": token,
            "occurrence": "gjovik",
            "attendance": "in_person",
            "theme": "tema-a",
            "diet": "",
        },
    )
    assert moved.status_code == 303
    asked = await web.post(
        f"{base}/{ids['Person 2']}/remove", headers=ADMIN, data={"csrf_token": token}
    )
    assert asked.headers["location"].startswith("/confirm/registration.remove/")
    assert "Person 2" in text_of((await web.get(base, headers=ADMIN)).text)
    removed = await web.post(
        f"{base}/{ids['Person 2']}/remove", headers=ADMIN,
        data={"csrf_token": token, "confirm": "yes"},
    )
    assert removed.status_code == 303
    listed = text_of((await web.get(base, headers=ADMIN)).text).split("Participant list")[1]
    assert "Person 2" not in listed
    assert "Person 3" in listed and "Waiting list" not in listed
    everyone = (await web.get(base + "?cancelled=1", headers=ADMIN)).text
    cancelled_rows = re.findall(r'<tr class="status-cancelled">(.*?)</tr>', everyone, re.DOTALL)
    assert len(cancelled_rows) == 1 and "Person 2" in cancelled_rows[0]


async def test_participant_count_includes_the_cancelled(web: httpx.AsyncClient) -> None:
    """The list's count names every registration, cancelled ones too, with a correct plural."""
    token = await organiser_token(web)
    base = f"/admin/events/{SLUG}/registrations"
    await registered(web, person(1))
    await registered(web, person(2))
    listing = (await web.get(base, headers=ADMIN)).text
    number = re.findall(r'registrations/(\d+)/edit">Person 2<', listing)[0]
    await web.post(f"{base}/{number}/remove", headers=ADMIN,
                   data={"csrf_token": token, "confirm": "yes"})
    page = text_of((await web.get(base, headers=ADMIN)).text)
    assert "Showing 1 of 2 registrations, cancelled ones included." in page


async def test_organiser_confirms_from_the_waitlist(web: httpx.AsyncClient) -> None:
    """An organiser may confirm a waiting person by hand, beyond the capacity."""
    await registered(web, person(1))
    waiting = await registered(web, person(2))
    base = f"/admin/events/{SLUG}/registrations"
    listing = (await web.get(base, headers=ADMIN)).text
    number = re.findall(r'registrations/(\d+)/edit">Person 2<', listing)[0]
    edit = await web.get(f"{base}/{number}/edit", headers=ADMIN)
    assert "Confirm from the waiting list" in edit.text
    confirmed = await web.post(
        f"{base}/{number}/edit",
        headers=ADMIN,
        data={
            "csrf_token": csrf_of(edit.text),
            "occurrence": "hamar",
            "attendance": "in_person",
            "theme": "tema-a",
            "diet": "",
            "confirm": "on",
        },
    )
    assert confirmed.status_code == 303
    assert "2 of 1 confirmed" in text_of((await web.get(base, headers=ADMIN)).text)
    assert "Confirmed: you have a place." in text_of((await web.get(waiting)).text)


async def test_organiser_add_refusal_shows_the_reason(web: httpx.AsyncClient) -> None:
    """An organiser's add that breaks a rule re-renders the list with the reason (422)."""
    token = await organiser_token(web)
    base = f"/admin/events/{SLUG}/registrations"
    for n in range(4):
        await registered(web, person(n, organisation=COUNTY, occurrence="gjovik"))
    refused = await web.post(
        base, headers=ADMIN, data={"csrf_token": token, **person(9, organisation=COUNTY)}
    )
    assert refused.status_code == 422
    assert "Innlandet fylkeskommune has already used its 4 of 4 places." in text_of(refused.text)


async def test_close_early_and_extend_a_deadline(web: httpx.AsyncClient) -> None:
    """Closing registration stops the form; a later deadline opens a closed date again;
    the organiser's questions survive saving the event document."""
    token = await organiser_token(web)
    url = f"/admin/events/{SLUG}/registration-settings"
    later = (dt.datetime.now(OSLO) + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    deadlines = {f"deadline.{slug}": later for slug in ("hamar", "lillehammer", "gjovik")}
    closed = await web.post(url, headers=ADMIN, data={"csrf_token": token, **deadlines})
    assert closed.status_code == 303
    assert "Registration for this event is closed." in (await web.get(f"/e/{SLUG}/register")).text
    refused = await web.post(f"/e/{SLUG}/register", data={"csrf_token": token, **person(1)})
    assert refused.status_code == 422
    assert "Registration for this event is closed." in text_of(refused.text)
    reopened = await web.post(
        url, headers=ADMIN, data={"csrf_token": token, "registration_open": "on", **deadlines}
    )
    assert reopened.status_code == 303
    form = await web.get(f"/e/{SLUG}/register")
    assert not re.search(r'id="f-occurrence-lillehammer"[^>]*disabled', form.text)
    assert 'name="answers.allergy"' in form.text
    assert (await register(web, person(1, occurrence="lillehammer"))).status_code == 303


async def test_bad_deadline_is_a_field_error(web: httpx.AsyncClient) -> None:
    """A deadline that is not a date re-renders the list with the message by the field."""
    token = await organiser_token(web)
    response = await web.post(
        f"/admin/events/{SLUG}/registration-settings",
        headers=ADMIN,
        data={"csrf_token": token, "registration_open": "on", "deadline.hamar": "soon"},
    )
    assert response.status_code == 422
    assert 'id="f-deadline.hamar-error"' in response.text


async def test_outbox_lists_the_confirmation(web: httpx.AsyncClient) -> None:
    """The outbox page shows the confirmation mail to site organisers only."""
    await registered(web, person(1))
    page = await web.get("/admin/outbox", headers=ADMIN)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Registration confirmed: Fagdag" in text and "p1@example.no" in text
    assert "invitation.ics" in text
    assert (await web.get("/admin/outbox")).status_code == 303
    stranger = await web.get("/admin/outbox", headers={"Authorization": "Bearer nope"})
    assert stranger.status_code == 403


async def test_event_editor_links_to_participants(web: httpx.AsyncClient) -> None:
    """The organiser's event editor links to the participant list."""
    page = await web.get(f"/admin/events/{SLUG}", headers=ADMIN)
    assert f'href="/admin/events/{SLUG}/registrations"' in page.text


def test_purge_command_deletes_data_of_past_events(sqlite_url: str, tmp_path: Path) -> None:
    """`salen registrations purge --days N` deletes registrations of events long over."""
    import asyncio

    from live.registration import service
    from live.registration.validate import parse_submission
    from tests.support.app import make_settings

    settings = make_settings(sqlite_url, tmp_path)

    async def prepare() -> None:
        await add_event(settings)
        engine = create_engine(sqlite_url)
        db = sessionmaker(engine)
        await service.register(db, SLUG, parse_submission(person(1)))
        long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        async with db() as session, session.begin():
            await session.execute(update(Occurrence).values(starts_at=long_ago, ends_at=long_ago))
        await engine.dispose()

    asyncio.run(prepare())
    env = os.environ | {"SALEN_DATABASE_URL": sqlite_url}
    result = subprocess.run(
        [sys.executable, "-m", "live.cli", "registrations", "purge", "--days", "30"],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "deleted 1 registration(s)" in result.stdout
    assert asyncio.run(count_registrations(settings)) == 0
