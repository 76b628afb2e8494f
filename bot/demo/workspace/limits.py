"""Slack's rate limits per Web API method: tiers 1-4 per token, and chat.postMessage's special
limit of one message per second per channel (both allowing short bursts), as 429 + Retry-After.

Token buckets: a tier's per-minute budget may be spent at once, then refills evenly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["METHOD_TIERS", "TIER_PER_MINUTE", "RateLimits"]

TIER_PER_MINUTE: Final = {1: 1, 2: 20, 3: 50, 4: 100}
"""Slack's published tiers: at least this many calls per minute per method and token."""
POST_PER_SECOND: Final = 1
POST_BURST: Final = 30
"""chat.postMessage: 1 per second per channel, "short bursts above that are allowed" (how
many Slack does not say; 30 here)."""

METHOD_TIERS: Final = {
    "auth.revoke": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.join": 3,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "calls.add": 2,
    "calls.info": 3,
    "calls.update": 2,
    "calls.end": 2,
    "calls.participants.add": 2,
    "calls.participants.remove": 2,
}
"""Each method's tier (Slack's method pages). auth.test and oauth.v2.access are "special"
(thousands per hour): not limited here."""


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    level: float
    at: float


@dataclass
class RateLimits:
    """Which calls Slack answers with HTTP 429. `budget` scales every limit (tests set a low
    one to provoke 429s; 1.0 is Slack's published numbers)."""

    clock: Callable[[], float]
    budget: float = 1.0
    _buckets: dict[tuple[str, ...], _Bucket] = field(default_factory=dict)

    def retry_after(self, method: str, token: str, channel: str | None) -> int | None:
        """Seconds to wait when this call is over its limit (it is not counted); else None."""
        if method == "chat.postMessage":
            key: tuple[str, ...] = (token, method, channel or "")
            rate, burst = POST_PER_SECOND * self.budget, POST_BURST * self.budget
        elif method in METHOD_TIERS:
            key = (token, method)
            per_minute = TIER_PER_MINUTE[METHOD_TIERS[method]] * self.budget
            rate, burst = per_minute / 60, per_minute
        else:
            return None
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(max(burst, 1), rate, max(burst, 1), now))
        bucket.level = min(bucket.capacity, bucket.level + (now - bucket.at) * bucket.per_second)
        bucket.at = now
        if bucket.level >= 1:
            bucket.level -= 1
            return None
        return max(1, math.ceil((1 - bucket.level) / bucket.per_second))
