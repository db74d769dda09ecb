"""Msgids that code builds at run time where the extractor cannot see them (field errors
in dicts, HTTP errors, default section titles): listed here so scripts/i18n extracts them."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a msgid for extraction; returns it unchanged."""
    return message


RUN_TIME_MSGIDS = (
    # live/web.py _from_http
    N_("Page not found."),
    N_("Method not allowed."),
    # live/events/domain.py validate (field errors)
    N_("This address is reserved; choose another."),
    N_("The end must be after the start."),
    # live/events/api.py (field error)
    N_("The address cannot change."),
    # live/bounds.py (text refused at the edge)
    N_("Text may not contain NUL characters or unpaired surrogates."),
    # live/realtime/dispatch.py
    N_("Something went wrong."),
    # live/rooms: domain.py, pages.py
    N_("Challenges"),
    N_("Proposals"),
    N_("Out of range."),
    N_("Give a whole number."),
    N_("Someone else changed this item first."),
    N_("Saved."),
)
