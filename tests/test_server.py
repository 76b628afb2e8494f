"""Why a request to /slack/events is refused before Bolt sees it: pure checks of Slack's
signature headers against a fixed clock."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from bot.slack.http import slack_refusal
from tests.fakes.slack_api import signed_headers

SECRET = "signing-secret"
NOW = 1_900_000_000
BODY = "command=%2Fmeet&text=now"


def headers(
    *, at: int = NOW, timestamp: str | None = None, signature: str | None = None
) -> Headers:
    """Slack's headers for BODY signed at `at`, with the timestamp or signature replaced."""
    signed = signed_headers(BODY, secret=SECRET, timestamp=at)
    if timestamp is not None:
        signed["X-Slack-Request-Timestamp"] = timestamp
    if signature is not None:
        signed["X-Slack-Signature"] = signature
    return Headers(signed)


@pytest.mark.parametrize(
    ("request_headers", "body", "reason"),
    [
        pytest.param(Headers({}), BODY.encode(), "unsigned", id="no-headers"),
        pytest.param(
            headers(timestamp="soon"),
            BODY.encode(),
            "malformed timestamp",
            id="words",
        ),
        pytest.param(
            headers(timestamp=f"+{NOW}"),
            BODY.encode(),
            "malformed timestamp",
            id="signed-number",
        ),
        pytest.param(
            headers(timestamp="²" * 10),
            BODY.encode(),
            "malformed timestamp",
            id="non-ascii-digits",
        ),
        pytest.param(
            headers(timestamp="9" * 5000),
            BODY.encode(),
            "malformed timestamp",
            id="huge",
        ),
        pytest.param(headers(at=NOW - 301), BODY.encode(), "stale timestamp", id="old"),
        pytest.param(headers(at=NOW + 301), BODY.encode(), "stale timestamp", id="future"),
        pytest.param(headers(), b"command=%2Fmeet&text=later", "bad signature", id="tampered"),
        pytest.param(headers(signature="v0=é"), BODY.encode(), "bad signature", id="non-ascii"),
        pytest.param(headers(), b"\xff" + BODY.encode(), "body is not UTF-8", id="not-utf8"),
    ],
)
def test_refused(request_headers: Headers, body: bytes, reason: str) -> None:
    assert slack_refusal(request_headers, body, secret=SECRET, now=NOW) == reason


@pytest.mark.parametrize("at", [NOW, NOW - 300, NOW + 300], ids=["now", "oldest", "latest"])
def test_a_fresh_signed_request_passes(at: int) -> None:
    assert slack_refusal(headers(at=at), BODY.encode(), secret=SECRET, now=NOW) is None
