"""One catalogue for the whole UI: extracted, fully translated to bokmål, bokmål by default."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from babel.support import NullTranslations

from live.i18n import LOCALE_DIR, Localiser, load_translations

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(path: Path, locale: str | None = None) -> Catalog:
    """A .po/.pot file read with Babel."""
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def forms(message: Message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(msgid forms, msgstr forms) of a message, singular or plural alike."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return ids, strings


def test_committed_template_is_up_to_date(tmp_path: Path) -> None:
    """scripts/i18n extracts exactly the committed messages.pot from today's sources."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(["bash", str(ROOT / "scripts/i18n"), "--pot", str(fresh)], check=True,
                   capture_output=True, cwd=ROOT)
    assert fresh.read_text() == (LOCALE_DIR / "messages.pot").read_text(), (
        "run scripts/i18n and translate the new msgids in live/locale/nb/LC_MESSAGES/messages.po"
    )


def test_every_msgid_has_a_bokmal_translation() -> None:
    """Each msgid of the template has a non-empty bokmål msgstr (all plural forms)."""
    nb = catalogue(LOCALE_DIR / "nb/LC_MESSAGES/messages.po", "nb")
    template = catalogue(LOCALE_DIR / "messages.pot")
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = nb.get(message.id)
        strings = forms(translated)[1] if translated is not None else ("",)
        if not all(strings) or len(strings) != len(forms(message)[0]):
            missing.append(message.id)
    assert len(list(template)) > 500
    assert missing == []


def test_english_catalogue_is_identity() -> None:
    """The English catalogue holds the same msgids and no msgstr: English is the msgid."""
    en = catalogue(LOCALE_DIR / "en/LC_MESSAGES/messages.po", "en")
    template = catalogue(LOCALE_DIR / "messages.pot")
    assert {m.id for m in en if m.id} == {m.id for m in template if m.id}
    assert [m.id for m in en if m.id and any(forms(m)[1])] == []


def test_placeholders_match() -> None:
    """Every bokmål msgstr uses exactly the %(name)s placeholders of its msgid."""
    nb = catalogue(LOCALE_DIR / "nb/LC_MESSAGES/messages.po", "nb")
    wrong = []
    for message in nb:
        if not message.id:
            continue
        ids, strings = forms(message)
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            # A singular may spell the number out ("én"), so %(num)s may be missing there.
            if found != wanted and not (len(ids) > 1 and found == wanted - {"num"}):
                wrong.append((message.id, text))
            if text.count("%") != len(PLACEHOLDER.findall(text)) + 2 * text.count("%%"):
                wrong.append((message.id, text))
    assert wrong == []


def test_no_other_catalogues_in_the_tree() -> None:
    """The per-feature fragments are merged: live/locale holds the only .po files."""
    stray = [p for p in (ROOT / "live").rglob("*.po") if LOCALE_DIR not in p.parents]
    assert stray == []


def test_loaded_catalogue_translates_plurals_and_kinds() -> None:
    """The compiled bokmål catalogue knows plurals and the organisation kinds."""
    nb = load_translations()["nb"]
    assert nb.gettext("county") == "fylkeskommune"
    assert nb.ngettext("%(num)d recording", "%(num)d recordings", 2) % {"num": 2} == "2 opptak"
    assert nb.gettext("Registration deadline") == "Påmeldingsfrist"


async def test_pages_are_in_bokmal_by_default(client: httpx.AsyncClient) -> None:
    """Without a choice the front page and an event page are in bokmål."""
    front = (await client.get("/")).text
    assert '<html lang="nb">' in front and "Kommende arrangementer" in front
    event = (await client.get("/e/vi-bygger-innlandet")).text
    assert "Program" in event and "Påmeldingsfrist" in event
    assert "Programme" not in event and "Registration deadline" not in event


async def test_pages_are_in_english_when_asked(client: httpx.AsyncClient) -> None:
    """?lang=en gives the same pages in English."""
    front = (await client.get("/", params={"lang": "en"})).text
    assert '<html lang="en">' in front and "Upcoming events" in front
    event = (await client.get("/e/vi-bygger-innlandet", params={"lang": "en"})).text
    assert "Programme" in event and "Registration deadline" in event
    assert "Påmeldingsfrist" not in event


def test_dates_name_the_month_in_both_languages() -> None:
    """Dates are "10 December 2026" / "10. desember 2026"; the short form still names the month."""
    day = dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC)
    oslo = ZoneInfo("Europe/Oslo")
    nb, en = Localiser("nb", NullTranslations(), oslo), Localiser("en", NullTranslations(), oslo)
    assert (nb.date(day), en.date(day)) == ("10. desember 2026", "10 December 2026")
    assert (nb.date(day, "short"), en.date(day, "short")) == ("10. des. 2026", "10 Dec 2026")
