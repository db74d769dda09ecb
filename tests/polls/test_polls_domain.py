"""Poll rules without sockets or SQL: specs, lifecycle, answers, tallies, words, coalescing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import msgspec
import pytest

from live.errors import Conflict, Invalid, NotFound
from live.polls import domain
from live.polls.domain import Answer, PollKind, PollStatus, Spec
from live.polls.messages import PollsUpdate, PollView, coalesce
from live.polls.words import blocked_set, normalise_entry, stopwords
from live.realtime.envelope import encode

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class FakePoll:
    id: int = 1
    kind: str = "multiple"
    options: list[str] = dataclasses.field(default_factory=lambda: ["A", "B", "C"])
    max_choices: int | None = 2
    scale: int = 5
    final: bool = False
    moderated: bool = False
    status: str = "open"
    revealed: bool = False
    duration: int | None = None
    opened_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    revealed_at: dt.datetime | None = None


def clean(poll: FakePoll, **answer: object) -> object:
    return domain.clean_answer(poll, Answer(**answer), stopwords(), frozenset())  # type: ignore[arg-type]


def code(error: pytest.ExceptionInfo[Exception]) -> str:
    return error.value.code  # type: ignore[attr-defined,no-any-return]


def test_spec_needs_two_distinct_options_for_choices() -> None:
    """A choice poll with one option, or the same option twice, is invalid."""
    for options in (("Ja",), ("Ja", "Ja ")):
        with pytest.raises(Invalid):
            domain.clean_spec(Spec(PollKind.SINGLE, "Q?", options))
    spec = domain.clean_spec(Spec(PollKind.SINGLE, "  Q? ", (" Ja ", "Nei", "")))
    assert spec.question == "Q?" and spec.options == ("Ja", "Nei")


def test_spec_limits_rating_scale_and_choices() -> None:
    """Ratings go to 5 or 10; a limit of choices cannot exceed the options."""
    with pytest.raises(Invalid):
        domain.clean_spec(Spec(PollKind.RATING, "Q?", scale=7))
    with pytest.raises(Invalid):
        domain.clean_spec(Spec(PollKind.MULTIPLE, "Q?", ("A", "B"), max_choices=3))
    assert domain.clean_spec(Spec(PollKind.TEXT, "Q?")).moderated is True


def test_lifecycle_launch_close_and_time() -> None:
    """A launched timed poll is closed once its time has passed; closing twice conflicts."""
    poll = FakePoll(status="draft", duration=60)
    domain.launch(poll, NOW)  # type: ignore[arg-type]
    assert poll.closes_at == NOW + dt.timedelta(seconds=60)
    later = NOW + dt.timedelta(seconds=61)
    assert domain.effective_status(poll, later) == PollStatus.CLOSED  # type: ignore[arg-type]
    with pytest.raises(Conflict) as closed:
        domain.check_answerable(poll, 1, later)  # type: ignore[arg-type]
    assert code(closed) == "poll.closed"
    domain.close(poll, later)  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        domain.close(poll, later)  # type: ignore[arg-type]


def test_drafts_and_unknown_polls_look_the_same() -> None:
    """Answering a draft gives poll.not_found, as an unknown poll does."""
    with pytest.raises(NotFound):
        domain.check_answerable(FakePoll(status="draft"), 1, NOW)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        domain.check_answerable(None, 1, NOW)


def test_choices_are_checked_against_the_poll() -> None:
    """Out of range, too many and none are refused with their codes; duplicates fold."""
    poll = FakePoll()
    assert clean(poll, choices=(2, 0, 2)) == [0, 2]
    for choices, expected in (((5,), "poll.out_of_range"), ((0, 1, 2), "poll.too_many_choices"),
                              ((), "poll.empty")):
        with pytest.raises(Invalid) as refused:
            clean(poll, choices=choices)
        assert code(refused) == expected
    with pytest.raises(Invalid):
        clean(FakePoll(kind="single"), choices=(0, 1))


def test_rating_ranking_and_text() -> None:
    """Ratings within the scale, rankings of every option once, texts within the limit."""
    assert clean(FakePoll(kind="rating", scale=10), rating=0) == 0
    with pytest.raises(Invalid):
        clean(FakePoll(kind="rating"), rating=0)
    assert clean(FakePoll(kind="ranking"), ranking=(2, 0, 1)) == [2, 0, 1]
    with pytest.raises(Invalid):
        clean(FakePoll(kind="ranking"), ranking=(0, 0, 1))
    with pytest.raises(Invalid) as long:
        clean(FakePoll(kind="text"), text="x" * 1001)
    assert code(long) == "poll.too_long"


def test_words_are_normalised_and_stop_and_blocked_words_dropped() -> None:
    """Case, spacing and punctuation fold; stop words go; blocked entries are not counted."""
    poll = FakePoll(kind="words")
    assert clean(poll, words=("Grønn  Omstilling!", "the Climate", "og")) == [
        "grønn omstilling", "climate"]
    assert normalise_entry("Ikkje   berekraft", stopwords()) == "berekraft"
    blocked = blocked_set(["Dum"])
    value = domain.clean_answer(poll, Answer(words=("dum idé", "fin")), stopwords(), blocked)  # type: ignore[arg-type]
    assert value == ["fin"]
    with pytest.raises(Invalid) as many:
        clean(poll, words=("a", "b", "c", "d"))
    assert code(many) == "poll.too_many_choices"
    with pytest.raises(Invalid) as long:
        clean(poll, words=("x" * 41,))
    assert code(long) == "poll.too_long"


def test_final_answers_cannot_change() -> None:
    """A second answer is refused where answers are final, allowed otherwise."""
    domain.check_change(FakePoll(), True)  # type: ignore[arg-type]
    with pytest.raises(Conflict) as final:
        domain.check_change(FakePoll(final=True), True)  # type: ignore[arg-type]
    assert code(final) == "poll.answered"


def test_tally_difference_and_recount_agree() -> None:
    """Moving counts by tally differences gives the counts recounted from the answers."""
    counts: dict[str, int] = {}
    answers = {"a": [0, 1], "b": [1]}
    for value in answers.values():
        for k, n in domain.difference({}, domain.tally("multiple", value)).items():
            counts[k] = counts.get(k, 0) + n
    old, answers["a"] = answers["a"], [2]
    for k, n in domain.difference(domain.tally("multiple", old), domain.tally("multiple", [2])).items():
        counts[k] = counts.get(k, 0) + n
    assert {k: n for k, n in counts.items() if n} == domain.recount("multiple", answers.values())
    assert domain.tally("ranking", [2, 0, 1]) == {"2": 1, "0": 2, "1": 3}


def view(poll_id: int, v: int, answers: int) -> PollView:
    return PollView(id=poll_id, v=v, kind=PollKind.SINGLE, question="Q", status=PollStatus.OPEN,
                    answers=answers)


def test_coalesce_keeps_the_newest_view_per_poll() -> None:
    """Several updates become one frame: per poll the highest v, the highest pv overall."""
    notices = [encode(PollsUpdate(pv=v, polls=[view(1, v, v)])) for v in (3, 5, 4)]
    notices.append(encode(PollsUpdate(pv=6, polls=[view(2, 6, 1)])))
    merged = msgspec.json.decode(coalesce(notices))
    assert merged["pv"] == 6
    assert {p["id"]: p["answers"] for p in merged["polls"]} == {1: 5, 2: 1}
