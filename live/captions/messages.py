"""Live captions' words on `/ws/events/{slug}`: the captioner's messages, the viewers' frame.

Client messages (captioners only, `live.captions.handlers`):

    {"type": "captions.type", "id": 1, "text": "Velkommen til", "name": "Kari"}
    {"type": "captions.line", "id": 2, "text": "Velkommen til seminaret.", "key": "k1-17",
     "name": "Kari"}

Pushes (`CaptionsPush`, type `captions`): one per tick at most, carrying the newest partial
line (or `partial: null` once it was committed or cleared) and the lines committed since
the last tick; on connect a `captions` push with `snapshot: true` holds the recent lines.
A client keeps lines by `seq` (pushes may repeat a line) and replaces the partial.
Hub notices on the event's captions channel are `Notice`s. docs/protocol.md describes it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from live.realtime.envelope import Envelope, Ok

# A line as typed (split into stored lines when longer than `domain.MAX_LINE`).
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[str, msgspec.Meta(max_length=80)]


class Type(Envelope, tag="captions.type"):
    """The line being typed, as it stands now (empty: nothing being typed). Not stored."""

    text: Text
    name: Name = ""


class Commit(Envelope, tag="captions.line"):
    """Commit a line. `key` identifies it: the same key again stores nothing new."""

    text: Text
    key: Key
    name: Name = ""


class LineView(msgspec.Struct, omit_defaults=True):
    """One committed line as clients see it; `at` is the commit time and `started` its first
    keystroke (ISO 8601 UTC)."""

    seq: int
    text: str
    at: str
    by: str = ""
    started: str = ""


class Partial(msgspec.Struct, omit_defaults=True):
    """The line being typed; `who` tells captioners apart (an opaque id, not a name)."""

    text: str
    who: str
    by: str = ""


class TypeOk(Ok, tag="ok"):
    """Reply to `captions.type`: `who` is how this captioner's partial lines are marked."""

    who: str = ""


class CommitOk(Ok, tag="ok"):
    """Reply to `captions.line`: the stored lines (several when the line was split)."""

    lines: list[LineView] = msgspec.field(default_factory=list)


class CaptionsPush(msgspec.Struct, tag_field="type", tag="captions", omit_defaults=True):
    """Captions for viewers: new lines and the newest partial (`null`: none)."""

    partial: Partial | None
    lines: list[LineView] = []
    snapshot: bool = False


class Notice(msgspec.Struct, omit_defaults=True):
    """A hub notice on the captions channel: lines committed, or the partial changed."""

    lines: list[LineView] = []
    partial: Partial | None = None
    # The captioner whose partial this notice replaces or (with `partial` None) clears.
    who: str = ""
    # The event's captioner link was replaced: connections made with the old one end.
    rekeyed: bool = False


notice_decoder = msgspec.json.Decoder(Notice)
