"""OAuth mode end to end: meetbot installed into two workspaces through `/slack/install`,
Slack's authorize page and `/slack/oauth_redirect`; /meet and the scheduler's reminders in
both, each with its own team's token; a rotating token refreshed before it expires; and
uninstalling one workspace stops only its work."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import select, text, update

from bot.config import BOT_SCOPES
from bot.demo.workspace import OAuthApp
from storage.db import sync_url
from storage.models import SLACK_BOTS, Delivery
from tests.conftest import Database
from tests.e2e.conftest import ALICE, APP_KEY, ZED, Bot, Harness, running_bot
from tests.e2e.scheduling import eventually, repository
from tests.e2e.test_security import store_key_nobody_can_read
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import (
    BOT_TOKEN,
    OTHER_TOKEN,
    FakeSlack,
    SlackUser,
    build_fake_slack_app,
    signed_headers,
)

PUBLIC_URL = "https://meetbot.example.com"
"""Where Slack sends people back (a proxy in front of the bot); the test follows the
redirect to the bot's own address, as that proxy would."""
T2_CHANNEL = "CT2"


def oauth_settings(slack: FakeSlack) -> dict[str, Any]:
    return {
        "slack_bot_token": None,
        "slack_client_id": slack.app.client_id,
        "slack_client_secret": SecretStr(slack.app.client_secret),
        "public_url": PUBLIC_URL,
    }


@pytest.fixture
def oauth_bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Bot]:
    slack, _ = fake_slack
    slack.add_channel(T2_CHANNEL, "t2-general", team="T2")
    settings = oauth_settings(slack)
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path, **settings) as bot:
        yield bot


def start_install(harness: Harness) -> tuple[str, str]:
    """GET /slack/install: Slack's authorize URL and the state cookie the browser keeps."""
    start = harness.http.get(f"{harness.bot_url}/slack/install")
    assert start.status_code == 302, start.text
    cookie = start.headers["set-cookie"].split(";", 1)[0]
    return start.headers["location"], cookie


def finish_install(harness: Harness, authorize: str, cookie: str, **choice: str) -> httpx.Response:
    """Answer Slack's authorize page (as `choice`: team, user, deny) and come back."""
    extra = "".join(f"&{key}={value}" for key, value in choice.items())
    approved = harness.http.get(authorize + extra)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
    return harness.http.get(
        f"{harness.bot_url}{back.path}?{back.query}", headers={"Cookie": cookie}
    )


def install(harness: Harness, team: str, user: SlackUser) -> None:
    authorize, cookie = start_install(harness)
    page = finish_install(harness, authorize, cookie, team=team, user=user.id)
    assert page.status_code == 200, page.text
    assert "meetbot is installed" in page.text


def live_tokens(slack: FakeSlack, team: str) -> list[str]:
    """The tokens of `team`'s bot that Slack still accepts."""
    return [i.token for i in slack.ws.installations.values() if i.team_id == team and not i.revoked]


def query(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_sync_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def posted_in(slack: FakeSlack, channel: str, *, delivery: bool = False) -> list[dict[str, Any]]:
    """Messages Slack accepted from the bot in `channel`; only scheduled ones with `delivery`."""
    return [
        m for m in slack.messages if m["channel"] == channel and (not delivery or m.get("metadata"))
    ]


def has_posts(
    slack: FakeSlack, channel: str, count: int = 1, *, delivery: bool = False
) -> Callable[[], bool]:
    return lambda: len(posted_in(slack, channel, delivery=delivery)) >= count


def command(harness: Harness, words: str, *, user: SlackUser, channel: str) -> str:
    response, rid = harness.command(words, user=user, channel=channel)
    assert response.status_code == 200, response.text
    return rid


def uninstall_event(team: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": team,
            "api_app_id": "A1",
            "event": {"type": "app_uninstalled", "event_ts": "1.000001"},
            "event_id": f"Ev-{team}",
            "event_time": int(time.time()),
        }
    )


