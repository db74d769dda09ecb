"""Signed participant identities, and who a browser is for every feature's pages.

A participant token is `URLSafeSerializer(secret_key, salt)` over `{"p": id, "n": name}`;
the id is random, so a viewer is recognised again (one vote per question, "my questions")
without an account, and nobody can forge another participant's token. Every page keeps the
token in the session cookie under one `SESSION_KEY`, so one browser is one participant in
Q&A and group work alike; a registrant's personal link (`?r=<token>`) makes them
`reg:<registration id>` with their name.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from starlette.requests import HTTPConnection, Request

from live.errors import SalenError
from live.models.registration import Registration, Status
from live.state import app_state

SALT = "salen.participant"
SESSION_KEY = "salen_participant"


@dataclasses.dataclass(frozen=True)
class Participant:
    """Who is connected: a stable random id and, when known, a name."""

    id: str
    name: str = ""


class Identities:
    """Issues and checks participant tokens with the server's secret key."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is needed to sign participant identities")
        self._serializer = URLSafeSerializer(secret_key, salt=SALT)

    def new(self, name: str = "") -> Participant:
        """A fresh participant (for a registered participant, with their name)."""
        return Participant(id=secrets.token_urlsafe(12), name=name)

    def token(self, participant: Participant) -> str:
        """The signed token that proves `participant` later."""
        body = {"p": participant.id}
        if participant.name:
            body["n"] = participant.name
        return self._serializer.dumps(body)

    def load(self, token: str | None) -> Participant | None:
        """The participant a token names, or None when it is missing, forged or malformed."""
        if not token:
            return None
        try:
            body = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("p"), str):
            return None
        name = body.get("n", "")
        return Participant(id=body["p"][:64], name=name if isinstance(name, str) else "")

    def load_or_new(self, token: str | None) -> Participant:
        """The participant of `token`, or a new anonymous one."""
        return self.load(token) or self.new()


def registration_participant(registration_id: int) -> str:
    """The participant id a registrant's personal link gives."""
    return f"reg:{registration_id}"


@functools.lru_cache(maxsize=8)
def _identities(secret_key: str) -> Identities:
    return Identities(secret_key)


def identities(conn: HTTPConnection) -> Identities:
    """The app's participant tokens (signed with the settings' secret key)."""
    return _identities(app_state(conn).settings.secret_key)


def remembered(request: Request) -> Participant | None:
    """The participant the session cookie names, if any."""
    return identities(request).load(request.session.get(SESSION_KEY))


def remember(request: Request, person: Participant) -> str:
    """Keep `person` in the session cookie; returns their token."""
    token = identities(request).token(person)
    request.session[SESSION_KEY] = token
    return token


async def registrant(request: Request, event_id: int) -> Participant | None:
    """The registrant whose personal link (`?r=`) this is, confirmed for this event, or None."""
    manage = request.query_params.get("r")
    if not manage:
        return None
    async with app_state(request).db() as session:
        reg = await session.scalar(select(Registration).where(
            Registration.token == manage, Registration.event_id == event_id,
            Registration.status == Status.CONFIRMED))
    return None if reg is None else Participant(registration_participant(reg.id), reg.name)


async def participant(request: Request, event_id: int, *, presented: str | None = None,
                      bad_link: SalenError | None = None) -> Participant:
    """Who this browser is, kept in the session: the one place pages resolve a participant.

    In order: a registrant's personal link (`?r=`); the token the page was `presented`
    (a query parameter or header, as the feature's clients send it); the session's; a new
    anonymous participant. A personal link that is not valid raises `bad_link` when given
    and is passed over otherwise.
    """
    found = await registrant(request, event_id)
    if found is None and bad_link is not None and request.query_params.get("r"):
        raise bad_link
    found = found or identities(request).load(presented) or remembered(request)
    found = found or identities(request).new()
    remember(request, found)
    return found
