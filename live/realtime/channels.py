"""Every hub channel by name: the one place that spells them.

A channel carries one stream of change notices (`live.hub.Entry`). Services publish on
them, the fan-out and the group-work feeds subscribe; each name is built here so that a
publisher and its readers cannot disagree. Moderators' channels are kept apart from the
public ones: what viewers may not see is never published where they listen.
"""

from __future__ import annotations


def qa_mod_channel(event_id: int) -> str:
    """Q&A: everything that changes on the event, for moderators."""
    return f"qa:{event_id}:mod"


def qa_public_channel(event_id: int) -> str:
    """Q&A: what viewers of the event may see."""
    return f"qa:{event_id}:public"


def rooms_event_channel(event_id: int) -> str:
    """Group work: notices for everyone on the event (opened, returned, timer, broadcast)."""
    return f"rooms:{event_id}"


def rooms_mod_channel(event_id: int) -> str:
    """Group work: every room change and help call of the event, for moderators."""
    return f"rooms:{event_id}:mod"


def room_channel(room_id: int) -> str:
    """Group work: one room, for its members (and moderators looking in)."""
    return f"room:{room_id}"


def is_room_channel(channel: str) -> bool:
    """Is `channel` one room's (`room_channel`)?"""
    return channel.startswith("room:")


def polls_mod_channel(event_id: int) -> str:
    """Polls: every poll change of the event with full results, for moderators."""
    return f"polls:{event_id}:mod"


def polls_public_channel(event_id: int) -> str:
    """Polls: what viewers may see (results only once revealed)."""
    return f"polls:{event_id}:public"


def captions_channel(event_id: int) -> str:
    """Live captions: committed lines and the line being typed, for everyone on the event."""
    return f"captions:{event_id}"
