"""Organisations, organiser accounts and per-event roles."""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, Timestamped


class OrganisationKind(enum.StrEnum):
    COUNTY = "county"
    MUNICIPALITY = "municipality"
    COUNTY_GOVERNOR = "county_governor"
    STATE_AGENCY = "state_agency"
    MINISTRY = "ministry"
    RESEARCH = "research"
    PRIVATE = "private"
    VOLUNTARY = "voluntary"
    OTHER = "other"


class Role(enum.StrEnum):
    """What a person may do on one event; VIEWER is everybody."""

    VIEWER = "viewer"
    SPEAKER = "speaker"
    MODERATOR = "moderator"
    ORGANISER = "organiser"
    # Types live captions (a skrivetolk), through the event's captioner link.
    CAPTIONER = "captioner"


def normalise_name(name: str) -> str:
    """The key under which "Innlandet fylkeskommune" and "innlandet  fylkeskommune " are one."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"\s+", " ", folded).strip()


class Organisation(Timestamped, Base):
    """A county, municipality, agency... that participants and speakers belong to.

    `in_registry`: from the shipped registry of public bodies (`live.organisations`); a name
    a registrant typed that matched nothing is not, and waits for an organiser's review
    (`reviewed`) unless it was merged into a known body (`merged_into_id`).
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(String(20), default=OrganisationKind.OTHER)
    region: Mapped[str] = mapped_column(String(120), default="")
    number: Mapped[str] = mapped_column(String(8), default="", server_default="")
    county: Mapped[str] = mapped_column(String(2), default="", server_default="")
    orgnr: Mapped[str | None] = mapped_column(String(9), unique=True)
    in_registry: Mapped[bool] = mapped_column(default=False, server_default=false())
    reviewed: Mapped[bool] = mapped_column(default=False, server_default=false())
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )


class OrganisationAlias(Base):
    """A normalised name (`live.organisations.domain.name_key`) a body is known by.

    Every organisation has its own name here; a former name or a body split into several
    (Viken) is one key for several organisations, which makes a typed name ambiguous.
    """

    __tablename__ = "organisation_aliases"
    __table_args__ = (UniqueConstraint("key", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )


class User(Timestamped, Base):
    """An organiser or moderator account (participants need none)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Kept in the session cookie at login and checked on every request: logging out or
    # changing the password bumps it, so cookies issued before stop opening anything.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")


class LoginAttempts(Base):
    """Recent failed logins of one account or one client address (`live.admin.throttle`)."""

    __tablename__ = "login_attempts"

    # "account:<sha256 of the e-mail>" or "address:<client address>".
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[dt.datetime]


class EventRole(Base):
    """A user's role on one event."""

    __tablename__ = "event_roles"
    __table_args__ = (UniqueConstraint("user_id", "event_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(String(20))
