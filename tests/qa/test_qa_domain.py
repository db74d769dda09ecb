"""The question lifecycle and queue ordering, without sockets or a database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from live.errors import Conflict, Forbidden, Invalid, NotFound
from live.qa import domain
from live.qa.domain import QaStatus

NOW = dt.datetime(2026, 1, 9, 10, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)


@dataclasses.dataclass
class Q:
    id: int
    status: str = QaStatus.PENDING
    text: str = "Why?"
    original_text: str | None = None
    queue_pos: int | None = None
    merged_into: int | None = None
    approved_at: dt.datetime | None = None
    on_air_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    rejected_at: dt.datetime | None = None


def test_approve_records_time_once() -> None:
    """Approving sets the approval time; re-approving after a reject keeps the first time."""
    q = Q(1)
    domain.approve(q, NOW)
    domain.reject(q, LATER)
    domain.approve(q, LATER)
    assert (q.status, q.approved_at, q.rejected_at) == (QaStatus.APPROVED, NOW, None)


def test_reject_takes_question_off_the_queue() -> None:
    """A rejected question leaves the queue."""
    q = Q(1, status=QaStatus.APPROVED, queue_pos=0)
    domain.reject(q, NOW)
    assert (q.status, q.queue_pos) == (QaStatus.REJECTED, None)


def test_answered_question_cannot_be_rejected() -> None:
    """Transitions outside the lifecycle raise a conflict with code qa.conflict."""
    q = Q(1, status=QaStatus.ANSWERED)
    with pytest.raises(Conflict) as caught:
        domain.reject(q, NOW)
    assert caught.value.code == "qa.conflict"


def test_edit_keeps_the_first_original() -> None:
    """Editing twice keeps the asker's own words as the original."""
    q = Q(1, text="teh question")
    domain.edit(q, "the question")
    domain.edit(q, "The question?")
    assert (q.text, q.original_text) == ("The question?", "teh question")


def test_merge_points_at_target() -> None:
    """A merged question records its target and leaves the queue."""
    source, target = Q(1, status=QaStatus.APPROVED, queue_pos=2), Q(2, status=QaStatus.APPROVED)
    domain.merge(source, target)
    assert (source.status, source.merged_into, source.queue_pos) == (QaStatus.MERGED, 2, None)


def test_merge_into_itself_is_refused() -> None:
    """A question cannot be merged into itself."""
    q = Q(1)
    with pytest.raises(Conflict):
        domain.merge(q, q)


def test_on_air_finishes_the_previous_question() -> None:
    """Putting a question on air marks the previous one answered, with times for both."""
    first, second = Q(1, status=QaStatus.APPROVED), Q(2, status=QaStatus.APPROVED, queue_pos=0)
    domain.put_on_air(first, None, NOW)
    domain.put_on_air(second, first, LATER)
    assert (first.status, first.on_air_at, first.answered_at) == (QaStatus.ANSWERED, NOW, LATER)
    assert (second.status, second.on_air_at, second.queue_pos) == (QaStatus.ON_AIR, LATER, None)


def test_pending_question_cannot_go_on_air() -> None:
    """Only approved questions go on air."""
    with pytest.raises(Conflict):
        domain.put_on_air(Q(1), None, NOW)


def test_clean_text_enforces_the_event_limit() -> None:
    """Text over the event's maximum gets qa.too_long; blank text gets qa.empty."""
    rules = domain.Rules(max_length=10)
    assert domain.clean_text("  short  ", rules) == "short"
    with pytest.raises(Invalid) as long:
        domain.clean_text("x" * 11, rules)
    with pytest.raises(Invalid) as empty:
        domain.clean_text("   ", rules)
    assert (long.value.code, empty.value.code) == ("qa.too_long", "qa.empty")


def test_closed_qa_refuses_viewers_but_not_moderators() -> None:
    """Closed Q&A (or a closed programme item) refuses viewers; the floor still gets in."""
    closed = domain.Rules(open=False)
    with pytest.raises(Conflict) as caught:
        domain.check_ask(closed, anonymous=False, name="A", item=None, moderator=False)
    assert caught.value.code == "qa.closed"
    domain.check_ask(closed, anonymous=False, name="A", item=None, moderator=True)
    with pytest.raises(Conflict):
        domain.check_ask(
            domain.Rules(closed_items=frozenset({4})),
            anonymous=False,
            name="A",
            item=4,
            moderator=False,
        )


