"""The scheduling and setup modals, and cards that reach Slack late, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.slack import blocks
from tests.e2e.conftest import ADA, APP_ID, APP_KEY, Harness
from tests.e2e.inside import REPAIR_JOB


def schedule_view(
    *,
    topic: str,
    start: datetime,
    duration: str = "45",
    invitees: tuple[str, ...] = (),
    private_metadata: str = "",
) -> dict[str, Any]:
    def value(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
        return {block_id: {block_id: element}}

    return {
        "callback_id": blocks.SCHEDULE_MODAL,
        "private_metadata": private_metadata,
        "state": {
            "values": {
                **value(blocks.SCHEDULE_TOPIC, {"type": "plain_text_input", "value": topic}),
                **value(
                    blocks.SCHEDULE_START,
                    {"type": "datetimepicker", "selected_date_time": int(start.timestamp())},
                ),
                **value(
                    blocks.SCHEDULE_DURATION,
                    {"type": "static_select", "selected_option": {"value": duration}},
                ),
                **value(
                    blocks.SCHEDULE_INVITEES,
                    {"type": "multi_users_select", "selected_users": list(invitees)},
                ),
                **value(
                    blocks.SCHEDULE_RECURRENCE,
                    {"type": "static_select", "selected_option": {"value": "none"}},
                ),
            }
        },
    }


def test_schedule_command_opens_the_modal_and_its_submission_creates_the_meeting(
    harness: Harness,
) -> None:
    _, rid = harness.command("schedule")
    opened = harness.slack.wait_for("views.open")[0].args
    assert opened["view"]["callback_id"] == blocks.SCHEDULE_MODAL
    assert opened["trigger_id"] in harness.slack.ws.used_triggers  # the command's own

    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    response = harness.submit_view(
        schedule_view(
            topic="Board <prep>",
            start=start,
            invitees=("UBOB",),
            private_metadata=opened["view"]["private_metadata"],
        )
    )
    assert response.status_code == 200
    assert response.content in (b"", b"{}")  # accepted: the modal closes
    posts = harness.slack.wait_for("chat.postMessage", count=2)
    meeting = harness.sandbox.meetings()[0]
    assert meeting["subject"] == "Board <prep>"
    assert meeting["length"] == 45
    assert meeting["start_time"] == start.strftime("%Y-%m-%d %H:%M")
    assert meeting["attendees"] == ["bob@example.com"]
    card = next(p.args for p in posts if p.args["channel"] == "C1")
    assert "Board &lt;prep&gt;" in json.dumps(card)
    # The host details reach the organizer through the command's response_url, carried
    # in the modal's private_metadata.
    assert "Host details" in harness.reply_text(rid)
    assert harness.slack.calls_to("chat.postEphemeral") == []


def test_modal_with_a_past_time_shows_the_error_in_the_form(harness: Harness) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    response = harness.submit_view(schedule_view(topic="Late", start=past))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert blocks.SCHEDULE_START in answer["errors"]
    harness.inside.settle()  # the submission's lazy work (which stops at the errors) is over
    assert harness.sandbox.meetings() == []


def test_a_card_slack_failed_to_take_is_posted_later(harness: Harness) -> None:
    harness.slack.fail["chat.postMessage"] = ["internal_error"]
    _, rid = harness.command("Retro tomorrow 4pm")
    assert "card will follow" in harness.reply_text(rid)
    posts = harness.slack.wait_for("chat.postMessage", count=2)
    assert "Retro" in json.dumps(posts[1].args)
    assert len(harness.sandbox.meetings()) == 1
    # A later repair run must not post it again: one began after the card was posted.
    harness.inside.wait_runs(REPAIR_JOB)
    assert len(harness.posts("C1")) == 2


def test_admin_setup_checks_the_app_before_saving_it(harness: Harness) -> None:
    def setup_view(key: str) -> dict[str, Any]:
        def text(block_id: str, value: str) -> dict[str, Any]:
            return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}

        return {
            "callback_id": blocks.ADMIN_SETUP_MODAL,
            "private_metadata": metadata,
            "state": {
                "values": {
                    **text(blocks.ADMIN_APP_ID, APP_ID),
                    **text(blocks.ADMIN_APP_KEY, key),
                    **text(blocks.ADMIN_CORP_ID, ""),
                    blocks.ADMIN_MODE: {
                        blocks.ADMIN_MODE: {
                            "type": "static_select",
                            "selected_option": {"value": "slack"},
                        }
                    },
                }
            },
        }

    _, rid = harness.command("admin setup", user=ADA)
    opened = harness.slack.wait_for("views.open")[0].args["view"]
    assert opened["callback_id"] == blocks.ADMIN_SETUP_MODAL
    metadata = opened["private_metadata"]
    harness.submit_view(setup_view("wrong-key"), user=ADA)
    refused = harness.replies(rid)[0].args
    assert "app" in json.dumps(refused).lower()
    assert "wrong-key" not in json.dumps([c.args for c in harness.slack.calls])

    harness.submit_view(setup_view(APP_KEY), user=ADA)
    saved = harness.replies(rid, count=2)[1].args
    assert "Saved" in json.dumps(saved)
    _, rid = harness.command("whoami")
    assert "T1-UALICE" in harness.reply_text(rid)
