"""Where every message goes, from every kind of conversation: the end-to-end matrix.

Kinds of conversation (where /meet is typed) x flows (instant, text-scheduled with an invitee,
modal-scheduled with an invitee, list, cancel, admin setup), through signed HTTP into one
running bot per database backend. Each cell checks: the organizer's confirmation and host
details arrive privately (the command's response_url, a modal's carried in its
private_metadata), never by chat.postEphemeral; the invitee gets a DM from the app; the card
is in the conversation when the bot can post there, otherwise privately with the hint; the
scheduled flows' reminder, "started" and "ended" go to the conversation, or else by DM to the
organizer and the invitee; every owed message ends sent or dropped, each post exactly once.

The fake Slack keeps Slack's rules for each kind (channel_not_found where a bot token cannot see
a conversation, history only where the bot is a member with the kind's scope, postEphemeral
only to members of a conversation the bot can see); the app is installed with the scopes
manifest.yml asks for.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import create_engine as create_sync_engine

from bot.demo.workspace import Kind as SlackKind
from bot.slack import blocks
from storage.db import sync_url
from tests.conftest import BACKENDS, database_on
from tests.e2e.conftest import (
    ADA,
    ALICE,
    APP_ID,
    APP_KEY,
    BOB,
    BOT_USER,
    CHEN,
    Bot,
    manifest_scopes,
    running_bot,
    serve_sandbox,
)
from tests.e2e.inside import POLL_JOB, TICK_JOB
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, build_fake_slack_app, slash_command_body

ALICE_DM = "DUALICE"
BOB_DM = "DUBOB"
"""The app's DMs with Alice and Bob as this fake names them (conversations.open)."""
HINT = "/invite @meetbot"


class Kind(StrEnum):
    PUBLIC_WITH_BOT = "public-with-bot"
    PUBLIC_WITHOUT_BOT = "public-without-bot"
    PRIVATE_WITH_BOT = "private-with-bot"
    PRIVATE_WITHOUT_BOT = "private-without-bot"
    DM_BETWEEN_PEOPLE = "dm-between-people"
    GROUP_DM = "group-dm"
    APP_DM = "app-dm"


@dataclass(frozen=True)
class Place:
    """A conversation of one kind, and whether the rules let the bot post there."""

    kind: Kind
    channel: str
    postable: bool

    @property
    def hidden(self) -> bool:
        return not self.postable


PLACES = {
    Kind.PUBLIC_WITH_BOT: Place(Kind.PUBLIC_WITH_BOT, "C0GENERAL", postable=True),
    Kind.PUBLIC_WITHOUT_BOT: Place(Kind.PUBLIC_WITHOUT_BOT, "C0RANDOM", postable=True),
    Kind.PRIVATE_WITH_BOT: Place(Kind.PRIVATE_WITH_BOT, "C0PLANNING", postable=True),
    Kind.PRIVATE_WITHOUT_BOT: Place(Kind.PRIVATE_WITHOUT_BOT, "G0LEADS", postable=False),
    Kind.DM_BETWEEN_PEOPLE: Place(Kind.DM_BETWEEN_PEOPLE, "D0ALICEBOB", postable=False),
    Kind.GROUP_DM: Place(Kind.GROUP_DM, "G0MPIM", postable=False),
    Kind.APP_DM: Place(Kind.APP_DM, ALICE_DM, postable=True),
}


def build_places(slack: FakeSlack) -> None:
    """Each kind of conversation in team T1, with the people of the cells in it."""
    people = [ALICE.id, BOB.id, CHEN.id, ADA.id]
    slack.add_channel("C0GENERAL", "general")
    slack.add_channel("C0RANDOM", "random", bot=False)
    slack.add_channel("C0PLANNING", "planning", kind=SlackKind.PRIVATE, members=people)
    slack.add_channel("G0LEADS", "leads", kind=SlackKind.PRIVATE, bot=False, members=people)
    slack.add_channel("D0ALICEBOB", kind=SlackKind.IM, bot=False, members=[ALICE.id, BOB.id])
    slack.add_channel("G0MPIM", kind=SlackKind.MPIM, bot=False, members=people)
    opened = slack.answer("conversations.open", {"users": ALICE.id})
    assert opened["channel"]["id"] == ALICE_DM