def test_the_install_link_sends_people_to_slack_with_client_scopes_state_and_redirect(
    oauth_bot: Bot,
) -> None:
    harness = oauth_bot.harness
    authorize, cookie = start_install(harness)
    parts = urlsplit(authorize)
    where = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert where == f"{harness.slack_url}/oauth/v2/authorize"
    asked = parse_qs(parts.query)
    assert asked["client_id"] == [harness.slack.app.client_id]
    assert asked["scope"][0].split(",") == list(BOT_SCOPES)
    assert asked["redirect_uri"] == [f"{PUBLIC_URL}/slack/oauth_redirect"]
    assert cookie.endswith("=" + asked["state"][0])


def test_two_workspaces_are_each_served_with_their_own_token(oauth_bot: Bot) -> None:
    harness, slack = oauth_bot.harness, oauth_bot.harness.slack
    install(harness, "T1", ALICE)
    install(harness, "T2", ZED)
    tokens = {team: live_tokens(slack, team) for team in ("T1", "T2")}
    assert all(len(live) == 1 for live in tokens.values()), tokens
    assert not {BOT_TOKEN, OTHER_TOKEN} & {t for live in tokens.values() for t in live}
    stored = query(oauth_bot.database_url, "SELECT team_id, bot_token FROM slack_bots")
    assert sorted(team for team, _ in stored) == ["T1", "T2"]
    assert not [raw for _, raw in stored for live in tokens.values() if live[0] in raw]

    command(harness, "now", user=ALICE, channel="C1")
    command(harness, "now", user=ZED, channel=T2_CHANNEL)
    command(harness, "Design review in 10 minutes", user=ALICE, channel="C1")
    command(harness, "Design review in 10 minutes", user=ZED, channel=T2_CHANNEL)
    for channel in ("C1", T2_CHANNEL):
        wait_until(has_posts(slack, channel, 2), f"the cards in {channel}")
    # Time passes: both meetings' reminders fall due, for the scheduler to post.
    engine = create_sync_engine(sync_url(oauth_bot.database_url))
    with engine.begin() as conn:
        conn.execute(update(Delivery).values(due_at=datetime.now(UTC)))
    engine.dispose()
    # A token sees only its own team's conversations and the fixtures' tokens were revoked by
    # the installs: what Slack accepted in each team's channel carried that team's new token.
    for channel in ("C1", T2_CHANNEL):
        wait_until(has_posts(slack, channel, delivery=True), f"the reminder in {channel}")


def test_every_recorded_call_carries_its_teams_token(oauth_bot: Bot) -> None:
    harness, slack = oauth_bot.harness, oauth_bot.harness.slack
    install(harness, "T1", ALICE)
    install(harness, "T2", ZED)
    tokens = {"C1": live_tokens(slack, "T1"), T2_CHANNEL: live_tokens(slack, "T2")}
    command(harness, "now", user=ALICE, channel="C1")
    command(harness, "now", user=ZED, channel=T2_CHANNEL)
    for channel in tokens:
        wait_until(has_posts(slack, channel), f"the card in {channel}")
    for call in slack.calls_to("chat.postMessage"):
        assert [call.token] == tokens[call.args["channel"]]


def test_uninstalling_one_workspace_stops_only_its_work(oauth_bot: Bot) -> None:
    harness, slack, url = oauth_bot.harness, oauth_bot.harness.slack, oauth_bot.database_url
    install(harness, "T1", ALICE)
    install(harness, "T2", ZED)
    command(harness, "Retro tomorrow 4pm", user=ALICE, channel="C1")
    command(harness, "Retro tomorrow 4pm", user=ZED, channel=T2_CHANNEL)
    for channel in ("C1", T2_CHANNEL):
        wait_until(has_posts(slack, channel), f"the card in {channel}")

    body = uninstall_event("T2")
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    answer = harness.http.post(f"{harness.bot_url}/slack/events", content=body, headers=headers)
    assert answer.status_code == 200
    audit = "SELECT 1 FROM audit_log WHERE team_id = 'T2' AND action = 'app_uninstalled'"
    wait_until(lambda: query(url, audit), "the audit row")
    assert [team for (team,) in query(url, "SELECT team_id FROM slack_bots")] == ["T1"]
    owed = query(
        url,
        "SELECT team_id, withdrawn_at IS NOT NULL, last_error FROM delivery WHERE sent_at IS NULL",
    )
    assert {team for team, _, _ in owed} == {"T1", "T2"}
    for team, withdrawn, reason in owed:
        assert bool(withdrawn) == (team == "T2")
        assert (team == "T2") == ("app_uninstalled" in (reason or ""))

    t2_posts = len(posted_in(slack, T2_CHANNEL))
    harness.command("now", user=ZED, channel=T2_CHANNEL)
    rid = command(harness, "now", user=ALICE, channel="C1")
    harness.replies(rid)
    wait_until(has_posts(slack, "C1", 2), "T1's second card")
    harness.inside.settle()
    assert len(posted_in(slack, T2_CHANNEL)) == t2_posts


