"""Where the demo emulator's bot and sandbox are, and the secrets the bot was given."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.demo.guard import LOOPBACK
from bot.demo.workspace import OAuthApp

__all__ = ["EmulatorConfig"]


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the bot and the sandbox are, and the secrets the bot was given."""

    events_url: str
    """The bot's `/slack/events`."""
    signing_secret: str
    bot_token: str
    sandbox_url: str
    public_url: str
    """This emulator's own base URL (response_urls point here)."""
    host: str = LOOPBACK
    """The address the page is bound to: with 127.0.0.1 and localhost, what its Host may name."""
    oauth: OAuthApp = field(default_factory=OAuthApp)
    """The app as registered with this Slack: what its `/oauth/v2/authorize` and
    `oauth.v2.access` accept (client ID and secret, redirect URLs, token rotation)."""
