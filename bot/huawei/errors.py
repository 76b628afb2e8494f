"""Typed errors of the meeting service, and the mapping from the vendor's error answers.

The tree (every class takes `error_code`, `status_code`, `request_id` keyword-only):

    MeetingServiceError         anything the meeting service did not do for us
    ├── AuthError               appauth rejected (wrong app ID/key, disabled account) or token invalid
    ├── NotFound                MMC.111070005: the meeting does not exist or its booking is gone
    ├── PermissionDenied        403: the account may not do this
    ├── InvalidRequest          400: a parameter the vendor refused (its message is kept)
    ├── MeetingNotRunning       MMC.111072005: the meeting has not started or has ended
    ├── RateLimited             429: `.retry_after` seconds, when the vendor said
    └── Unavailable             5xx, connect errors and timeouts, after retries (`.retry_after`)

`str(exc)` holds the vendor's message and code; `exc.user_message` is plain language fit for a
Slack user. Neither ever contains an app key, an access token or an Authorization header.
"""

# The class names are the design's contract (httpx-style nouns), not "...Error" names.
# ruff: noqa: N818

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar, Final

__all__ = [
    "CONF_NOT_FOUND",
    "CONF_NOT_RUNNING",
    "TOKEN_INVALID",
    "AuthError",
    "InvalidRequest",
    "MeetingNotRunning",
    "MeetingServiceError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Unavailable",
    "error_from_response",
    "parse_retry_after",
    "vendor_error",
]

TOKEN_INVALID: Final = "USG.000000004"  # noqa: S105 -- an error code, not a secret
CONF_NOT_FOUND: Final = "MMC.111070005"
CONF_NOT_RUNNING: Final = "MMC.111072005"

APP_REJECTED_MESSAGE: Final = (
    "The meeting service did not accept this workspace's app credentials. "
    "A workspace admin should check the app ID, app key and corp ID (/meet admin setup)."
)


class MeetingServiceError(Exception):
    """Base of every error the meeting-service client raises."""

    default_user_message: ClassVar[str] = "The meeting service could not do that. Please try again."

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.status_code = status_code
        self.request_id = request_id
        self.user_message = user_message or self.default_user_message

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("error_code", self.error_code),
                ("status", self.status_code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message


class AuthError(MeetingServiceError):
    """Authentication failed: the app credentials were refused, or a token stayed invalid."""

    default_user_message = APP_REJECTED_MESSAGE


class NotFound(MeetingServiceError):
    """The meeting does not exist (never did, was cancelled, or its booking has ended)."""

    default_user_message = (
        "That meeting doesn't exist any more. It may have ended or been cancelled."
    )


class PermissionDenied(MeetingServiceError):
    """The caller's meeting account is not allowed to do this."""

    default_user_message = "Your meeting account isn't allowed to do that."


class InvalidRequest(MeetingServiceError):
    """The vendor refused a parameter; `message` is the vendor's own explanation."""

    default_user_message = "The meeting service refused the request."


class MeetingNotRunning(MeetingServiceError):
    """The action needs a running meeting, and this one has not started or has ended."""

    default_user_message = "That meeting isn't running right now."


class RateLimited(MeetingServiceError):
    """The vendor throttled us; `retry_after` is its hint in seconds, if it gave one."""

    default_user_message = "The meeting service is busy. Please try again in a minute."

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Unavailable(MeetingServiceError):
    """The service failed or could not be reached (5xx, connect error, timeout).

    `maybe_processed` is False only when the request certainly never reached the server
    (a connect error), which is what makes a non-idempotent call safe to send again.
    """

    default_user_message = (
        "The meeting service can't be reached right now. Please try again shortly."
    )

    def __init__(
        self,
        message: str,
        *,
        maybe_processed: bool = True,
        retry_after: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.maybe_processed = maybe_processed
        self.retry_after = retry_after


_CODE_KEYS: Final = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))


def vendor_error(body: object) -> tuple[str, str] | None:
    """(code, message) from a vendor error body, looked up the way the official SDK does.

    Flat pairs first (`error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`),
    then recursively inside nested objects.
    """
    if not isinstance(body, Mapping):
        return None
    for code_key, msg_key in _CODE_KEYS:
        code = body.get(code_key)
        if code is not None and code != "":
            return str(code), str(body.get(msg_key) or "")
    for value in body.values():
        found = vendor_error(value)
        if found is not None:
            return found
    return None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def error_from_response(
    status_code: int,
    content: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    during_auth: bool = False,
) -> MeetingServiceError:
    """The typed error for a vendor answer with status >= 400.

    `during_auth` marks an appauth answer: any refusal there means the app credentials
    (or the user's account) are wrong, which only a workspace admin can fix.
    """
    try:
        body: object = json.loads(content) if content else None
    except ValueError:
        body = None
    code, text = vendor_error(body) or (str(status_code), content[:200].decode(errors="replace"))
    message = text or f"HTTP {status_code}"
    kw: dict[str, Any] = {
        "error_code": code,
        "status_code": status_code,
        "request_id": headers.get("x-request-id"),
    }
    if status_code == 429 or status_code >= 500:
        retry_after = parse_retry_after(headers.get("retry-after"), now=now)
        kind = RateLimited if status_code == 429 else Unavailable
        return kind(message, retry_after=retry_after, **kw)
    if during_auth:
        return AuthError(message, **kw)
    if status_code == 401 or code == TOKEN_INVALID:
        return AuthError(
            message,
            user_message="The meeting service did not accept our sign-in. Please try again.",
            **kw,
        )
    if code == CONF_NOT_FOUND:
        return NotFound(message, **kw)
    if status_code == 404:
        # The vendor reports missing meetings as 400 + code; a 404 means a wrong URL or API.
        return MeetingServiceError(message, **kw)
    if code == CONF_NOT_RUNNING:
        return MeetingNotRunning(message, **kw)
    if status_code == 403:
        return PermissionDenied(message, **kw)
    if status_code in (412, 423):
        return AuthError(message, user_message="Your meeting account is disabled or locked.", **kw)
    return InvalidRequest(
        message, user_message=f"The meeting service refused the request: {message}", **kw
    )
