"""SALEN_TRUSTED_PROXIES: whose X-Forwarded-For `salen serve` believes, as rate limits see it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live.registration.ratelimit import LIMIT  # registration attempts per client and window
from live.server import proxy_options
from tests.support.servers import free_port


@contextlib.contextmanager
def salen_serve(tmp_path: Path, trusted: str | None) -> Iterator[str]:
    """`salen serve` on a fresh database, with SALEN_TRUSTED_PROXIES set or not."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALEN_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS")}
    env |= {"SALEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}",
            "SALEN_SECRET_KEY": "proxy-secret", "SALEN_RECORDINGS_DIR": str(tmp_path / "rec")}
    if trusted is not None:
        env["SALEN_TRUSTED_PROXIES"] = trusted
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
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
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def attempts(url: str) -> list[int]:
    """One registration attempt more than the limit, each claiming another client address."""
    with httpx.Client(base_url=url, timeout=10) as http:
        return [http.post("/api/events/nothing-here/registrations", json={},
                          headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(LIMIT + 1)]


def test_forwarded_for_from_an_untrusted_client_is_ignored(tmp_path: Path) -> None:
    """With no trusted proxy (the default), a client cannot dodge the registration rate
    limit by claiming other addresses in X-Forwarded-For, not even from 127.0.0.1."""
    with salen_serve(tmp_path, trusted=None) as url:
        codes = attempts(url)
    assert 429 not in codes[:LIMIT] and codes[LIMIT] == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    """Behind a proxy named in SALEN_TRUSTED_PROXIES, each forwarded client has its own limit."""
    with salen_serve(tmp_path, trusted="127.0.0.1") as url:
        codes = attempts(url)
    assert 429 not in codes


@pytest.mark.parametrize(("setting", "options"), [
    ("", {"proxy_headers": False, "forwarded_allow_ips": ""}),
    (" 10.0.0.1 , 10.1.0.0/16", {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.1,10.1.0.0/16"}),
])
def test_proxy_options_for_uvicorn(setting: str, options: dict[str, object]) -> None:
    """The setting becomes uvicorn's proxy options; empty trusts nobody's headers."""
    assert proxy_options(setting) == options