def test_anonymous_questions_need_permission() -> None:
    """Without anonymous questions, a viewer must give a name."""
    rules = domain.Rules(allow_anonymous=False)
    with pytest.raises(Invalid) as caught:
        domain.check_ask(rules, anonymous=True, name="", item=None, moderator=False)
    assert caught.value.code == "qa.name_required"


def test_premoderation_decides_initial_status() -> None:
    """Questions wait for a moderator under pre-moderation; the floor's never wait."""
    assert domain.initial_status(domain.Rules(), moderator=False) == QaStatus.PENDING
    assert domain.initial_status(domain.Rules(), moderator=True) == QaStatus.APPROVED
    assert (
        domain.initial_status(domain.Rules(premoderation=False), moderator=False)
        == QaStatus.APPROVED
    )


def test_votes_only_on_open_public_questions() -> None:
    """Pending or unknown questions look unknown to voters; answered ones are closed."""
    with pytest.raises(NotFound):
        domain.check_votable(None, 9)
    with pytest.raises(NotFound):
        domain.check_votable(Q(1), 1)
    with pytest.raises(Conflict):
        domain.check_votable(Q(1, status=QaStatus.ANSWERED), 1)
    assert domain.check_votable(Q(1, status=QaStatus.APPROVED), 1).id == 1


def test_queue_ordering() -> None:
    """Enqueue appends or inserts, move reorders, dequeue removes."""
    order = domain.enqueue([], 1, None)
    order = domain.enqueue(order, 2, None)
    order = domain.enqueue(order, 3, 0)
    assert order == [3, 1, 2]
    assert domain.move(order, 2, 0) == [2, 3, 1]
    assert domain.move(order, 3, 99) == [1, 2, 3]
    assert domain.dequeue(order, 1) == [3, 2]
    with pytest.raises(Conflict):
        domain.move(order, 7, 0)


def test_moderator_actions_need_the_role() -> None:
    """A viewer performing a moderator action gets forbidden."""
    with pytest.raises(Forbidden) as caught:
        domain.require_moderator(False)
    assert caught.value.code == "forbidden"


def test_panel_step_now_leaves_the_queue() -> None:
    """Putting a queued question on air removes it from the order and stamps the time."""
    first, second = Q(1, status=QaStatus.APPROVED, queue_pos=0), Q(2, status=QaStatus.APPROVED)
    order = domain.panel_step(domain.Enqueue(), second, None, [1], NOW)
    assert order == [1, 2]
    order = domain.panel_step(domain.Now(), first, None, order, NOW)
    assert (order, first.status, first.on_air_at) == ([2], QaStatus.ON_AIR, NOW)


def test_panel_step_enqueue_approves_pending() -> None:
    """Queuing a pending question approves it on the way; an answered one cannot be queued."""
    pending = Q(3)
    assert domain.panel_step(domain.Enqueue(0), pending, None, [], NOW) == [3]
    assert pending.status == QaStatus.APPROVED
    with pytest.raises(Conflict):
        domain.panel_step(domain.Enqueue(), Q(4, status=QaStatus.ANSWERED), None, [], NOW)


def test_panel_steps_move_dequeue_and_done() -> None:
    """Each step type does its own thing to the order; each names itself in the log."""
    a, b = Q(1, status=QaStatus.APPROVED, queue_pos=0), Q(2, status=QaStatus.APPROVED, queue_pos=1)
    assert domain.panel_step(domain.Move(0), b, None, [1, 2], NOW) == [2, 1]
    assert domain.panel_step(domain.Dequeue(), a, None, [2, 1], NOW) == [2]
    assert a.queue_pos is None and a.status == QaStatus.APPROVED
    assert domain.panel_step(domain.Done(), b, None, [2], NOW) == []
    assert (b.status, b.answered_at) == (QaStatus.ANSWERED, NOW)
    with pytest.raises(Conflict):
        domain.panel_step(domain.Move(0), a, None, [], NOW)
    steps = (domain.Enqueue(), domain.Dequeue(), domain.Move(0), domain.Now(), domain.Done())
    assert [s.action for s in steps] == ["enqueue", "dequeue", "move", "now", "done"]
