"""Every table of Salen; importing this package registers them all on `Base.metadata`."""

from live.models.attendance import CheckIn, OnlineAttendance, OnlineAudience, SentReminder
from live.models.base import Base, Timestamped, utcnow
from live.models.captions import CaptionLine
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
from live.models.organisations import QuotaFlag
from live.models.people import (
    EventRole,
    LoginAttempts,
    Organisation,
    OrganisationAlias,
    OrganisationKind,
    Role,
    User,
    normalise_name,
)
from live.models.plumbing import ClientAction, Job, MailState, OutboxMail
from live.models.polls import Poll, PollAnswer, PollCount, PollState
from live.models.qa import QaAction, QaItemSettings, QaSettings, QaVote, Question
from live.models.recordings import Recording, RecordingState
from live.models.registration import Attendance, Registration
from live.models.registration import Status as RegistrationStatus
from live.models.rooms import BreakoutRoom, GroupSession, RoomMember, RoomNote

__all__ = [
    "Attendance",
    "Base",
    "BreakoutRoom",
    "CaptionLine",
    "CheckIn",
    "ClientAction",
    "Event",
    "EventRole",
    "EventType",
    "GroupSession",
    "ItemKind",
    "Job",
    "LoginAttempts",
    "MailState",
    "Occurrence",
    "OnlineAttendance",
    "OnlineAudience",
    "Organisation",
    "OrganisationAlias",
    "OrganisationKind",
    "OutboxMail",
    "Poll",
    "PollAnswer",
    "PollCount",
    "PollState",
    "ProgrammeBlock",
    "ProgrammeItem",
    "QaAction",
    "QaItemSettings",
    "QaSettings",
    "QaVote",
    "Question",
    "Quota",
    "QuotaFlag",
    "Recording",
    "RecordingState",
    "Registration",
    "RegistrationStatus",
    "Role",
    "RoomMember",
    "RoomNote",
    "SentReminder",
    "Speaker",
    "Theme",
    "Timestamped",
    "User",
    "normalise_name",
    "utcnow",
]
