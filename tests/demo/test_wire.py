"""What the emulator sends the bot: typed text escaped like Slack, signatures, modal state."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.demo.wire import (
    REQUIRED_FIELD,
    SlackUser,
    block_actions_payload,
    encode_typed,
    epoch_from_local,
    local_from_epoch,
    parse_api_args,
    signed_headers,
    slash_command_body,
    view_state,
)
from bot.slack import blocks

ANA = SlackUser("UANA", "T1", "Ana", email="ana@example.com")
CHEN = SlackUser("UCHEN", "T1", "陈", tz="Asia/Shanghai")
BOT = SlackUser("UBOT", "T1", "meetbot", is_bot=True)
PEOPLE = (ANA, CHEN, BOT)


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        pytest.param("Retro & <b> tomorrow", "Retro &amp; &lt;b&gt; tomorrow", id="escapes"),
        pytest.param("<!channel> party", "&lt;!channel&gt; party", id="no-broadcast"),
        pytest.param("sync with @ana @陈", "sync with <@UANA|ana> <@UCHEN|陈>", id="mentions"),
        pytest.param("ping @nobody", "ping @nobody", id="unknown-name-stays-text"),
        pytest.param("ask @meetbot", "ask @meetbot", id="bots-are-not-members"),
        pytest.param("post in #general", "post in <#C1|general>", id="channel"),
        pytest.param("email ana@example.com", "email ana@example.com", id="email-is-not-mention"),
    ],
)
def test_typed_text_is_sent_as_slack_escapes_it(typed: str, sent: str) -> None:
    assert encode_typed(typed, users=PEOPLE, channels={"C1": "general"}) == sent


def test_the_bot_can_verify_the_signature_and_read_the_command() -> None:
    body = slash_command_body(
        encode_typed("now A&B", users=PEOPLE),
        user_id="UANA",
        team_id="T1",
        response_url="http://127.0.0.1/response/r1",
    )
    headers = signed_headers(body, secret="s3cret", timestamp=1_700_000_000)
    verifier = SignatureVerifier("s3cret", clock=_FixedClock(1_700_000_010))
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert not SignatureVerifier("other", clock=_FixedClock(1_700_000_010)).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    form = dict(urllib.parse.parse_qsl(body))
    assert form["text"] == "now A&amp;B"
    assert form["command"] == "/meet"


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_an_ephemeral_message_is_not_sent_back_with_the_action() -> None:
    button = {
        "type": "button",
        "action_id": "a",
        "value": "7",
        "text": {"type": "plain_text", "text": "Go"},
    }

    def payload(ephemeral: bool) -> dict[str, Any]:
        return block_actions_payload(
            user=ANA,
            channel=("C1", "general"),
            message={"ts": "1.000001", "text": "card"},
            ephemeral=ephemeral,
            block_id="b1",
            element=button,
            response_url="http://127.0.0.1/response/r2",
            trigger_id="t1",
            action_ts="2.0",
        )

    shared, private = payload(False), payload(True)
    assert shared["message"]["ts"] == "1.000001"
    assert "message" not in private
    assert private["container"] == {
        "type": "message",
        "message_ts": "1.000001",
        "channel_id": "C1",
        "is_ephemeral": True,
    }
    assert shared["actions"][0] == {
        "type": "button",
        "action_id": "a",
        "block_id": "b1",
        "value": "7",
        "text": {"type": "plain_text", "text": "Go"},
        "action_ts": "2.0",
    }


@pytest.mark.parametrize(
    ("zone", "wall", "utc_hour"),
    [
        pytest.param("Asia/Shanghai", "2031-03-02T09:30", 1, id="shanghai"),
        pytest.param("America/Los_Angeles", "2031-03-10T09:30", 16, id="los-angeles-after-dst"),
        pytest.param("America/Los_Angeles", "2031-03-08T09:30", 17, id="los-angeles-before-dst"),
    ],
)
def test_datetime_picker_reads_the_wall_time_in_the_viewers_zone(
    zone: str, wall: str, utc_hour: int
) -> None:
    epoch = epoch_from_local(wall, ZoneInfo(zone))
    assert (epoch // 3600) % 24 == utc_hour
    assert local_from_epoch(epoch, ZoneInfo(zone)) == wall


def test_schedule_modal_state_is_what_the_bot_reads() -> None:
    view = blocks.render_schedule_modal(topic="", initial_epoch=None, private_metadata="C1")
    tz = ZoneInfo("Asia/Shanghai")
    raw: dict[str, dict[str, Any]] = {
        blocks.SCHEDULE_TOPIC: {blocks.SCHEDULE_TOPIC: "Board <prep>"},
        blocks.SCHEDULE_START: {blocks.SCHEDULE_START: "2031-03-02T09:30"},
        blocks.SCHEDULE_DURATION: {blocks.SCHEDULE_DURATION: "45"},
        blocks.SCHEDULE_INVITEES: {blocks.SCHEDULE_INVITEES: ["UANA"]},
        blocks.SCHEDULE_RECURRENCE: {blocks.SCHEDULE_RECURRENCE: "weekly"},
    }
    values, errors = view_state(view, raw, tz)
    assert errors == {}
    form = blocks.read_schedule_modal(
        {"state": {"values": values}}, now=datetime(2031, 1, 1, tzinfo=UTC)
    )
    assert isinstance(form, blocks.ScheduleForm)
    assert form.topic == "Board <prep>"
    assert form.start == datetime(2031, 3, 2, 1, 30, tzinfo=UTC)
    assert form.duration_minutes == 45
    assert form.invitee_ids == ("UANA",)
    assert form.recurrence == "weekly"
    assert values[blocks.SCHEDULE_DURATION][blocks.SCHEDULE_DURATION]["selected_option"] == {
        "text": {"type": "plain_text", "text": "45 min"},
        "value": "45",
    }


def test_empty_required_inputs_are_refused_like_slack_does_and_optional_ones_are_not() -> None:
    view = blocks.render_schedule_modal(topic="", initial_epoch=None, private_metadata="C1")
    values, errors = view_state(view, {}, ZoneInfo("UTC"))
    assert errors == {
        blocks.SCHEDULE_TOPIC: REQUIRED_FIELD,
        blocks.SCHEDULE_START: REQUIRED_FIELD,
        blocks.SCHEDULE_DURATION: REQUIRED_FIELD,
        blocks.SCHEDULE_RECURRENCE: REQUIRED_FIELD,
    }
    assert values[blocks.SCHEDULE_INVITEES][blocks.SCHEDULE_INVITEES]["selected_users"] == []
    assert values[blocks.SCHEDULE_START][blocks.SCHEDULE_START]["selected_date_time"] is None


def test_web_api_arguments_arrive_as_form_or_json() -> None:
    blocks_json = json.dumps([{"type": "divider"}])
    form = urllib.parse.urlencode({"channel": "C1", "blocks": blocks_json, "users": "UBOB"})
    assert parse_api_args(form.encode(), "application/x-www-form-urlencoded", {}) == {
        "channel": "C1",
        "blocks": [{"type": "divider"}],
        "users": "UBOB",
    }
    body = json.dumps({"channel": "C1", "metadata": {"event_type": "x", "event_payload": {}}})
    assert parse_api_args(body.encode(), "application/json; charset=utf-8", {"user": "U1"}) == {
        "user": "U1",
        "channel": "C1",
        "metadata": {"event_type": "x", "event_payload": {}},
    }


def test_every_command_gets_its_own_trigger_id_as_from_slack() -> None:
    """The bot acts once per trigger_id: a fake that reused one would hide every later command."""

    def trigger() -> str:
        body = slash_command_body("now", user_id="U1", team_id="T1", response_url="http://x/r")
        return urllib.parse.parse_qs(body)["trigger_id"][0]

    first, second = trigger(), trigger()
    assert first != second
    assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]{32}", first)
