"""bot.commands: every line of the /meet grammar, Slack's escaping, validation and its messages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import (
    AdminChannel,
    AdminCheck,
    AdminMap,
    AdminMappingMode,
    AdminMappings,
    AdminReminders,
    AdminSetup,
    AdminUnmap,
    Cancel,
    Command,
    CommandError,
    ErrorKind,
    Frequency,
    Help,
    ListMeetings,
    MappingMode,
    NoTimeFound,
    OpenScheduleModal,
    Recurrence,
    Schedule,
    StartNow,
    WhoAmI,
    parse_command,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Wednesday 4 March 2026, 10:00 in New York (15:00 UTC).
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=NEW_YORK)
TOMORROW_3PM_UTC = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)  # Thursday 15:00 EST


def parse(text: str, **kwargs: Any) -> Command | CommandError:
    return parse_command(text, now=kwargs.pop("now", NOW), tz=kwargs.pop("tz", NEW_YORK), **kwargs)


def schedule(text: str, **kwargs: Any) -> Schedule:
    command = parse(text, **kwargs)
    assert isinstance(command, Schedule), command
    return command


def error(text: str, **kwargs: Any) -> CommandError:
    command = parse(text, **kwargs)
    assert isinstance(command, CommandError), command
    return command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", StartNow(), id="bare-meet"),
        pytest.param("   ", StartNow(), id="only-spaces"),
        pytest.param("now", StartNow(), id="now"),
        pytest.param("now Design review", StartNow(topic="Design review"), id="now-with-topic"),
        pytest.param("NOW incident", StartNow(topic="incident"), id="now-any-case"),
        pytest.param("schedule", OpenScheduleModal(), id="schedule"),
        pytest.param("list", ListMeetings(), id="list"),
        pytest.param("whoami", WhoAmI(), id="whoami"),
        pytest.param("help", Help(), id="help"),
        pytest.param("Help", Help(), id="help-any-case"),
        pytest.param("cancel 987654321", Cancel(meeting_id="987654321"), id="cancel"),
        pytest.param("cancel 987 654 321", Cancel(meeting_id="987654321"), id="cancel-spaces"),
        pytest.param("cancel 987-654-321", Cancel(meeting_id="987654321"), id="cancel-dashes"),
        pytest.param("admin setup", AdminSetup(), id="admin-setup"),
        pytest.param(
            "admin map <@U0ALICE|alice> alice@example.com",
            AdminMap(user_id="U0ALICE", third_party_id="alice@example.com"),
            id="admin-map",
        ),
        pytest.param(
            "admin map <@U0ALICE|alice> <mailto:alice@example.com|alice@example.com>",
            AdminMap(user_id="U0ALICE", third_party_id="alice@example.com"),
            id="admin-map-linked-email",
        ),
        pytest.param(
            "admin map <@W0ALICE> r&amp;d-alice",
            AdminMap(user_id="W0ALICE", third_party_id="r&d-alice"),
            id="admin-map-decoded-id",
        ),
        pytest.param(
            "admin map U0ALICE alice",
            AdminMap(user_id="U0ALICE", third_party_id="alice"),
            id="admin-map-bare-id",
        ),
        pytest.param(
            "admin unmap <@U0ALICE|alice>", AdminUnmap(user_id="U0ALICE"), id="admin-unmap"
        ),
        pytest.param("admin mappings", AdminMappings(page=1), id="admin-mappings"),
        pytest.param("admin mappings 3", AdminMappings(page=3), id="admin-mappings-page"),
        pytest.param("admin mappings 10000", AdminMappings(page=10000), id="admin-mappings-last"),
        pytest.param(
            "admin mapping email", AdminMappingMode(mode=MappingMode.EMAIL), id="mode-email"
        ),
        pytest.param(
            "admin mapping Slack", AdminMappingMode(mode=MappingMode.SLACK), id="mode-slack"
        ),
        pytest.param(
            "admin mapping explicit",
            AdminMappingMode(mode=MappingMode.EXPLICIT),
            id="mode-explicit",
        ),
        pytest.param("admin reminders 15,5,0", AdminReminders(minutes=(15, 5, 0)), id="reminders"),
        pytest.param(
            "admin reminders 0, 15 5,5",
            AdminReminders(minutes=(15, 5, 0)),
            id="reminders-sorted-unique",
        ),
        pytest.param("admin reminders 1440", AdminReminders(minutes=(1440,)), id="reminders-max"),
        pytest.param(
            "admin channel <#C0MEET|meetings>",
            AdminChannel(channel_id="C0MEET"),
            id="admin-channel",
        ),
        pytest.param(
            "admin channel <#C0MEET>", AdminChannel(channel_id="C0MEET"), id="admin-channel-no-name"
        ),
        pytest.param("admin check", AdminCheck(), id="admin-check"),
        pytest.param("ADMIN CHECK", AdminCheck(), id="admin-any-case"),
        pytest.param("Standup", NoTimeFound(topic="Standup"), id="no-time"),
        pytest.param("Standup for 15m", NoTimeFound(topic="Standup"), id="no-time-with-duration"),
        pytest.param(
            "list of risks", NoTimeFound(topic="list of risks"), id="subcommand-word-in-topic"
        ),
    ],
)
def test_grammar_line_parses_to_command(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_schedule_reads_every_clause() -> None:
    text = "Standup tomorrow 9:30 for 15m with <@U01|bob> <@U02> every weekday"

    assert parse(text) == Schedule(
        topic="Standup",
        start=datetime(2026, 3, 5, 14, 30, tzinfo=UTC),
        tz_name="America/New_York",
        duration_minutes=15,
        invitees=("U01", "U02"),
        recurrence=Recurrence(frequency=Frequency.WEEKDAYS, weekdays=(0, 1, 2, 3, 4)),
    )


def test_schedule_clauses_may_come_in_any_order() -> None:
    a = schedule("every weekday with <@U01|bob> for 15m Standup tomorrow 9:30")
    b = schedule("Standup for 15m tomorrow 9:30 every weekday with <@U01|bob>")

    assert a == b
    assert (a.topic, a.duration_minutes, a.invitees) == ("Standup", 15, ("U01",))


def test_schedule_start_is_aware_utc_and_keeps_zone_name() -> None:
    command = schedule("Retro tomorrow 3pm")

    assert command.start == TOMORROW_3PM_UTC
    assert command.start.utcoffset() is not None
    assert command.start.tzinfo == UTC
    assert command.tz_name == "America/New_York"


def test_schedule_uses_default_duration() -> None:
    assert schedule("Retro tomorrow 3pm").duration_minutes == 30
    assert schedule("Retro tomorrow 3pm", default_duration=45).duration_minutes == 45


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        pytest.param("tomorrow 3pm", "Meeting", id="empty-topic-is-Meeting"),
        pytest.param("Review on tomorrow 3pm", "Review", id="on"),
        pytest.param("Review at tomorrow 3pm", "Review", id="at"),
        pytest.param("Sync from tomorrow 3pm", "Sync", id="from"),
        pytest.param("Design review - tomorrow 3pm", "Design review", id="dash"),
        pytest.param("tomorrow 3pm: Budget", "Budget", id="leading-colon"),
        pytest.param("Check-in tomorrow 3pm", "Check-in", id="hyphenated-word-kept"),
        pytest.param("Plan for Q3 tomorrow 3pm", "Plan for Q3", id="for-without-duration-kept"),
        pytest.param("1:1 with Bob tomorrow 3pm", "1:1 with Bob", id="with-without-mention-kept"),
        pytest.param("Weekly sync tomorrow 3pm", "Weekly sync", id="weekly-is-a-word"),
        pytest.param("Budget tomorrow 3pm review", "Budget review", id="time-in-the-middle"),
        pytest.param("周会在明天下午3点", "周会", id="zh-在"),
        pytest.param("明天下午3点开周会", "开周会", id="zh-no-space"),
        pytest.param(
            "  Retro    planning   tomorrow 3pm ", "Retro planning", id="spaces-collapsed"
        ),
    ],
)
def test_schedule_topic_is_what_is_left(text: str, topic: str) -> None:
    assert schedule(text).topic == topic


def test_schedule_invitees_only_after_with_deduplicated_in_order() -> None:
    command = schedule(
        "Sync <@U09|zed> with <@U02|bob>, <@U01|amy> and <@U02|bob> tomorrow 3pm with <@W03>"
    )

    assert command.invitees == ("U02", "U01", "W03")
    assert command.topic == "Sync @zed"


def test_mention_outside_with_stays_in_topic_as_its_name() -> None:
    command = schedule("Intro <@U01|bob> tomorrow 3pm")

    assert (command.topic, command.invitees) == ("Intro @bob", ())


def test_chinese_invite_and_duration_clauses() -> None:
    command = schedule("周会 明天下午3点 时长1小时 邀请<@U01|bob> <@U02|amy>")

    assert command.topic == "周会"
    assert command.start == datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    assert command.duration_minutes == 60
    assert command.invitees == ("U01", "U02")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        pytest.param(
            "&lt;!channel&gt; party tomorrow 3pm", "<!channel> party", id="typed-brackets"
        ),
        pytest.param("R&amp;D tomorrow 3pm", "R&D", id="ampersand"),
        pytest.param("R&amp;amp;D tomorrow 3pm", "R&amp;D", id="decoded-once"),
        pytest.param("a &gt; b tomorrow 3pm", "a > b", id="greater-than"),
        pytest.param("<!channel> party tomorrow 3pm", "@channel party", id="real-channel-ping"),
        pytest.param("<!subteam^S01|@design> sync tomorrow 3pm", "@design sync", id="user-group"),
        pytest.param("Review <#C01|design> tomorrow 3pm", "Review #design", id="channel"),
        pytest.param(
            "Launch <https://example.com/a?b=1&amp;c=2|example.com> tomorrow 3pm",
            "Launch example.com",
            id="link-label",
        ),
        pytest.param(
            "Launch <https://example.com/a?b=1&amp;c=2> tomorrow 3pm",
            "Launch https://example.com/a?b=1&c=2",
            id="bare-link",
        ),
    ],
)
def test_slack_escaping_is_decoded_once(text: str, topic: str) -> None:
    assert schedule(text).topic == topic


def test_start_now_topic_is_decoded_once() -> None:
    assert parse("now &lt;b&gt; &amp;amp; <@U01|bob>") == StartNow(topic="<b> &amp; @bob")


def test_topic_length_counts_decoded_characters() -> None:
    assert schedule("&amp;" * 128 + " tomorrow 3pm").topic == "&" * 128  # 640 characters as sent
    assert error("&amp;" * 129 + " tomorrow 3pm").kind is ErrorKind.TOPIC_TOO_LONG


@pytest.mark.parametrize(
    ("text", "recurrence"),
    [
        pytest.param("every day", Recurrence(Frequency.DAILY), id="every-day"),
        pytest.param(
            "every weekday", Recurrence(Frequency.WEEKDAYS, (0, 1, 2, 3, 4)), id="every-weekday"
        ),
        pytest.param(
            "every week", Recurrence(Frequency.WEEKLY, (0,)), id="every-week-is-starts-day"
        ),
        pytest.param("every month", Recurrence(Frequency.MONTHLY), id="every-month"),
        pytest.param("every monday", Recurrence(Frequency.WEEKLY, (0,)), id="every-monday"),
        pytest.param("Every Mondays", Recurrence(Frequency.WEEKLY, (0,)), id="plural-any-case"),
        pytest.param("every mon and wed", Recurrence(Frequency.WEEKLY, (0, 2)), id="mon-and-wed"),
        pytest.param("every wed,mon", Recurrence(Frequency.WEEKLY, (0, 2)), id="comma-sorted"),
        pytest.param(
            "every mon, wed &amp; fri", Recurrence(Frequency.WEEKLY, (0, 2, 4)), id="three-days"
        ),
        pytest.param(
            "every week until 12/31",
            Recurrence(Frequency.WEEKLY, (0,), until=date(2026, 12, 31)),
            id="until-month-day",
        ),
        pytest.param(
            "every day until dec 31",
            Recurrence(Frequency.DAILY, until=date(2026, 12, 31)),
            id="until-month-name",
        ),
        pytest.param(
            "every week until 2027-01-15",
            Recurrence(Frequency.WEEKLY, (0,), until=date(2027, 1, 15)),
            id="until-iso",
        ),
        pytest.param("每天", Recurrence(Frequency.DAILY), id="zh-每天"),
        pytest.param(
            "每个工作日", Recurrence(Frequency.WEEKDAYS, (0, 1, 2, 3, 4)), id="zh-每个工作日"
        ),
        pytest.param("每周一", Recurrence(Frequency.WEEKLY, (0,)), id="zh-每周一"),
        pytest.param("每周一三", Recurrence(Frequency.WEEKLY, (0, 2)), id="zh-每周一三"),
        pytest.param("每周", Recurrence(Frequency.WEEKLY, (0,)), id="zh-每周"),
        pytest.param("每月", Recurrence(Frequency.MONTHLY), id="zh-每月"),
    ],
)
def test_schedule_reads_recurrence(text: str, recurrence: Recurrence) -> None:
    command = schedule(f"Sync monday 10am {text}")  # Monday 9 March

    assert command.recurrence == recurrence
    assert command.topic == "Sync"
    assert command.start == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_every_week_repeats_on_the_local_weekday_not_the_utc_one() -> None:
    # Thursday 20:00 in New York is already Friday in UTC.
    command = schedule("Sync tomorrow 8pm every week")

    assert command.start.weekday() == 4
    assert command.recurrence == Recurrence(Frequency.WEEKLY, (3,))


def test_schedule_without_every_does_not_repeat() -> None:
    assert schedule("Daily standup tomorrow 9:30").recurrence is None


@pytest.mark.parametrize(
    ("tz", "now", "expected_utc"),
    [
        pytest.param(
            NEW_YORK,
            datetime(2026, 3, 7, 10, 0, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
            id="new-york-before-spring-forward",
        ),
        pytest.param(
            NEW_YORK,
            datetime(2026, 10, 31, 10, 0, tzinfo=NEW_YORK),
            datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
            id="new-york-before-fall-back",
        ),
        pytest.param(
            LONDON,
            datetime(2026, 3, 28, 10, 0, tzinfo=LONDON),
            datetime(2026, 3, 29, 8, 0, tzinfo=UTC),
            id="london-before-spring-forward",
        ),
        pytest.param(
            LONDON,
            datetime(2026, 10, 24, 10, 0, tzinfo=LONDON),
            datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
            id="london-before-fall-back",
        ),
        pytest.param(
            SHANGHAI,
            datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI),
            datetime(2026, 3, 8, 1, 0, tzinfo=UTC),
            id="shanghai",
        ),
    ],
)
def test_schedule_tomorrow_across_dst_gives_right_instant(
    tz: ZoneInfo, now: datetime, expected_utc: datetime
) -> None:
    command = schedule("Standup tomorrow 9:00", now=now, tz=tz)

    assert command.start == expected_utc
    assert command.tz_name == tz.key


def test_schedule_accepts_a_start_within_one_minute_of_now() -> None:
    command = schedule("Sync 10:00", now=datetime(2026, 3, 4, 10, 0, 50, tzinfo=NEW_YORK))

    assert command.start == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def test_schedule_rejects_yesterday_instead_of_reading_it_as_topic() -> None:
    problem = error("Retro yesterday 3pm")

    assert problem.kind is ErrorKind.PAST_TIME
    assert "“yesterday 3pm”" in problem.problem


def test_schedule_accepts_up_to_a_year_ahead() -> None:
    assert schedule("Offsite 2027-03-04 09:00").start == datetime(2027, 3, 4, 14, 0, tzinfo=UTC)
    assert error("Offsite 2027-03-04 11:00").kind is ErrorKind.TOO_FAR_AHEAD


@pytest.mark.parametrize(
    ("clause", "minutes"),
    [
        pytest.param("for 15m", 15, id="minimum"),
        pytest.param("for 24 hours", 1440, id="maximum"),
        pytest.param("for 1h30m", 90, id="1h30m"),
        pytest.param("for 1.5h", 90, id="1.5h"),
        pytest.param("for an hour", 60, id="an-hour"),
        pytest.param("FOR 45 Minutes", 45, id="any-case"),
    ],
)
def test_schedule_reads_duration(clause: str, minutes: int) -> None:
    assert schedule(f"Sync tomorrow 3pm {clause}").duration_minutes == minutes


# One failing input per error kind; the test below checks that none is missing.
def mentions(count: int) -> str:
    """`count` different people as Slack sends mentions: <@U0000000001|p1> …"""
    return " ".join(f"<@U{n:010d}|p{n}>" for n in range(1, count + 1))


ERROR_CASES = [
    pytest.param("Sync tomorrow 3pm " + "x" * 1000, ErrorKind.COMMAND_TOO_LONG, id="too-long"),
    pytest.param("Retro yesterday 3pm", ErrorKind.PAST_TIME, id="past"),
    pytest.param("Standup 2027-06-01 10:00", ErrorKind.TOO_FAR_AHEAD, id="too-far"),
    pytest.param("Standup tomorrow 9:30 for 10m", ErrorKind.DURATION_OUT_OF_RANGE, id="too-short"),
    pytest.param("Standup tomorrow 9:30 for 25h", ErrorKind.DURATION_OUT_OF_RANGE, id="too-long"),
    pytest.param("Standup tomorrow 9:30 for 1x", ErrorKind.DURATION_UNREADABLE, id="bad-duration"),
    pytest.param("Dinner for 2 tomorrow 7pm", ErrorKind.DURATION_UNREADABLE, id="number-after-for"),
    pytest.param("周会 明天下午3点 时长很久", ErrorKind.DURATION_UNREADABLE, id="zh-bad-duration"),
    pytest.param("x" * 129 + " tomorrow 3pm", ErrorKind.TOPIC_TOO_LONG, id="topic-too-long"),
    pytest.param(
        "Sync tomorrow 3pm with " + mentions(51), ErrorKind.TOO_MANY_INVITEES, id="51-invitees"
    ),
    pytest.param("x" * 129, ErrorKind.TOPIC_TOO_LONG, id="no-time-topic-too-long"),
    pytest.param("now " + "x" * 129, ErrorKind.TOPIC_TOO_LONG, id="start-now-topic-too-long"),
    pytest.param("Sync tomorrow 3pm every 2 weeks", ErrorKind.RECURRENCE_UNSUPPORTED, id="every-2"),
    pytest.param(
        "Sync tomorrow 3pm every other week", ErrorKind.RECURRENCE_UNSUPPORTED, id="other"
    ),
    pytest.param(
        "Sync tomorrow 3pm every monday", ErrorKind.RECURRENCE_MISMATCH, id="not-a-monday"
    ),
    pytest.param("Sync saturday 3pm every weekday", ErrorKind.RECURRENCE_MISMATCH, id="weekend"),
    pytest.param("Sync monday 3pm every week until soon", ErrorKind.UNTIL_UNREADABLE, id="until"),
    pytest.param(
        "Sync 12/1 3pm every week until 11/30", ErrorKind.UNTIL_BEFORE_START, id="until-early"
    ),
    pytest.param("cancel", ErrorKind.CANCEL_ID_MISSING, id="cancel-no-id"),
    pytest.param("cancel standup", ErrorKind.CANCEL_ID_INVALID, id="cancel-not-digits"),
    pytest.param("cancel " + "9" * 21, ErrorKind.CANCEL_ID_INVALID, id="cancel-21-digits"),
    pytest.param("admin", ErrorKind.ADMIN_UNKNOWN_VERB, id="admin-alone"),
    pytest.param("admin frobnicate", ErrorKind.ADMIN_UNKNOWN_VERB, id="admin-unknown"),
    pytest.param(
        "admin map alice alice@example.com", ErrorKind.ADMIN_USER_MISSING, id="map-no-user"
    ),
    pytest.param("admin map", ErrorKind.ADMIN_USER_MISSING, id="map-nothing"),
    pytest.param("admin unmap", ErrorKind.ADMIN_USER_MISSING, id="unmap-no-user"),
    pytest.param("admin map <@U01|bob>", ErrorKind.ADMIN_ID_MISSING, id="map-no-id"),
    pytest.param("admin map <@U01|bob> a b", ErrorKind.ADMIN_ID_MISSING, id="map-id-with-space"),
    pytest.param("admin mappings 0", ErrorKind.ADMIN_PAGE_INVALID, id="page-zero"),
    pytest.param("admin mappings two", ErrorKind.ADMIN_PAGE_INVALID, id="page-word"),
    pytest.param("admin mappings 10001", ErrorKind.ADMIN_PAGE_INVALID, id="page-10001"),
    pytest.param(
        "admin mappings 99999999999999999999", ErrorKind.ADMIN_PAGE_INVALID, id="page-20-digits"
    ),
    pytest.param("admin mapping ldap", ErrorKind.ADMIN_MODE_INVALID, id="mode-unknown"),
    pytest.param("admin mapping", ErrorKind.ADMIN_MODE_INVALID, id="mode-missing"),
    pytest.param("admin reminders 15,1441", ErrorKind.ADMIN_REMINDERS_INVALID, id="over-a-day"),
    pytest.param("admin reminders -5", ErrorKind.ADMIN_REMINDERS_INVALID, id="negative"),
    pytest.param("admin reminders soon", ErrorKind.ADMIN_REMINDERS_INVALID, id="not-numbers"),
    pytest.param(
        "admin reminders 0,1,2,3,4,5", ErrorKind.ADMIN_REMINDERS_INVALID, id="six-reminders"
    ),
    pytest.param(
        "Sync monday 3pm every day until 12/31/9999", ErrorKind.UNTIL_TOO_LATE, id="until-9999"
    ),
    pytest.param(
        "Sync 12/1 3pm every week until 12/2/2027", ErrorKind.UNTIL_TOO_LATE, id="until-a-year-on"
    ),
    pytest.param(
        "admin reminders " + "9" * 900, ErrorKind.ADMIN_REMINDERS_INVALID, id="900-digits"
    ),
    pytest.param("admin reminders", ErrorKind.ADMIN_REMINDERS_INVALID, id="empty"),
    pytest.param("admin channel", ErrorKind.ADMIN_CHANNEL_MISSING, id="channel-missing"),
    pytest.param("admin channel meetings", ErrorKind.ADMIN_CHANNEL_MISSING, id="channel-not-link"),
]


@pytest.mark.parametrize(("text", "kind"), ERROR_CASES)
def test_invalid_command_gets_error_of_its_kind(text: str, kind: ErrorKind) -> None:
    problem = error(text)

    assert problem.kind is kind
    assert problem.problem
    assert problem.example.startswith("/meet ")


def test_every_error_kind_is_exercised() -> None:
    exercised = {case.values[1] for case in ERROR_CASES}

    assert exercised == set(ErrorKind)


def as_slack_sends(example: str) -> str:
    """The example's text after /meet, with @name and #name turned into Slack's markup."""
    text = example.removeprefix("/meet ")
    text = re.sub(r"(?<!\w)@(\w+)", lambda m: f"<@U0{m[1].upper()}|{m[1]}>", text)
    return re.sub(r"(?<!\w)#(\w+)", lambda m: f"<#C0{m[1].upper()}|{m[1]}>", text)


@pytest.mark.parametrize(("text", "kind"), ERROR_CASES)
def test_error_example_is_a_command_that_works(text: str, kind: ErrorKind) -> None:
    example = error(text).example

    assert not isinstance(parse(as_slack_sends(example)), CommandError), example


def test_duration_error_names_what_was_written() -> None:
    assert "“1x”" in error("Standup tomorrow 9:30 for 1x").problem


def test_admin_unknown_verb_lists_the_verbs() -> None:
    problem = error("admin frobnicate").problem

    for verb in ("setup", "map", "unmap", "mappings", "mapping", "reminders", "channel", "check"):
        assert verb in problem


def test_past_time_message_says_when_it_was_read() -> None:
    problem = error("Retro yesterday 9am").problem

    assert "Mar 03 09:00" in problem
    assert "America/New_York" in problem


# --- long and hostile text ---------------------------------------------------------------------


def test_a_command_over_the_length_limit_says_how_long_it_is() -> None:
    problem = error("Sync tomorrow 3pm " + "x" * 990)

    assert problem.kind is ErrorKind.COMMAND_TOO_LONG
    assert problem.problem.startswith("Your command is 1008 characters; the limit is 1000.")


def test_the_length_limit_counts_a_mention_as_the_name_shown() -> None:
    people = [f"<@U{n:09d}|Alexandra Longname{n:02d}>" for n in range(40)]
    text = "Sync tomorrow 3pm with " + " ".join(people)
    assert len(text) > 1000  # as Slack sends it; the user wrote about 900 characters

    assert len(schedule(text).invitees) == 40


def test_the_length_limit_counts_runs_of_whitespace_as_one_space() -> None:
    assert schedule("Sync" + " " * 600 + "tomorrow" + "\n" * 600 + "3pm").topic == "Sync"


def test_newlines_and_tabs_separate_words_like_spaces() -> None:
    command = schedule("Sync\n\ntomorrow\t3pm\r\nfor\n45m\nwith\n<@U01|ann>\n<@U02|bo  b>")

    assert command.topic == "Sync"
    assert command.start == TOMORROW_3PM_UTC
    assert command.duration_minutes == 45
    assert command.invitees == ("U01", "U02")


def test_a_mention_in_the_topic_keeps_its_name_with_single_spaces() -> None:
    command = schedule("Sync  about\n<@U01|Ann\n\nLee>  notes tomorrow 3pm")

    assert command.topic == "Sync about @Ann Lee notes"


@pytest.mark.parametrize(
    ("text", "zone", "kind"),
    [
        pytest.param("Sync in 99999999999 hours", "America/New_York", None, id="11-digit-offset"),
        pytest.param("Sync 99999999999小时后", "Asia/Shanghai", None, id="zh-11-digit-offset"),
        pytest.param(
            "Sync in " + "9" * 400 + " hours",
            "America/New_York",
            ErrorKind.TOPIC_TOO_LONG,
            id="400-digit-offset",
        ),
        pytest.param(
            "Sync tomorrow 3pm for 99999999999 hours",
            "America/New_York",
            ErrorKind.DURATION_UNREADABLE,
            id="11-digit-duration",
        ),
        pytest.param(
            "Sync in 999999 hours", "America/New_York", ErrorKind.TOO_FAR_AHEAD, id="6-digit-offset"
        ),
        pytest.param("Sync 9999-12-31 23:30", "America/Los_Angeles", None, id="after-9999-in-utc"),
        pytest.param("Sync 0001-01-01 00:10", "Asia/Tokyo", None, id="before-year-1-in-utc"),
        pytest.param(
            "Sync 9999-12-31 23:30", "Pacific/Kiritimati", ErrorKind.TOO_FAR_AHEAD, id="year-9999"
        ),
        pytest.param(
            "admin mappings " + "9" * 5000,
            "UTC",
            ErrorKind.COMMAND_TOO_LONG,
            id="page-of-5000-digits",
        ),
        pytest.param(
            "admin reminders " + "9" * 5000,
            "UTC",
            ErrorKind.COMMAND_TOO_LONG,
            id="reminder-of-5000-digits",
        ),
    ],
)
def test_a_huge_number_or_date_gets_the_usual_answer_not_an_exception(
    text: str, zone: str, kind: ErrorKind | None
) -> None:
    """`kind` None: no time found, the answer that offers Start now and an example."""
    answer = parse(text, tz=ZoneInfo(zone))

    if kind is None:
        assert isinstance(answer, NoTimeFound)
    else:
        assert isinstance(answer, CommandError)
        assert answer.kind is kind


def test_a_page_number_too_large_for_the_database_is_refused_with_the_range() -> None:
    problem = error("admin mappings 99999999999999999999").problem

    assert problem == "“99999999999999999999” is not a page number (1 to 10000)."


# --- how many people one command invites -------------------------------------------------------


def test_a_command_inviting_120_people_is_refused_with_the_count() -> None:
    problem = error("Planning tomorrow 3pm with " + mentions(120))

    assert problem.kind is ErrorKind.TOO_MANY_INVITEES
    assert problem.problem.startswith(
        "You invited 120 people; a meeting made from Slack can invite at most 50."
    )


def test_a_command_invites_up_to_50_people() -> None:
    assert len(schedule("Planning tomorrow 3pm with " + mentions(50)).invitees) == 50


def test_the_invitee_limit_counts_each_person_once() -> None:
    text = "Planning tomorrow 3pm with " + mentions(50) + " and <@U0000000001|p1>"

    assert len(schedule(text).invitees) == 50


@pytest.mark.parametrize(
    ("text", "topic", "start_utc", "minutes"),
    [
        pytest.param("Planning 3-4pm", "Planning", datetime(2026, 3, 4, 20, 0, tzinfo=UTC), 60,
                     id="range-3-4pm"),
        pytest.param("Planning 3-4pm for 45m", "Planning",
                     datetime(2026, 3, 4, 20, 0, tzinfo=UTC), 45, id="explicit-for-wins"),
        pytest.param("Workshop tomorrow from 2 to 3:30", "Workshop",
                     datetime(2026, 3, 5, 19, 0, tzinfo=UTC), 90, id="from-2-to-3:30"),
        pytest.param("Offsite 8 - 11pm", "Offsite", datetime(2026, 3, 5, 1, 0, tzinfo=UTC), 180,
                     id="8-11pm"),
        pytest.param("周会 明天下午2点到3点", "周会", datetime(2026, 3, 5, 19, 0, tzinfo=UTC), 60,
                     id="zh-下午2点到3点"),
        pytest.param("review in 15 minutes from now", "review",
                     datetime(2026, 3, 4, 15, 15, tzinfo=UTC), 30, id="from-now-cut"),
        pytest.param("Retro friday of next week at 9am", "Retro",
                     datetime(2026, 3, 13, 13, 0, tzinfo=UTC), 30, id="friday-of-next-week"),
        pytest.param("Chat an hour later", "Chat", datetime(2026, 3, 4, 16, 0, tzinfo=UTC), 30,
                     id="an-hour-later"),
    ],
)  # fmt: skip
def test_schedule_reads_ranges_and_offsets(
    text: str, topic: str, start_utc: datetime, minutes: int
) -> None:
    command = schedule(text)
    assert (command.topic, command.start, command.duration_minutes) == (topic, start_utc, minutes)
