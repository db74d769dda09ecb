"""Group work's own bokmål catalogue, layered under the app's (the app's wins).

Until `live/rooms/locale/nb.po` is merged into `live/locale/nb/LC_MESSAGES/messages.po`
(`msgcat --use-first`), this keeps the room pages in bokmål; after the merge it changes
nothing. Room pages call `use_rooms_texts(request)` before rendering.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from live.i18n import Localiser
from live.web import localiser

LOCALE_DIR = Path(__file__).parent / "locale"


@functools.cache
def own_catalogue(locale: str) -> NullTranslations:
    """This package's catalogue for `locale` (compiled in memory), or an empty one."""
    po = LOCALE_DIR / f"{locale}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


class Layered(NullTranslations):
    """Look a message up in `primary`, then in `fallback`."""

    def __init__(self, primary: NullTranslations, fallback: NullTranslations) -> None:
        super().__init__()
        self.primary, self.fallback = primary, fallback

    def gettext(self, message: str) -> str:
        """The primary translation when there is one, else the fallback's."""
        text = self.primary.gettext(message)
        return text if text != message else self.fallback.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Plural lookup with the same layering."""
        text = self.primary.ngettext(singular, plural, n)
        if text in (singular, plural):
            return self.fallback.ngettext(singular, plural, n)
        return text


def use_rooms_texts(conn: HTTPConnection) -> Localiser:
    """Make this request's localiser (pages and error pages alike) know group work's texts."""
    base = localiser(conn)
    if isinstance(base.translations, Layered):
        return base
    layered = Localiser(base.locale, Layered(base.translations, own_catalogue(base.locale)),
                        base.tz)
    conn.scope["salen.localiser"] = layered
    return layered
