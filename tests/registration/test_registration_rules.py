"""The pure registration rules: deadline, mode, quota arithmetic, place or waitlist, messages."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from live.errors import TooMany
from live.i18n import load_translations
from live.models.people import OrganisationKind
from live.models.registration import Attendance, Status
from live.registration import rules
from live.registration.ratelimit import RateLimiter
from live.registration.rules import Message, QuotaRule, Refusal
from live.registration.validate import check_answers, parse_submission

DEADLINE = dt.datetime(2026, 12, 13, 15, 0, tzinfo=dt.UTC)


def test_deadline_is_inclusive_and_message_names_the_day() -> None:
    """Registering at the deadline is allowed; a second later is refused naming 13 December."""
    rules.check_deadline(DEADLINE, DEADLINE)
    rules.check_deadline(None, DEADLINE)
    with pytest.raises(Refusal) as caught:
        rules.check_deadline(DEADLINE, DEADLINE + dt.timedelta(seconds=1))
    assert caught.value.message == "The registration deadline passed on 13 December."


def test_quota_limit_picks_the_tightest_matching_rule() -> None:
    """A named organisation's quota and a kind quota both apply; the smaller one wins."""
    quotas = [QuotaRule(4, OrganisationKind.COUNTY), QuotaRule(1, None, organisation_id=9)]
    assert rules.applicable_limit(quotas, 9, "county") == 1
    assert rules.applicable_limit(quotas, 3, "county") == 4
    assert rules.applicable_limit(quotas, 3, "municipality") is None
    assert rules.applicable_limit(quotas, None, "county") is None


def test_quota_refusal_tells_used_and_limit() -> None:
    """At the limit the refusal says "4 of 4" and blames the organisation field."""
    rules.check_quota(4, 3)
    rules.check_quota(None, 100)
    with pytest.raises(Refusal) as caught:
        rules.check_quota(4, 4)
    assert caught.value.code == "registration.quota_exceeded"
    assert "4 of 4" in caught.value.message and "organisation" in caught.value.fields


def test_place_waitlists_when_full_or_someone_waits() -> None:
    """Free place and empty queue confirms; a full room or a waiting queue waitlists."""
    assert rules.place(None, 1000, 0) == Status.CONFIRMED
    assert rules.place(2, 1, 0) == Status.CONFIRMED
    assert rules.place(2, 2, 0) == Status.WAITLISTED
    assert rules.place(2, 1, 3) == Status.WAITLISTED
    assert rules.promotable(2, 1, 3) == 1 and rules.promotable(None, 0, 3) == 3
    assert rules.promotable(2, 2, 3) == 0


def test_modes_offered() -> None:
    """Online needs the occurrence to be online; capacity 0 means the mode is not offered."""
    assert rules.offered(Attendance.IN_PERSON, None, False)
    assert not rules.offered(Attendance.IN_PERSON, 0, True)
    assert not rules.offered(Attendance.ONLINE, None, False)
    assert rules.offered(Attendance.ONLINE, None, True)


def test_refusal_renders_in_bokmal() -> None:
    """A refusal localises to bokmål through the app's catalogue."""
    error = rules.refuse(
        "registration.quota_exceeded",
        Message(
            "Your organisation already has %(used)s of %(limit)s places.", {"used": 1, "limit": 1}
        ),
    )
    catalogue = load_translations()["nb"]
    error.localise(lambda m: m.render(catalogue.gettext))
    assert error.message == "Organisasjonen din har allerede 1 av 1 plasser."


def test_submission_field_errors_are_collected() -> None:
    """Every bad field is named at once, and e-mail is case-folded."""
    with pytest.raises(Refusal) as caught:
        parse_submission(
            {
                "occurrence": True,
                "attendance": "in_person",
                "name": " ",
                "email": "a@b",
                "organisation": "x\x00y",
                "diet": 5,
            }
        )
    assert set(caught.value.fields) == {"occurrence", "name", "email", "organisation", "diet"}
    ok = parse_submission(
        {
            "occurrence": 3,
            "attendance": "online",
            "name": "A",
            "email": "Kari@Example.NO",
            "organisation": "NAV",
        }
    )
    assert (ok.occurrence, ok.email, ok.attendance) == ("3", "kari@example.no", Attendance.ONLINE)


def test_answers_follow_the_organisers_questions() -> None:
    """Required questions must be answered; choices must be among the options."""
    questions = [{"key": "allergy", "required": True}, {"key": "lunch", "choices": ["ja", "nei"]}]
    check_answers(questions, {"allergy": "nøtter", "lunch": "ja"})
    with pytest.raises(Refusal) as caught:
        check_answers(questions, {"lunch": "kanskje"})
    assert set(caught.value.fields) == {"answers.allergy", "answers.lunch"}


async def test_rate_limiter_window_slides() -> None:
    """The limit counts per key and frees up once the window has passed the old attempts."""
    limiter = RateLimiter(limit=2, window=1)
    await limiter.hit("a")
    await limiter.hit("a")
    await limiter.hit("b")
    with pytest.raises(TooMany) as refused:
        await limiter.hit("a")
    assert refused.value.headers == {"Retry-After": "1"}
    await asyncio.sleep(1.05)  # the window (1 s) has slid past both attempts
    await limiter.hit("a")
