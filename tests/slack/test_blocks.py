"""Block Kit rendering: user text stays inert, Slack's limits hold, each state shows the right buttons."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.rules import LIST_LIMIT
from bot.slack import blocks
from bot.slack.blocks import (
    ADMIN_APP_ID,
    ADMIN_APP_KEY,
    ADMIN_CORP_ID,
    ADMIN_MODE,
    ADMIN_SETUP_MODAL,
    CANCEL,
    HOST_JOIN,
    JOIN,
    MAPPINGS_PAGE,
    MAPPINGS_PAGE_NEXT,
    MAPPINGS_PAGE_PREV,
    SCHEDULE_DURATION,
    SCHEDULE_INVITEES,
    SCHEDULE_MODAL,
    SCHEDULE_RECURRENCE,
    SCHEDULE_START,
    SCHEDULE_TOPIC,
    START_NOW,
    CardState,
    CardView,
    Message,
    NotMappedReason,
    ScheduleForm,
    date_token,
    escape,
    format_duration,
    format_meeting_id,
)
from bot.slack.blocks.cards import render_duplicate
from bot.slack.blocks.ids import CREATE_ANYWAY, LIST_PAGE_NEXT, LIST_PAGE_PREV

START = datetime(2026, 12, 24, 14, 0, tzinfo=UTC)
NOW = START - timedelta(hours=3)
JOIN_URL = "https://meeting.example.com/join?c=900000001&k=abc"
EXPORTED_ACTION_IDS = {
    JOIN,
    CANCEL,
    HOST_JOIN,
    START_NOW,
    MAPPINGS_PAGE_PREV,
    MAPPINGS_PAGE_NEXT,
    SCHEDULE_TOPIC,
    SCHEDULE_START,
    SCHEDULE_DURATION,
    SCHEDULE_INVITEES,
    SCHEDULE_RECURRENCE,
    ADMIN_APP_ID,
    ADMIN_APP_KEY,
    ADMIN_CORP_ID,
    ADMIN_MODE,
}
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|>]+)\|([^>]+)>")


def make_card(**changes: Any) -> CardView:
    card = CardView(
        meeting_id=42,
        conference_id="900000001",
        topic="Standup",
        organizer_id="U0ORGANIZER",
        start=START,
        duration_minutes=30,
        join_url=JOIN_URL,
        state=CardState.SCHEDULED,
        recurrence_text="every weekday",
        invitee_ids=("U0ANA", "W0LI"),
    )
    return dataclasses.replace(card, **changes)


# --- Walking rendered payloads -----------------------------------------------------------------


def walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def mrkdwn_texts(message: Message) -> list[str]:
    return [obj["text"] for obj in walk(message["blocks"]) if obj.get("type") == "mrkdwn"]


def shown_texts(message: Message) -> list[str]:
    """Everything Slack would parse as mrkdwn: the fallback and every mrkdwn object."""
    return [message["text"], *mrkdwn_texts(message)]


def buttons(payload: object) -> list[dict[str, Any]]:
    return [obj for obj in walk(payload) if obj.get("type") == "button"]


def action_ids(payload: object) -> list[str]:
    return [obj["action_id"] for obj in walk(payload) if "action_id" in obj]


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_within_slack_limits(message: Message) -> None:
    assert message["text"].strip()
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        if block["type"] == "section":
            assert units(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert units(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        ids = action_ids(block)
        assert len(ids) == len(set(ids)), "action_ids must be unique within a block"
    for button in buttons(message):
        assert units(button["text"]["text"]) <= 75
        assert units(button.get("value", "")) <= 2000
    for obj in walk(message["blocks"]):
        if obj.get("type") == "mrkdwn":
            # Without verbatim Slack parses bare "@channel"-like text itself.
            assert obj.get("verbatim") is True


# --- escape and formatting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        pytest.param("a & b", "a &amp; b", id="ampersand"),
        pytest.param("<!channel>", "&lt;!channel&gt;", id="broadcast"),
        pytest.param("&lt;", "&amp;lt;", id="already-escaped-shown-literally"),
        pytest.param(
            "*bold* `code` _it_ 明天", "*bold* `code` _it_ 明天", id="other-text-untouched"
        ),
    ],
)
def test_escape_replaces_only_the_three_control_characters(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        pytest.param(0, "under 1 min", id="zero"),
        pytest.param(30, "30 min", id="minutes"),
        pytest.param(60, "1 h", id="hour"),
        pytest.param(90, "1 h 30 min", id="hour-and-minutes"),
        pytest.param(1440, "24 h", id="day"),
    ],
)
def test_format_duration(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)


@pytest.mark.parametrize(
    ("conference_id", "shown"),
    [
        pytest.param("123456789", "123 456 789", id="nine-digits"),
        pytest.param("1234567890", "123 456 7890", id="ten-digits"),
        pytest.param("12345678901", "123 4567 8901", id="eleven-digits"),
        pytest.param("123 456 789", "123 456 789", id="already-grouped"),
        pytest.param("vmr-abc", "vmr-abc", id="not-digits-unchanged"),
    ],
)
def test_format_meeting_id(conference_id: str, shown: str) -> None:
    assert format_meeting_id(conference_id) == shown


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(START, id="utc"),
        pytest.param(START.astimezone(ZoneInfo("Asia/Shanghai")), id="shanghai"),
        pytest.param(START.astimezone(ZoneInfo("America/Los_Angeles")), id="los-angeles"),
    ],
)
def test_date_token_carries_the_epoch_and_a_utc_fallback(moment: datetime) -> None:
    match = DATE_TOKEN.fullmatch(date_token(moment))
    assert match is not None
    assert datetime.fromtimestamp(int(match[1]), UTC) == START
    assert match[2] == "{date_short_pretty} at {time}"
    assert match[3] == "Thu, Dec 24 at 14:00 UTC"


def test_date_token_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        date_token(datetime(2026, 12, 24, 14, 0))  # noqa: DTZ001 -- the case under test


# --- Mention injection -------------------------------------------------------------------------

INJECTIONS = [
    pytest.param("<!channel>", id="channel"),
    pytest.param("<!here>", id="here"),
    pytest.param("<@U123>", id="user-mention"),
    pytest.param("<https://x|y>", id="disguised-link"),
    pytest.param("&lt;", id="already-escaped"),
    pytest.param("<!subteam^S1|@team>", id="usergroup"),
]

Render = Callable[[str], Message]


def render_list(topic: str) -> Message:
    return blocks.render_list([make_card(topic=topic), make_card(topic="Other")], now=NOW)


def render_mappings(third_party_id: str) -> Message:
    return blocks.render_mappings([("U0ANA", third_party_id)], page=1, pages=1, mode="explicit")


# Their fallback is a summary ("Your upcoming meetings: 2"), not the user's text.
TOPICLESS_FALLBACK = {render_list, render_mappings}
RENDERERS: list[Any] = [
    pytest.param(lambda t: blocks.render_card(make_card(topic=t)), id="card"),
    pytest.param(
        lambda t: blocks.render_card(make_card(topic=t, state=CardState.LIVE)), id="card-live"
    ),
    pytest.param(
        lambda t: blocks.render_reminder(make_card(topic=t), minutes_before=10, now=NOW),
        id="reminder",
    ),
    pytest.param(render_list, id="list"),
    pytest.param(
        lambda t: blocks.render_error(f"The topic {t} is too long", f"/meet {t} tomorrow 3pm"),
        id="error",
    ),
    pytest.param(lambda t: blocks.render_invite_dm(make_card(topic=t), "U0ORGANIZER"), id="invite"),
    pytest.param(
        lambda t: blocks.render_host_details(make_card(topic=t), "https://h.example/x", "1234"),
        id="host-details",
    ),
    pytest.param(lambda t: blocks.render_thread_started(make_card(topic=t), 3), id="started"),
    pytest.param(lambda t: blocks.render_thread_ended(make_card(topic=t), 42), id="ended"),
    pytest.param(
        lambda t: blocks.render_cancelled_notice(make_card(topic=t, cancelled_by="U0BOSS")),
        id="cancelled-notice",
    ),
    pytest.param(lambda t: blocks.render_vendor_error(f"Meeting {t} not found"), id="vendor"),
    pytest.param(lambda t: blocks.render_working(f"Creating {t}…"), id="working"),
    pytest.param(lambda t: blocks.render_done(f"Mapped {t}"), id="done"),
    pytest.param(lambda t: blocks.render_not_allowed(f"cancel {t}"), id="not-allowed"),
    pytest.param(
        lambda t: blocks.render_whoami("U0ANA", f"ana{t}@example.com", "email", None),
        id="whoami",
    ),
    pytest.param(render_mappings, id="mappings"),
]


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("render", RENDERERS)
def test_user_text_is_inert_in_every_message(render: Render, injection: str) -> None:
    message = render(f"Plan {injection} now")
    dumped = json.dumps(message, ensure_ascii=False)
    assert f"Plan {injection} now" not in dumped
    if injection.startswith("<"):
        assert injection not in dumped
    assert any(f"Plan {escape(injection)} now" in text for text in mrkdwn_texts(message))
    if render not in TOPICLESS_FALLBACK:
        assert f"Plan {escape(injection)} now" in message["text"]
    assert_within_slack_limits(message)


@pytest.mark.parametrize("injection", INJECTIONS)
def test_no_time_found_shows_the_topic_inert_and_keeps_it_exact_for_start_now(
    injection: str,
) -> None:
    topic = f"Plan {injection} now"
    message = blocks.render_no_time_found(topic)
    (button,) = buttons(message)
    assert (button["action_id"], button["value"]) == (START_NOW, topic)
    for text in shown_texts(message):
        assert topic not in text
    assert f"Plan {escape(injection)} now" in message["text"]
    assert_within_slack_limits(message)


def test_bare_broadcast_words_are_not_parsed_by_slack() -> None:
    message = blocks.render_card(make_card(topic="@channel @here #general"))
    assert "*@channel @here #general*" in mrkdwn_texts(message)[0]
    assert_within_slack_limits(message)


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("bob<!channel>", id="broadcast"),
        pytest.param("u0lower", id="lowercase"),
        pytest.param("<@U0ANA>", id="pre-wrapped"),
    ],
)
def test_malformed_user_ids_are_shown_as_text_not_mentions(user_id: str) -> None:
    card = make_card(organizer_id=user_id, invitee_ids=(user_id,), cancelled_by=user_id)
    for message in (
        blocks.render_card(card),
        blocks.render_card(dataclasses.replace(card, state=CardState.CANCELLED)),
    ):
        dumped = json.dumps(message)
        assert f"<@{user_id}>" not in dumped
        assert "<!channel>" not in dumped
        assert escape(user_id) in mrkdwn_texts(message)[0]


# --- The card ----------------------------------------------------------------------------------


def test_card_shows_everything_a_reader_needs() -> None:
    message = blocks.render_card(make_card(duration_minutes=90))
    section = mrkdwn_texts(message)[0]
    assert section.startswith("*Standup*")
    assert "Organizer <@U0ORGANIZER>" in section
    assert "1 h 30 min" in section
    assert "Meeting ID: 900 000 001" in section
    assert "every weekday" in section
    assert "<@U0ANA>, <@W0LI>" in section
    token = DATE_TOKEN.search(section)
    assert token is not None
    assert int(token[1]) == START.timestamp()
    assert message["text"] == (
        "Standup — Thu, Dec 24 at 14:00 UTC — join: "
        "https://meeting.example.com/join?c=900000001&amp;k=abc"
    )


def test_instant_card_says_started_with_a_date_token() -> None:
    message = blocks.render_card(make_card(instant=True, recurrence_text=None))
    section = mrkdwn_texts(message)[0]
    assert re.search(r"Started <!date\^\d+\^", section)
    assert "started Thu, Dec 24 at 14:00 UTC" in message["text"]


def test_instant_card_without_a_start_still_renders() -> None:
    message = blocks.render_card(make_card(start=None, instant=True))
    assert "Instant meeting" in mrkdwn_texts(message)[0]
    assert "<!date" not in json.dumps(message)
    assert_within_slack_limits(message)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(CardState.SCHEDULED, [JOIN, CANCEL], id="scheduled-join-and-cancel"),
        pytest.param(CardState.LIVE, [JOIN], id="live-join-only"),
        pytest.param(CardState.ENDED, [], id="ended-no-buttons"),
        pytest.param(CardState.CANCELLED, [], id="cancelled-no-buttons"),
    ],
)
def test_card_buttons_follow_the_meeting_state(state: CardState, expected: list[str]) -> None:
    message = blocks.render_card(make_card(state=state, ended_duration_minutes=42))
    assert [button["action_id"] for button in buttons(message)] == expected
    for button in buttons(message):
        if button["action_id"] == JOIN:
            assert button["url"] == JOIN_URL
            assert button["style"] == "primary"
        if button["action_id"] == CANCEL:
            assert button["value"] == "42"
            assert button["style"] == "danger"
            assert button["confirm"]["style"] == "danger"
            assert "*Standup*" in button["confirm"]["text"]["text"]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        pytest.param({"state": CardState.SCHEDULED}, "Scheduled", id="scheduled"),
        pytest.param({"state": CardState.LIVE}, "In progress", id="live"),
        pytest.param(
            {"state": CardState.LIVE, "participant_count": 3},
            "In progress · 3 participants",
            id="live-count",
        ),
        pytest.param(
            {"state": CardState.LIVE, "participant_count": 1},
            "In progress · 1 participant",
            id="live-one",
        ),
        pytest.param(
            {"state": CardState.ENDED, "ended_duration_minutes": 42},
            "Ended — lasted 42 min",
            id="ended",
        ),
        pytest.param(
            {"state": CardState.CANCELLED, "cancelled_by": "U0BOSS"},
            "Cancelled by <@U0BOSS>",
            id="cancelled",
        ),
    ],
)
def test_card_status_line(changes: dict[str, Any], status: str) -> None:
    message = blocks.render_card(make_card(**changes))
    (context,) = [b for b in message["blocks"] if b["type"] == "context"]
    assert context["elements"][0]["text"].endswith(status)


def test_ended_card_fallback_says_how_long_it_lasted() -> None:
    message = blocks.render_card(make_card(state=CardState.ENDED, ended_duration_minutes=42))
    assert message["text"] == "Standup — ended, lasted 42 min"
    assert JOIN_URL not in json.dumps(message)


def test_host_details_are_only_in_the_ephemeral_host_message() -> None:
    card = make_card()
    host_url = "https://meeting.example.com/host?c=900000001&t=chair"
    host = blocks.render_host_details(card, host_url, "837261")
    (button,) = buttons(host)
    assert (button["action_id"], button["url"]) == (HOST_JOIN, host_url)
    assert "Host password: `837261`" in mrkdwn_texts(host)[0]
    assert "Only you can see this" in mrkdwn_texts(host)[0]
    # The fallback shows up in notifications and previews: no password there.
    assert "837261" not in host["text"]
    for state in CardState:
        card_json = json.dumps(blocks.render_card(dataclasses.replace(card, state=state)))
        assert "837261" not in card_json
        assert "chair" not in card_json
        assert HOST_JOIN not in card_json


def test_host_details_without_password() -> None:
    host = blocks.render_host_details(make_card(), "https://h.example/x", None)
    assert "needs no password" in mrkdwn_texts(host)[0]


# --- Reminders and thread replies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes_before", "now", "wording"),
    [
        pytest.param(10, START - timedelta(minutes=10), "starts in 10 min", id="ten-before"),
        pytest.param(
            10, START - timedelta(minutes=9, seconds=40), "starts in 10 min", id="tick-late"
        ),
        pytest.param(0, START, "starting now", id="at-start"),
        pytest.param(0, START + timedelta(seconds=20), "starting now", id="seconds-late"),
        pytest.param(10, START + timedelta(minutes=3), "started 3 min ago", id="late"),
        pytest.param(15, START - timedelta(minutes=75), "starts in 1 h 15 min", id="hours"),
    ],
)
def test_reminder_wording_follows_the_real_time_left(
    minutes_before: int, now: datetime, wording: str
) -> None:
    message = blocks.render_reminder(make_card(), minutes_before=minutes_before, now=now)
    assert f"*Standup* {wording} (" in mrkdwn_texts(message)[0]
    assert message["text"].startswith(f"Standup {wording} — join: ")
    assert [b["action_id"] for b in buttons(message)] == [JOIN]
    assert_within_slack_limits(message)


def test_thread_replies_say_started_and_ended() -> None:
    started = blocks.render_thread_started(make_card(), 4)
    assert "*Standup* has started · 4 participants" in mrkdwn_texts(started)[0]
    assert [b["action_id"] for b in buttons(started)] == [JOIN]
    ended = blocks.render_thread_ended(make_card(), 42)
    assert "ended — lasted 42 min" in mrkdwn_texts(ended)[0]
    assert ended["text"] == "Standup ended — lasted 42 min"
    assert buttons(ended) == []


def test_invite_dm_names_the_inviter_and_carries_join() -> None:
    message = blocks.render_invite_dm(make_card(), "U0ORGANIZER")
    assert "<@U0ORGANIZER> invited you to *Standup*" in mrkdwn_texts(message)[0]
    assert [b["url"] for b in buttons(message)] == [JOIN_URL]


# --- Lists, answers and limits -----------------------------------------------------------------


def test_list_shows_each_meeting_with_join_and_time() -> None:
    cards = [
        make_card(meeting_id=1, topic="A"),
        make_card(meeting_id=2, topic="B", state=CardState.LIVE),
    ]
    message = blocks.render_list(cards, now=NOW)
    texts = mrkdwn_texts(message)
    assert "*A*" in texts[0]
    assert "(starts in 3 h)" in texts[0]
    assert "In progress" in texts[1]
    assert [b["value"] for b in buttons(message)] == ["1", "2"]
    assert message["text"] == "Your upcoming meetings: 2"


def test_empty_list_says_so() -> None:
    message = blocks.render_list([], now=NOW)
    assert "no upcoming meetings" in message["blocks"][0]["text"]["text"]
    assert buttons(message) == []


WIDE_TOPICS = [
    pytest.param("😀" * 128, id="emoji"),
    pytest.param("会议" * 64, id="cjk"),
    pytest.param("&" * 128, id="ampersands"),
    pytest.param("<" * 128, id="angle-brackets"),
]


@pytest.mark.parametrize("topic", WIDE_TOPICS)
def test_longest_valid_topic_is_shown_whole_within_limits(topic: str) -> None:
    card = make_card(topic=topic, invitee_ids=tuple(f"U0{i:08d}" for i in range(50)))
    for message in (
        blocks.render_card(card),
        blocks.render_reminder(card, minutes_before=10, now=NOW),
        blocks.render_list([card] * 100, now=NOW),
        blocks.render_invite_dm(card, "U0ORGANIZER"),
        blocks.render_no_time_found(topic),
    ):
        assert_within_slack_limits(message)
        assert escape(topic) in "\n".join(shown_texts(message))


def test_card_names_all_fifty_invitees() -> None:
    invitees = tuple(f"U0{i:08d}" for i in range(50))
    section = mrkdwn_texts(blocks.render_card(make_card(invitee_ids=invitees)))[0]
    assert all(f"<@{user}>" in section for user in invitees)


def test_overlong_text_is_cut_with_an_ellipsis_never_inside_an_entity() -> None:
    topic = "a" + "&" * 5000
    message = blocks.render_card(make_card(topic=topic, invitee_ids=("x" * 5000,) * 500))
    assert_within_slack_limits(message)
    headline = mrkdwn_texts(message)[0].split("\n")[0]
    assert headline.endswith("…*")
    assert re.fullmatch(r"\*a(&amp;)+…\*", headline)
    assert "more" in mrkdwn_texts(message)[0]


def test_list_of_a_hundred_meetings_stays_within_fifty_blocks() -> None:
    cards = [make_card(meeting_id=i, topic=f"Meeting {i}") for i in range(100)]
    message = blocks.render_list(cards, now=NOW, cancellable=range(100))
    assert_within_slack_limits(message)
    assert action_ids(message).count(blocks.JOIN) == LIST_LIMIT
    assert action_ids(message).count(blocks.CANCEL) == LIST_LIMIT
    assert f"{100 - LIST_LIMIT} more" in json.dumps(message)


def test_list_page_says_how_many_more_and_pages_both_ways() -> None:
    cards = [make_card(meeting_id=i, topic=f"Meeting {i}") for i in range(LIST_LIMIT)]
    message = blocks.render_list(cards, now=NOW, total=2 * LIST_LIMIT + 5, page=1)
    assert "…and 5 more not shown." in json.dumps(message, ensure_ascii=False)
    pager = [b for b in buttons(message) if b["action_id"] in (LIST_PAGE_PREV, LIST_PAGE_NEXT)]
    assert [(b["action_id"], b["value"]) for b in pager] == [
        (LIST_PAGE_PREV, "0"),
        (LIST_PAGE_NEXT, "2"),
    ]


def test_last_list_page_has_no_more_and_no_next() -> None:
    cards = [make_card(meeting_id=1)]
    message = blocks.render_list(cards, now=NOW, total=LIST_LIMIT + 1, page=1)
    assert "more not shown" not in json.dumps(message)
    assert LIST_PAGE_NEXT not in action_ids(message)
    assert LIST_PAGE_PREV in action_ids(message)


def test_list_offers_cancel_only_where_allowed_and_names_who_invited() -> None:
    mine = make_card(meeting_id=1, topic="Mine", organizer_id="U0ME")
    invited = make_card(meeting_id=2, topic="Theirs", organizer_id="U0BOSS")
    live = make_card(meeting_id=3, topic="Live", organizer_id="U0ME", state=CardState.LIVE)
    message = blocks.render_list([mine, invited, live], now=NOW, viewer="U0ME", cancellable={1, 3})
    cancels = [b["value"] for b in buttons(message) if b["action_id"] == blocks.CANCEL]
    assert cancels == ["1"]  # not the one they were invited to; a live one is not cancellable
    assert [b["value"] for b in buttons(message) if b["action_id"] == blocks.JOIN] == [
        "1",
        "2",
        "3",
    ]
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "invited by <@U0BOSS>" in texts[1]
    assert "invited by" not in texts[0]


def test_duplicate_shows_the_meeting_with_join_and_create_anyway() -> None:
    message = render_duplicate(
        make_card(topic="<!channel> sync"), again_action=CREATE_ANYWAY, again_value="{}"
    )
    assert_within_slack_limits(message)
    assert "&lt;!channel&gt; sync" in mrkdwn_texts(message)[0]
    assert "<!channel>" not in json.dumps(message)
    assert [(b["action_id"], b.get("value")) for b in buttons(message)] == [
        (blocks.JOIN, "42"),
        (CREATE_ANYWAY, "{}"),
    ]
    assert blocks.escape(JOIN_URL) in message["text"]


def test_error_shows_problem_and_example() -> None:
    message = blocks.render_error(
        "The time 3pm yesterday is in the past.", "/meet Standup tomorrow 3pm"
    )
    assert mrkdwn_texts(message)[0] == (
        ":warning: The time 3pm yesterday is in the past.\nTry: `/meet Standup tomorrow 3pm`"
    )
    assert message["text"] == "The time 3pm yesterday is in the past."


def test_no_time_found_offers_start_now_and_an_example() -> None:
    message = blocks.render_no_time_found("Standup")
    texts = mrkdwn_texts(message)
    assert "I couldn't find a time in “Standup”" in texts[0]
    assert "`/meet Standup tomorrow 3pm for 30m`" in texts[1]
    (button,) = buttons(message)
    assert (button["action_id"], button["value"]) == (START_NOW, "Standup")


def test_start_now_value_is_cut_to_slacks_limit() -> None:
    (button,) = buttons(blocks.render_no_time_found("x" * 3000))
    assert button["value"] == "x" * 2000


@pytest.mark.parametrize(
    "is_admin", [pytest.param(True, id="admin"), pytest.param(False, id="member")]
)
def test_help_lists_admin_commands_only_to_admins(is_admin: bool) -> None:
    message = blocks.render_help(is_admin)
    dumped = json.dumps(message)
    assert "/meet list" in dumped
    assert "/meet cancel &lt;meeting ID&gt;" in dumped
    assert ("/meet admin setup" in dumped) is is_admin
    assert_within_slack_limits(message)


def test_whoami_with_and_without_mapping() -> None:
    mapped = blocks.render_whoami("U0ANA", "ana@example.com", "email", None)
    assert "You are <@U0ANA>" in mrkdwn_texts(mapped)[0]
    assert "`ana@example.com`" in mrkdwn_texts(mapped)[0]
    unmapped = blocks.render_whoami("U0ANA", None, "explicit", "no admin has mapped you")
    assert "no admin has mapped you" in mrkdwn_texts(unmapped)[0]


@pytest.mark.parametrize("reason", list(NotMappedReason), ids=str)
def test_not_mapped_says_what_to_ask_the_admin(reason: NotMappedReason) -> None:
    text = mrkdwn_texts(blocks.render_not_mapped(reason))[0]
    assert "/meet admin" in text
    assert "<" not in text


def test_not_allowed_names_who_may() -> None:
    message = blocks.render_not_allowed("cancel this meeting")
    assert (
        message["text"]
        == ":no_entry: Only the organizer or a workspace admin can cancel this meeting."
    )


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        pytest.param(1, 1, [], id="single-page"),
        pytest.param(1, 3, [(MAPPINGS_PAGE_NEXT, "2")], id="first"),
        pytest.param(2, 3, [(MAPPINGS_PAGE_PREV, "1"), (MAPPINGS_PAGE_NEXT, "3")], id="middle"),
        pytest.param(3, 3, [(MAPPINGS_PAGE_PREV, "2")], id="last"),
    ],
)
def test_mappings_pager(page: int, pages: int, expected: list[tuple[str, str]]) -> None:
    message = blocks.render_mappings([("U0ANA", "ana")], page=page, pages=pages, mode="explicit")
    assert [(b["action_id"], b["value"]) for b in buttons(message)] == expected
    assert all(MAPPINGS_PAGE.fullmatch(action_id) for action_id, _ in expected)
    assert "<@U0ANA> → `ana`" in json.dumps(message, ensure_ascii=False)


def test_huge_mappings_page_stays_within_limits() -> None:
    rows = [(f"U0{i:08d}", "x" * 150) for i in range(2000)]
    message = blocks.render_mappings(rows, page=1, pages=2, mode="email")
    assert_within_slack_limits(message)
    assert "more rows on this page not shown" in json.dumps(message)
    assert buttons(message)[-1]["action_id"] == MAPPINGS_PAGE_NEXT


# --- Modals ------------------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_schedule_modal_fields() -> None:
    view = blocks.render_schedule_modal(
        topic="<!here> & plan", initial_epoch=int(START.timestamp()), private_metadata='{"c":"C1"}'
    )
    assert view["callback_id"] == SCHEDULE_MODAL
    assert view["private_metadata"] == '{"c":"C1"}'
    fields = inputs(view)
    assert list(fields) == [
        SCHEDULE_TOPIC,
        SCHEDULE_START,
        SCHEDULE_DURATION,
        SCHEDULE_INVITEES,
        SCHEDULE_RECURRENCE,
    ]
    for block_id, block in fields.items():
        assert block["element"]["action_id"] == block_id
    topic = fields[SCHEDULE_TOPIC]["element"]
    # An input shows its value literally: the raw topic, not escaped text.
    assert (topic["initial_value"], topic["max_length"]) == ("<!here> & plan", 128)
    assert fields[SCHEDULE_START]["element"] == {
        "type": "datetimepicker",
        "action_id": SCHEDULE_START,
        "initial_date_time": int(START.timestamp()),
    }
    duration = fields[SCHEDULE_DURATION]["element"]
    assert [o["value"] for o in duration["options"]][:6] == ["15", "30", "45", "60", "90", "120"]
    assert duration["initial_option"]["value"] == "30"
    assert fields[SCHEDULE_INVITEES]["element"]["type"] == "multi_users_select"
    assert fields[SCHEDULE_INVITEES]["optional"] is True
    recurrence = fields[SCHEDULE_RECURRENCE]["element"]
    assert [o["value"] for o in recurrence["options"]] == [
        "none",
        "daily",
        "weekdays",
        "weekly",
        "monthly",
    ]


def test_schedule_modal_lets_one_pick_at_most_50_people_and_says_so() -> None:
    invitees = inputs(blocks.render_schedule_modal(initial_epoch=None, private_metadata=""))[
        SCHEDULE_INVITEES
    ]

    assert invitees["element"]["max_selected_items"] == 50
    assert "Up to 50 people" in invitees["hint"]["text"]


def test_schedule_modal_refuses_more_than_50_people() -> None:
    users = [f"U{n:010d}" for n in range(51)]

    errors = blocks.read_schedule_modal(submission(users=users), now=NOW)

    assert errors == {SCHEDULE_INVITEES: "Pick at most 50 people."}


def test_schedule_modal_invites_50_people() -> None:
    users = [f"U{n:010d}" for n in range(50)]

    form = blocks.read_schedule_modal(submission(users=users), now=NOW)

    assert isinstance(form, ScheduleForm)
    assert form.invitee_ids == tuple(users)


def test_schedule_modal_without_topic_or_time() -> None:
    fields = inputs(blocks.render_schedule_modal(initial_epoch=None, private_metadata=""))
    assert "initial_value" not in fields[SCHEDULE_TOPIC]["element"]
    assert "initial_date_time" not in fields[SCHEDULE_START]["element"]


@pytest.mark.parametrize(
    ("app_id", "key_optional", "hint"),
    [
        pytest.param("app-1", True, "Leave empty to keep the current key.", id="reconfigure"),
        pytest.param("", False, "Stored encrypted; never shown again.", id="first-setup"),
    ],
)
def test_admin_setup_modal_never_prefills_the_key(
    app_id: str, key_optional: bool, hint: str
) -> None:
    view = blocks.render_admin_setup_modal(
        app_id=app_id, corp_id="corp-9", mode="explicit", private_metadata="T1"
    )
    assert view["callback_id"] == ADMIN_SETUP_MODAL
    fields = inputs(view)
    key = fields[ADMIN_APP_KEY]
    assert "initial_value" not in key["element"]
    assert key["optional"] is key_optional
    assert key["hint"]["text"] == hint
    assert fields[ADMIN_APP_ID]["element"].get("initial_value") == (app_id or None)
    assert fields[ADMIN_CORP_ID]["element"]["initial_value"] == "corp-9"
    assert fields[ADMIN_MODE]["element"]["initial_option"]["value"] == "explicit"


def submission(
    *,
    topic: str | None = "Plan <!here> & more",
    epoch: int | None = int(START.timestamp()),
    duration: str | None = "45",
    users: list[str] | None = None,
    recurrence: str | None = "weekly",
) -> dict[str, Any]:
    """A view_submission's `view` as Slack sends it for the scheduling modal."""

    def option(value: str | None) -> dict[str, Any] | None:
        return (
            None
            if value is None
            else {"text": {"type": "plain_text", "text": value}, "value": value}
        )

    return {
        "callback_id": SCHEDULE_MODAL,
        "private_metadata": "C1",
        "state": {
            "values": {
                SCHEDULE_TOPIC: {SCHEDULE_TOPIC: {"type": "plain_text_input", "value": topic}},
                SCHEDULE_START: {
                    SCHEDULE_START: {"type": "datetimepicker", "selected_date_time": epoch}
                },
                SCHEDULE_DURATION: {
                    SCHEDULE_DURATION: {
                        "type": "static_select",
                        "selected_option": option(duration),
                    }
                },
                SCHEDULE_INVITEES: {
                    SCHEDULE_INVITEES: {"type": "multi_users_select", "selected_users": users or []}
                },
                SCHEDULE_RECURRENCE: {
                    SCHEDULE_RECURRENCE: {
                        "type": "static_select",
                        "selected_option": option(recurrence),
                    }
                },
            }
        },
    }


