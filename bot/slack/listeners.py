"""What each Slack request does: ack at once, then (lazily) parse, call the service, present.

Listeners are methods of `Listeners`, registered bound (bot/slack/app.py). Bolt passes a
listener the arguments its parameters name (`body`, `ack`, `view`, …) and skips a first
parameter called `self` (slack_bolt.kwargs_injection, bolt-python#174).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands as cmd
from bot.service import Invocation, MeetingService
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.blocks.answers import read_reading
from bot.slack.blocks.forms import render_reading_form
from bot.slack.blocks.ids import CREATE_ANYWAY_NOW, READING, READING_FORM, READING_PREFIX
from bot.slack.notifier import Notifier
from bot.slack.presenter import Form, Presenter, Reply

__all__ = ["Listeners", "request_key", "schedule_request"]

log = logging.getLogger(__name__)

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


_ID: Final = re.compile(r"[0-9]{1,18}")
"""A button's numeric value: plain decimal, within a 64-bit database integer."""


def _button_number(action: dict[str, Any]) -> int:
    """A button's numeric value (a meeting ID, a page); 0, which names nothing, if the value
    is not one (a forged button)."""
    value = str(action.get("value") or "")
    return int(value) if _ID.fullmatch(value) else 0


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
    channel = (body.get("channel") or {}).get("id") or _origin(body).channel_id
    return Invocation(
        str(team.get("id") or view.get("team_id") or user.get("team_id", "")),
        str(user.get("id", "")),
        str(channel),
    )


def _origin(body: dict[str, Any]) -> blocks.ModalOrigin:
    """A submitted modal's origin (conversation, response_url) from its private_metadata."""
    metadata = (body.get("view") or {}).get("private_metadata")
    return blocks.read_origin(metadata if isinstance(metadata, str) else "")


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
        action_id = str(action.get("action_id") or "")
        if action_id == READING_FORM:
            return None  # opens a form and creates nothing: views.open must come first
        if READING.match(action_id):  # the readings of one message: one choice, whichever
            action = {"action_id": READING_PREFIX}
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


