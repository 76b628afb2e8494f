"""The vendor's meeting event push: signature over the raw eventInfo (or compact JSON), case
of the hex, stale timestamps, and no second reading of a member (duplicate keys)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.huawei.webhook import MalformedPushError, RejectedPushError, verify_push
from tests.fakes.vendor_push import push_body

KEY = "subscriber-key"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)
INFO = {
    "event": "meeting.started",
    "timestamp": MS - 2000,
    "payload": {"meetingInfo": {"meetingID": "987446316", "meetingUUID": "u1"}},
}


def body(
    info_text: str, *, signed_text: str | None = None, ts: int = MS, nonce: str = "60426560"
) -> bytes:
    return push_body(
        info_text, key=KEY, app_id="sub-1", sent_ms=ts, nonce=nonce, signed_text=signed_text
    ).encode()


def test_signature_over_the_raw_event_info_bytes() -> None:
    raw = json.dumps(INFO, indent=2)  # spaced and indented: only the raw text matches
    push = verify_push(body(raw), key=KEY, now=NOW)
    assert (push.event, push.meeting_id, push.meeting_uuid) == (
        "meeting.started",
        "987446316",
        "u1",
    )
    assert push.event_time == NOW - timedelta(seconds=2)


def test_signature_over_compact_json_when_the_raw_text_differs() -> None:
    compact = json.dumps(INFO, separators=(",", ":"))
    push = verify_push(body(json.dumps(INFO), signed_text=compact), key=KEY, now=NOW)
    assert push.meeting_id == "987446316"


def test_uppercase_hex_is_accepted() -> None:
    raw = json.dumps(INFO)
    data = json.loads(body(raw))
    data["signature"] = data["signature"].upper()
    text = json.dumps({k: v for k, v in data.items() if k != "eventInfo"})[:-1]
    push = verify_push(f'{text}, "eventInfo": {raw}}}'.encode(), key=KEY, now=NOW)
    assert push.event == "meeting.started"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda: body(json.dumps(INFO)).replace(b"987446316", b"987446317"),
            "bad signature",
            id="tampered",
        ),
        pytest.param(
            lambda: body(json.dumps(INFO), ts=MS - 6 * 60_000), "stale timestamp", id="stale"
        ),
        pytest.param(
            lambda: body(json.dumps(INFO), ts=MS + 6 * 60_000), "stale timestamp", id="future"
        ),
        pytest.param(
            lambda: re.sub(rb'"signature": "[0-9a-f]+"', '"signature": "é"'.encode(), body("{}")),
            "bad signature",
            id="non-ascii-signature",
        ),
    ],
)
def test_rejected(make: object, reason: str) -> None:
    assert callable(make)
    with pytest.raises(RejectedPushError, match=reason):
        verify_push(make(), key=KEY, now=NOW)


def test_wrong_key_is_rejected() -> None:
    with pytest.raises(RejectedPushError, match="bad signature"):
        verify_push(body(json.dumps(INFO)), key="other", now=NOW)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"appID": "a"}',
        b'{"appID": 1, "nonce": "n", "signature": "s", "timestamp": 1, "eventInfo": {}}',
    ],
    ids=["text", "array", "no-event-info", "bad-types"],
)
def test_malformed_bodies(raw: bytes) -> None:
    with pytest.raises(MalformedPushError):
        verify_push(raw, key=KEY, now=NOW)


def test_verify_event_has_no_meeting() -> None:
    info = json.dumps({"event": "meeting.verify", "timestamp": MS})
    push = verify_push(body(info, nonce="n2"), key=KEY, now=NOW)
    assert (push.event, push.nonce, push.meeting_id) == ("meeting.verify", "n2", None)


SIGNED_INFO = '{"event": "meeting.started", "payload": {"meetingInfo": {"meetingID": "111"}}}'
OTHER_INFO = '{"event": "meeting.end", "payload": {"meetingInfo": {"meetingID": "222"}}}'


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            # The signature covers the first eventInfo; a lenient parser keeps the second.
            body(SIGNED_INFO)[:-1] + f', "eventInfo": {OTHER_INFO}}}'.encode(),
            id="second-event-info",
        ),
        pytest.param(
            body(SIGNED_INFO.replace('"111"}', '"111", "meetingID": "222"}')),
            id="nested-meeting-id",
        ),
        pytest.param(
            body(SIGNED_INFO.replace('{"event"', '{"event": "meeting.verify", "event"')),
            id="event-twice",
        ),
        pytest.param(body(SIGNED_INFO).replace(b'{"appID"', b'{"nonce": "x", "appID"'), id="nonce"),
    ],
)
def test_a_member_given_twice_is_refused_as_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedPushError, match="duplicate"):
        verify_push(raw, key=KEY, now=NOW)


def test_too_deep_nesting_is_malformed_not_a_crash() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(MalformedPushError):
        verify_push(body(f'{{"event": "meeting.started", "x": {deep}}}'), key=KEY, now=NOW)
