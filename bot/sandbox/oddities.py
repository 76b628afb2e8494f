"""Odd answers on demand (`/_sandbox/oddities`): what the real service may send and a client
must survive -- undocumented values, nulls, missing and extra fields, stray list items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bot.sandbox.rules import SandboxError

__all__ = ["EVERY_MEETING", "LISTS", "Oddities"]

EVERY_MEETING: Final = "*"
"""The key of `fields` and `drop` that means every meeting."""
LISTS: Final = ("upcoming", "online", "history")
"""The list answers `extra` items can join: GET .../conferences, .../online, .../history."""


def _bad(message: str) -> SandboxError:
    return SandboxError(400, "SANDBOX.BAD_REQUEST", message)


def _objects(value: object, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad(f"{what} must be a list of objects")
    return value


@dataclass(frozen=True)
class Oddities:
    """How the sandbox's meeting answers are made odd; the default makes none odd.

    Applied to every ConferenceInfo the vendor routes answer with (create, edit, detail, the
    three lists), keyed by conference ID or `EVERY_MEETING`; the meetings themselves and the
    control API's view of them are unchanged.
    """

    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per conference ID: wire fields set to these values (null, nested objects and new
    fields included), e.g. {"123": {"conferenceState": "Paused"}}."""
    drop: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per conference ID: wire fields left out of the answer."""
    extra: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    """Per list (`LISTS`): raw items added after the real ones (before paging), e.g. an item
    without a conferenceID."""

    @classmethod
    def from_json(
        cls, *, fields: object = None, drop: object = None, extra: object = None
    ) -> Oddities:
        """Checked from the control API's JSON; a wrong shape is a SANDBOX.BAD_REQUEST."""
        fields, drop, extra = ({} if v is None else v for v in (fields, drop, extra))
        if not isinstance(fields, dict) or not all(isinstance(v, dict) for v in fields.values()):
            raise _bad("fields must map conference IDs to objects of wire fields")
        if not isinstance(drop, dict) or not all(
            isinstance(v, list) and all(isinstance(n, str) for n in v) for v in drop.values()
        ):
            raise _bad("drop must map conference IDs to lists of wire field names")
        if not isinstance(extra, dict) or not set(extra) <= set(LISTS):
            raise _bad(f"extra must map list names ({', '.join(LISTS)}) to lists of items")
        return cls(
            fields={str(k): dict(v) for k, v in fields.items()},
            drop={str(k): tuple(v) for k, v in drop.items()},
            extra={k: tuple(_objects(v, f"extra.{k}")) for k, v in extra.items()},
        )

    def info(self, info: dict[str, Any]) -> dict[str, Any]:
        """One ConferenceInfo as the oddities make it."""
        out = dict(info)
        for key in (EVERY_MEETING, str(info.get("conferenceID"))):
            out.update(self.fields.get(key, {}))
            for name in self.drop.get(key, ()):
                out.pop(name, None)
        return out

    def items(self, listing: str, infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A list answer's items (`listing` one of `LISTS`) as the oddities make them."""
        return [self.info(i) for i in infos] + [dict(x) for x in self.extra.get(listing, ())]
