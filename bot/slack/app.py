"""The Bolt AsyncApp: `/meet`, buttons, modals and lifecycle events wired to their listeners.

Every listener acks at once; anything that may wait on Slack or the meeting service runs in
a lazy listener afterwards and answers through response_url or the Web API
(bot/slack/listeners.py, bot/slack/presenter.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.service import MeetingService
from bot.slack import blocks
from bot.slack.blocks.ids import (
    CREATE_ANYWAY,
    CREATE_ANYWAY_NOW,
    LIST_PAGE,
    READING,
    READING_FORM,
)
from bot.slack.installs import Team, TeamAuthorize, TeamTokens, acting_for
from bot.slack.listeners import Listeners
from bot.slack.notifier import CardHook, Notifier, web_client
from bot.slack.oauth import INSTALL_PATH
from bot.slack.presenter import Presenter
from bot.slack.priority import AckFirstLazyRunner, AckGate

__all__ = ["NOT_INSTALLED", "build_app"]

NOT_INSTALLED: Final = (
    "meetbot is not installed in this workspace (or was removed from it). "
    "An admin can add it again: {install}"
)


def build_app(
    settings: Settings,
    *,
    service: MeetingService,
    client: AsyncWebClient | None = None,
    gate: AckGate | None = None,
    prepare_card: CardHook | None = None,
    tokens: TeamTokens | None = None,
) -> AsyncApp:
    """Wire Bolt's listeners to `service`; no Slack call happens before the first request.

    With a `gate`, lazy listeners wait until no request is waiting for its ack. With `tokens`
    (OAuth mode) each request is authorized with its team's installation and `client` must
    be a `TeamWebClient` over the same tokens.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = client or web_client(tokens or token or "", settings.slack_api_url)
    app = _bolt_app(settings, client, tokens)
    app.use(_acting_for_the_request)
    if gate is not None:
        app.listener_runner.lazy_listener_runner = AckFirstLazyRunner(gate, app.logger)
    notifier = Notifier(client, prepare_card=prepare_card)
    on = Listeners(service, Presenter(service, notifier, client), notifier, client)
    guarded = on.guarded

    # /meet and "Open the form" open a form before their act-once check (Listeners._form).
    app.command("/meet")(ack=on.ack_now, lazy=[guarded(on.run_meet, once=False)])
    app.action(blocks.OPEN_FORM)(ack=on.ack_now, lazy=[guarded(on.run_open_form, once=False)])
    app.view(blocks.ADMIN_SETUP_MODAL)(ack=on.ack_now, lazy=[guarded(on.run_admin_setup)])
    uninstalled = on.on_uninstalled if tokens is None else _forgetting(tokens, on.on_uninstalled)
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(uninstalled)
    app.action(blocks.JOIN)(on.ack_now)
    app.action(blocks.HOST_JOIN)(on.ack_now)
    app.action(blocks.CANCEL)(ack=on.ack_now, lazy=[guarded(on.run_cancel)])
    app.action(blocks.START_NOW)(ack=on.ack_now, lazy=[guarded(on.run_start_now)])
    app.action(READING)(ack=on.ack_now, lazy=[guarded(on.run_reading)])
    app.action(READING_FORM)(ack=on.ack_now, lazy=[guarded(on.run_reading_form)])
    app.action(blocks.MAPPINGS_PAGE)(ack=on.ack_now, lazy=[guarded(on.run_mappings_page)])
    app.action(LIST_PAGE)(ack=on.ack_now, lazy=[guarded(on.run_list_page)])
    for anyway in (CREATE_ANYWAY, CREATE_ANYWAY_NOW):
        app.action(anyway)(ack=on.ack_now, lazy=[guarded(on.run_create_anyway)])
    app.view(blocks.SCHEDULE_MODAL)(ack=on.ack_schedule, lazy=[guarded(on.run_schedule)])
    return app


async def _acting_for_the_request(
    context: AsyncBoltContext, next_: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Everything a request's listeners call (lazy ones too) goes out as the request's team."""
    team = Team(context.team_id or "", context.enterprise_id, bool(context.is_enterprise_install))
    with acting_for(team):
        return await next_()


Uninstalled = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]


def _forgetting(tokens: TeamTokens, then: Uninstalled) -> Callable[..., Awaitable[None]]:
    """`app_uninstalled` / `tokens_revoked` in OAuth mode: delete the team's installation,
    then `then` (the service drops the team's owed messages and audits). A revocation of
    user tokens alone (meetbot asks for none) changes nothing."""

    async def forget(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return
        team_id = context.team_id or str(body.get("team_id", ""))
        grid = bool(context.is_enterprise_install)
        await tokens.forget(Team(team_id, context.enterprise_id, grid))
        await then(body, event)

    return forget


def _bolt_app(settings: Settings, client: AsyncWebClient, tokens: TeamTokens | None) -> AsyncApp:
    secret = settings.slack_signing_secret
    return AsyncApp(
        # Bolt deep-copies its client into every lazy request, which a client holding a
        # shared HTTP session cannot survive; Bolt's own calls (auth.test) use this plain one
        # and everything we send goes through `client`.
        client=AsyncWebClient(
            token=client.token, base_url=client.base_url, retry_handlers=client.retry_handlers
        ),
        # Bolt takes an AsyncAuthorize instance here too (slack_bolt/app/async_app.py).
        authorize=TeamAuthorize(tokens) if tokens is not None else None,  # type: ignore[arg-type]
        user_facing_authorize_error_message=NOT_INSTALLED.format(
            install=f"{(settings.public_url or '').rstrip('/')}{INSTALL_PATH}"
        ),
        signing_secret=secret.get_secret_value() if secret else None,
        # Always on: Socket Mode envelopes skip it by themselves (they arrive over the app's
        # own websocket); anything that reaches us over HTTP must be signed by Slack.
        request_verification_enabled=True,
        # Our ack listeners only ack, so running them inline costs nothing; the default mode
        # instead polls for the ack every 10 ms, which put a 10 ms floor under every ack and
        # thousands of wake-ups per second under a burst. Lazy listeners still run after
        # the response, as tasks.
        process_before_response=True,
    )
