"""Walk `tests.ui.site.pages` in one Chromium: what goes wrong on each page, and screenshots.

One browser context per audience, one tab each, resized per width. A page's problems are
collected, not raised, so one run names every broken page: sideways scrolling, console
errors, uncaught exceptions, Content-Security-Policy violations, failed requests (HTTP
errors included), checkboxes apart from their labels and serious or critical axe-core findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response

from tests.support.axe import FAILING_IMPACTS, axe_violations
from tests.support.browser import new_context
from tests.ui.site import (
    AUDIENCES,
    PageSpec,
    Site,
    context_options,
    file_name,
    pages,
    sign_in,
)

LANGS = {"public": ("nb", "en")}
# Collects violations from the moment a document starts; init scripts run despite the CSP.
_WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"""
_OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const wide = [...document.querySelectorAll('body *')].filter(
    (el) => el.getBoundingClientRect().right > root.clientWidth + 1 && el.offsetParent !== null);
  const leaf = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o)));
  return root.scrollWidth + 'px > ' + root.clientWidth + 'px: ' + leaf.slice(0, 3).map(
    (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
  ).join(', ');
}"""


# A checkbox or radio button whose label is not beside it (on its own line, or above it).
_APART = """() => [...document.querySelectorAll('input[type=checkbox], input[type=radio]')]
  .filter((box) => box.id && box.offsetParent !== null)
  .map((box) => [box, document.querySelector(`label[for="${box.id}"]`)])
  .filter(([box, label]) => label && label.offsetParent !== null && !label.contains(box))
  .filter(([box, label]) => {
    const b = box.getBoundingClientRect(), l = label.getBoundingClientRect();
    return !(l.top < b.bottom && l.bottom > b.top && l.left >= b.right - 1);
  })
  .map(([box]) => '#' + box.id).slice(0, 5)"""


@dataclasses.dataclass
class Visit:
    """One page at one width in one language, and what went wrong there."""

    spec: PageSpec
    lang: str
    width: int
    problems: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        where = f"{self.spec.audience} {self.spec.path} [{self.lang}, {self.width} px]"
        return "\n".join(f"{where}: {p}" for p in self.problems)


def localised(spec: PageSpec, site: Site, lang: str) -> str:
    address = spec.address(site)
    if lang == "nb":
        return address
    return address + ("&" if "?" in address else "?") + f"lang={lang}"


class Tab:
    """One audience's tab, with listeners that file problems under the current visit."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.current: Visit | None = None
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._file(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _file(self, problem: str) -> None:
        if self.current is not None:
            self.current.problems.append(problem)

    def _console(self, message: ConsoleMessage) -> None:
        # A failed load is filed by _response with its address; the console says it again.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self._file(f"console error: {message.text}")

    def _failed(self, request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":  # a navigation that ends a pending request
            self._file(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and self.current is not None:
            main = response.request.is_navigation_request()
            if not (main and response.status == self.current.spec.status):
                self._file(f"HTTP {response.status}: {response.url}")

    async def visit(self, visit: Visit, site: Site, *, accessibility: bool) -> None:
        """Open the page at the visit's width and language and file what is wrong."""
        self.current = visit
        page = self.page
        await site.prepare(visit.spec.step)
        await page.set_viewport_size({"width": visit.width, "height": 800})
        response = await page.goto(localised(visit.spec, site, visit.lang), wait_until="load")
        if response is None or response.status != visit.spec.status:
            visit.problems.append(f"status {response.status if response else None}")
        overflow = await page.evaluate(_OVERFLOW)
        if overflow:
            visit.problems.append(f"sideways scrolling: {overflow}")
        apart = await page.evaluate(_APART)
        if apart:
            visit.problems.append(f"checkbox not beside its label: {', '.join(apart)}")
        for violation in await page.evaluate("window.__csp || []"):
            visit.problems.append(f"CSP violation: {violation}")
        if accessibility:
            for v in await axe_violations(page):
                if v.impact in FAILING_IMPACTS:
                    visit.problems.append(v.describe().strip())


OnVisit = Callable[[Tab, Visit], Awaitable[None]]


async def tour(browser: Browser, site: Site, widths: tuple[int, ...], *,
               accessibility: bool = True, after: OnVisit | None = None) -> list[Visit]:
    """Every page at every width (public pages in bokmål and English); the visits made."""
    visits: list[Visit] = []
    specs = pages(site)
    for audience in AUDIENCES:
        context = await new_context(browser, **context_options(audience))
        await context.add_init_script(_WATCH_CSP)
        tab = Tab(await context.new_page())
        await sign_in(tab.page, site, audience)
        for spec in (s for s in specs if s.audience == audience):
            for lang in LANGS.get(audience, ("nb",)):
                for width in widths:
                    visit = Visit(spec, lang, width)
                    await tab.visit(visit, site, accessibility=accessibility)
                    if after is not None:
                        await after(tab, visit)
                    visits.append(visit)
        tab.current = None
        await context.close()
    return visits


def screenshot_to(folder: Path) -> OnVisit:
    """An `after` hook that saves a full-page screenshot of each visit into `folder`."""

    async def shoot(tab: Tab, visit: Visit) -> None:
        await tab.page.screenshot(path=folder / file_name(visit.spec, visit.lang, visit.width),
                                  full_page=True)

    return shoot
