"""Where each vendor endpoint lives: the Huawei Cloud Meeting REST paths, one home for the client
(`bot.huawei.client`) and the sandbox that serves them (`bot.sandbox`)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "APPAUTH",
    "CONFERENCES",
    "CONF_DETAIL",
    "CONTROL",
    "CONTROL_STOP",
    "CONTROL_TOKEN",
    "CYCLE_CONFERENCES",
    "HISTORY",
    "MANAGEMENT",
    "ONLINE",
    "ONLINE_ATTENDEES",
]

APPAUTH: Final = "/v2/usg/acs/auth/appauth"
MANAGEMENT: Final = "/v1/mmc/management"
"""Meeting management: booking, editing, cancelling and listing meetings."""
CONTROL: Final = "/v1/mmc/control/conferences"
"""Conference control: acting on a running meeting."""

CONFERENCES: Final = f"{MANAGEMENT}/conferences"
CYCLE_CONFERENCES: Final = f"{MANAGEMENT}/cycleconferences"
CONF_DETAIL: Final = f"{CONFERENCES}/confDetail"
ONLINE: Final = f"{CONFERENCES}/online"
ONLINE_ATTENDEES: Final = f"{ONLINE}/conf-attendee"
HISTORY: Final = f"{CONFERENCES}/history"
CONTROL_TOKEN: Final = f"{CONTROL}/token"
CONTROL_STOP: Final = f"{CONTROL}/stop"
