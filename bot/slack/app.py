"""The Bolt AsyncApp: `/meet`, buttons, modals and lifecycle events wired to their listeners.

Every listener acks at once; anything that may wait on Slack or the meeting service runs in
a lazy listener afterwards and answers through response_url or the Web API
(bot/slack/listeners.py, bot/slack/presenter.py).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.service import MeetingService
from bot.slack import blocks
from bot.slack.blocks.ids import READING, READING_FORM
from bot.slack.listeners import Listeners
from bot.slack.notifier import CardHook, Notifier, web_client
from bot.slack.presenter import Presenter
from bot.slack.priority import AckFirstLazyRunner, AckGate

__all__ = ["build_app"]


def build_app(
    settings: Settings,
    *,
    service: MeetingService,
    client: AsyncWebClient | None = None,
    gate: AckGate | None = None,
    prepare_card: CardHook | None = None,
) -> AsyncApp:
    """Wire Bolt's listeners to `service`; no Slack call happens before the first request.

    With a `gate`, lazy listeners wait until no request is waiting for its ack.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = client or web_client(token or "", settings.slack_api_url)
    app = _bolt_app(settings, client)
    if gate is not None:
        app.listener_runner.lazy_listener_runner = AckFirstLazyRunner(gate, app.logger)
    notifier = Notifier(client, prepare_card=prepare_card)
    on = Listeners(service, Presenter(service, notifier, client), notifier, client)
    guarded = on.guarded

    # /meet and "Open the form" open a form before their act-once check (Listeners._form).
    app.command("/meet")(ack=on.ack_now, lazy=[guarded(on.run_meet, once=False)])
    app.action(blocks.OPEN_FORM)(ack=on.ack_now, lazy=[guarded(on.run_open_form, once=False)])
    app.view(blocks.ADMIN_SETUP_MODAL)(ack=on.ack_now, lazy=[guarded(on.run_admin_setup)])
    app.event("app_uninstalled")(on.on_uninstalled)
    app.event("tokens_revoked")(on.on_uninstalled)
    app.action(blocks.JOIN)(on.ack_now)
    app.action(blocks.HOST_JOIN)(on.ack_now)
    app.action(blocks.CANCEL)(ack=on.ack_now, lazy=[guarded(on.run_cancel)])
    app.action(blocks.START_NOW)(ack=on.ack_now, lazy=[guarded(on.run_start_now)])
    app.action(READING)(ack=on.ack_now, lazy=[guarded(on.run_reading)])
    app.action(READING_FORM)(ack=on.ack_now, lazy=[guarded(on.run_reading_form)])
    app.action(blocks.MAPPINGS_PAGE)(ack=on.ack_now, lazy=[guarded(on.run_mappings_page)])
    app.view(blocks.SCHEDULE_MODAL)(ack=on.ack_schedule, lazy=[guarded(on.run_schedule)])
    return app


def _bolt_app(settings: Settings, client: AsyncWebClient) -> AsyncApp:
    secret = settings.slack_signing_secret
    return AsyncApp(
        # Bolt deep-copies its client into every lazy request, which a client holding a
        # shared HTTP session cannot survive; Bolt's own calls (auth.test) use this plain one
        # and everything we send goes through `client`.
        client=AsyncWebClient(
            token=client.token, base_url=client.base_url, retry_handlers=client.retry_handlers
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