def test_schedule_modal_submission_is_read_back() -> None:
    form = blocks.read_schedule_modal(submission(users=["U0ANA", "U0LI"]), now=NOW)
    assert form == ScheduleForm(
        topic="Plan <!here> & more",
        start=START,
        duration_minutes=45,
        invitee_ids=("U0ANA", "U0LI"),
        recurrence="weekly",
    )


def test_schedule_modal_without_recurrence_reads_none() -> None:
    form = blocks.read_schedule_modal(submission(recurrence="none"), now=NOW)
    assert isinstance(form, ScheduleForm)
    assert form.recurrence is None
    assert form.invitee_ids == ()


@pytest.mark.parametrize(
    ("changes", "block_id", "error"),
    [
        pytest.param(
            {"topic": "   "}, SCHEDULE_TOPIC, "Give the meeting a topic.", id="blank-topic"
        ),
        pytest.param({"topic": None}, SCHEDULE_TOPIC, "Give the meeting a topic.", id="no-topic"),
        pytest.param(
            {"topic": "x" * 129},
            SCHEDULE_TOPIC,
            "Keep the topic to 128 characters.",
            id="long-topic",
        ),
        pytest.param({"epoch": None}, SCHEDULE_START, "Pick a start time.", id="no-start"),
        pytest.param(
            {"epoch": int((NOW - timedelta(minutes=5)).timestamp())},
            SCHEDULE_START,
            "Pick a time in the future.",
            id="past",
        ),
        pytest.param(
            {"epoch": int((NOW + timedelta(days=400)).timestamp())},
            SCHEDULE_START,
            "Pick a time within the next year.",
            id="too-far",
        ),
        pytest.param(
            {"duration": "7"}, SCHEDULE_DURATION, "Pick a duration.", id="forged-duration"
        ),
        pytest.param({"duration": None}, SCHEDULE_DURATION, "Pick a duration.", id="no-duration"),
        pytest.param(
            {"recurrence": "yearly"},
            SCHEDULE_RECURRENCE,
            "Pick how it repeats.",
            id="forged-recurrence",
        ),
    ],
)
def test_schedule_modal_errors_point_at_the_field(
    changes: dict[str, Any], block_id: str, error: str
) -> None:
    assert blocks.read_schedule_modal(submission(**changes), now=NOW) == {block_id: error}


