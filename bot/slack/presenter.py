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
from bot.service.outcomes import Unclear
from bot.slack import blocks
from bot.slack.blocks import Message, NotMappedReason
from bot.slack.blocks.answers import render_ambiguous
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
    ) -> None:
        """Deliver `outcome` to the user who asked (privately) or to the channel (cards)."""
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
            await reply({"text": FORM_NEEDS_COMMAND})
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
            await reply(blocks.render_working(CARD_WILL_FOLLOW))
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
