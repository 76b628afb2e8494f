"""Installing meetbot into a workspace (OAuth mode): Bolt's OAuth flow on our stores, its two
endpoints (`GET /slack/install` redirects to Slack's authorize page with client_id, scope,
state and redirect_uri; `GET /slack/oauth_redirect` exchanges the code), and the small pages
a person sees when an install succeeds or fails.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.adapter.starlette.async_handler import (
    to_async_bolt_request,
    to_starlette_response,
)
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Settings
from bot.slack.installs import EncryptedInstallationStore

__all__ = [
    "INSTALL_PATH",
    "REDIRECT_PATH",
    "STATE_SECONDS",
    "authorize_url",
    "build_oauth_flow",
    "oauth_routes",
    "render_page",
]

INSTALL_PATH: Final = "/slack/install"
REDIRECT_PATH: Final = "/slack/oauth_redirect"
STATE_SECONDS: Final = 600
"""How long an install link's state stays valid; it is used once."""
ROTATE_MINUTES: Final = 120
"""A rotating bot token (12 h) is refreshed once less than this is left of it."""

_CANCELLED: Final = "The installation was cancelled: meetbot was not added to your workspace."
_STALE: Final = (
    "This install link has expired or was already used. Start again from the Add to Slack link."
)
_FAILED: Final = "Slack did not complete the installation ({reason}). Please try again."
_DONE: Final = (
    "meetbot is installed in {team}. Type <code>/meet help</code> in any channel to begin."
)
_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meetbot — {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f6fa;
color:#1d1c1d;display:flex;justify-content:center;padding:4rem 1rem;margin:0}}
main{{background:#fff;border-top:6px solid #1f4e8c;border-radius:8px;max-width:32rem;
padding:2rem 2.5rem;box-shadow:0 1px 4px #0002}}
h1{{color:#1f4e8c;font-size:1.4rem;margin-top:0}}
</style></head>
<body><main><h1>{title}</h1><p>{body}</p></main></body></html>
"""


def render_page(title: str, body_html: str) -> str:
    """A page in meetbot's look; `title` is escaped, `body_html` must already be."""
    return _PAGE.format(title=html.escape(title), body=body_html)


def authorize_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API: https://slack.com/api/ ->
    https://slack.com/oauth/v2/authorize (a local fake Slack the same way)."""
    parts = urlsplit(api_url)
    base = parts.path.rstrip("/").removesuffix("/api")
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/oauth/v2/authorize", "", ""))


def _page(status: int, title: str, body_html: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=render_page(title, body_html),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    team = installation.team_name or installation.enterprise_name or "your workspace"
    return _page(200, "meetbot is installed", _DONE.format(team=html.escape(team)))


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    if args.reason == "access_denied":
        return _page(200, "Installation cancelled", html.escape(_CANCELLED))
    if args.reason in ("invalid_state", "invalid_browser"):
        return _page(400, "Installation link expired", html.escape(_STALE))
    status = args.suggested_status_code if args.suggested_status_code >= 400 else 400
    message = _FAILED.format(reason=args.reason)
    return _page(status, "Installation failed", html.escape(message))


def build_oauth_flow(
    settings: Settings, *, store: EncryptedInstallationStore, engine: AsyncEngine
) -> AsyncOAuthFlow:
    """Bolt's OAuth flow: states in our database (single use, STATE_SECONDS), installations in
    `store`, the code exchanged through MEETBOT_SLACK_API_URL. Needs OAuth mode's settings."""
    client_id, secret, public_url = settings.oauth_credentials()
    return AsyncOAuthFlow(
        client=AsyncWebClient(base_url=settings.slack_api_url, timeout=10),
        settings=AsyncOAuthSettings(
            client_id=client_id,
            client_secret=secret.get_secret_value(),
            scopes=list(settings.slack_scopes),
            user_scopes=[],
            redirect_uri=public_url.rstrip("/") + REDIRECT_PATH,
            install_path=INSTALL_PATH,
            install_page_rendering_enabled=False,
            redirect_uri_path=REDIRECT_PATH,
            callback_options=AsyncCallbackOptions(success=_installed, failure=_not_installed),
            authorization_url=authorize_url(settings.slack_api_url),
            installation_store=store,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=ROTATE_MINUTES,
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_SECONDS, engine=engine
            ),
            state_expiration_seconds=STATE_SECONDS,
        ),
    )


def oauth_routes(flow: Callable[[], AsyncOAuthFlow | None]) -> list[Route]:
    """`GET /slack/install` and `GET /slack/oauth_redirect`, served by the flow `flow()`
    returns once the server has started (404 before, or without OAuth mode)."""

    def served_by(
        handle: Callable[[AsyncOAuthFlow, AsyncBoltRequest], Awaitable[BoltResponse]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            current = flow()
            if current is None:
                return Response(status_code=404)
            return to_starlette_response(await handle(current, to_async_bolt_request(request, b"")))

        return endpoint

    return [
        Route(INSTALL_PATH, served_by(AsyncOAuthFlow.handle_installation), methods=["GET"]),
        Route(REDIRECT_PATH, served_by(AsyncOAuthFlow.handle_callback), methods=["GET"]),
    ]
