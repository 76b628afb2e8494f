"""The fake Slack keeps Slack's rules, proved over real HTTP with slack_sdk's AsyncWebClient:
teams and tokens, conversation kinds and the bot's membership, scopes, trigger_ids,
response_url limits and rate tiers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.workspace import BOT_SCOPES, Kind
from tests.demo.clock import Clock
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, SlackUser, build_fake_slack_app

ANA = SlackUser("UANA", "T1", "Ana", is_admin=True)
BO = SlackUser("UBO", "T1", "Bo")
CY = SlackUser("UCY", "T1", "Cy")
ZED = SlackUser("UZED", "T2", "Zed")
TOKEN = "xoxb-rules"
VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "Schedule"}, "blocks": []}


def world(clock: Clock, *, rate_budget: float = 1.0) -> FakeSlack:
    """T1: #general C1 (bot), #nobot (public, no bot), #plans (private C…, bot), #leads
    (private G…, no bot), #old (archived, bot), a DM Ana-Bo, a group DM; T2: #zed (bot)."""
    slack = FakeSlack(clock=clock, rate_budget=rate_budget)
    slack.add_users(ANA, BO, CY, ZED)
    slack.add_channel("CNOBOT", "nobot", bot=False)
    slack.add_channel("CPLANS", "plans", kind=Kind.PRIVATE, members={ANA.id})
    slack.add_channel("GLEADS", "leads", kind=Kind.PRIVATE, bot=False, members={ANA.id, BO.id})
    slack.add_channel("COLD", "old").archived = True
    slack.add_channel("DANABO", kind=Kind.IM, bot=False, members={ANA.id, BO.id})
    slack.add_channel("GMPIM", "", kind=Kind.MPIM, bot=False, members={ANA.id, BO.id, CY.id})
    slack.add_channel("CZED", "zed", team="T2")
    return slack


@pytest.fixture
def fake(clock: Clock) -> Iterator[tuple[FakeSlack, str]]:
    slack = world(clock)
    with serve_asgi(build_fake_slack_app(slack)) as url:
        yield slack, url


