"""The vendor's meeting event push as it arrives on the wire: the outer JSON object written
around the eventInfo text exactly as given, signed over that text (or over `signed_text`)."""

from __future__ import annotations

from bot.huawei.webhook import push_signature


def push_body(
    info_text: str,
    *,
    key: str,
    app_id: str,
    sent_ms: int,
    nonce: str,
    signed_text: str | None = None,
) -> str:
    """A push body whose signature covers `signed_text` (default: `info_text` itself)."""
    signature = push_signature(
        key,
        app_id=app_id,
        timestamp=str(sent_ms),
        nonce=nonce,
        event_info=info_text if signed_text is None else signed_text,
    )
    return (
        f'{{"appID": "{app_id}", "timestamp": {sent_ms}, "nonce": "{nonce}", '
        f'"signature": "{signature}", "eventInfo": {info_text}}}'
    )
