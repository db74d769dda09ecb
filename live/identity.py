"""Signed participant identities: anonymous viewers get one, personal links may carry a name.

A participant token is `URLSafeSerializer(secret_key, salt)` over `{"p": id, "n": name}`;
the id is random, so a viewer is recognised again (one vote per question, "my questions")
without an account, and nobody can forge another participant's token.
"""

from __future__ import annotations

import dataclasses
import secrets

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "salen.participant"


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
