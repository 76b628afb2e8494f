"""/meet end to end: signed Slack requests in, Slack Web API calls and vendor meetings out."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from bot.slack import blocks
from storage.db import sync_url
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, BOB, CHEN, NOMAIL, ZED, Harness
from tests.fakes.slack_api import slack_escape

DATE_TOKEN = re.compile(r"<!date\^(\d+)\^")


def card_epoch(post_args: dict[str, object]) -> int:
    found = DATE_TOKEN.search(json.dumps(post_args["blocks"]))
    assert found, post_args
    return int(found.group(1))


def next_date(month: int, day: int, tz: ZoneInfo) -> date:
    today = datetime.now(tz).date()
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def utc_wall(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def only_meeting(harness: Harness) -> dict[str, object]:
    meetings = harness.sandbox.meetings()
    assert len(meetings) == 1, meetings
    return meetings[0]


def test_instant_meeting_card_in_channel_and_host_details_only_to_organizer(
    harness: Harness,
) -> None:
    response, rid = harness.command("now Quick sync")
    assert response.status_code == 200
    card = harness.slack.wait_for("chat.postMessage")[0].args
    meeting = only_meeting(harness)
    assert meeting["owner"] == "alice@example.com"
    assert meeting["subject"] == "Quick sync"
    assert meeting["state"] == "Created"
    dumped = json.dumps(card)
    assert card["channel"] == "C1"
    assert "Quick sync" in dumped
    assert "meet_join" in dumped
    host = harness.reply_text(rid)
    assert "Host password" in host
    assert "Host password" not in dumped
    assert "chairJoinUri" not in dumped


@pytest.mark.parametrize(
    ("user", "text", "month_day", "wall"),
    [
        pytest.param(
            ALICE, "Planning 3/10 9:00", (3, 10), (9, 0), id="los-angeles-after-dst-start"
        ),
        pytest.param(ALICE, "Planning 12/15 9:00", (12, 15), (9, 0), id="los-angeles-winter"),
        pytest.param(BOB, "Planning 3/30 9:00", (3, 30), (9, 0), id="london-after-bst-start"),
        pytest.param(CHEN, "Planning 12/24 14:00", (12, 24), (14, 0), id="shanghai"),
    ],
)
def test_schedule_reads_the_time_in_the_users_zone(
    harness: Harness, user: object, text: str, month_day: tuple[int, int], wall: tuple[int, int]
) -> None:
    from tests.fakes.slack_api import SlackUser

    assert isinstance(user, SlackUser)
    tz = ZoneInfo(user.tz)
    expected = utc_wall(next_date(*month_day, tz), *wall, tz)
    harness.command(text, user=user)
    card = harness.slack.wait_for("chat.postMessage")[0].args
    meeting = only_meeting(harness)
    assert meeting["start_time"] == expected.strftime("%Y-%m-%d %H:%M")
    assert card_epoch(card) == int(expected.timestamp())


def test_chinese_phrase_schedules_in_shanghai_time(harness: Harness) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    tomorrow = datetime.now(tz).date() + timedelta(days=1)
    harness.command("周会 明天下午3点", user=CHEN)
    harness.slack.wait_for("chat.postMessage")
    meeting = only_meeting(harness)
    assert meeting["subject"] == "周会"
    assert meeting["start_time"] == utc_wall(tomorrow, 15, 0, tz).strftime("%Y-%m-%d %H:%M")


def test_invitees_become_attendees_and_get_a_direct_message(harness: Harness) -> None:
    harness.command("Design review tomorrow 3pm for 1h with <@UBOB|bob> <@UCHEN|chen>")
    card = harness.slack.wait_for("chat.postMessage", count=3)
    meeting = only_meeting(harness)
    assert meeting["attendees"] == ["bob@example.com", "chen@example.com"]
    assert meeting["length"] == 60
    opened = {c.args["users"] for c in harness.slack.calls_to("conversations.open")}
    assert opened == {"UBOB", "UCHEN"}
    dms = [c for c in card if str(c.args["channel"]).startswith("D")]
    assert len(dms) == 2
    assert all("Design review" in json.dumps(dm.args) for dm in dms)


def test_recurring_meeting_uses_the_vendors_cycle(harness: Harness) -> None:
    harness.command("Standup next mon 9:30 for 15m every weekday")
    card = harness.slack.wait_for("chat.postMessage")[0].args
    meeting = only_meeting(harness)
    assert meeting["conf_type"] == "CYCLE"
    assert int(str(meeting["sub_meetings"])) > 1
    assert "every weekday" in json.dumps(card)


def test_list_shows_my_upcoming_meetings(harness: Harness) -> None:
    harness.command("Retro tomorrow 4pm")
    harness.slack.wait_for("chat.postMessage")
    _, rid = harness.command("list")
    assert "Retro" in harness.reply_text(rid)
    _, rid = harness.command("list", user=BOB)
    assert "Retro" not in harness.reply_text(rid)


def test_organizer_cancels_by_meeting_id(harness: Harness) -> None:
    harness.command("Retro tomorrow 4pm")
    harness.slack.wait_for("chat.postMessage")
    conference_id = str(only_meeting(harness)["conference_id"])
    _, rid = harness.command(f"cancel {conference_id}")
    harness.replies(rid)
    assert only_meeting(harness)["cancelled"] is True
    update = harness.slack.wait_for("chat.update")[0].args
    assert "Cancelled" in json.dumps(update)
    assert "meet_join" not in json.dumps(update)


def test_someone_else_cannot_cancel_but_an_admin_can(harness: Harness) -> None:
    harness.command("Retro tomorrow 4pm")
    card = harness.slack.wait_for("chat.postMessage")[0].args
    meeting_id = next(
        e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.CANCEL
    )
    response, rid = harness.click(blocks.CANCEL, meeting_id, user=BOB)
    assert response.status_code == 200
    reply = harness.reply_text(rid)
    # Said once: who may, then just the action (not "…: only its organizer … can.").
    assert "Only the organizer or a workspace admin can cancel this meeting." in reply
    assert only_meeting(harness)["cancelled"] is False
    assert harness.slack.calls_to("chat.update") == []

    _, rid = harness.click(blocks.CANCEL, meeting_id, user=ADA)
    harness.replies(rid)
    assert only_meeting(harness)["cancelled"] is True


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("Retro yesterday 3pm", "already passed", id="past"),
        pytest.param("Retro in 400 days 3pm", "year", id="more-than-a-year-ahead"),
        pytest.param("Retro tomorrow 3pm for 5m", "15", id="too-short"),
        pytest.param("Retro tomorrow 3pm for 25h", "24 hours", id="too-long"),
        pytest.param("Retro tomorrow 3pm for 2 weeks", "duration", id="unreadable-duration"),
        pytest.param("x" * 129 + " tomorrow 3pm", "128", id="topic-too-long"),
        pytest.param("admin frobnicate", "admin", id="unknown-admin-verb"),
        pytest.param("cancel", "ID", id="cancel-without-id"),
    ],
)
def test_bad_input_is_explained_privately_and_creates_nothing(
    harness: Harness, text: str, problem: str
) -> None:
    _, rid = harness.command(text, user=ADA)
    answer = harness.replies(rid)[0].args
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer)
    assert problem.lower() in shown.lower()
    assert "/meet" in shown  # a correct example
    assert harness.sandbox.meetings() == []
    assert harness.posts() == []


def test_a_topic_without_a_time_offers_start_now_and_creates_nothing(harness: Harness) -> None:
    _, rid = harness.command("Standup")
    answer = json.dumps(harness.replies(rid)[0].args)
    assert blocks.START_NOW in answer
    assert harness.sandbox.meetings() == []
    response, rid = harness.click(blocks.START_NOW, "Standup")
    assert response.status_code == 200
    harness.slack.wait_for("chat.postMessage")
    assert only_meeting(harness)["subject"] == "Standup"


def test_start_now_button_still_enforces_the_topic_limit(harness: Harness) -> None:
    response, rid = harness.click(blocks.START_NOW, "x" * 129)
    assert response.status_code == 200
    assert "at most 128 characters" in harness.reply_text(rid)
    assert harness.sandbox.meetings() == []


def test_vendor_down_gives_a_plain_message_and_leaves_nothing(harness: Harness) -> None:
    harness.sandbox.faults(fail_next=50, fail_status=503)
    _, rid = harness.command("Retro tomorrow 4pm")
    answer = harness.reply_text(rid)
    assert "Huawei Cloud Meeting" in answer
    harness.sandbox.faults()
    assert harness.sandbox.meetings() == []
    assert harness.posts() == []
    _, rid = harness.command("list")
    assert "Retro" not in harness.reply_text(rid)


def test_ack_does_not_wait_for_the_vendor(harness: Harness) -> None:
    # Slack gives up after 3 s: the ack must never wait on the vendor. Here the vendor does
    # not answer at all until released, so an ack that waited would never come.
    harness.sandbox.vendor.hold()
    try:
        response, _ = harness.command("Retro tomorrow 4pm")
        assert response.status_code == 200
        harness.sandbox.vendor.wait_held()  # the command's work reached the vendor, and waits
        assert harness.posts() == []
    finally:
        harness.sandbox.vendor.release()
    harness.slack.wait_for("chat.postMessage")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("<!channel> party", id="channel"),
        pytest.param("<!here> party", id="here"),
        pytest.param("<@UADA> party", id="user-mention"),
        pytest.param("<https://evil.example|click me> party", id="link"),
    ],
)
def test_user_text_never_becomes_a_mention_or_link(harness: Harness, typed: str) -> None:
    harness.command(slack_escape(typed) + " tomorrow 3pm")
    card = harness.slack.wait_for("chat.postMessage")[0].args
    dumped = json.dumps(card)
    assert typed.split(" ")[0] not in dumped
    assert slack_escape(typed.split(" ")[0]) in dumped
    assert only_meeting(harness)["subject"] == typed


def test_two_workspaces_never_see_each_others_meetings(harness: Harness) -> None:
    harness.command("Secret plan tomorrow 4pm")
    harness.slack.wait_for("chat.postMessage")
    conference_id = str(only_meeting(harness)["conference_id"])
    _, rid = harness.command("list", user=ZED)
    assert "Secret plan" not in harness.reply_text(rid)
    _, rid = harness.command(f"cancel {conference_id}", user=ZED)
    assert "no meeting" in harness.reply_text(rid).lower()
    assert only_meeting(harness)["cancelled"] is False


def test_user_without_email_is_told_what_to_ask_and_admin_mapping_fixes_it(
    harness: Harness,
) -> None:
    _, rid = harness.command("Retro tomorrow 4pm", user=NOMAIL)
    assert "/meet admin map" in harness.reply_text(rid)
    assert harness.sandbox.meetings() == []

    _, rid = harness.command("admin map <@UNOMAIL|nomail> nomail-42", user=BOB)
    assert "Only" in harness.reply_text(rid)

    _, rid = harness.command("admin map <@UNOMAIL|nomail> nomail-42", user=ADA)
    assert "nomail-42" in harness.reply_text(rid)
    harness.command("Retro tomorrow 4pm", user=NOMAIL)
    harness.slack.wait_for("chat.postMessage")
    assert only_meeting(harness)["owner"] == "nomail-42"
    _, rid = harness.command("whoami", user=NOMAIL)
    assert "nomail-42" in harness.reply_text(rid)


def test_explicit_mode_admits_only_mapped_users(harness: Harness) -> None:
    _, rid = harness.command("admin mapping explicit", user=ADA)
    harness.replies(rid)
    _, rid = harness.command("now", user=ALICE)
    assert "admin map" in harness.reply_text(rid)
    _, rid = harness.command("admin mappings", user=ADA)
    assert "No one is mapped" in harness.reply_text(rid)


def test_a_meeting_that_cannot_be_stored_is_cancelled_again_and_the_user_told(
    harness: Harness, empty_database: Database
) -> None:
    engine = create_sync_engine(sync_url(empty_database.url))
    with engine.begin() as conn:
        if empty_database.backend == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON meeting "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            conn.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON meeting EXECUTE FUNCTION refuse()")
            )
    engine.dispose()
    _, rid = harness.command("Retro tomorrow 4pm")
    assert "nothing was created" in harness.reply_text(rid)
    meeting = only_meeting(harness)
    assert meeting["cancelled"] is True  # the vendor booking was undone
    assert harness.posts() == []