def test_a_rotating_token_is_refreshed_before_it_expires(
    sandbox: RunningSandbox, empty_database: Database, tmp_path: Path
) -> None:
    slack = FakeSlack(app=OAuthApp(token_rotation=True))
    slack.add_users(ALICE)
    settings = oauth_settings(slack)
    with (
        serve_asgi(build_fake_slack_app(slack)) as slack_url,
        running_bot(sandbox, (slack, slack_url), empty_database.url, tmp_path, **settings) as bot,
    ):
        harness, url = bot.harness, bot.database_url
        install(harness, "T1", ALICE)
        [first] = live_tokens(slack, "T1")
        assert first.startswith("xoxe.xoxb-")
        # As if 11 of the token's 12 hours had passed: inside the two-hour refresh window.
        engine = create_sync_engine(sync_url(url))
        with engine.begin() as conn:
            expires = conn.execute(select(SLACK_BOTS.c.bot_token_expires_at)).scalar_one()
            conn.execute(
                SLACK_BOTS.update().values(bot_token_expires_at=expires - timedelta(hours=11))
            )
        engine.dispose()

        command(harness, "now", user=ALICE, channel="C1")
        wait_until(has_posts(slack, "C1"), "the card")
        refreshes = [
            c
            for c in slack.calls_to("oauth.v2.access")
            if c.args.get("grant_type") == "refresh_token"
        ]
        assert len(refreshes) == 1
        newest = [i.token for i in slack.ws.installations.values() if i.team_id == "T1"][-1]
        assert newest != first
        [(stored,)] = query(url, "SELECT bot_token FROM slack_bots")
        assert newest not in stored
        assert first not in stored


def test_a_denied_or_replayed_install_gets_a_clear_page(oauth_bot: Bot) -> None:
    harness = oauth_bot.harness
    authorize, cookie = start_install(harness)
    denied = finish_install(harness, authorize, cookie, deny="1")
    assert "Installation cancelled" in denied.text
    authorize, cookie = start_install(harness)
    first = finish_install(harness, authorize, cookie, team="T1", user=ALICE.id)
    assert first.status_code == 200
    replayed = finish_install(harness, authorize, cookie, team="T1", user=ALICE.id)
    assert replayed.status_code == 400
    assert "expired or was already used" in replayed.text


async def test_an_unreadable_key_stops_only_its_own_workspace(oauth_bot: Bot) -> None:
    harness = oauth_bot.harness
    install(harness, "T1", ALICE)
    install(harness, "T2", ZED)
    command(harness, "Ours in 5 minutes", user=ALICE, channel="C1")  # T1, the default app
    wait_until(has_posts(harness.slack, "C1"), "T1's card")
    command(harness, "Theirs in 5 minutes", user=ZED, channel=T2_CHANNEL)
    wait_until(has_posts(harness.slack, T2_CHANNEL), "T2's card")
    await store_key_nobody_can_read(oauth_bot.database_url, "T1")
    theirs = next(m for m in harness.sandbox.meetings() if m["subject"] == "Theirs")
    harness.sandbox.start(str(theirs["conference_id"]))
    async with repository(oauth_bot.database_url) as repo:

        async def live() -> bool:
            rows = await repo.upcoming_meetings(
                team_id="T2", organizer_slack_id=ZED.id, now=datetime.now(UTC), limit=5
            )
            return any(r.state.value == "live" for r in rows)

        await eventually(live, what="T2's meeting live")  # T2's work goes on

    answer = harness.reply_text(command(harness, "now Blocked", user=ALICE, channel="C1"))
    assert "can no longer be read" in answer
    assert "/meet admin setup" in answer
    assert APP_KEY not in answer
