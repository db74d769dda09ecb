"""The event editor's texts are extractable and all have a bokmål translation in the catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
MINE = ("live/events/admin.py", "live/events/forms.py", "live/events/parts.py",
        "templates/admin/_fields.html", "templates/admin/_layout.html",
        "templates/admin/_part.html", "templates/admin/_event_fields.html")


def _extracted() -> set[str]:
    files = [ROOT / name for name in MINE] + sorted((ROOT / "templates/admin").glob("event_*.html"))
    found = set()
    for path in files:
        method = "python" if path.suffix == ".py" else "jinja2"
        options = {} if method == "python" else {"extensions": "jinja2.ext.i18n"}
        for _line, message, _comments, _context in extract_from_file(method, str(path),
                                                                      options=options):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_editor_text_has_a_bokmal_translation() -> None:
    """Each msgid of the editor's code and templates is translated in the bokmål catalogue."""
    with (ROOT / "live/locale/nb/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="nb")
    translated = {m.id for m in catalog if m.id and m.string}
    extracted = _extracted()
    assert "Enter a whole number." in extracted and "Save details" in extracted
    assert extracted - translated == set()
