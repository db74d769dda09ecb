"""`scripts/screenshots [DIR]`: every page of `tests.ui.site` at 390 and 1280 px, as PNGs.

Builds a throw-away Salen (SQLite, the demo, the page check's extra data) in a temporary
folder, serves it on loopback, and writes `<audience>-<page>-<lang>-<width>.png` into DIR
(default /tmp/salen-screenshots). The problems the page check would report are printed too.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from live.migrate import upgrade
from tests.support.app import load_demo_into, make_settings
from tests.support.browser import launch_chromium
from tests.ui.site import serve_site
from tests.ui.tour import screenshot_to, tour

WIDTHS = (390, 1280)
DEFAULT = Path("/tmp/salen-screenshots")
MEDIA = Path(tempfile.gettempdir()) / "salen-screenshots-media"  # the demo recording, kept


async def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    MEDIA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="salen-shots-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/salen.db"
        # SALEN_BASE_URL unset, as `salen serve` runs by default: the links, short addresses
        # and QR codes on the pictures point at the address the pages were served from.
        settings = make_settings(url, Path(tmp), default_locale="nb", base_url="")
        await asyncio.to_thread(upgrade, url)
        await load_demo_into(settings, MEDIA)
        async with serve_site(settings) as site, async_playwright() as driver:
            browser = await launch_chromium(driver)
            visits = await tour(browser, site, WIDTHS, accessibility=False,
                                after=screenshot_to(folder))
            await browser.close()
    for visit in visits:
        if visit.problems:
            print(visit.describe())
    print(f"{len(visits)} screenshots in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)))
