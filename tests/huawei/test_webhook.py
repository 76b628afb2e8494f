"""The vendor's meeting event push: signature over the raw eventInfo (or compact JSON), case
of the hex, stale timestamps and reused nonces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.huawei.webhook import (
    MalformedPushError,
    NonceCache,
    RejectedPushError,
    push_signature,
    verify_push,
)

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
    signature = push_signature(
        KEY, app_id="sub-1", timestamp=str(ts), nonce=nonce, event_info=signed_text or info_text
    )
    return (
        f'{{"appID": "sub-1", "timestamp": {ts}, "nonce": "{nonce}", '
        f'"signature": "{signature}", "eventInfo": {info_text}}}'
    ).encode()


def test_signature_over_the_raw_event_info_bytes() -> None:
    raw = json.dumps(INFO, indent=2)  # spaced and indented: only the raw text matches
    push = verify_push(body(raw), key=KEY, now=NOW, nonces=NonceCache())
    assert (push.event, push.meeting_id, push.meeting_uuid) == (
        "meeting.started",
        "987446316",
        "u1",
    )
    assert push.event_time == NOW - timedelta(seconds=2)


def test_signature_over_compact_json_when_the_raw_text_differs() -> None:
    compact = json.dumps(INFO, separators=(",", ":"))
    push = verify_push(
        body(json.dumps(INFO), signed_text=compact), key=KEY, now=NOW, nonces=NonceCache()
    )
    assert push.meeting_id == "987446316"


def test_uppercase_hex_is_accepted() -> None:
    raw = json.dumps(INFO)
    data = json.loads(body(raw))
    data["signature"] = data["signature"].upper()
    text = json.dumps({k: v for k, v in data.items() if k != "eventInfo"})[:-1]
    push = verify_push(
        f'{text}, "eventInfo": {raw}}}'.encode(), key=KEY, now=NOW, nonces=NonceCache()
    )
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
    ],
)
def test_rejected(make: object, reason: str) -> None:
    assert callable(make)
    with pytest.raises(RejectedPushError, match=reason):
        verify_push(make(), key=KEY, now=NOW, nonces=NonceCache())


def test_wrong_key_is_rejected() -> None:
    with pytest.raises(RejectedPushError, match="bad signature"):
        verify_push(body(json.dumps(INFO)), key="other", now=NOW, nonces=NonceCache())


def test_a_nonce_is_accepted_once_within_the_window() -> None:
    nonces = NonceCache()
    verify_push(body(json.dumps(INFO)), key=KEY, now=NOW, nonces=nonces)
    with pytest.raises(RejectedPushError, match="reused nonce"):
        verify_push(body(json.dumps(INFO)), key=KEY, now=NOW, nonces=nonces)
    later = NOW + timedelta(minutes=6)
    fresh = body(json.dumps(INFO), ts=int(later.timestamp() * 1000))
    assert verify_push(fresh, key=KEY, now=later, nonces=nonces).nonce == "60426560"


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
        verify_push(raw, key=KEY, now=NOW, nonces=NonceCache())


def test_verify_event_has_no_meeting() -> None:
    info = json.dumps({"event": "meeting.verify", "timestamp": MS})
    push = verify_push(body(info, nonce="n2"), key=KEY, now=NOW, nonces=NonceCache())
    assert (push.event, push.nonce, push.meeting_id) == ("meeting.verify", "n2", None)
