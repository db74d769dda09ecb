"""The mail outbox: addresses, queued with the registration, retried after an outage, re-sent."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from live.app import create_app
from live.models import MailState, OutboxMail, Registration
from live.models.base import utcnow
from live.outbox.addresses import BadAddress, parse_address
from live.outbox.transport import read_outbox
from tests.support.app import ADMIN, LifespanApp, make_settings
from tests.support.registration import COUNTIES, seed
from tests.support.servers import free_port
from tests.support.smtp import smtp_server


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The app with its lifespan (scheduler, outbox), an English client and the state."""
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
            web.cookies.set("salen_lang", "en")
            yield web, dict(state or {})


def person(i: int) -> dict[str, Any]:
    return {
        "occurrence": "elverum",
        "attendance": "in_person",
        "name": f"Person {i}",
        "email": f"p{i}@example.no",
        "organisation": COUNTIES[i],
        "theme": "tema-1",
    }


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def mails(state: dict[str, Any]) -> list[OutboxMail]:
    async with state["app"].db() as session:
        return list(await session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


async def test_smtp_outage_keeps_the_registration_and_mails_it_later(
    database_url: str, tmp_path: Path
) -> None:
    """With the SMTP server down the registration is kept and its mail queued; once the
    server is back, the outbox job delivers the personal link."""
    port = free_port()
    settings = make_settings(database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    async with running(create_app(settings)) as (web, state):
        await seed(state["app"].db, capacity=10, quota=None)
        response = await web.post("/api/events/konf/registrations", json=person(1))
        assert response.status_code == 201
        page_path = httpx.URL(response.json()["page_url"]).path
        [queued] = await mails(state)
        assert (queued.state, queued.attempts) == (MailState.QUEUED, 1)
        assert "We could not send the e-mail to p1@example.no yet" in text_of(
            (await web.get(page_path)).text
        )
        outbox_page = text_of((await web.get("/admin/outbox", headers=ADMIN)).text)
        assert "Queued. Attempts: 1." in outbox_page
        with smtp_server(port) as inbox:
            jobs = state["jobs"]
            jobs.clock = lambda: utcnow() + dt.timedelta(hours=1)  # past the first backoff
            for _ in range(50):
                await jobs.run_due()
                await inbox.wait_for(1)
                if inbox.messages:
                    break
        [sent] = await mails(state)
        assert sent.state == MailState.SENT and inbox.recipients == [["p1@example.no"]]
        assert response.json()["page_url"] in inbox.messages[0].get_body(("plain",)).get_content()
        async with state["app"].db() as session:
            assert len(list(await session.scalars(select(Registration)))) == 1


async def test_personal_page_sends_the_confirmation_again(sqlite_url: str, tmp_path: Path) -> None:
    """The personal page's button queues and sends the confirmation again."""
    settings = make_settings(sqlite_url, tmp_path)
    async with running(create_app(settings)) as (web, state):
        await seed(state["app"].db, capacity=10, quota=None)
        response = await web.post("/api/events/konf/registrations", json=person(1))
        page_path = httpx.URL(response.json()["page_url"]).path
        page = await web.get(page_path)
        again = await web.post(f"{page_path}/resend", data={"csrf_token": csrf_of(page.text)})
        assert again.status_code == 303 and again.headers["location"] == page_path
        assert "We are sending the confirmation again." in text_of((await web.get(page_path)).text)
        assert [m.state for m in await mails(state)] == [MailState.SENT, MailState.SENT]
    subjects = [m["Subject"] for _, m in read_outbox(settings.outbox_dir)]
    assert subjects == ["Registration confirmed: Regional konferanse"] * 2


async def test_deleting_ones_data_deletes_ones_mails(sqlite_url: str, tmp_path: Path) -> None:
    """'Delete my data' also deletes the registrant's mails from the outbox table."""
    settings = make_settings(sqlite_url, tmp_path)
    async with running(create_app(settings)) as (web, state):
        await seed(state["app"].db, capacity=10, quota=None)
        response = await web.post("/api/events/konf/registrations", json=person(1))
        page_path = httpx.URL(response.json()["page_url"]).path
        page = await web.get(page_path)
        gone = await web.post(f"{page_path}/delete",
                              data={"csrf_token": csrf_of(page.text), "confirm": "yes"})
        assert gone.status_code == 200
        assert await mails(state) == []


@pytest.mark.parametrize("address", ["a@b", "a b@x.no", "a@-x.no", "a@x..no", '"a"@x.no'])
def test_unusable_addresses_are_refused(address: str) -> None:
    """Addresses without a real domain, with spaces or quoted local parts are refused."""
    with pytest.raises(BadAddress):
        parse_address(address)


def test_idn_spellings_are_one_address() -> None:
    """Upper case, Unicode and A-label spellings of a domain give the same address."""
    spellings = ["ola@ÆRØ.no", "ola@ærø.no", "OLA@xn--r-3fa9c.no"]
    parsed = {parse_address(a) for a in spellings}
    assert [(a.text, a.envelope, a.smtputf8) for a in parsed] == [
        ("ola@ærø.no", "ola@xn--r-3fa9c.no", False)
    ]


def test_non_ascii_local_part_needs_smtputf8() -> None:
    """A local part outside ASCII is kept as typed (NFC) and marked as needing SMTPUTF8."""
    address = parse_address("Øla@Example.no")
    assert (address.envelope, address.smtputf8) == ("øla@example.no", True)
