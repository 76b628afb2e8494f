"""The Bolt AsyncApp: `/meet`, buttons and modals routed to the service; ack fast, work lazily.

Every listener acks at once; anything that may wait on Slack or the meeting service runs in
a lazy listener afterwards and answers through response_url or the Web API.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands as cmd
from bot.config import Settings
from bot.service import (
    AdminDone,
    Cancelled,
    Created,
    Failure,
    Help,
    Invocation,
    Listing,
    MappingPage,
    MeetingService,
    NotAllowed,
    NotConfigured,
    NoTime,
    NotMapped,
    OpenAdminSetup,
    OpenSchedule,
    Outcome,
    Problem,
    VendorFailure,
    WhoAmI,
)
from bot.slack import blocks
from bot.slack.blocks import Message, NotMappedReason
from bot.slack.notifier import CardHook, Notifier, card_view, web_client
from bot.slack.priority import AckFirstLazyRunner, AckGate

__all__ = ["Presenter", "build_app"]

log = logging.getLogger(__name__)

Reply = Callable[[Message], Awaitable[None]]
Lazy = Callable[..., Awaitable[None]]

SOMETHING_WENT_WRONG: Final = (
    "Something went wrong on meetbot's side and your request did not finish (reference "
    "{reference}). If no card or confirmation follows, nothing was created: try again in a "
    "moment, and if it keeps failing give the reference to your workspace admin."
)
ALREADY_DONE: Final = (
    "meetbot already received this request a moment ago (a double click or a repeat) and "
    "acts on it only once."
)


class Presenter:
    """Turns service outcomes into Slack messages and views."""

    def __init__(
        self,
        service: MeetingService,
        notifier: Notifier,
        client: AsyncWebClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._notifier = notifier
        self._client = client
        self._clock = clock

    async def present(
        self,
        outcome: Outcome,
        invocation: Invocation,
        *,
        reply: Reply,
        trigger_id: str | None = None,
    ) -> None:
        """Deliver `outcome` to the user who asked (privately) or to the channel (cards)."""
        match outcome:
            case Created():
                await self._created(outcome, reply)
            case Problem(problem=problem, example=example):
                await reply(blocks.render_error(problem, example))
            case NoTime(topic=topic):
                await reply(blocks.render_no_time_found(topic))
            case NotMapped(reason=reason):
                await reply(blocks.render_not_mapped(NotMappedReason(reason)))
            case NotConfigured(key_unreadable=unreadable):
                missing = (
                    NotMappedReason.KEY_UNREADABLE if unreadable else NotMappedReason.NOT_CONFIGURED
                )
                await reply(blocks.render_not_mapped(missing))
            case NotAllowed(action=action):
                await reply(blocks.render_not_allowed(action))
            case VendorFailure(user_message=message):
                await reply(blocks.render_vendor_error(message))
            case Failure(user_message=message):
                await reply(blocks.render_failure(message))
            case Listing(meetings=meetings):
                cards = [card_view(m) for m in meetings]
                await reply(blocks.render_list(cards, now=self._clock()))
            case Cancelled(meeting=meeting, by=by):
                await self._notifier.update_card(meeting, cancelled_by=by)
                await reply(blocks.render_cancelled_notice(card_view(meeting, cancelled_by=by)))
            case WhoAmI():
                await reply(
                    blocks.render_whoami(
                        outcome.user_id, outcome.third_party_id, outcome.mode, outcome.problem
                    )
                )
            case Help(is_admin=is_admin):
                await reply(blocks.render_help(is_admin))
            case MappingPage(rows=rows, page=page, pages=pages, mode=mode):
                await reply(blocks.render_mappings(rows, page=page, pages=pages, mode=mode))
            case AdminDone(text=text, user_id=user_id):
                await reply(blocks.render_done(text, user_id=user_id))
            case OpenSchedule(topic=topic):
                view = blocks.render_schedule_modal(
                    topic=topic, initial_epoch=None, private_metadata=invocation.channel_id
                )
                await self._open(trigger_id, view, reply)
            case OpenAdminSetup():
                current = await self._service.app_settings(team_id=invocation.team_id)
                view = blocks.render_admin_setup_modal(
                    app_id=current.app_id,
                    corp_id=current.corp_id,
                    mode=current.mapping_mode,
                    private_metadata=invocation.channel_id,
                    key_unreadable=current.key_unreadable,
                )
                await self._open(trigger_id, view, reply)

    async def _open(self, trigger_id: str | None, view: dict[str, Any], reply: Reply) -> None:
        if trigger_id is None:
            await reply({"text": "Run the command again to open the form."})
            return
        await self._client.views_open(trigger_id=trigger_id, view=view)

    async def _created(self, outcome: Created, reply: Reply) -> None:
        meeting = outcome.meeting
        card = card_view(meeting)
        failed = False
        try:
            ts = await self._notifier.post_card(meeting)
        except SlackApiError:
            # The meeting exists; the card-repair job posts it once Slack answers again.
            log.exception("posting the card of meeting %s failed", meeting.id)
            ts, failed = None, True
            await reply(blocks.render_working("Your meeting is ready; its card will follow."))
        if ts is not None and meeting.channel_id:
            await self._service.card_posted(
                meeting, channel_id=meeting.channel_id, message_ts=ts, card_state=meeting.state
            )
        elif not failed:
            # Not a channel the bot can post in (private, DM): show the card to the organizer.
            await self._service.card_unpostable(meeting)
            await reply(blocks.render_card(card))
        if outcome.host_url:
            await reply(blocks.render_host_details(card, outcome.host_url, outcome.host_password))
        for invitee in outcome.invitees:
            try:
                await self._notifier.direct(
                    invitee.user_id, blocks.render_invite_dm(card, meeting.organizer_slack_id)
                )
            except SlackApiError:
                log.warning("could not send the invitation to %s", invitee.user_id)


def _invocation(body: dict[str, Any]) -> Invocation:
    """Who acted in which workspace and where, from a slash command or an interaction payload.

    The workspace is always the one the request came from (`team_id`, `team.id`), never the
    user's home team: they differ under Enterprise Grid and for Slack Connect guests. A modal
    carries the channel it was opened from in its private_metadata.
    """
    if "command" in body:
        return Invocation(body["team_id"], body["user_id"], body["channel_id"])
    team = body.get("team") or {}
    user = body.get("user") or {}
    view = body.get("view") or {}
    channel = (body.get("channel") or {}).get("id") or view.get("private_metadata") or ""
    return Invocation(
        str(team.get("id") or view.get("team_id") or user.get("team_id", "")),
        str(user.get("id", "")),
        str(channel),
    )


def request_key(body: dict[str, Any]) -> tuple[str, str] | None:
    """Slack's own identifier of one request, to act on it once across replicas.

    A command: its trigger_id. A button: who pressed which button on which message (a double
    click sends two `action_ts`, so those cannot tell a double click from two decisions). A
    modal: its view ID and the values submitted (a form corrected after errors is new).
    """
    if "command" in body:
        return (
            ("slack.trigger", str(body.get("trigger_id") or "")) if body.get("trigger_id") else None
        )
    user = str((body.get("user") or {}).get("id", ""))
    if body.get("type") == "block_actions":
        container = body.get("container") or {}
        action = (body.get("actions") or [{}])[0]
        parts = (user, container.get("message_ts"), action.get("action_id"), action.get("value"))
        return ("slack.action", ":".join(str(p or "") for p in parts))
    view = body.get("view") or {}
    if body.get("type") == "view_submission" and view.get("id"):
        values = json.dumps(view.get("state", {}).get("values", {}), sort_keys=True)
        digest = hashlib.sha256(values.encode()).hexdigest()
        return ("slack.view", f"{user}:{view['id']}:{digest}")
    return None


def schedule_request(form: blocks.ScheduleForm) -> cmd.Schedule:
    """The scheduling modal's submission as a Schedule command."""
    recurrence = cmd.Recurrence(cmd.Frequency(form.recurrence)) if form.recurrence else None
    return cmd.Schedule(
        topic=form.topic,
        start=form.start,
        tz_name="UTC",
        duration_minutes=form.duration_minutes,
        invitees=form.invitee_ids,
        recurrence=recurrence,
    )


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
    secret = settings.slack_signing_secret
    app = AsyncApp(
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
    if gate is not None:
        app.listener_runner.lazy_listener_runner = AckFirstLazyRunner(gate, app.logger)
    notifier = Notifier(client, prepare_card=prepare_card)
    presenter = Presenter(service, notifier, client)

    async def ack_now(ack: AsyncAck) -> None:
        await ack()

    def answer(body: dict[str, Any]) -> Reply:
        """Reply privately: through the request's response_url, or (a modal, which has none)
        as an ephemeral message in the channel the modal was opened from."""
        url = body.get("response_url")
        invocation = _invocation(body)

        async def reply(message: Message) -> None:
            if url:
                await notifier.respond(str(url), message)
            else:
                await presenter_ephemeral(invocation, message)

        return reply

    def guarded(run: Lazy) -> Lazy:
        """`run` acted on once per Slack request (see request_key), and never silent: a
        failure is logged with a reference the user is given."""

        @functools.wraps(run)
        async def lazy(**kwargs: Any) -> None:
            body: dict[str, Any] = kwargs["body"]
            try:
                key = request_key(body)
                if key is not None and not await service.first_time(*key):
                    await answer(body)(blocks.render_working(ALREADY_DONE))
                    return
                await run(**kwargs)
            except Exception:
                reference = secrets.token_hex(4)
                log.exception("request failed (reference %s)", reference)
                try:
                    await answer(body)(
                        blocks.render_failure(SOMETHING_WENT_WRONG.format(reference=reference))
                    )
                except Exception:
                    log.exception("could not tell the user about failure %s", reference)

        return lazy

    async def run_meet(body: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await service.execute(invocation, body.get("text") or "")
        await presenter.present(
            outcome, invocation, reply=answer(body), trigger_id=body.get("trigger_id")
        )

    async def run_cancel(body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await service.cancel(invocation, meeting_id=int(action["value"]))
        await presenter.present(outcome, invocation, reply=answer(body))

    async def run_start_now(body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await service.start_now(invocation, action.get("value") or None)
        await presenter.present(outcome, invocation, reply=answer(body))

    async def run_mappings_page(body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await service.run(invocation, cmd.AdminMappings(page=int(action["value"])))
        await presenter.present(outcome, invocation, reply=answer(body))

    async def ack_schedule(ack: AsyncAck, view: dict[str, Any]) -> None:
        form = blocks.read_schedule_modal(view, now=datetime.now(UTC))
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
        else:
            await ack()

    async def run_schedule(body: dict[str, Any], view: dict[str, Any]) -> None:
        form = blocks.read_schedule_modal(view, now=datetime.now(UTC))
        if isinstance(form, dict):
            return  # the ack already showed the errors in the form
        invocation = _invocation(body)
        outcome = await service.schedule(invocation, schedule_request(form))
        await presenter.present(outcome, invocation, reply=answer(body))

    async def presenter_ephemeral(invocation: Invocation, message: Message) -> None:
        await client.chat_postEphemeral(
            channel=invocation.channel_id, user=invocation.user_id, **message
        )

    async def run_admin_setup(body: dict[str, Any], view: dict[str, Any]) -> None:
        form = blocks.read_admin_setup_modal(view)
        invocation = _invocation(body)
        outcome = await service.setup_app(
            invocation,
            app_id=form.app_id,
            app_key=form.app_key,
            corp_id=form.corp_id,
            mode=form.mode,
        )
        await presenter.present(outcome, invocation, reply=answer(body))

    async def on_uninstalled(body: dict[str, Any], event: dict[str, Any]) -> None:
        await service.record_event(team_id=str(body.get("team_id", "")), event=event["type"])

    app.command("/meet")(ack=ack_now, lazy=[guarded(run_meet)])
    app.view(blocks.ADMIN_SETUP_MODAL)(ack=ack_now, lazy=[guarded(run_admin_setup)])
    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_uninstalled)
    app.action(blocks.JOIN)(ack_now)
    app.action(blocks.HOST_JOIN)(ack_now)
    app.action(blocks.CANCEL)(ack=ack_now, lazy=[guarded(run_cancel)])
    app.action(blocks.START_NOW)(ack=ack_now, lazy=[guarded(run_start_now)])
    app.action(blocks.MAPPINGS_PAGE)(ack=ack_now, lazy=[guarded(run_mappings_page)])
    app.view(blocks.SCHEDULE_MODAL)(ack=ack_schedule, lazy=[guarded(run_schedule)])
    return app