# --- one bot per database backend ---------------------------------------------------------------


@dataclass
class World:
    bot: Bot
    db: Engine
    topics: Iterator[int]
    triggers: dict[str, str] = field(default_factory=dict)
    """Request id -> the trigger_id Slack issued for it (views.open takes no other)."""

    @property
    def slack(self) -> FakeSlack:
        return self.bot.harness.slack

    def topic(self, flow: str) -> str:
        # Letters only: no word of a topic may read as a time or a keyword.
        letters = "".join(chr(ord("a") + int(d)) for d in str(next(self.topics)))
        return f"Matrix {flow} {letters}"


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    directory = tmp_path_factory.mktemp(f"matrix-{request.param}")
    slack = FakeSlack()
    slack.install("T1", scopes=manifest_scopes(), token=BOT_TOKEN)
    slack.add_users(ALICE, BOB, CHEN, ADA, BOT_USER)
    build_places(slack)
    with (
        database_on(request.param, directory) as database,
        serve_sandbox() as sandbox,
        serve_asgi(build_fake_slack_app(slack)) as slack_url,
        running_bot(
            sandbox, (slack, slack_url), database.url, directory, status_poll_seconds=1
        ) as bot,
    ):
        engine = create_sync_engine(sync_url(database.url))
        try:
            yield World(bot, engine, itertools.count(1))
        finally:
            engine.dispose()


# --- driving Slack ------------------------------------------------------------------------------


def command(world: World, place: Place, text_: str, *, user: Any = ALICE) -> str:
    """Type `/meet text_` in `place`; the id of its response_url."""
    harness = world.bot.harness
    rid = f"m{next(harness._ids)}"
    body = slash_command_body(
        text_,
        user_id=user.id,
        team_id=user.team_id,
        channel_id=place.channel,
        channel_name=world.slack.ws.channels[place.channel].slash_name,
        response_url=f"{harness.slack_url}/response/{rid}",
        trigger_id=world.triggers.setdefault(rid, world.slack.issue_trigger(user.id)),
    )
    assert harness.post(body).status_code == 200
    return rid


