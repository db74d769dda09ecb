"""Turn a submitted registration (API JSON or form fields) into checked values, or field errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from live.models.registration import DIET_MAX, EMAIL_MAX, JOB_TITLE_MAX, NAME_MAX, Attendance
from live.outbox.addresses import BadAddress, parse_address
from live.registration.rules import N_, Message, Refused

ORGANISATION_MAX = 200
ANSWER_MAX = 2000
ANSWERS_MAX = 50

REQUIRED = Message(N_("Required."))


@dataclass(frozen=True)
class Submission:
    """A new registration as submitted, checked for shape but not yet against the event."""

    occurrence: str
    attendance: Attendance
    name: str
    email: str
    organisation: str
    job_title: str = ""
    theme: str | None = None
    diet: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    # The registrant confirmed the organisation's name as typed (no suggestion wanted).
    organisation_as_typed: bool = False


@dataclass(frozen=True)
class Changes:
    """What a registrant may change through the personal link; None leaves it as it is."""

    occurrence: str | None = None
    attendance: Attendance | None = None
    theme: str | None = None
    diet: str | None = None
    confirm: bool = False  # organisers only: confirm from the waitlist by hand


def too_long(limit: int) -> Message:
    return Message(N_("At most %(limit)s characters."), {"limit": limit})


def _text(
    data: Mapping[str, Any], key: str, limit: int, errors: dict[str, Message], *, required: bool
) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = Message(N_("Must be text."))
        return ""
    value = value.strip()
    if required and not value:
        errors[key] = REQUIRED
    elif len(value) > limit:
        errors[key] = too_long(limit)
    elif any(ord(c) < 32 and c not in "\n\t" for c in value):
        errors[key] = Message(N_("Contains control characters."))
    return value


def _reference(
    data: Mapping[str, Any], key: str, errors: dict[str, Message], *, required: bool
) -> str | None:
    """An id (number) or slug (text) naming an occurrence or theme."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors[key] = REQUIRED
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or len(str(value)) > 80:
        errors[key] = Message(N_("Unknown choice."))
        return None
    return str(value).strip()


def _attendance(
    data: Mapping[str, Any], errors: dict[str, Message], *, required: bool
) -> Attendance | None:
    value = data.get("attendance")
    if value is None or value == "":
        if required:
            errors["attendance"] = REQUIRED
        return None
    try:
        return Attendance(value)
    except ValueError:
        errors["attendance"] = Message(N_("Choose in the room or online."))
        return None


def _email(data: Mapping[str, Any], errors: dict[str, Message]) -> str:
    value = _text(data, "email", EMAIL_MAX, errors, required=True)
    if "email" in errors:
        return value.lower()
    try:
        # Normalised (lower case, the domain's Unicode form) so that duplicates are found
        # whatever the capitalisation or the spelling of an internationalised domain.
        return parse_address(value).text
    except BadAddress:
        errors["email"] = Message(N_("Not a valid e-mail address."))
        return value.lower()


def check_reachable(submission: Submission, *, smtputf8: bool) -> None:
    """Refuse, before anything is saved, an address the mail server cannot deliver to:
    one with letters outside ASCII before the @ while the server lacks SMTPUTF8."""
    if parse_address(submission.email).smtputf8 and not smtputf8:
        message = Message(
            N_("Our mail server cannot deliver to an address with letters outside a–z "
               "before the @. Please give another address.")
        )
        _raise({"email": message})


def _answers(data: Mapping[str, Any], errors: dict[str, Message]) -> dict[str, Any]:
    value = data.get("answers")
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > ANSWERS_MAX:
        errors["answers"] = Message(N_("Must be an object of answers."))
        return {}
    for key, answer in value.items():
        ok = isinstance(answer, (str, bool, int)) or (
            isinstance(answer, list) and all(isinstance(a, str) for a in answer)
        )
        if not ok or len(str(key)) > 80 or len(str(answer)) > ANSWER_MAX:
            errors[f"answers.{key}"] = too_long(ANSWER_MAX) if ok else Message(N_("Must be text."))
    return dict(value)


def _raise(errors: Mapping[str, Message]) -> None:
    if errors:
        raise Refused(
            "registration.invalid", Message(N_("Some fields need attention.")), fields=errors
        )


def _mapping(data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise Refused("registration.invalid", Message(N_("Expected a JSON object.")))
    return data


def parse_submission(data: object) -> Submission:
    """Check a new registration's fields; raise `Refused` naming every bad field."""
    body = _mapping(data)
    errors: dict[str, Message] = {}
    submission = Submission(
        occurrence=_reference(body, "occurrence", errors, required=True) or "",
        attendance=_attendance(body, errors, required=True) or Attendance.IN_PERSON,
        name=_text(body, "name", NAME_MAX, errors, required=True),
        email=_email(body, errors),
        organisation=_text(body, "organisation", ORGANISATION_MAX, errors, required=True),
        job_title=_text(body, "job_title", JOB_TITLE_MAX, errors, required=False),
        theme=_reference(body, "theme", errors, required=False),
        diet=_text(body, "diet", DIET_MAX, errors, required=False),
        answers=_answers(body, errors),
        organisation_as_typed=body.get("organisation_as_typed") in (True, "1", "on", "true"),
    )
    _raise(errors)
    return submission


def parse_colleague(data: object) -> tuple[str, str]:
    """The name and e-mail address of a colleague taking a place over."""
    body = _mapping(data)
    errors: dict[str, Message] = {}
    name = _text(body, "name", NAME_MAX, errors, required=True)
    email = _email(body, errors)
    _raise(errors)
    return name, email


def parse_changes(data: object, *, by_organiser: bool = False) -> Changes:
    """Check the fields of a change through the personal link (or by an organiser)."""
    body = _mapping(data)
    errors: dict[str, Message] = {}
    allowed = {"occurrence", "attendance", "theme", "diet"} | (
        {"status"} if by_organiser else set()
    )
    unknown = set(body) - allowed
    for key in sorted(unknown):
        errors[key] = Message(N_("Cannot be changed here."))
    changes = Changes(
        occurrence=_reference(body, "occurrence", errors, required=False),
        attendance=_attendance(body, errors, required=False),
        theme=_reference(body, "theme", errors, required=False),
        diet=_text(body, "diet", DIET_MAX, errors, required=False) if "diet" in body else None,
        confirm=by_organiser and body.get("status") == "confirmed",
    )
    if by_organiser and "status" in body and body["status"] != "confirmed":
        errors["status"] = Message(N_('Only "confirmed" can be set by hand.'))
    _raise(errors)
    return changes


def check_answers(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]) -> None:
    """Answers must be to the organiser's questions, and required ones must be there."""
    keys = {str(q.get("key") or q.get("id") or "") for q in questions} - {""}
    errors: dict[str, Message] = {}
    for key in answers:
        if key not in keys:
            errors[f"answers.{key}"] = Message(N_("Unknown question."))
    for question in questions:
        key = str(question.get("key") or question.get("id") or "")
        if key and question.get("required") and answers.get(key) in (None, "", [], False):
            errors[f"answers.{key}"] = REQUIRED
        options = question.get("choices") or question.get("options")
        if key in answers and isinstance(options, list) and options:
            chosen = answers[key] if isinstance(answers[key], list) else [answers[key]]
            if any(c not in options for c in chosen if c not in ("", None)):
                errors[f"answers.{key}"] = Message(N_("Unknown choice."))
    _raise(errors)