class Listeners:
    """The listeners of /meet, its buttons, its modals and the app's lifecycle events.

    `ack_*` run inline and only acknowledge (Slack waits for them); `run_*` are lazy listeners,
    to be wrapped in `guarded`.
    """

    def __init__(
        self,
        service: MeetingService,
        presenter: Presenter,
        notifier: Notifier,
        client: AsyncWebClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._presenter = presenter
        self._notifier = notifier
        self._client = client
        self._clock = clock

    def answer(self, body: dict[str, Any]) -> Reply:
        """Reply privately: through the request's response_url (a modal's is the command's,
        carried in its private_metadata), else (none, expired, refused) in the app's DM with
        the user. Never chat.postEphemeral: the bot may not see the conversation."""
        url = str(body.get("response_url") or _origin(body).response_url)
        user_id = _invocation(body).user_id

        async def reply(message: Message) -> None:
            if url:
                try:
                    await self._notifier.respond(url, message)
                except (ValueError, aiohttp.ClientError) as exc:
                    log.warning("answering by DM: the response_url failed (%s)", type(exc).__name__)
                else:
                    return
            await self._notifier.direct(user_id, message)

        return reply

    async def act_once(self, body: dict[str, Any]) -> bool:
        """Whether this Slack request is new (see request_key); a repeat is told so."""
        key = request_key(body)
        if key is None or await self._service.first_time(*key):
            return True
        await self.answer(body)(blocks.render_working(ALREADY_DONE))
        return False

    def guarded(self, run: Lazy, *, once: bool = True) -> Lazy:
        """`run` acted on once per Slack request (`once=False`: `run` checks that itself), and
        never silent: a failure is logged with a reference the user is given."""

        # wraps: Bolt reads the parameters to inject from `run`, through __wrapped__.
        @functools.wraps(run)
        async def lazy(**kwargs: Any) -> None:
            body: dict[str, Any] = kwargs["body"]
            try:
                if once and not await self.act_once(body):
                    return
                await run(**kwargs)
            except Exception:
                reference = secrets.token_hex(4)
                log.exception("request failed (reference %s)", reference)
                try:
                    await self.answer(body)(
                        blocks.render_failure(SOMETHING_WENT_WRONG.format(reference=reference))
                    )
                except Exception:
                    log.exception("could not tell the user about failure %s", reference)

        return lazy

    async def ack_now(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_schedule(self, ack: AsyncAck, view: dict[str, Any]) -> None:
        """Accept the scheduling form, or show its errors in the form itself."""
        form = blocks.read_schedule_modal(view, now=self._clock())
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
        else:
            await ack()

    async def run_meet(self, body: dict[str, Any]) -> None:
        """Guarded with once=False: a form opens before the act-once check, the rest after it."""
        text = body.get("text") or ""
        if (form := cmd.form_of(text)) is not None:
            await self._form(body, form, text)
            return
        if not await self.act_once(body):
            return
        invocation = _invocation(body)
        outcome = await self._service.execute(invocation, text)
        await self._presenter.present(
            outcome,
            invocation,
            reply=self.answer(body),
            trigger_id=body.get("trigger_id"),
            response_url=str(body.get("response_url") or ""),
        )

    async def run_open_form(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "Open the form" (after an expired trigger): its press brings a fresh trigger_id."""
        text = str(action.get("value") or "")
        if (form := cmd.form_of(text)) is not None:
            await self._form(body, form, text)

    async def _form(self, body: dict[str, Any], form: Form, text: str) -> None:
        """views.open first, from the command text alone (a trigger_id lives 3 s and opens one
        view); then the act-once check and what the form needs (profile, admin rights, the
        stored setup), shown with views.update."""
        invocation = _invocation(body)
        trigger_id = body.get("trigger_id")
        response_url = str(body.get("response_url") or "")
        opened = (
            await self._presenter.open_form(form, invocation, trigger_id, response_url=response_url)
            if trigger_id
            else None
        )
        if opened is None:  # Slack refused the trigger: a repeat, or too late
            if await self.act_once(body):
                await self.answer(body)(blocks.render_form_retry(text))
            return
        # Recorded for repeats; this request goes on whatever the answer, since Slack opens a
        # trigger only once: the form just opened is the request's only one.
        if (key := request_key(body)) is not None:
            await self._service.first_time(*key)
        if isinstance(form, cmd.OpenScheduleModal):
            return  # the scheduling form needs nothing more
        try:
            outcome = await self._service.execute(invocation, text)
            await self._presenter.present(
                outcome,
                invocation,
                reply=self.answer(body),
                opened=opened,
                response_url=response_url,
            )
        except Exception:
            await self._presenter.show_failure(opened)
            raise

    async def run_cancel(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await self._service.cancel(invocation, meeting_id=_button_number(action))
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_start_now(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await self._service.start_now(invocation, action.get("value") or None)
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_reading(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Book the reading pressed; its value is untrusted and checked again (the service)."""
        invocation = _invocation(body)
        request = read_reading(str(action.get("value") or ""))
        outcome = await self._service.confirm_reading(invocation, request)
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_create_anyway(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "Create another anyway" after a repeat was held back; its value is untrusted and the
        service checks the request again."""
        invocation = _invocation(body)
        value = str(action.get("value") or "")
        request: cmd.StartNow | cmd.Schedule | None = (
            cmd.StartNow(topic=value or None)
            if action.get("action_id") == CREATE_ANYWAY_NOW
            else read_reading(value)
        )
        outcome = await self._service.create_anyway(invocation, request)
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_list_page(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        outcome = await self._service.list_page(invocation, int(action["value"]))
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_reading_form(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Open the scheduling form prefilled from the button: views.open first (a trigger_id
        lives 3 s), with nothing but pure work before it."""
        origin = blocks.ModalOrigin(
            _invocation(body).channel_id, str(body.get("response_url") or "")
        )
        view = render_reading_form(
            str(action.get("value") or ""), private_metadata=blocks.origin_metadata(origin)
        )
        await self._client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)

    async def run_mappings_page(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        invocation = _invocation(body)
        page = cmd.AdminMappings(page=_button_number(action))
        outcome = await self._service.run(invocation, page)
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_schedule(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = blocks.read_schedule_modal(view, now=self._clock())
        if isinstance(form, dict):
            return  # the ack already showed the errors in the form
        invocation = _invocation(body)
        outcome = await self._service.schedule(invocation, schedule_request(form))
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def run_admin_setup(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = blocks.read_admin_setup_modal(view)
        invocation = _invocation(body)
        outcome = await self._service.setup_app(
            invocation,
            app_id=form.app_id,
            app_key=form.app_key,
            corp_id=form.corp_id,
            mode=form.mode,
        )
        await self._presenter.present(outcome, invocation, reply=self.answer(body))

    async def on_uninstalled(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """`app_uninstalled` / `tokens_revoked`: the service forgets the team's installation."""
        await self._service.record_event(team_id=str(body.get("team_id", "")), event=event["type"])
