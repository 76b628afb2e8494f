"""Service outcomes shown in Slack: private answers, cards, invitations and modals."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands as cmd
from bot.service import (
    AdminDone,
    Cancelled,
    Created,
    Duplicate,
    Failure,
    Help,
    Invocation,
    Listing,
    MappingPage,
    MeetingRow,
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
from bot.service.outcomes import Unclear
from bot.slack import blocks
from bot.slack.blocks import Message, NotMappedReason
from bot.slack.blocks.answers import reading_value, render_ambiguous
from bot.slack.blocks.cards import render_duplicate
from bot.slack.blocks.ids import CREATE_ANYWAY, CREATE_ANYWAY_NOW
from bot.slack.notifier import Notifier, card_view

__all__ = ["TRIGGER_ERRORS", "OpenedView", "Presenter", "Reply"]

log = logging.getLogger(__name__)

Reply = Callable[[Message], Awaitable[None]]
"""Answers the user who asked, privately."""

CARD_WILL_FOLLOW: Final = "Your meeting is ready; its card will follow."
FORM_NEEDS_COMMAND: Final = "Run the command again to open the form."
TRIGGER_ERRORS: Final = frozenset(
    {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}
)
"""views.open's answers when the trigger_id cannot open anything (3 s old, unknown, used)."""

Form = cmd.OpenScheduleModal | cmd.AdminSetup


def _duplicate(meeting: MeetingRow, request: cmd.StartNow | cmd.Schedule) -> Message:
    """The meeting a repeated request found, and "Create another anyway" carrying the request."""
    if isinstance(request, cmd.Schedule):
        action, value = CREATE_ANYWAY, reading_value(request)
    else:
        action, value = CREATE_ANYWAY_NOW, request.topic or ""
    return render_duplicate(card_view(meeting), again_action=action, again_value=value)


