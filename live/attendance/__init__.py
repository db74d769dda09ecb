"""Attendance: reminders, check-in at the door, online attendance, the attendance export.

Rooms: `domain` (the check-in code and verdict, minutes in steps), `service` (check-in and
the attendance rows), `codes` (the code in mail), `mail` and `reminders` (the day-before
reminder and the deadline summary, one job through `live.outbox`), `online` (the live
socket's join/leave tallies, flushed in batches), `export` (CSV/XLSX), `api` (JSON) and
`admin` (the organiser's check-in page). Attendance rows are deleted with their
registrations (`live.registration.purge`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes, imported on call."""
    from live.attendance import admin, api

    return [*admin.routes, *api.routes]
