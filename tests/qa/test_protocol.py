"""Decoding client frames and coalescing server updates, without sockets."""

from __future__ import annotations

import msgspec
import pytest

from live.qa.domain import QaStatus
from live.qa.messages import (
    QA_MESSAGES,
    Ask,
    Done,
    Error,
    PanelView,
    ProtocolError,
    QuestionView,
    SettingsView,
    Snapshot,
    Update,
    Vote,
    VoteCount,
    decode_update,
    encode,
    merge_updates,
    public_update,
)
from live.realtime.envelope import Decoder, Ok, Ping, Resync

# The decoder of the connection's own messages and the Q&A's, as the endpoint builds it.
decode_client = Decoder([Ping, Resync, *QA_MESSAGES]).decode


def code_of(data: str | bytes) -> tuple[str, int | None]:
    with pytest.raises(ProtocolError) as caught:
        decode_client(data)
    return caught.value.code, caught.value.message_id


def test_decodes_each_type_into_its_struct() -> None:
    """A valid frame becomes the struct its `type` names, with defaults filled in."""
    assert decode_client('{"type":"qa.ask","id":1,"text":"Hi"}') == Ask(id=1, text="Hi")
    assert decode_client(b'{"type":"qa.vote","id":2,"question":5}') == Vote(id=2, question=5)
    assert decode_client('{"type":"panel.done","id":3}') == Done(id=3, question=None)


def test_invalid_json_is_bad_json() -> None:
    """Text that is not a JSON object gets bad_json and no id."""
    assert code_of("{nope") == ("bad_json", None)
    assert code_of("[1, 2]") == ("bad_json", None)
    assert code_of('"text"') == ("bad_json", None)


def test_unknown_type_keeps_the_id() -> None:
    """An unknown type gets unknown_type, echoing the id so the client can match it."""
    assert code_of('{"type":"qa.delete","id":9}') == ("unknown_type", 9)
    assert code_of('{"id":9}') == ("unknown_type", 9)


def test_missing_wrong_and_extra_fields() -> None:
    """Missing, mistyped or unknown fields get invalid_message with the id."""
    assert code_of('{"type":"qa.vote","id":4}') == ("invalid_message", 4)
    assert code_of('{"type":"qa.vote","id":4,"question":"x"}') == ("invalid_message", 4)
    assert code_of('{"type":"qa.vote","id":4,"question":0}') == ("invalid_message", 4)
    assert code_of('{"type":"qa.vote","id":4,"question":1,"admin":true}') == ("invalid_message", 4)
    assert code_of('{"type":"ping","id":"4"}') == ("invalid_message", None)


def test_oversized_frame_is_refused_before_parsing() -> None:
    """A frame over the size limit gets too_large."""
    assert code_of('{"type":"qa.ask","id":1,"text":"' + "x" * 20_000 + '"}')[0] == "too_large"


def test_replies_encode_with_type_tag() -> None:
    """Replies carry their type and omit empty fields."""
    assert msgspec.json.decode(encode(Ok(id=3))) == {"type": "ok", "id": 3}
    assert msgspec.json.decode(encode(Error(id=None, code="bad_json", message="x"))) == {
        "type": "error",
        "id": None,
        "code": "bad_json",
        "message": "x",
    }


def q(qid: int, v: int, status: QaStatus = QaStatus.APPROVED, **kw: object) -> QuestionView:
    return QuestionView(id=qid, v=v, status=status, text="T", **kw)  # type: ignore[arg-type]


def test_merge_keeps_newest_state_per_item() -> None:
    """Coalescing keeps the newest version of each question, the panel and the settings."""
    merged = merge_updates(
        [
            Update(v=2, questions=[q(1, 2, votes=1)], panel=PanelView(v=2, queue=[1])),
            Update(v=5, questions=[q(1, 5, votes=3), q(2, 5)]),
            Update(v=4, questions=[q(1, 4, votes=2)], panel=PanelView(v=4, queue=[1, 2])),
        ]
    )
    assert merged.v == 5
    assert {x.id: x.votes for x in merged.questions} == {1: 3, 2: 0}
    assert merged.panel == PanelView(v=4, queue=[1, 2])


def test_merge_folds_vote_counts() -> None:
    """A newer count folds into an older whole view; a newer whole view drops an older count;
    a count alone stays a count."""
    merged = merge_updates(
        [
            Update(v=2, questions=[q(1, 2, votes=1)]),
            Update(v=3, votes=[VoteCount(id=1, v=3, votes=2), VoteCount(id=2, v=3, votes=7)]),
            Update(v=4, votes=[VoteCount(id=3, v=4, votes=1)], questions=[q(2, 4, votes=8)]),
            Update(v=5, votes=[VoteCount(id=3, v=5, votes=2)]),
        ]
    )
    assert [(x.id, x.v, x.votes, x.text) for x in merged.questions] == [
        (1, 3, 2, "T"), (2, 4, 8, "T")]
    assert merged.votes == [VoteCount(id=3, v=5, votes=2)]
    assert public_update(Update(v=5, votes=merged.votes)) == Update(v=5, votes=merged.votes)


def test_public_update_hides_pending_and_moderator_fields() -> None:
    """Viewers get no pending questions, no original text, and only tombstones of rejects."""
    full = Update(
        v=7,
        questions=[
            q(1, 7, QaStatus.PENDING),
            q(2, 7, original_text="orig", by="Mona"),
            q(3, 7, QaStatus.REJECTED),
        ],
    )
    public = public_update(full)
    assert public is not None
    views = {x.id: x for x in public.questions}
    assert set(views) == {2, 3}
    assert (views[2].original_text, views[2].by) == (None, None)
    assert (views[3].text, views[3].status) == ("", QaStatus.REJECTED)
    assert public_update(Update(v=8, questions=[q(1, 8, QaStatus.PENDING)])) is None


def test_update_round_trips_through_the_hub_encoding() -> None:
    """An update encoded for the hub decodes to the same struct."""
    update = Update(
        v=3,
        questions=[q(1, 3)],
        settings=SettingsView(v=3, premoderation=False, anonymous=True, max_length=300, open=True),
    )
    assert decode_update(encode(update)) == update


def test_snapshot_type_tag() -> None:
    """A snapshot says so in its type field."""
    snap = Snapshot(
        v=0,
        questions=[],
        panel=PanelView(v=0, queue=[]),
        settings=SettingsView(v=0, premoderation=True, anonymous=True, max_length=500, open=True),
    )
    assert msgspec.json.decode(encode(snap))["type"] == "snapshot"
