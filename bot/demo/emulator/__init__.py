"""The demo's Slack emulator over HTTP: the Web API the bot calls, response_urls, and the page.

The page (`/`, `/demo/…`) never reaches the bot directly: what a person does there becomes the
signed request Slack would send to the bot's `/slack/events`. The bot's Web API calls (`/api/…`)
and response_url posts (`/response/…`) change the workspace; pages hear of it by Server-Sent
Events and fetch their view again. `/demo/sandbox/…` drives the meeting sandbox's control API.
Every route takes only requests for its own host and origin (see `bot.demo.guard`).
"""

from bot.demo.emulator.app import Emulator, authorize_page, read_api_request
from bot.demo.emulator.config import EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "authorize_page", "read_api_request"]