@dataclass(frozen=True, slots=True)
class OpenedView:
    """A modal this request opened: views.update replaces what it shows."""

    id: str
    hash: str | None
    title: str
    callback_id: str


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
        opened: OpenedView | None = None,
        response_url: str = "",
    ) -> None:
        """Deliver `outcome` to the user who asked (privately) or to the channel (cards).

        With a form already `opened` for the request, a form outcome fills it in and any other
        answer is shown in its window instead of the form. `response_url`: the command's, kept
        in a modal's private_metadata so the form's answer reaches the organizer privately
        however the conversation treats the bot.
        """
        origin = blocks.origin_metadata(blocks.ModalOrigin(invocation.channel_id, response_url))
        if opened is not None and not isinstance(outcome, OpenSchedule | OpenAdminSetup):
            if isinstance(outcome, NotAllowed):
                await self._update(opened, blocks.render_admin_setup_denied(), reply)
                return
            reply = self._in_view(opened, reply)
        match outcome:
            case Created():
                await self._created(outcome, reply)
            case Problem(problem=problem, example=example):
                await reply(blocks.render_error(problem, example))
            case NoTime(topic=topic):
                await reply(blocks.render_no_time_found(topic))
            case Unclear(question=question):
                await reply(render_ambiguous(question, now=self._clock()))
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
            case Listing(meetings=meetings, total=total, page=page, cancellable=cancellable):
                cards = [card_view(m) for m in meetings]
                await reply(
                    blocks.render_list(
                        cards,
                        now=self._clock(),
                        viewer=invocation.user_id,
                        total=total,
                        page=page,
                        cancellable=cancellable,
                    )
                )
            case Duplicate(meeting=meeting, request=request):
                await reply(_duplicate(meeting, request))
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
                    topic=topic, initial_epoch=None, private_metadata=origin
                )
                await self._show(view, opened, trigger_id, reply)
            case OpenAdminSetup():
                current = await self._service.app_settings(team_id=invocation.team_id)
                view = blocks.render_admin_setup_modal(
                    app_id=current.app_id,
                    corp_id=current.corp_id,
                    mode=current.mapping_mode,
                    private_metadata=origin,
                    key_unreadable=current.key_unreadable,
                )
                await self._show(view, opened, trigger_id, reply)

    async def open_form(
        self, form: Form, invocation: Invocation, trigger_id: str, *, response_url: str = ""
    ) -> OpenedView | None:
        """views.open at once, with nothing read first: the scheduling form whole (it needs no
        data), workspace setup as a loading view that `present` fills in. None when Slack
        refused the trigger (TRIGGER_ERRORS). The view carries where it was opened from and
        the command's `response_url` (its private_metadata) for the answer to its submission."""
        origin = blocks.origin_metadata(blocks.ModalOrigin(invocation.channel_id, response_url))
        view = (
            blocks.render_schedule_modal(initial_epoch=None, private_metadata=origin)
            if isinstance(form, cmd.OpenScheduleModal)
            else blocks.render_admin_setup_loading(private_metadata=origin)
        )
        try:
            answer = await self._client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            if exc.response.get("error") in TRIGGER_ERRORS:
                log.info("views.open refused the trigger: %s", exc.response.get("error"))
                return None
            raise
        shown = answer.get("view") or {}
        return OpenedView(
            id=str(shown.get("id", "")),
            hash=shown.get("hash"),
            title=str(view["title"]["text"]),
            callback_id=str(view["callback_id"]),
        )

    async def show_failure(self, opened: OpenedView) -> None:
        """The opened form's window after its filling-in failed (the user is told privately)."""
        notice = blocks.render_form_notice(
            callback_id=opened.callback_id, title=opened.title, text=blocks.FORM_FAILED_NOTICE
        )
        try:
            await self._update(opened, notice, None)
        except Exception:  # the failure being reported matters more
            log.exception("could not show the failure in view %s", opened.id)

    async def _show(
        self, view: dict[str, Any], opened: OpenedView | None, trigger_id: str | None, reply: Reply
    ) -> None:
        if opened is not None:
            await self._update(opened, view, None)
        elif trigger_id is None:
            await reply({"text": FORM_NEEDS_COMMAND})
        else:
            await self._client.views_open(trigger_id=trigger_id, view=view)

    def _in_view(self, opened: OpenedView, reply: Reply) -> Reply:
        """A Reply that shows the answer in the opened form's window (privately if that fails)."""

        async def show(message: Message) -> None:
            notice = blocks.render_form_notice(
                callback_id=opened.callback_id, title=opened.title, text=str(message["text"])
            )
            await self._update(opened, notice, reply, message)

        return show

    async def _update(
        self,
        opened: OpenedView,
        view: dict[str, Any],
        reply: Reply | None,
        message: Message | None = None,
    ) -> None:
        """views.update on the opened view (hash-checked); when the window is gone (closed),
        `message` (or the view's own text) goes to `reply` instead, if there is one."""
        try:
            await self._client.views_update(view_id=opened.id, hash=opened.hash, view=view)
        except SlackApiError as exc:
            log.warning("views.update of %s failed: %s", opened.id, exc.response.get("error"))
            if reply is not None:
                await reply(message or {"text": view["blocks"][0]["text"]["text"]})

    async def _created(self, outcome: Created, reply: Reply) -> None:
        """The card where the bot can post (else privately to the organizer, with how to add
        the bot), each invitee's DM, and the host details privately to the organizer. One
        failing step never keeps the others from happening."""
        meeting = outcome.meeting
        card = card_view(meeting)
        private: list[Message] = []
        try:
            ts = await self._notifier.post_card(meeting)
        except SlackApiError:
            # The meeting exists; the card-repair job posts it once Slack answers again.
            log.exception("posting the card of meeting %s failed", meeting.id)
            private.append(blocks.render_working(CARD_WILL_FOLLOW))
        else:
            if ts is not None and meeting.channel_id:
                await self._service.card_posted(
                    meeting, channel_id=meeting.channel_id, message_ts=ts, card_state=meeting.state
                )
            else:
                # Not a conversation the bot can post in: the card goes to the organizer, and
                # its reminders and notices by DM (bot.service.status.delivery_fate).
                await self._service.card_unpostable(meeting)
                private.append(blocks.render_private_card(card))
        for invitee in outcome.invitees:
            try:
                await self._notifier.direct(
                    invitee.user_id, blocks.render_invite_dm(card, meeting.organizer_slack_id)
                )
            except SlackApiError:
                log.warning("could not send the invitation to %s", invitee.user_id)
        if outcome.host_url:
            private.append(
                blocks.render_host_details(card, outcome.host_url, outcome.host_password)
            )
        for message in private:
            await reply(message)