def submit(
    world: World, place: Place, rid: str, values: dict[str, Any], *, user: Any = ALICE
) -> None:
    """Submit the modal the bot opened for `rid`, as Slack does: with its private_metadata."""
    view = opened_view(world, rid)
    response = world.bot.harness.submit_view(
        {
            "id": f"V{rid}",  # Slack's view IDs are unique; this fake's views.open says V1
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
        user=user,
    )
    assert response.status_code == 200
    assert response.content in (b"", b"{}"), response.content


def value(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    return {block_id: {block_id: element}}


def schedule_values(topic: str, start: datetime, invitee: str) -> dict[str, Any]:
    return {
        **value(blocks.SCHEDULE_TOPIC, {"type": "plain_text_input", "value": topic}),
        **value(
            blocks.SCHEDULE_START,
            {"type": "datetimepicker", "selected_date_time": int(start.timestamp())},
        ),
        **value(
            blocks.SCHEDULE_DURATION,
            {"type": "static_select", "selected_option": {"value": "30"}},
        ),
        **value(
            blocks.SCHEDULE_INVITEES, {"type": "multi_users_select", "selected_users": [invitee]}
        ),
        **value(
            blocks.SCHEDULE_RECURRENCE,
            {"type": "static_select", "selected_option": {"value": "none"}},
        ),
    }


# --- what Slack received ------------------------------------------------------------------------


def dumped(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def posts(world: World, channel: str, *needles: str) -> list[dict[str, Any]]:
    """chat.postMessage calls to `channel` whose text and blocks contain every needle."""
    return [
        c.args
        for c in world.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and all(n in dumped(c.args) for n in needles)
    ]


def wait(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def private_answers(world: World, rid: str, count: int) -> str:
    return " ".join(dumped(c.args) for c in world.bot.harness.replies(rid, count))


def assert_nothing_ephemeral(world: World) -> None:
    assert world.slack.calls_to("chat.postEphemeral") == []


def assert_each_post_once(world: World) -> None:
    counts = world.slack.delivery_posts()
    assert set(counts.values()) <= {1}, counts


# --- the database -------------------------------------------------------------------------------


def meeting_of(world: World, topic: str) -> tuple[int, str]:
    with world.db.connect() as conn:
        row = conn.execute(
            text("SELECT id, conference_id FROM meeting WHERE topic = :t"), {"t": topic}
        ).one()
    return int(row.id), str(row.conference_id)


def deliveries(world: World, meeting_id: int) -> list[Any]:
    with world.db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT kind, recipient, sent_at, withdrawn_at, last_error FROM delivery "
                    "WHERE meeting_id = :m ORDER BY id"
                ),
                {"m": meeting_id},
            )
        )


def reminders_due_now(world: World, meeting_id: int) -> None:
    """Bring the meeting's reminders forward to now: time passes without waiting for it."""
    with world.db.begin() as conn:
        conn.execute(
            text(
                "UPDATE delivery SET due_at = :now WHERE meeting_id = :m AND sent_at IS NULL "
                "AND withdrawn_at IS NULL AND kind LIKE 'reminder:%'"
            ),
            {"now": datetime.now(UTC), "m": meeting_id},
        )


def after_ticks(world: World) -> None:
    world.bot.harness.inside.wait_runs(TICK_JOB, 2)


# --- what each cell expects ----------------------------------------------------------------------


def assert_created(world: World, place: Place, topic: str, rid: str, *, invitee: bool) -> None:
    """Card where the rules say, host details privately, the invitee's DM, nothing ephemeral."""
    if place.postable:
        card = wait(lambda: posts(world, place.channel, topic, "meet_join"), "the card")
        answer = private_answers(world, rid, 1)
        assert "Host details" in answer
        assert HINT not in answer
    else:
        answer = private_answers(world, rid, 2)
        assert topic in answer
        assert HINT in answer, "the private card says how to add the bot"
        assert "Host details" in answer
        card = []
    if invitee:
        invites = wait(lambda: posts(world, BOB_DM, topic, "invited you"), "Bob's invitation")
        assert len(invites) == 1
    after_ticks(world)
    in_place = [p for p in posts(world, place.channel, topic) if not p.get("metadata")]
    assert len(in_place) == len(card) == (1 if place.postable else 0)
    assert "Host password" not in dumped(in_place)
    assert_nothing_ephemeral(world)


def owed(world: World, meeting_id: int, kind: str) -> list[Any]:
    """The meeting's deliveries of `kind` once some exist and all are sent or withdrawn."""

    def done() -> list[Any] | None:
        rows = [d for d in deliveries(world, meeting_id) if d.kind.startswith(kind)]
        if rows and all(d.sent_at is not None or d.withdrawn_at is not None for d in rows):
            return rows
        return None

    rows: list[Any] = wait(done, f"{kind} deliveries of meeting {meeting_id} settled")
    return rows


NOTICES = (("reminder:", "alarm_clock"), ("started", "has started"), ("ended", "ended"))
"""Each owed kind and what its message says."""


def assert_owed_messages(world: World, place: Place, topic: str) -> None:
    """Reminder, "started" and "ended" where the rules say, each exactly once."""
    meeting_id, conference_id = meeting_of(world, topic)
    sandbox = world.bot.harness.sandbox
    reminders_due_now(world, meeting_id)
    owed(world, meeting_id, "reminder:")
    sandbox.start(conference_id)
    owed(world, meeting_id, "started")
    sandbox.end(conference_id)
    owed(world, meeting_id, "ended")
    # Whatever a later poll could enqueue again, a tick after it would have posted.
    world.bot.harness.inside.wait_runs(POLL_JOB, 2)
    after_ticks(world)
    targets = [place.channel] if place.postable else [ALICE_DM, BOB_DM]
    for kind, says in NOTICES:
        rows = owed(world, meeting_id, kind)
        sent = sorted(d.recipient for d in rows if d.sent_at is not None)
        assert sent == ([""] if place.postable else [ALICE.id, BOB.id]), rows
        assert all(d.last_error for d in rows if d.withdrawn_at is not None), "reasons kept"
        for target in targets:
            found = [p for p in posts(world, target, topic, says) if p.get("metadata")]
            assert len(found) == 1, (kind, target, found)
    assert_each_post_once(world)
    assert_nothing_ephemeral(world)


def opened_view(world: World, rid: str) -> dict[str, Any]:
    """The view the bot opened for request `rid` (its trigger_id)."""
    views: list[dict[str, Any]] = wait(
        lambda: [
            c.args["view"]
            for c in world.slack.calls_to("views.open")
            if c.args["trigger_id"] == world.triggers[rid]
        ],
        "the form",
    )
    return views[0]


# --- the matrix ---------------------------------------------------------------------------------

KINDS = [pytest.param(PLACES[k], id=k.value) for k in Kind]


@pytest.mark.parametrize("place", KINDS)
def test_instant_meeting(world: World, place: Place) -> None:
    topic = world.topic("instant")
    rid = command(world, place, f"now {topic}")
    assert_created(world, place, topic, rid, invitee=False)


@pytest.mark.slow
@pytest.mark.parametrize("place", KINDS)
def test_text_scheduled_meeting_with_an_invitee(world: World, place: Place) -> None:
    topic = world.topic("text")
    rid = command(world, place, f"{topic} in 10 minutes with <@{BOB.id}|bob>")
    assert_created(world, place, topic, rid, invitee=True)
    assert_owed_messages(world, place, topic)


@pytest.mark.slow
@pytest.mark.parametrize("place", KINDS)
def test_modal_scheduled_meeting_with_an_invitee(world: World, place: Place) -> None:
    topic = world.topic("modal")
    rid = command(world, place, "schedule")
    assert opened_view(world, rid)["callback_id"] == blocks.SCHEDULE_MODAL
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    submit(world, place, rid, schedule_values(topic, start, BOB.id))
    assert_created(world, place, topic, rid, invitee=True)
    assert_owed_messages(world, place, topic)


@pytest.mark.parametrize("place", KINDS)
def test_list(world: World, place: Place) -> None:
    before = len(world.slack.calls_to("chat.postMessage"))
    rid = command(world, place, "list")
    assert "Your upcoming meetings" in private_answers(world, rid, 1)
    after_ticks(world)
    assert len(world.slack.calls_to("chat.postMessage")) == before
    assert_nothing_ephemeral(world)


@pytest.mark.parametrize("place", KINDS)
def test_cancel(world: World, place: Place) -> None:
    topic = world.topic("cancel")
    created = command(world, place, f"{topic} in 2 hours")
    assert_created(world, place, topic, created, invitee=False)
    meeting_id, conference_id = meeting_of(world, topic)
    rid = command(world, place, f"cancel {conference_id}")
    assert "was cancelled" in private_answers(world, rid, 1)

    def updates() -> list[dict[str, Any]]:
        return [
            c.args
            for c in world.slack.calls_to("chat.update")
            if c.args.get("channel") == place.channel and topic in dumped(c.args)
        ]

    if place.postable:
        assert "Cancelled" in dumped(wait(updates, "the card's update"))
    else:
        after_ticks(world)
        assert updates() == []
    rows = deliveries(world, meeting_id)
    assert rows
    assert all(d.withdrawn_at is not None and d.sent_at is None for d in rows)
    assert_nothing_ephemeral(world)


@pytest.mark.parametrize("place", KINDS)
def test_admin_setup(world: World, place: Place) -> None:
    rid = command(world, place, "admin setup", user=ADA)
    assert opened_view(world, rid)["callback_id"] == blocks.ADMIN_SETUP_MODAL

    def text_(block_id: str, typed: str) -> dict[str, Any]:
        return value(block_id, {"type": "plain_text_input", "value": typed})

    submit(
        world,
        place,
        rid,
        {
            **text_(blocks.ADMIN_APP_ID, APP_ID),
            **text_(blocks.ADMIN_APP_KEY, APP_KEY),
            **text_(blocks.ADMIN_CORP_ID, ""),
            **value(
                blocks.ADMIN_MODE,
                {"type": "static_select", "selected_option": {"value": "email"}},
            ),
        },
        user=ADA,
    )
    assert "Saved" in private_answers(world, rid, 1)
    assert APP_KEY not in dumped([c.args for c in world.slack.calls])
    assert_nothing_ephemeral(world)
