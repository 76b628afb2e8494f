"""What a person does on the demo page, sent to the bot as Slack sends it; what the bot answers.

A slash command, a button press or a modal submission becomes the signed request Slack would
POST to the bot's `/slack/events` (within Slack's 3 seconds); what the bot sends back -- in its
ack or to a response_url -- changes the workspace by Slack's rules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx

from bot.demo.emulator.config import EmulatorConfig
from bot.demo.wire import (
    block_actions_payload,
    encode_typed,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_state,
    view_submission_payload,
)
from bot.demo.workspace import (
    APP_ID,
    SLACKBOT,
    ApiError,
    Channel,
    Message,
    Modal,
    ResponseUrl,
    WebApi,
    Workspace,
)

__all__ = ["SlackRelay"]

log = logging.getLogger(__name__)

ACK_SECONDS: Final = 3.0
"""Slack waits this long for an app's answer to a command or an interaction."""
COMMANDS: Final = ("/meet",)
CONNECT_TROUBLE: Final = "We had some trouble connecting. Try again?"


class SlackRelay:
    """The emulated Slack between the page's people and the bot, over the workspace `ws`."""

    def __init__(
        self,
        config: EmulatorConfig,
        ws: Workspace,
        api: WebApi,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.ws = ws
        self.api = api
        self._clock = clock
        self._bot = httpx.AsyncClient(timeout=ACK_SECONDS)

    async def aclose(self) -> None:
        await self._bot.aclose()

    # --- what Slack sends the bot --------------------------------------------------------------

    def _responder(self, channel: str, user: str, message: Message | None) -> str:
        rid = self.ws.next_id("r")
        thread = message.thread_ts if message is not None and message.is_reply else None
        self.ws.issue_response_url(
            rid,
            channel=channel,
            user=user,
            message_ts=message.ts if message else None,
            thread_ts=thread,
        )
        return f"{self.config.public_url}/response/{rid}"

    async def _deliver(self, body: str) -> httpx.Response | None:
        """POST a signed request to the bot; None when it did not answer in Slack's 3 seconds."""
        headers = signed_headers(
            body, secret=self.config.signing_secret, timestamp=int(self._clock())
        )
        try:
            return await self._bot.post(self.config.events_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("the bot did not answer: %s", type(exc).__name__)
            return None

    def _slackbot(self, channel: Channel, user: str, text: str) -> None:
        self.ws.post(channel, SLACKBOT.id, text=text, visible_to=user)

    async def command(self, user_id: str, channel_id: str, typed: str) -> dict[str, Any]:
        """A person typed a slash command in the composer."""
        user, channel = self.ws.person(user_id), self.ws.channel(channel_id)
        name, _, rest = typed.strip().partition(" ")
        if name not in COMMANDS:
            self._slackbot(channel, user.id, f"`{name}` is not a valid command.")
            return {"ok": False, "error": "invalid_command"}
        channels = {c.id: c.name for c in self.ws.channels.values() if not c.im_user}
        body = slash_command_body(
            encode_typed(rest.strip(), users=self.ws.people(), channels=channels),
            user_id=user.id,
            team_id=user.team_id,
            channel_id=channel.id,
            channel_name=channel.slash_name,
            user_name=user.name.lower(),
            command=name,
            response_url=self._responder(channel.id, user.id, None),
            trigger_id=self.ws.issue_trigger(user.id),
            api_app_id=APP_ID,
        )
        answer = await self._deliver(body)
        if answer is None or answer.status_code != 200:
            error = "operation_timeout" if answer is None else "http_service_error"
            self._slackbot(channel, user.id, f'`{name}` failed with the error "{error}"')
            return {"ok": False, "error": error}
        if answer.content.strip():
            try:
                message = answer.json()
            except ValueError:
                message = {"text": answer.text}
            responder = ResponseUrl(channel.id, user.id, None, None, self._clock())
            self._answer(responder, message if isinstance(message, dict) else {"text": answer.text})
        return {"ok": True}

    def message(self, user_id: str, channel_id: str, typed: str, thread_ts: str | None) -> None:
        """A person posted a plain message (the bot subscribes to no message events)."""
        user, channel = self.ws.person(user_id), self.ws.channel(channel_id)
        channels = {c.id: c.name for c in self.ws.channels.values() if not c.im_user}
        text = encode_typed(typed, users=self.ws.people(), channels=channels)
        self.ws.post(channel, user.id, text=text, thread_ts=thread_ts or None)

    async def press(
        self, user_id: str, channel_id: str, ts: str, block_id: str, action_id: str
    ) -> dict[str, Any]:
        """A person pressed a button in a message."""
        user, channel = self.ws.person(user_id), self.ws.channel(channel_id)
        message = self.ws.find(channel.id, ts)
        if message is None or message.visible_to not in (None, user.id):
            raise ApiError("message_not_found")
        element = _find_element(message.blocks, block_id, action_id)
        if element is None:
            raise ApiError("action_not_found")
        payload = block_actions_payload(
            user=user,
            channel=(channel.id, channel.slash_name),
            message=message.as_slack(),
            ephemeral=message.visible_to is not None,
            block_id=block_id,
            element=element,
            response_url=self._responder(channel.id, user.id, message),
            trigger_id=self.ws.issue_trigger(user.id),
            action_ts=f"{self._clock():.6f}",
            api_app_id=APP_ID,
        )
        answer = await self._deliver(interaction_body(payload))
        if answer is None or answer.status_code != 200:
            return {"ok": False, "error": "the app did not respond"}
        return {"ok": True}

    async def submit(
        self, user_id: str, view_id: str, raw: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        """A person submitted the modal on top of their stack."""
        user = self.ws.person(user_id)
        modal = self.ws.top_modal(user.id)
        if modal is None or modal.view["id"] != view_id:
            raise ApiError("not_found")
        values, errors = view_state(modal.view, raw, ZoneInfo(user.tz))
        if errors:  # Slack checks required inputs itself; the app never hears of it
            modal.errors = errors
            self.ws.changed()
            return {"ok": False, "errors": errors}
        payload = view_submission_payload(
            user=user,
            view=modal.view,
            values=values,
            trigger_id=self.ws.issue_trigger(user.id),
            api_app_id=APP_ID,
        )
        answer = await self._deliver(interaction_body(payload))
        if answer is None or answer.status_code != 200:
            modal.errors = {"": CONNECT_TROUBLE}
            self.ws.changed()
            return {"ok": False, "errors": modal.errors}
        reply: Any = answer.json() if answer.content.strip() else {}
        action = reply.get("response_action") if isinstance(reply, dict) else None
        match action:
            case "errors":
                modal.errors = {str(k): str(v) for k, v in dict(reply.get("errors", {})).items()}
            case "update":
                modal.view = self.api._view({"view": reply.get("view")}, view_id=modal.view["id"])
                modal.errors = {}
            case "push":
                pushed = self.api._view({"view": reply.get("view")})
                self.ws.modals[user.id].append(Modal(pushed, user.id))
            case "clear":
                self.ws.close_modals(user.id, all_of_them=True)
            case _:
                self.ws.close_modals(user.id)
        self.ws.changed()
        return {"ok": action != "errors", "errors": modal.errors if action == "errors" else {}}

    def close_view(self, user_id: str, view_id: str) -> None:
        modal = self.ws.top_modal(user_id)
        if modal is not None and modal.view["id"] == view_id:
            self.ws.close_modals(user_id)

    # --- what the bot sends back ---------------------------------------------------------------

    def _answer(self, responder: ResponseUrl, body: Mapping[str, Any]) -> None:
        """A message sent to a response_url (or in an ack): Slack's response_url rules."""
        original = (
            self.ws.find(responder.channel, responder.message_ts) if responder.message_ts else None
        )
        if body.get("delete_original"):
            if original is not None:
                self.ws.messages.remove(original)
                self.ws.changed()
            return
        text = str(body.get("text") or "")
        blocks = body.get("blocks") or []
        if not text and not blocks:
            raise ApiError("no_text")
        if body.get("replace_original") and original is not None:
            original.text, original.blocks = text, list(blocks)
            self.ws.changed()
            return
        in_channel = body.get("response_type") == "in_channel"
        channel = self.ws.channel(responder.channel)
        self.ws.post(
            channel,
            self.ws.bot_of(channel.team_id).id,
            text=text,
            blocks=list(blocks),
            thread_ts=responder.thread_ts,
            visible_to=None if in_channel else responder.user,
        )

    def respond(self, rid: str, body: Mapping[str, Any]) -> tuple[int, str]:
        """A post to a response_url: (HTTP status, body) as Slack answers it."""
        try:
            responder = self.ws.use_response_url(rid)
        except ApiError as exc:
            return 404, exc.code
        try:
            self._answer(responder, body)
        except ApiError as exc:
            return 400, exc.code
        return 200, "ok"


def _find_element(
    blocks: list[dict[str, Any]], block_id: str, action_id: str
) -> dict[str, Any] | None:
    for block in blocks:
        if block.get("block_id") != block_id:
            continue
        candidates = [block.get("accessory"), *block.get("elements", ())]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None
