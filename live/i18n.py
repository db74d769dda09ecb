"""Translations (Babel catalogues under live/locale) and locale-aware formatting in Europe/Oslo."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("nb", "en")


def N_(message: str) -> str:
    """Mark a msgid for extraction (scripts/i18n); translated when shown."""
    return message


ORGANISATION_KINDS = {
    "county": N_("county"),
    "municipality": N_("municipality"),
    "county_governor": N_("county governor"),
    "state_agency": N_("state agency"),
    "ministry": N_("ministry"),
    "research": N_("research institution"),
    "private": N_("company"),
    "voluntary": N_("voluntary organisation"),
    "other": N_("organisation"),
}
LOCALE_DIR = Path(__file__).parent / "locale"


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    """Compile each locale's .po file in memory: no build step, no binary files in git."""
    result: dict[str, NullTranslations] = {}
    for locale in LOCALES:
        po = locale_dir / locale / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            result[locale] = NullTranslations()
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        result[locale] = Translations(fp=buffer)
    return result


@dataclass(frozen=True)
class Localiser:
    """Texts and times for one request: its language and the event time zone."""

    locale: str
    translations: NullTranslations
    tz: ZoneInfo

    def gettext(self, message: str, **params: object) -> str:
        text = self.translations.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text % ({"num": n} | params)

    def kind(self, kind: str) -> str:
        """The name of one organisation of this kind, e.g. "county" / "fylkeskommune"."""
        return self.gettext(ORGANISATION_KINDS.get(kind, "organisation"))

    def local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.tz)

    @property
    def formats(self) -> str:
        """The Babel locale for dates: British English ("13 December 2026", "13/12/2026")."""
        return "en_GB" if self.locale == "en" else self.locale

    def date(self, value: dt.datetime, format: str = "long") -> str:
        """"10 December 2026" / "10. desember 2026"; "short" is "10 Dec 2026" / "10. des.
        2026", never 10/12/2026, which reads as October in the United States."""
        return format_date(self.local(value), format="medium" if format == "short" else format,
                           locale=self.formats)

    def weekday_date(self, value: dt.datetime) -> str:
        pattern = "EEEE d. MMMM y" if self.locale == "nb" else "EEEE d MMMM y"
        return format_date(self.local(value), format=pattern, locale=self.formats)

    def time(self, value: dt.datetime) -> str:
        return format_time(self.local(value), format="HH:mm", locale=self.formats)

    def datetime(self, value: dt.datetime) -> str:
        pattern = "d. MMMM y HH:mm" if self.locale == "nb" else "d MMMM y HH:mm"
        return format_datetime(self.local(value), format=pattern, locale=self.formats)

    def span(self, start: dt.datetime | None, end: dt.datetime | None) -> str:
        """"10:00–11:45", or just the start."""
        if start is None:
            return ""
        if end is None:
            return self.time(start)
        return f"{self.time(start)}–{self.time(end)}"

    def iso_local(self, value: dt.datetime) -> str:
        return self.local(value).isoformat(timespec="minutes")


def pick_locale(query: str | None, cookie: str | None, default: str) -> str:
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return candidate
    return default
