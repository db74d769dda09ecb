"""Every table of Salen; importing this package registers them all on `Base.metadata`."""

from live.models.base import Base, Timestamped, utcnow
from live.models.events import (
    Event,
    EventType,
    ItemKind,
    Occurrence,
    ProgrammeBlock,
    ProgrammeItem,
    Quota,
    Speaker,
    Theme,
)
from live.models.people import EventRole, Organisation, OrganisationKind, Role, User, normalise_name
from live.models.recordings import Recording, RecordingState

__all__ = [
    "Base",
    "Event",
    "EventRole",
    "EventType",
    "ItemKind",
    "Occurrence",
    "Organisation",
    "OrganisationKind",
    "ProgrammeBlock",
    "ProgrammeItem",
    "Quota",
    "Recording",
    "RecordingState",
    "Role",
    "Speaker",
    "Theme",
    "Timestamped",
    "User",
    "normalise_name",
    "utcnow",
]
