"""Where a registrant's personal link points: the page for people, the resource for the API."""

from __future__ import annotations


def page_url(base_url: str, token: str) -> str:
    """The personal page to view, change or cancel a registration (served by the pages)."""
    return f"{base_url.rstrip('/')}/r/{token}"


def api_url(base_url: str, token: str) -> str:
    """The API resource behind the personal link: GET, PATCH, DELETE."""
    return f"{base_url.rstrip('/')}/api/registrations/{token}"
