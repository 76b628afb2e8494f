"""The vendor's meeting event push (reference §6): parse a request body and verify its signature.

Pure: `verify_push(body, key=, now=, nonces=)` takes the clock and a `NonceCache` and does no I/O.
The signature is hex(HMAC-SHA256(subscriberKey, appID + timestamp + nonce + eventInfoJson)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = [
    "MAX_AGE",
    "MalformedPushError",
    "MeetingPush",
    "NonceCache",
    "PushError",
    "RejectedPushError",
    "push_signature",
    "verify_push",
]

MAX_AGE: Final = timedelta(minutes=5)
"""A push older (or further in the future) than this is refused: replay protection."""
VERIFY: Final = "meeting.verify"


class PushError(Exception):
    """A push that is not accepted."""


class MalformedPushError(PushError):
    """Not the vendor's push shape (HTTP 400)."""


class RejectedPushError(PushError):
    """Bad signature, stale timestamp or a reused nonce (HTTP 401)."""


@dataclass(frozen=True, slots=True)
class MeetingPush:
    """A verified push. `meeting_id` is the conference ID (None for meeting.verify)."""

    event: str
    app_id: str
    nonce: str
    timestamp: datetime
    """When the vendor sent the push."""
    event_time: datetime
    """When the event happened (eventInfo.timestamp; the push timestamp when absent)."""
    meeting_id: str | None
    meeting_uuid: str | None
    cycle_sub_id: str | None


class NonceCache:
    """Nonces seen within MAX_AGE (in memory, per process)."""

    def __init__(self, max_age: timedelta = MAX_AGE) -> None:
        self._max_age = max_age
        self._seen: set[str] = set()
        self._order: deque[tuple[datetime, str]] = deque()

    def first_use(self, nonce: str, now: datetime) -> bool:
        """Remember `nonce`; False if it was already used within the window."""
        while self._order and self._order[0][0] < now - self._max_age:
            self._seen.discard(self._order.popleft()[1])
        if nonce in self._seen:
            return False
        self._seen.add(nonce)
        self._order.append((now, nonce))
        return True


def push_signature(key: str, *, app_id: str, timestamp: str, nonce: str, event_info: str) -> str:
    """The hex signature of a push, as the vendor computes it."""
    data = f"{app_id}{timestamp}{nonce}{event_info}".encode()
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


def _raw_member(body: str, name: str) -> str | None:
    """The exact source text of a top-level member's value in a JSON object, or None."""
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    i = len(body) - len(body.lstrip(ws))
    if body[i : i + 1] != "{":
        return None
    i += 1
    while True:
        while i < len(body) and body[i] in ws + ",":
            i += 1
        if i >= len(body) or body[i] == "}":
            return None
        key, i = decoder.raw_decode(body, i)
        while body[i] in ws:
            i += 1
        if body[i] != ":":
            return None
        i += 1
        while body[i] in ws:
            i += 1
        start = i
        _, i = decoder.raw_decode(body, i)
        if key == name:
            return body[start:i]


def _ms(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedPushError("timestamp is not a number")
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedPushError("timestamp is not a number") from exc


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def verify_push(body: bytes, *, key: str, now: datetime, nonces: NonceCache) -> MeetingPush:
    """Parse and verify a push body. Raises MalformedPushError or RejectedPushError.

    The signed eventInfo text is tried as the raw bytes of the body first, then as compact
    JSON (the docs do not pin the serialization); hex is compared case-insensitively.
    """
    try:
        text = body.decode()
        outer = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPushError("body is not JSON") from exc
    if not isinstance(outer, dict) or not isinstance(outer.get("eventInfo"), dict):
        raise MalformedPushError("no eventInfo object")
    app_id, nonce, signature = outer.get("appID"), outer.get("nonce"), outer.get("signature")
    if not isinstance(app_id, str) or not isinstance(nonce, str) or not isinstance(signature, str):
        raise MalformedPushError("appID, nonce and signature must be strings")
    raw_timestamp = outer.get("timestamp")
    sent = _ms(raw_timestamp)
    info: dict[str, Any] = outer["eventInfo"]
    candidates = [
        _raw_member(text, "eventInfo"),
        json.dumps(info, separators=(",", ":"), ensure_ascii=False),
        json.dumps(info, separators=(",", ":")),
    ]
    expected = signature.lower()
    if not any(
        hmac.compare_digest(
            push_signature(
                key, app_id=app_id, timestamp=str(raw_timestamp), nonce=nonce, event_info=c
            ),
            expected,
        )
        for c in dict.fromkeys(c for c in candidates if c is not None)
    ):
        raise RejectedPushError("bad signature")
    if abs(now - sent) > MAX_AGE:
        raise RejectedPushError("stale timestamp")
    if not nonces.first_use(nonce, now):
        raise RejectedPushError("reused nonce")
    event = info.get("event")
    if not isinstance(event, str) or not event:
        raise MalformedPushError("eventInfo has no event")
    payload = info.get("payload")
    meeting = payload.get("meetingInfo") if isinstance(payload, dict) else None
    meeting = meeting if isinstance(meeting, dict) else {}
    event_time = _ms(info["timestamp"]) if "timestamp" in info else sent
    return MeetingPush(
        event=event,
        app_id=app_id,
        nonce=nonce,
        timestamp=sent,
        event_time=event_time,
        meeting_id=_text(meeting.get("meetingID")),
        meeting_uuid=_text(meeting.get("meetingUUID")),
        cycle_sub_id=_text(meeting.get("meetingCycleSubID")),
    )
