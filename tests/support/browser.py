"""Headless Chromium fixtures (Playwright async API driving Debian's /usr/bin/chromium).

The browser is function-scoped: Playwright objects belong to the event loop that created
them and pytest-asyncio gives each test its own loop, so a shared browser would break the
next test. Launching costs about a second per browser test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

CHROMIUM = "/usr/bin/chromium"
LOCALE = "nb-NO"
TIMEZONE = "Europe/Oslo"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebRTC: peers may use 127.0.0.1 host candidates (no mDNS names), and pages get fake
    # camera/microphone streams without a permission prompt.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
DEFAULT_TIMEOUT_MS = 15_000


async def launch_chromium(playwright: Playwright) -> Browser:
    """Launch Debian's Chromium headless with the project's flags (never downloads one)."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


async def new_context(browser: Browser, **options: object) -> BrowserContext:
    """A fresh browser context in bokmål and Oslo time; `options` override the defaults."""
    settings: dict[str, object] = {"locale": LOCALE, "timezone_id": TIMEZONE, **options}
    context = await browser.new_context(**settings)  # type: ignore[arg-type]
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    """A running Playwright driver for this test."""
    async with async_playwright() as driver:
        yield driver


@pytest.fixture
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """Headless Chromium for this test."""
    instance = await launch_chromium(playwright)
    yield instance
    await instance.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser context (cookies, storage) with locale nb-NO and Europe/Oslo."""
    ctx = await new_context(browser)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    """A blank page in a fresh context; closed with its context."""
    return await context.new_page()
