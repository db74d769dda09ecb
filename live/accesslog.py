"""Secrets kept out of the server's log: request lines with their tokens replaced by "…".

Some links carry a secret, because the people who use them have nothing else: a
registrant's personal page (`/r/{token}`, `/api/registrations/{token}`, `?r=`), the big
screen's display key (`?key=`, also the speaker's stream key on `/e/{slug}/publish`), a
moderator link's token (`?token=`) and a participant identity (`?p=`). Those URLs stay as
people have them; what changes is that uvicorn's access lines and WebSocket lines (the
request line is one of the record's arguments) name the path with the secret replaced, so
whoever reads or ships the log gets nothing to open those pages with.

`RedactSecrets` is a logging filter that `salen serve` installs on uvicorn's handlers
(live/cli.py `log_config`). It rewrites string arguments only; messages are left alone.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

MASK = "…"
SECRET_PARAMS = ("r", "key", "token", "p", "stream_key")

# A path segment that is itself the secret: /r/{token}[/...] and /api/registrations/{token},
# also as a query value (the language link's `?next=/r/...`).
_SECRET_SEGMENT = re.compile(r"(?<![^\s/\"=])((?:/api/registrations|/r)/)[^/?&#\s\"]+")
# A secret query parameter's value (names matched exactly: "?keyword=" is not "?key=").
_SECRET_QUERY = re.compile(
    r"([?&](?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r")=)[^&#\s\"]+"
)


def redact(text: str) -> str:
    """`text` with secret path segments and secret query values replaced by `MASK`.

    Percent-encoded text is decoded first, so a secret link inside a query value
    (`?next=%2Fr%2F...`) is found too; the log then shows that part decoded.
    """
    if "/" not in text and "=" not in text and "%" not in text:
        return text
    if "%" in text:
        text = unquote(text)
    return _SECRET_QUERY.sub(r"\1" + MASK, _SECRET_SEGMENT.sub(r"\1" + MASK, text))


class RedactSecrets(logging.Filter):
    """Replaces tokens in a record's string arguments (the request line) with `MASK`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, str) for a in args):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True
