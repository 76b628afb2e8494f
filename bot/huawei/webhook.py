"""The vendor's meeting event push (reference §6): parse a request body and verify its signature.

Pure: `verify_push(body, key=, now=)` takes the clock and does no I/O; the caller then refuses a
nonce seen before (`NONCE_SCOPE`, remembered for `NONCE_TTL`, shared by every replica).
The signature is hex(HMAC-SHA256(subscriberKey, appID + timestamp + nonce + eventInfoJson)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

__all__ = [
    "MAX_AGE",
    "NONCE_SCOPE",
    "NONCE_TTL",
    "MalformedPushError",
    "MeetingPush",
    "PushError",
    "PushKind",
    "RejectedPushError",
    "push_signature",
    "verify_push",
]

MAX_AGE: Final = timedelta(minutes=5)
"""A push older (or further in the future) than this is refused: replay protection."""
NONCE_SCOPE: Final = "hcm.nonce"
NONCE_TTL: Final = 2 * MAX_AGE
"""How long a nonce is remembered: a push is accepted from MAX_AGE before its timestamp until
MAX_AGE after it, so its nonce must outlive that whole window."""
VERIFY: Final = "meeting.verify"


class PushKind(Enum):
    """What a push means to the bot, whatever the vendor calls it on the wire."""

    VERIFY = "verify"
    """The vendor checks the subscription: answer with the event and the nonce."""
    STARTED = "started"
    ENDED = "ended"
    OTHER = "other"
    """Anything else the vendor pushes: accepted and ignored."""


_KINDS: Final = {
    VERIFY: PushKind.VERIFY,
    "meeting.started": PushKind.STARTED,
    "meeting.end": PushKind.ENDED,
    "meeting.conclude": PushKind.ENDED,
}


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

    @property
    def kind(self) -> PushKind:
        """What the event means: `event` is the vendor's own name for it."""
        return _KINDS.get(self.event, PushKind.OTHER)


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


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # A member given twice is read differently by different parsers (the signature
        # check could see one value and the rest of the code another).
        raise MalformedPushError("duplicate key in a JSON object")
    return obj


def _loads(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_members)
    except ValueError as exc:
        raise MalformedPushError("body is not JSON") from exc


def _signable_texts(text: str, info: dict[str, Any]) -> Iterator[str]:
    """What the vendor may have signed as eventInfo: the raw text, then compact JSON."""
    raw = _raw_member(text, "eventInfo")
    if raw is not None:
        yield raw
    yield json.dumps(info, separators=(",", ":"), ensure_ascii=False)
    yield json.dumps(info, separators=(",", ":"))


def _signed_text(
    candidates: Iterator[str], *, key: str, app_id: str, timestamp: str, nonce: str, signature: str
) -> str:
    """The candidate eventInfo text that `signature` covers; RejectedPushError if none."""
    expected = signature.lower().encode()  # bytes: compare_digest refuses non-ASCII str
    for candidate in candidates:
        computed = push_signature(
            key, app_id=app_id, timestamp=timestamp, nonce=nonce, event_info=candidate
        )
        if hmac.compare_digest(computed.encode(), expected):
            return candidate
    raise RejectedPushError("bad signature")


def verify_push(body: bytes, *, key: str, now: datetime) -> MeetingPush:
    """Parse and verify a push body. Raises MalformedPushError or RejectedPushError.

    The signed eventInfo text is tried as the raw bytes of the body first, then as compact
    JSON (the docs do not pin the serialization); hex is compared case-insensitively. The
    event is read from the text that matched, and a key given twice anywhere is refused.
    The nonce is not checked here: see NONCE_SCOPE.
    """
    try:
        return _verify(body, key=key, now=now)
    except RecursionError as exc:
        raise MalformedPushError("JSON nested too deeply") from exc


def _verify(body: bytes, *, key: str, now: datetime) -> MeetingPush:
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise MalformedPushError("body is not UTF-8") from exc
    outer = _loads(text)
    if not isinstance(outer, dict) or not isinstance(outer.get("eventInfo"), dict):
        raise MalformedPushError("no eventInfo object")
    app_id, nonce, signature = outer.get("appID"), outer.get("nonce"), outer.get("signature")
    if not isinstance(app_id, str) or not isinstance(nonce, str) or not isinstance(signature, str):
        raise MalformedPushError("appID, nonce and signature must be strings")
    raw_timestamp = outer.get("timestamp")
    sent = _ms(raw_timestamp)
    signed = _signed_text(
        _signable_texts(text, outer["eventInfo"]),
        key=key,
        app_id=app_id,
        timestamp=str(raw_timestamp),
        nonce=nonce,
        signature=signature,
    )
    if abs(now - sent) > MAX_AGE:
        raise RejectedPushError("stale timestamp")
    return _push(_loads(signed), app_id=app_id, nonce=nonce, sent=sent)


def _push(info: dict[str, Any], *, app_id: str, nonce: str, sent: datetime) -> MeetingPush:
    """The push a verified eventInfo describes."""
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