async def answer(url: str, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
    """What Slack answered (ok or not) through slack_sdk's client."""
    client = AsyncWebClient(token=token, base_url=f"{url}/api/")
    try:
        data = (await client.api_call(method, json=args)).data
    except SlackApiError as exc:
        data = exc.response.data
    assert isinstance(data, dict)
    return data


ALL = BOT_SCOPES | {"channels:join", "im:history", "mpim:history", "mpim:write", "channels:read"}
NO_PUBLIC = ALL - {"chat:write.public"}
TEXT = {"text": "hi"}

RULES = [
    # (scopes, method, args, error or None for ok)
    pytest.param(ALL, "chat.postMessage", {"channel": "C1", **TEXT}, None, id="post-member"),
    pytest.param(
        ALL, "chat.postMessage", {"channel": "CNOBOT", **TEXT}, None, id="post-public-write.public"
    ),
    pytest.param(
        NO_PUBLIC,
        "chat.postMessage",
        {"channel": "CNOBOT", **TEXT},
        "not_in_channel",
        id="post-public-not-member",
    ),
    pytest.param(ALL, "chat.postMessage", {"channel": "CPLANS", **TEXT}, None, id="post-private"),
    pytest.param(
        ALL,
        "chat.postMessage",
        {"channel": "GLEADS", **TEXT},
        "channel_not_found",
        id="post-private-without-bot",
    ),
    pytest.param(
        ALL, "chat.postMessage", {"channel": "DANABO", **TEXT}, "channel_not_found", id="post-dm"
    ),
    pytest.param(
        ALL, "chat.postMessage", {"channel": "GMPIM", **TEXT}, "channel_not_found", id="post-mpim"
    ),
    pytest.param(ALL, "chat.postMessage", {"channel": "UBO", **TEXT}, None, id="post-app-dm"),
    pytest.param(
        ALL, "chat.postMessage", {"channel": "COLD", **TEXT}, "is_archived", id="post-archived"
    ),
    pytest.param(
        ALL,
        "chat.postMessage",
        {"channel": "CZED", **TEXT},
        "channel_not_found",
        id="post-other-team",
    ),
    pytest.param(
        ALL - {"chat:write"},
        "chat.postMessage",
        {"channel": "C1", **TEXT},
        "missing_scope",
        id="post-without-chat-write",
    ),
    pytest.param(
        ALL, "chat.postEphemeral", {"channel": "C1", "user": "UBO", **TEXT}, None, id="ephemeral"
    ),
    pytest.param(
        ALL,
        "chat.postEphemeral",
        {"channel": "CPLANS", "user": "UBO", **TEXT},
        "user_not_in_channel",
        id="ephemeral-user-not-in-channel",
    ),
    pytest.param(
        ALL,
        "chat.postEphemeral",
        {"channel": "GLEADS", "user": "UBO", **TEXT},
        "channel_not_found",
        id="ephemeral-private-without-bot",
    ),
    pytest.param(
        NO_PUBLIC,
        "chat.postEphemeral",
        {"channel": "CNOBOT", "user": "UBO", **TEXT},
        "not_in_channel",
        id="ephemeral-public-not-member",
    ),
    pytest.param(ALL, "users.info", {"user": "UBO"}, None, id="user"),
    pytest.param(ALL, "users.info", {"user": "UZED"}, "user_not_found", id="user-other-team"),
    pytest.param(
        ALL - {"users:read"}, "users.info", {"user": "UBO"}, "missing_scope", id="user-no-scope"
    ),
    pytest.param(ALL, "conversations.history", {"channel": "C1"}, None, id="history"),
    pytest.param(
        ALL,
        "conversations.history",
        {"channel": "CNOBOT"},
        "not_in_channel",
        id="history-not-member",
    ),
    pytest.param(ALL, "conversations.history", {"channel": "CPLANS"}, None, id="history-private"),
    pytest.param(
        ALL - {"groups:history"},
        "conversations.history",
        {"channel": "CPLANS"},
        "missing_scope",
        id="history-private-no-scope",
    ),
    pytest.param(
        ALL - {"im:history"},
        "conversations.history",
        {"channel": "UBO"},
        "missing_scope",
        id="history-app-dm-no-im-history",
    ),
    pytest.param(
        ALL,
        "conversations.replies",
        {"channel": "GLEADS", "ts": "1.000001"},
        "channel_not_found",
        id="replies-private-without-bot",
    ),
    pytest.param(ALL, "conversations.join", {"channel": "CNOBOT"}, None, id="join"),
    pytest.param(
        ALL - {"channels:join"},
        "conversations.join",
        {"channel": "CNOBOT"},
        "missing_scope",
        id="join-without-channels-join",
    ),
    pytest.param(
        ALL,
        "conversations.join",
        {"channel": "CPLANS"},
        "method_not_supported_for_channel_type",
        id="join-private",
    ),
    pytest.param(ALL, "conversations.join", {"channel": "COLD"}, "is_archived", id="join-archived"),
    pytest.param(ALL, "conversations.open", {"users": "UBO"}, None, id="open-app-dm"),
    pytest.param(
        ALL - {"im:write"},
        "conversations.open",
        {"users": "UBO"},
        "missing_scope",
        id="open-without-im-write",
    ),
    pytest.param(ALL, "conversations.open", {"users": "UBO,UCY"}, None, id="open-mpim"),
    pytest.param(ALL, "conversations.info", {"channel": "CNOBOT"}, None, id="info-public"),
]


@pytest.mark.parametrize(("scopes", "method", "args", "error"), RULES)
async def test_slack_rule(
    fake: tuple[FakeSlack, str],
    scopes: frozenset[str],
    method: str,
    args: dict[str, Any],
    error: str | None,
) -> None:
    slack, url = fake
    slack.install("T1", scopes=scopes, token=TOKEN)
    got = await answer(url, method, args, TOKEN)
    if error is None:
        assert got["ok"] is True, got
    else:
        assert got["ok"] is False
        assert got["error"] == error


async def test_missing_scope_says_what_is_needed_and_provided(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    slack.install("T1", scopes={"chat:write", "commands"}, token=TOKEN)
    got = await answer(url, "conversations.history", {"channel": "C1"}, TOKEN)
    assert got == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:history",
        "provided": "chat:write,commands",
    }


async def test_tokens_per_team_unknown_and_revoked(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    assert (await answer(url, "auth.test", {}, "xoxb-nobody"))["error"] == "invalid_auth"
    other = await answer(url, "auth.test", {}, "xoxb-test-token-t2")
    assert (other["team_id"], other["user_id"]) == ("T2", "UBOT2")
    assert (await answer(url, "chat.postMessage", {"channel": "CZED", **TEXT}, BOT_TOKEN))[
        "error"
    ] == "channel_not_found"
    slack.install("T1", token=TOKEN)  # a re-install replaces the team's token
    assert (await answer(url, "auth.test", {}, BOT_TOKEN))["error"] == "token_revoked"


async def test_joining_lets_the_bot_read_and_post_without_chat_write_public(
    fake: tuple[FakeSlack, str],
) -> None:
    slack, url = fake
    slack.install("T1", scopes=NO_PUBLIC, token=TOKEN)
    assert (await answer(url, "conversations.join", {"channel": "CNOBOT"}, TOKEN))["ok"]
    assert (await answer(url, "chat.postMessage", {"channel": "CNOBOT", **TEXT}, TOKEN))["ok"]
    history = await answer(url, "conversations.history", {"channel": "CNOBOT"}, TOKEN)
    assert [m["text"] for m in history["messages"]] == ["hi"]


async def test_a_trigger_id_is_single_use_and_lives_three_seconds(
    fake: tuple[FakeSlack, str], clock: Clock
) -> None:
    slack, url = fake
    trigger = slack.issue_trigger(ANA.id)
    assert (await answer(url, "views.open", {"trigger_id": trigger, "view": VIEW}, BOT_TOKEN))["ok"]
    again = await answer(url, "views.open", {"trigger_id": trigger, "view": VIEW}, BOT_TOKEN)
    assert again["error"] == "exchanged_trigger_id"
    late = slack.issue_trigger(ANA.id)
    clock.now += 3.01
    expired = await answer(url, "views.open", {"trigger_id": late, "view": VIEW}, BOT_TOKEN)
    assert expired["error"] == "expired_trigger_id"
    made_up = await answer(url, "views.open", {"trigger_id": "1.2.3", "view": VIEW}, BOT_TOKEN)
    assert made_up["error"] == "invalid_trigger_id"
    other_team = slack.issue_trigger(ZED.id)
    foreign = await answer(url, "views.open", {"trigger_id": other_team, "view": VIEW}, BOT_TOKEN)
    assert foreign["error"] == "invalid_trigger_id"


def test_a_response_url_takes_five_posts_within_thirty_minutes(
    fake: tuple[FakeSlack, str], clock: Clock
) -> None:
    _, url = fake
    answers = [httpx.post(f"{url}/response/r1", json=TEXT) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].text == "used_url"
    assert httpx.post(f"{url}/response/r2", json=TEXT).status_code == 200
    clock.now += 30 * 60 + 1
    late = httpx.post(f"{url}/response/r2", json=TEXT)
    assert (late.status_code, late.text) == (404, "expired_url")


async def test_rate_tiers_answer_429_with_retry_after(clock: Clock) -> None:
    slack = world(clock, rate_budget=0.05)  # Tier 4: 100/min -> 5; chat.postMessage burst 1
    with serve_asgi(build_fake_slack_app(slack)) as url:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/")
        for _ in range(5):
            await client.users_info(user="UBO")
        with pytest.raises(SlackApiError) as caught:
            await client.users_info(user="UBO")
        assert caught.value.response.status_code == 429
        assert int(caught.value.response.headers["Retry-After"][0]) >= 1
        await client.chat_postMessage(channel="C1", text="one")
        with pytest.raises(SlackApiError) as per_channel:
            await client.chat_postMessage(channel="C1", text="two")
        assert per_channel.value.response.status_code == 429
        await client.chat_postMessage(channel="CPLANS", text="another channel")
        clock.now += 20
        await client.chat_postMessage(channel="C1", text="later")


async def test_slacks_published_tier_numbers_apply_by_default(fake: tuple[FakeSlack, str]) -> None:
    _, url = fake
    client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/")
    for _ in range(50):  # conversations.history is Tier 3: 50 per minute
        await client.conversations_history(channel="C1")
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_history(channel="C1")
    assert caught.value.response.status_code == 429


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        pytest.param("C1", "general", id="public"),
        pytest.param("CPLANS", "plans", id="private-c-id"),
        pytest.param("GLEADS", "privategroup", id="private-g-id"),
        pytest.param("DANABO", "directmessage", id="dm"),
        pytest.param("GMPIM", "mpdm-ana--bo--cy-1", id="mpim"),
    ],
)
def test_slash_commands_name_the_conversation_as_slack_does(
    fake: tuple[FakeSlack, str], channel: str, name: str
) -> None:
    slack, _ = fake
    assert slack.ws.channels[channel].slash_name == name
