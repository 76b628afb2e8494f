"""Pure rules at the Slack edge: where answers may go, and what identifies one request."""

from __future__ import annotations

import pytest

from bot.slack.listeners import request_key
from bot.slack.notifier import is_slack_response_url

API = "http://127.0.0.1:4000/api/"


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://hooks.slack.com/commands/T1/123/abc", True),
        ("https://hooks.slack.com/actions/T1/123/abc", True),
        ("http://127.0.0.1:4000/response/r1", True),  # the configured (local) Slack
        ("http://hooks.slack.com/commands/T1/1/a", False),  # not https
        ("https://hooks.slack.com:8443/commands/T1/1/a", False),
        ("https://hooks.slack.com.evil.example/commands", False),
        ("https://evil.example/?https://hooks.slack.com/", False),
        ("https://user@hooks.slack.com/x", False),
        ("http://user:pw@127.0.0.1:4000/response/r1", False),
        ("http://127.0.0.1:4001/response/r1", False),  # another port
        ("http://localhost:4000/response/r1", False),
        ("file:///etc/passwd", False),
        ("http://[::1", False),  # unparsable
        ("", False),
    ],
)
def test_only_slacks_response_urls_are_trusted(url: str, trusted: bool) -> None:
    assert is_slack_response_url(url, api_url=API) is trusted


def test_request_keys_tell_repeats_from_new_requests() -> None:
    command = {"command": "/meet", "trigger_id": "t-1", "team_id": "T1"}
    assert request_key(command) == ("slack.trigger", "t-1")

    def click(action_ts: str, message_ts: str = "5.1") -> dict[str, object]:
        return {
            "type": "block_actions",
            "user": {"id": "U1"},
            "container": {"message_ts": message_ts},
            "actions": [{"action_id": "meet_start_now", "value": "x", "action_ts": action_ts}],
        }

    assert request_key(click("1.1")) == request_key(click("1.2"))  # a double click
    assert request_key(click("1.1")) != request_key(click("1.1", message_ts="6.1"))

    def submit(topic: str) -> dict[str, object]:
        values = {"topic": {"topic": {"value": topic}}}
        return {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {"id": "V1", "state": {"values": values}},
        }

    assert request_key(submit("a")) == request_key(submit("a"))
    assert request_key(submit("a")) != request_key(submit("b"))  # corrected after an error
    assert request_key({"type": "event_callback"}) is None
