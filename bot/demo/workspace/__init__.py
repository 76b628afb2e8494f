"""The demo's Slack workspace: members, channels, messages, modals, calls, and the Web API on them.

Transport-free and synchronous: `WebApi.call(method, args)` answers as Slack does (same fields,
same error codes) by changing the `Workspace`. The HTTP layer lives in `bot.demo.emulator`.
What it is made of is `model`, its state `state`, the Web API methods `web_api`.
"""

from bot.demo.workspace.model import (
    APP_ID,
    BOT,
    BOT_ID,
    DEMO_USERS,
    GENERAL,
    RANDOM,
    SLACKBOT,
    TEAM_ID,
    ApiError,
    Channel,
    Message,
    Modal,
    dm_id,
)
from bot.demo.workspace.state import Workspace
from bot.demo.workspace.web_api import WebApi

__all__ = [
    "APP_ID",
    "BOT",
    "BOT_ID",
    "DEMO_USERS",
    "GENERAL",
    "RANDOM",
    "SLACKBOT",
    "TEAM_ID",
    "ApiError",
    "Channel",
    "Message",
    "Modal",
    "WebApi",
    "Workspace",
    "dm_id",
]
