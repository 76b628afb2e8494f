"""Reminders and live status end to end: the bot's scheduler against the fake Slack and the
vendor sandbox, on every database backend (1 s tick, 2 s poll, 1 s claim).

Nothing here waits a fixed time. "It happened" is polled with a generous deadline; "nothing
more happened" is checked once the bot's own jobs have run again (`Inside.wait_runs`: two
finished runs from a moment mean a whole run began after it); "within two polls" counts the
bot's polls, not seconds. The sandbox's clock stands still except for `advance`, so vendor
times (and durations) are exact whatever the machine's load."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from bot.service import LATE_AFTER, MAX_ATTEMPTS
from bot.slack.blocks import format_duration
from storage.db import sync_url
from storage.models import MeetingState
from storage.repo import DeliveryRow, NewDelivery
from tests.conftest import Database
from tests.e2e.conftest import APP_ID, Bot, running_bot, serve_sandbox
from tests.e2e.inside import POLL_JOB, TICK_JOB
from tests.e2e.scheduling import eventually, now, repository, seed
from tests.fakes.sandbox import RunningSandbox, frozen_clock
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.vendor_push import push_body

StartBot = Callable[..., AbstractContextManager[Bot]]


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """The vendor sandbox on a clock that moves only when a test advances it."""
    with serve_sandbox(clock=frozen_clock()) as running:
        yield running


@pytest.fixture
def start_bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> StartBot:
    """Start the bot with settings overrides (`with start_bot(claim_seconds=10) as bot:`)."""

    def start(**overrides: Any) -> AbstractContextManager[Bot]:
        return running_bot(sandbox, fake_slack, empty_database.url, tmp_path, **overrides)

    return start


@pytest.fixture
def bot(start_bot: StartBot) -> Iterator[Bot]:
    with start_bot() as running:
        yield running


def delivery_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    """Posted messages that carry a delivery id, oldest first."""
    with slack._lock:
        return [m for m in slack.messages if m.get("metadata")]


def post_calls(slack: FakeSlack, channel: str) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.args.get("metadata")
    ]


def text_of(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def sent(rows: list[DeliveryRow]) -> dict[str, str | None]:
    return {d.kind: d.slack_ts for d in rows if d.sent_at is not None}


async def after_ticks(bot: Bot, more: int = 2) -> None:
    """Wait until `more` delivery ticks have finished from now: with 2, a whole tick began
    after this call, so anything it would post (again) has been posted."""
    await asyncio.to_thread(bot.harness.inside.wait_runs, TICK_JOB, more)


def after_polls(bot: Bot, more: int = 2) -> None:
    """Block until `more` status polls have finished from now (with 2, one began after)."""
    bot.harness.inside.wait_runs(POLL_JOB, more)


async def test_due_reminders_are_posted_once_with_join_time_and_metadata(bot: Bot) -> None:
    slack = bot.harness.slack
    t0 = now()
    async with repository(bot.database_url) as repo:
        soon = await seed(
            repo,
            conference_id="900000001",
            channel="C1",
            start=t0 + timedelta(minutes=10),
            reminders=[(10, t0 - timedelta(seconds=1))],
        )
        imminent = await seed(
            repo,
            conference_id="900000002",
            channel="C2",
            start=t0 + timedelta(seconds=1),
            reminders=[(0, t0 + timedelta(seconds=1))],
        )
        posts = await eventually(
            lambda: _at_least(delivery_posts(slack), 2), what="two reminder posts"
        )
        by_channel = {p["channel"]: p for p in posts}
        assert "starts in 10 min" in by_channel["C1"]["text"]
        assert "starting now" in by_channel["C2"]["text"]
        c1 = post_calls(slack, "C1")[0].args
        assert "https://join.example/900000001" in text_of(c1["blocks"])
        assert "meet_join" in text_of(c1["blocks"])
        for meeting_id in (soon.id, imminent.id):
            await eventually(partial(_sent_reminder, repo, meeting_id), what="recorded ts")
        rows = {
            m.id: await repo.deliveries(team_id="T1", meeting_id=m.id) for m in (soon, imminent)
        }
        # The recorded ts is the one Slack answered, and the metadata names the row.
        for meeting_id, channel in ((soon.id, "C1"), (imminent.id, "C2")):
            row = rows[meeting_id][0]
            assert row.slack_ts == by_channel[channel]["ts"]
            assert by_channel[channel]["metadata"] == {
                "event_type": "meetbot_delivery",
                "event_payload": {"delivery_id": row.id},
            }
        await after_ticks(bot)
        assert set(slack.delivery_posts().values()) == {1}
        assert len(slack.delivery_posts()) == 2


async def _sent_reminder(repo: Any, meeting_id: int) -> bool:
    rows: list[DeliveryRow] = await repo.deliveries(team_id="T1", meeting_id=meeting_id)
    return all(d.sent_at is not None for d in rows)


async def _settled(repo: Any, meeting_id: int) -> bool:
    """Every delivery of the meeting is either sent or withdrawn: nothing is left to claim."""
    rows: list[DeliveryRow] = await repo.deliveries(team_id="T1", meeting_id=meeting_id)
    return all(d.sent_at is not None or d.withdrawn_at is not None for d in rows)


def _at_least(items: list[Any], count: int) -> Any:
    async def check() -> list[Any] | None:
        return items if len(items) >= count else None

    return check()


async def test_missed_reminder_goes_out_late_with_true_time_or_is_dropped(bot: Bot) -> None:
    slack = bot.harness.slack
    t0 = now()
    async with repository(bot.database_url) as repo:
        # The bot was down across both reminders of a meeting still running ...
        running = await seed(
            repo,
            conference_id="900000011",
            channel="C1",
            start=t0 - timedelta(minutes=3),
            reminders=[(10, t0 - timedelta(minutes=13)), (0, t0 - timedelta(minutes=3))],
        )
        # ... and across the reminder of a meeting that is already over.
        over = await seed(
            repo,
            conference_id="900000012",
            channel="C2",
            start=t0 - timedelta(minutes=60),
            reminders=[(10, t0 - timedelta(minutes=70))],
        )
        await eventually(lambda: _at_least(delivery_posts(slack), 1), what="the late reminder")
        for meeting_id in (running.id, over.id):
            await eventually(partial(_settled, repo, meeting_id), what="every reminder settled")
        await after_ticks(bot)
        posts = delivery_posts(slack)
        assert [p["channel"] for p in posts] == ["C1"], "one late reminder, none for the past"
        assert "started 3 min ago" in posts[0]["text"]
        assert set(slack.delivery_posts().values()) == {1}
        late = await repo.deliveries(team_id="T1", meeting_id=running.id)
        assert sorted(d.kind for d in late if d.sent_at) == ["reminder:0"]
        assert [d.kind for d in late if d.withdrawn_at] == ["reminder:10"]
        gone = await repo.deliveries(team_id="T1", meeting_id=over.id)
        assert all(d.withdrawn_at is not None and d.sent_at is None for d in gone)


async def test_cancelling_withdraws_pending_reminders(bot: Bot) -> None:
    harness = bot.harness
    harness.command("Retro tomorrow 4pm")
    harness.slack.wait_for("chat.postMessage")
    conference_id = str(harness.sandbox.meetings()[0]["conference_id"])
    async with repository(bot.database_url) as repo:
        meeting = await repo.get_meeting_by_conference(team_id="T1", conference_id=conference_id)
        assert meeting is not None
        pending = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
        assert sorted(d.kind for d in pending) == ["reminder:0", "reminder:10"]
        _, rid = harness.command(f"cancel {conference_id}")
        harness.replies(rid)
        rows = await eventually(
            lambda: _all_withdrawn(repo, meeting.id), what="withdrawn reminders"
        )
        assert len(rows) == 2
        # A reminder that becomes due for a cancelled meeting is dropped, never posted.
        await repo.enqueue_deliveries(
            team_id="T1",
            meeting_id=meeting.id,
            deliveries=[NewDelivery(meeting.start_at, "reminder:1440", now())],
        )
        await eventually(lambda: _all_withdrawn(repo, meeting.id, 3), what="dropped reminder")
    assert delivery_posts(harness.slack) == []


async def _all_withdrawn(repo: Any, meeting_id: int, count: int = 2) -> list[DeliveryRow] | None:
    rows: list[DeliveryRow] = await repo.deliveries(team_id="T1", meeting_id=meeting_id)
    done = len(rows) == count and all(d.withdrawn_at and not d.sent_at for d in rows)
    return rows if done else None


async def test_slack_429_is_waited_out_and_nothing_is_lost(start_bot: StartBot) -> None:
    # A lease long enough for slack_sdk to wait out Retry-After inside one attempt.
    with start_bot(claim_seconds=10) as bot:
        await _rate_limited(bot)


async def _rate_limited(bot: Bot) -> None:
    slack = bot.harness.slack
    slack.rate_limit["chat.postMessage"] = 3
    t0 = now()
    async with repository(bot.database_url) as repo:
        meetings = [
            await seed(
                repo,
                conference_id=f"90000002{i}",
                channel=f"C{i}",
                start=t0 + timedelta(minutes=10),
                reminders=[(10, t0)],
            )
            for i in range(3)
        ]
        await eventually(lambda: _at_least(delivery_posts(slack), 3), within=60, what="posts")
        for meeting in meetings:
            await eventually(partial(_sent_reminder, repo, meeting.id), what="recorded posts")
        await after_ticks(bot)
        for meeting in meetings:
            rows = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
            assert [d.sent_at is not None for d in rows] == [True]
    assert slack.rate_limit["chat.postMessage"] == 0, "every 429 was answered"
    assert sorted(slack.delivery_posts().values()) == [1, 1, 1]


async def test_posting_is_paced_per_channel_and_channels_do_not_wait(
    start_bot: StartBot,
) -> None:
    # A lease far longer than the hold below: the held posts keep their claims meanwhile.
    with start_bot(claim_seconds=30) as bot:
        slack = bot.harness.slack
        # Every post reaches Slack and then waits for its answer until released: a channel
        # whose post is unanswered keeps its turn, so only another channel can post meanwhile.
        slack.hold("chat.postMessage", "after")
        t0 = now()
        async with repository(bot.database_url) as repo:
            # One tick finds all five due: none is claimed while they are being seeded.
            with bot.harness.inside.paused(TICK_JOB):
                for i in range(4):
                    await seed(
                        repo,
                        conference_id=f"90000003{i}",
                        channel="CBUSY",
                        start=t0 + timedelta(minutes=10),
                        reminders=[(10, t0)],
                    )
                await seed(
                    repo,
                    conference_id="900000039",
                    channel="CQUIET",
                    start=t0 + timedelta(minutes=10),
                    reminders=[(10, t0)],
                )
            # The quiet channel posts while the busy channel's first post is still unanswered,
            # which takes milliseconds. One pacer for all channels would let it in only once
            # that post gave up: after the bot's 15 s HTTP timeout and a 1 s slot, >= 16 s.
            await asyncio.to_thread(slack.wait_held, "chat.postMessage", 2, 12)
            in_flight = [c.args["channel"] for c in slack.calls_to("chat.postMessage")]
            assert sorted(in_flight) == ["CBUSY", "CQUIET"]
            slack.release("chat.postMessage")
            await eventually(lambda: _at_least(delivery_posts(slack), 5), within=60, what="posts")
    busy = [c.at for c in post_calls(slack, "CBUSY")]
    gaps = [b - a for a, b in itertools.pairwise(busy)]
    assert len(busy) == 4
    # A lower bound, which load only widens: the next slot is counted from the moment the
    # previous post was answered, after the fake recorded it.
    assert min(gaps) >= 0.9, gaps
    assert sorted(slack.delivery_posts().values()) == [1] * 5


def test_sandbox_start_and_end_update_card_and_thread_with_duration(bot: Bot) -> None:
    harness, slack, sandbox = bot.harness, bot.harness.slack, bot.harness.sandbox
    harness.command("Design review in 10 minutes for 1h")
    card_call = slack.wait_for("chat.postMessage")[0]
    conference_id = str(sandbox.meetings()[0]["conference_id"])
    card_ts = next(m["ts"] for m in slack.messages if not m.get("metadata"))

    started = time.monotonic()
    sandbox.start(conference_id)
    sandbox.join(conference_id, "Ann")
    sandbox.join(conference_id, "Bo")
    # Within two polls: the second one began after the start, so its card update is done.
    after_polls(bot)
    live = _last_update(slack, "In progress", after=started)
    assert "2 participants" in text_of(live.args)
    thread = _wait_thread(slack, card_ts, "has started", after=started)
    assert thread.args["channel"] == card_call.args["channel"]

    sandbox.advance(42 * 60)
    ended_at = time.monotonic()
    sandbox.end(conference_id)
    session = sandbox.meetings()[0]["sessions"][0]
    # The vendor's history gives start and end to the minute; its clock moved only by advance.
    minutes = int(math.floor(session["end"] / 60) - math.floor(session["start"] / 60))
    assert minutes == 42
    lasted = f"lasted {format_duration(minutes)}"
    after_polls(bot)
    ended = _last_update(slack, lasted, after=ended_at)
    assert "meet_join" not in text_of(ended.args), "no Join button once it is over"
    reply = _wait_thread(slack, card_ts, lasted, after=ended_at)
    assert "ended" in reply.args["text"]
    # Whatever later polls could enqueue again, and a tick after them would post.
    after_polls(bot)
    bot.harness.inside.wait_runs(TICK_JOB)
    kinds = [m["text"] for m in slack.messages if m.get("thread_ts") == card_ts]
    assert len(kinds) == 2, "one start and one end reply, never more"


def _last_update(slack: FakeSlack, needle: str, *, after: float) -> Call:
    """The latest card update containing `needle` recorded after `after` (it must exist)."""
    found = [
        c for c in slack.calls_to("chat.update") if c.at >= after and needle in text_of(c.args)
    ]
    assert found, f"no card update with {needle!r}"
    return found[-1]


def _wait_update(slack: FakeSlack, needle: str, *, after: float, timeout: float = 30) -> Call:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to("chat.update"):
            if call.at >= after and needle in text_of(call.args):
                return call
        time.sleep(0.05)
    raise AssertionError(f"no card update with {needle!r}")


def _wait_thread(
    slack: FakeSlack, card_ts: str, needle: str, *, after: float, timeout: float = 30
) -> Call:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to("chat.postMessage"):
            if (
                call.at >= after
                and call.args.get("thread_ts") == card_ts
                and needle in text_of(call.args)
            ):
                return call
        time.sleep(0.05)
    raise AssertionError(f"no thread reply with {needle!r}")


async def test_recurring_meeting_gets_reminders_for_each_occurrence(bot: Bot) -> None:
    harness, sandbox = bot.harness, bot.harness.sandbox
    harness.command("Standup in 12 minutes for 15m every day")
    harness.slack.wait_for("chat.postMessage")
    vendor = sandbox.meetings()[0]
    async with repository(bot.database_url) as repo:
        meeting = await repo.get_meeting_by_conference(
            team_id="T1", conference_id=str(vendor["conference_id"])
        )
        assert meeting is not None
        rows = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
        occurrences = sorted({d.occurrence for d in rows})
        assert len(occurrences) == int(vendor["sub_meetings"]) > 1
        assert occurrences[0] == datetime.fromtimestamp(float(vendor["start"]), UTC)
        assert {b - a for a, b in itertools.pairwise(occurrences)} <= {
            timedelta(days=1),
            timedelta(hours=23),
            timedelta(hours=25),
        }
        for start in occurrences:
            kinds = sorted(d.kind for d in rows if d.occurrence == start)
            assert kinds == ["reminder:0", "reminder:10"], start

        # The first occurrence starts and ends; the meeting then waits for the second. Each
        # change is seen within two polls (the second of them began after it).
        sandbox.start(str(vendor["conference_id"]))
        await asyncio.to_thread(after_polls, bot)
        assert await _state(repo, meeting.id, MeetingState.LIVE), "live"
        sandbox.advance(5 * 60)
        sandbox.end(str(vendor["conference_id"]))
        await asyncio.to_thread(after_polls, bot)
        moved = await _state(repo, meeting.id, MeetingState.SCHEDULED, occurrences[1])
        assert moved, "waiting for the next occurrence"
        assert moved.started_at is None
        assert moved.ended_at is None
        await eventually(lambda: _sent(repo, meeting.id, 2), what="start and end replies")
        rows = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
        first = {d.kind: d for d in rows if d.occurrence == occurrences[0]}
        assert first["started"].sent_at
        assert first["ended"].sent_at
        assert first["ended"].payload == {"lasted_minutes": 5}
        assert all(first[k].withdrawn_at for k in ("reminder:10", "reminder:0"))
        second = [d for d in rows if d.occurrence == occurrences[1]]
        assert all(d.withdrawn_at is None and d.sent_at is None for d in second)


async def _state(
    repo: Any, meeting_id: int, state: MeetingState, start: datetime | None = None
) -> Any:
    row = await repo.get_meeting(team_id="T1", meeting_id=meeting_id)
    if row is not None and row.state is state and (start is None or row.start_at == start):
        return row
    return None


async def _sent(repo: Any, meeting_id: int, count: int) -> bool:
    rows: list[DeliveryRow] = await repo.deliveries(team_id="T1", meeting_id=meeting_id)
    return sum(1 for d in rows if d.kind in ("started", "ended") and d.sent_at) >= count


# --- the vendor's event push ---------------------------------------------------------------

WEBHOOK_KEY = "subscriber-key"


def push(
    bot: Bot,
    event: str,
    *,
    meeting_id: str = "",
    at: datetime | None = None,
    nonce: str | None = None,
    key: str = WEBHOOK_KEY,
) -> httpx.Response:
    """POST a signed push to /hcm/events exactly as the vendor sends one."""
    sent = int(now().timestamp() * 1000)
    info: dict[str, Any] = {"event": event, "timestamp": int((at or now()).timestamp() * 1000)}
    if meeting_id:
        info["payload"] = {"meetingInfo": {"meetingID": meeting_id, "meetingUUID": "u"}}
    body = push_body(
        json.dumps(info), key=key, app_id=APP_ID, sent_ms=sent, nonce=nonce or uuid.uuid4().hex
    )
    return bot.harness.http.post(
        f"{bot.harness.bot_url}/hcm/events",
        content=body,
        headers={"Content-Type": "application/json;charset=UTF-8", "X-Request-ID": "r1"},
    )


def test_vendor_push_is_verified_and_drives_the_card(start_bot: StartBot) -> None:
    # The poll is effectively off: only the pushes move the meeting.
    with start_bot(hcm_webhook_key=SecretStr(WEBHOOK_KEY), status_poll_seconds=3600) as bot:
        assert push(bot, "meeting.started", key="wrong").status_code == 401
        answer = push(bot, "meeting.verify", nonce="n-verify")
        assert (answer.status_code, answer.json()) == (
            200,
            {"event": "meeting.verify", "nonce": "n-verify"},
        )
        assert push(bot, "meeting.verify", nonce="n-verify").status_code == 401, "replayed"

        bot.harness.command("Design review in 10 minutes for 1h")
        slack = bot.harness.slack
        slack.wait_for("chat.postMessage")
        card_ts = next(m["ts"] for m in slack.messages if not m.get("metadata"))
        conference_id = str(bot.harness.sandbox.meetings()[0]["conference_id"])
        began = now()
        assert push(bot, "meeting.started", meeting_id=conference_id, at=began).status_code == 200
        _wait_update(slack, "In progress", after=0)
        _wait_thread(slack, card_ts, "has started", after=0)
        ended = began + timedelta(minutes=42, seconds=10)
        assert push(bot, "meeting.end", meeting_id=conference_id, at=ended).status_code == 200
        assert push(bot, "meeting.conclude", meeting_id=conference_id, at=ended).status_code == 200
        _wait_update(slack, "lasted 42 min", after=0)
        _wait_thread(slack, card_ts, "lasted 42 min", after=0)
        # Both pushes were applied before they were answered; a whole tick after the end
        # reply would post anything either of them had enqueued on top.
        bot.harness.inside.wait_runs(TICK_JOB)
        assert len([m for m in slack.messages if m.get("thread_ts") == card_ts]) == 2


def test_vendor_push_is_not_served_without_a_key(bot: Bot) -> None:
    response = bot.harness.http.post(f"{bot.harness.bot_url}/hcm/events", content=b"{}")
    assert response.status_code == 404


async def test_owed_messages_end_dropped_with_a_reason_never_retried_forever(bot: Bot) -> None:
    """A look-up that keeps failing is given up after MAX_ATTEMPTS; a message more than
    LATE_AFTER past due is dropped as late. Neither is posted."""
    slack = bot.harness.slack
    t0 = now()
    async with repository(bot.database_url) as repo:
        failing = await seed(
            repo, conference_id="900000041", start=t0 + timedelta(minutes=10), reminders=[]
        )
        late = await seed(repo, conference_id="900000042", start=t0 - timedelta(hours=3))
        for meeting, kind, due in (
            (failing, "reminder:10", t0 + timedelta(minutes=1)),
            (late, "started", t0 - LATE_AFTER - timedelta(minutes=1)),
        ):
            await repo.enqueue_deliveries(
                team_id="T1",
                meeting_id=meeting.id,
                deliveries=[NewDelivery(meeting.start_at, kind, due)],
            )
    # The reminder's earlier attempts all failed and the last one's outcome is unknown: the
    # next attempt must look for it first, and that look-up is refused.
    engine = create_sync_engine(sync_url(bot.database_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE delivery SET attempts = :n, posting_at = :t, due_at = :t "
                "WHERE meeting_id = :m"
            ),
            {"n": MAX_ATTEMPTS - 1, "t": t0, "m": failing.id},
        )
    engine.dispose()
    slack.fail["conversations.history"] = ["not_in_channel"]
    async with repository(bot.database_url) as repo:
        for meeting, reason in (
            (failing, f"gave up after {MAX_ATTEMPTS} attempts: lookup failed: not_in_channel"),
            (late, "late"),
        ):
            rows = await eventually(
                partial(_all_withdrawn, repo, meeting.id, 1), what=f"{reason} drop"
            )
            assert rows[0].last_error is not None
            assert reason in rows[0].last_error
    assert delivery_posts(slack) == []
