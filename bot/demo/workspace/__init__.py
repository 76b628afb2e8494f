"""The fake Slack: teams with members and conversations, the app's installations, messages,
modals, calls, and the Web API on them.

Transport-free and synchronous: `WebApi.respond(method, args, token)` answers as Slack does (same
fields, same error codes, same rules) by changing the `Workspace`. The HTTP layers are the demo's
`bot.demo.emulator` and the tests' `tests/fakes/slack_api.py`. What it is made of is `model`, its
state `state`, the Web API methods `web_api`, the rate limits `limits`.
"""

from bot.demo.workspace.limits import METHOD_TIERS, TIER_PER_MINUTE, RateLimits
from bot.demo.workspace.model import (
    APP_ID,
    BOT,
    BOT_ID,
    BOT_SCOPES,
    DEMO_USERS,
    GENERAL,
    GROUP,
    LEADS,
    PLANNING,
    RANDOM,
    SLACKBOT,
    TEAM_ID,
    ApiError,
    Channel,
    Installation,
    Kind,
    Message,
    Modal,
    OAuthApp,
    Team,
    dm_id,
)
from bot.demo.workspace.oauth import CODE_SECONDS
from bot.demo.workspace.state import (
    RESPONSE_URL_SECONDS,
    RESPONSE_URL_USES,
    TRIGGER_SECONDS,
    ResponseUrl,
    Workspace,
)
from bot.demo.workspace.web_api import METHOD_SCOPES, WebApi

__all__ = [
    "APP_ID",
    "BOT",
    "BOT_ID",
    "BOT_SCOPES",
    "CODE_SECONDS",
    "DEMO_USERS",
    "GENERAL",
    "GROUP",
    "LEADS",
    "METHOD_SCOPES",
    "METHOD_TIERS",
    "PLANNING",
    "RANDOM",
    "RESPONSE_URL_SECONDS",
    "RESPONSE_URL_USES",
    "SLACKBOT",
    "TEAM_ID",
    "TIER_PER_MINUTE",
    "TRIGGER_SECONDS",
    "ApiError",
    "Channel",
    "Installation",
    "Kind",
    "Message",
    "Modal",
    "OAuthApp",
    "RateLimits",
    "ResponseUrl",
    "Team",
    "WebApi",
    "Workspace",
    "dm_id",
]
