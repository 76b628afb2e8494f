"""Admin answers: the user-mappings page (with its pager) and the confirmation of an admin
command.

Pure: each `render_*` returns a Message for response_url or chat.postEphemeral.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.slack.blocks.common import (
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    Message,
    as_message,
    button,
    context,
    escape,
    header,
    mention,
    mode_label,
    section,
    units,
    user_text,
)
from bot.slack.blocks.ids import MAPPINGS_PAGE_NEXT, MAPPINGS_PAGE_PREV

__all__ = ["render_done", "render_mappings"]

# --- Copy --------------------------------------------------------------------------------------

PREV_LABEL: Final = "Previous"
NEXT_LABEL: Final = "Next"
DONE: Final = ":white_check_mark: {text}"

MAPPINGS_TITLE: Final = "User mappings"
MAPPINGS_STATUS: Final = "Mode: *{mode}* · page {page} of {pages}"
MAPPINGS_ROW: Final = "{user} → `{third_party_id}`"
MAPPINGS_EMPTY: Final = (
    "No one is mapped yet. Map someone with `/meet admin map @user <meeting user ID>`."
)
MAPPINGS_MORE: Final = "…and {count} more rows on this page not shown."
MAPPINGS_FALLBACK: Final = "User mappings, page {page} of {pages}"


def render_done(text: str, *, user_id: str | None = None) -> Message:
    """Ephemeral confirmation, e.g. of an admin command ("@ana now uses ana@example.com").

    `user_id`, when given, is mentioned before the (escaped) text.
    """
    body = user_text(text, 1000)
    shown = DONE.format(text=f"{mention(user_id)} {body}" if user_id else body)
    return as_message(shown, [section(shown)])


def _chunks(lines: Sequence[str], limit: int) -> list[list[str]]:
    """Consecutive lines grouped so that each group, newline-joined, stays within `limit`."""
    chunks: list[list[str]] = []
    used = limit
    for line in lines:
        if used + 1 + units(line) > limit:
            chunks.append([])
            used = -1
        chunks[-1].append(line)
        used += 1 + units(line)
    return chunks


def render_mappings(
    rows: Sequence[tuple[str, str]], *, page: int, pages: int, mode: str
) -> Message:
    """Ephemeral, admins: one page of (Slack user ID, meeting user ID) rows with Prev/Next."""
    status = MAPPINGS_STATUS.format(mode=mode_label(mode), page=page, pages=pages)
    blocks: list[Block] = [header(MAPPINGS_TITLE), context(status)]
    if not rows:
        blocks.append(section(escape(MAPPINGS_EMPTY)))
    lines = [
        MAPPINGS_ROW.format(user=mention(user_id), third_party_id=user_text(third_party_id))
        for user_id, third_party_id in rows
    ]
    # Two blocks stay free: the "more" note and the pager.
    sections = _chunks(lines, SECTION_TEXT_MAX)[: MAX_BLOCKS - len(blocks) - 2]
    blocks += [section("\n".join(chunk)) for chunk in sections]
    shown = sum(len(chunk) for chunk in sections)
    if shown < len(rows):
        blocks.append(context(MAPPINGS_MORE.format(count=len(rows) - shown)))
    pager = []
    if page > 1:
        pager.append(button(PREV_LABEL, MAPPINGS_PAGE_PREV, value=str(page - 1)))
    if page < pages:
        pager.append(button(NEXT_LABEL, MAPPINGS_PAGE_NEXT, value=str(page + 1)))
    if pager:
        blocks.append(ActionsBlock(elements=pager))
    return as_message(MAPPINGS_FALLBACK.format(page=page, pages=pages), blocks)