def test_schedule_modal_accepts_the_current_minute() -> None:
    epoch = int(NOW.replace(second=0).timestamp())
    form = blocks.read_schedule_modal(submission(epoch=epoch), now=NOW + timedelta(seconds=40))
    assert isinstance(form, ScheduleForm)


# --- Every id comes from the exported constants ------------------------------------------------


def every_payload() -> list[object]:
    card = make_card()
    return [
        *(blocks.render_card(dataclasses.replace(card, state=s)) for s in CardState),
        blocks.render_host_details(card, "https://h.example/x", "1"),
        blocks.render_invite_dm(card, "U0ANA"),
        blocks.render_reminder(card, minutes_before=10, now=NOW),
        blocks.render_thread_started(card, None),
        blocks.render_thread_ended(card, 5),
        blocks.render_list([card], now=NOW),
        blocks.render_no_time_found("Standup"),
        blocks.render_mappings([("U0ANA", "ana")], page=2, pages=3, mode="slack"),
        blocks.render_schedule_modal(topic="x", initial_epoch=None, private_metadata=""),
        blocks.render_admin_setup_modal(app_id="a", corp_id="", mode="email", private_metadata=""),
    ]


def test_every_action_id_is_an_exported_constant() -> None:
    used = {action_id for payload in every_payload() for action_id in action_ids(payload)}
    assert used <= EXPORTED_ACTION_IDS
    assert used == EXPORTED_ACTION_IDS, "every exported action_id is rendered somewhere"
