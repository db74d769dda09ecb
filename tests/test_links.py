"""Where links point (live/links.py): the request's address, or SALEN_BASE_URL when set.

Each test runs `salen serve` on a free port (never 8000) and reads the links on the
organiser's pages, in the registration API's answer and in the confirmation e-mail.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.admin import csrf_of
from tests.support.app import ADMIN, ADMIN_TOKEN
from tests.support.servers import free_port

EVENT = """\
slug: lenker
title: Lenker
registration_open: true
streamed: true
occurrences:
  - slug: hamar
    city: Hamar
    starts: 2030-03-10T09:00
    ends: 2030-03-10T15:00
"""
EMAIL, PASSWORD = "lenker@example.no", "correct horse battery"


@dataclass
class Served:
    url: str
    log: Path
    outbox: Path


@contextlib.contextmanager
def salen_serve(tmp_path: Path, base_url: str | None = None,
                trusted: str = "") -> Iterator[Served]:
    """`salen serve` on a free port, with one event and one organiser, SALEN_BASE_URL and
    SALEN_TRUSTED_PROXIES as given."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALEN_BASE_URL", "SALEN_SERVED_URL", "SALEN_SMTP_URL",
                        "SALEN_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS")}
    env |= {"SALEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'links.db'}",
            "SALEN_SECRET_KEY": "links-secret", "SALEN_RECORDINGS_DIR": str(tmp_path / "rec"),
            "SALEN_OUTBOX_DIR": str(tmp_path / "outbox"), "SALEN_ADMIN_TOKEN": ADMIN_TOKEN,
            "SALEN_PASSWORD": PASSWORD, "SALEN_DEFAULT_LOCALE": "en"}
    if base_url is not None:
        env["SALEN_BASE_URL"] = base_url
    env["SALEN_TRUSTED_PROXIES"] = trusted
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "event.yaml").write_text(EVENT)
    cli = [sys.executable, "-m", "live.cli"]
    for command in (["db", "upgrade"], ["event", "import", str(tmp_path / "event.yaml")],
                    ["user", "create", EMAIL, "--admin"]):
        subprocess.run([*cli, *command], env=env, check=True, capture_output=True)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{url}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
        yield Served(url, log, tmp_path / "outbox")
    finally:
        process.terminate()
        process.wait(timeout=15)


@dataclass
class Links:
    whip: bool
    speaker: bool
    moderator: bool
    api_page: str
    mail: str


def links_of(served: Served, base: str) -> Links:
    """The links a served Salen shows and sends, checked against the base `base`."""
    with httpx.Client(base_url=served.url, timeout=10, headers=ADMIN) as http:
        stream = http.get("/admin/events/lenker/stream").text
        qa = http.get("/admin/events/lenker/qa").text
        created = http.post("/api/events/lenker/registrations", json={
            "occurrence": "hamar", "attendance": "in_person", "name": "Kari Nordmann",
            "email": "kari@example.no", "organisation": "Hamar kommune"})
    assert created.status_code == 201, created.text
    mails = list(served.outbox.glob("*.eml"))
    assert len(mails) == 1
    message = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()  # type: ignore[attr-defined]
    return Links(
        whip=f'value="{base}/whip/lenker"' in stream,
        speaker=f'value="{base}/e/lenker/publish?key=' in stream,
        moderator=f"{base}/e/lenker/moderate?token=" in qa,
        api_page=created.json()["page_url"],
        mail=next((line for line in text.splitlines() if "/r/" in line), text),
    )


def test_without_base_url_links_follow_the_served_address(tmp_path: Path) -> None:
    """Unset, the WHIP, speaker and moderator links and the personal link point to the port
    Salen serves on; the e-mail's link too, and start-up warns that mail needs the setting."""
    with salen_serve(tmp_path) as served:
        links = links_of(served, served.url)
    assert links.whip and links.speaker and links.moderator
    assert links.api_page.startswith(f"{served.url}/r/")
    assert links.mail.strip().startswith(f"{served.url}/r/")
    assert "SALEN_BASE_URL is unset" in served.log.read_text()


def test_with_base_url_every_link_uses_it_and_the_dashboard_warns(tmp_path: Path) -> None:
    """Set, pages, the API and the e-mail link to SALEN_BASE_URL; the dashboard opened at the
    served address says that links lead elsewhere."""
    base = "https://salen.example.org"
    with salen_serve(tmp_path, base) as served:
        links = links_of(served, base)
        with httpx.Client(base_url=served.url, timeout=10) as http:
            http.cookies.set("salen_lang", "en")
            token = csrf_of(http.get("/admin/login").text)
            http.post("/admin/login", data={"csrf_token": token, "email": EMAIL,
                                            "password": PASSWORD, "next": "/admin"})
            dashboard = http.get("/admin")
    assert links.whip and links.speaker and links.moderator
    assert links.api_page.startswith(f"{base}/r/") and links.mail.strip().startswith(f"{base}/r/")
    assert "SALEN_BASE_URL is unset" not in served.log.read_text()
    assert dashboard.status_code == 200 and "data-foreign-origin" in dashboard.text
    assert served.url in dashboard.text and base in dashboard.text


def test_behind_a_trusted_proxy_page_links_follow_its_headers(tmp_path: Path) -> None:
    """Unset, behind a proxy in SALEN_TRUSTED_PROXIES, page links take the scheme from its
    X-Forwarded-Proto and the host from Host; from anyone else the scheme is not believed."""
    forwarded = {"Host": "salen.example.org", "X-Forwarded-Proto": "https"}
    with salen_serve(tmp_path, trusted="127.0.0.1") as served, \
            httpx.Client(base_url=served.url, timeout=10, headers=ADMIN | forwarded) as http:
        proxied = http.get("/admin/events/lenker/stream").text
    assert 'value="https://salen.example.org/whip/lenker"' in proxied
    with salen_serve(tmp_path / "direct") as served, \
            httpx.Client(base_url=served.url, timeout=10, headers=ADMIN | forwarded) as http:
        direct = http.get("/admin/events/lenker/stream").text
    assert 'value="http://salen.example.org/whip/lenker"' in direct
