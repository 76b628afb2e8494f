"""Service outcomes shown in Slack: private answers, cards, invitations and modals."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.slack.notifier import Notifier, card_view

__all__ = ["Presenter", "Reply"]

log = logging.getLogger(__name__)

Reply = Callable[[Message], Awaitable[None]]
"""Answers the user who asked, privately."""

CARD_WILL_FOLLOW: Final = "Your meeting is ready; its card will follow."
FORM_NEEDS_COMMAND: Final = "Run the command again to open the form."


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
        response_url: str = "",
    ) -> None:
        """Deliver `outcome` to the user who asked (privately) or to the channel (cards).

        `response_url`: the command's, kept in a modal's private_metadata so the form's
        answer reaches the organizer privately however the conversation treats the bot.
        """
        origin = blocks.origin_metadata(blocks.ModalOrigin(invocation.channel_id, response_url))
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
                    topic=topic, initial_epoch=None, private_metadata=origin
                )
                await self._open(trigger_id, view, reply)
            case OpenAdminSetup():
                current = await self._service.app_settings(team_id=invocation.team_id)
                view = blocks.render_admin_setup_modal(
                    app_id=current.app_id,
                    corp_id=current.corp_id,
                    mode=current.mapping_mode,
                    private_metadata=origin,
                    key_unreadable=current.key_unreadable,
                )
                await self._open(trigger_id, view, reply)

    async def _open(self, trigger_id: str | None, view: dict[str, Any], reply: Reply) -> None:
        if trigger_id is None:
            await reply({"text": FORM_NEEDS_COMMAND})
            return
        await self._client.views_open(trigger_id=trigger_id, view=view)

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
