"""What a browser tryout needs around it: a real `salen serve --demo` on loopback, the demo
organiser logged in, and a synthetic stream published through WHIP so the event records.

Used by `bench.phones`; nothing here is part of the test suite or changes what Salen does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page

from bench.procs import WORK, BenchError, free_port, wait_listening
from live.demo import DEMO_ORGANISER
from tests.support.browser import new_context

TRYOUT = WORK / "tryout"


@contextlib.contextmanager
def demo_server(name: str) -> Iterator[str]:
    """`salen serve --demo` on a fresh SQLite database; yields its address.

    The demo's generated media (the debate's recording) are kept between runs in
    bench/.work/tryout/recordings/demo, so only the first run spends minutes on them.
    """
    recordings = TRYOUT / "recordings"
    shutil.rmtree(recordings / "archive", ignore_errors=True)
    recordings.mkdir(parents=True, exist_ok=True)
    db = TRYOUT / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    port = free_port()
    env = dict(os.environ) | {
        "SALEN_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "SALEN_SECRET_KEY": "tryout-secret",
        "SALEN_RECORDINGS_DIR": str(recordings),
        "SALEN_OUTBOX_DIR": str(TRYOUT / "outbox"),
        "SALEN_HUB_URL": "memory://",
    }
    log = TRYOUT / f"{name}.log"
    cmd = [sys.executable, "-m", "live.cli", "serve", "--demo", "--host", "127.0.0.1",
           "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        wait_listening(port, proc, log, timeout=900)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_log(name: str) -> str:
    """The server's log so far (for tracebacks)."""
    return (TRYOUT / f"{name}.log").read_text(errors="replace")


async def organiser(browser: Browser, base: str, next_path: str) -> tuple[BrowserContext, Page]:
    """A desktop context logged in as the demo organiser, at `next_path`."""
    context = await new_context(browser, viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{base}/admin/login?next={next_path}")
    email, password = DEMO_ORGANISER
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_url(f"**{next_path}")
    return context, page


@contextlib.asynccontextmanager
async def publishing(base: str, slug: str, key: str) -> AsyncIterator[None]:
    """A synthetic camera and microphone published to the event's WHIP address, ended by
    DELETE (as OBS does when one stops streaming), so the server records the stream."""
    from stream import client as whip

    async with httpx.AsyncClient(timeout=30) as http:
        session = await whip.publish(http, f"{base}/whip/{slug}", key, whip.SyntheticVideo(),
                                     whip.SyntheticAudio())
        try:
            yield
        finally:
            await session.delete(http, key)
            await session.close()


async def wait_for(check: object, what: str, timeout: float = 120.0) -> None:
    """Poll an async `check()` until it is true, or fail naming `what`."""
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)
