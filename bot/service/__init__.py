"""meetbot's use cases: what `/meet` does, independent of the chat platform.

The service talks only to its ports: the meeting service (`HuaweiMeetingClient`), the
database (`Repository`) and a `Directory` that tells who a chat user is. It returns typed
outcomes; the chat side renders and delivers them. One module per question: `ports` and
`outcomes` (what goes in and out), `identity`, `meetings`, `admin`, `dispatch` (what `/meet X`
does), `status` (pure live-status rules), `tracker` (applying them), `deliveries` (the
owed-message queue), and `facade` (`MeetingService`, composing them).
"""

from bot.service.deliveries import ENDED, MAX_ATTEMPTS, STARTED, DeliveryQueue, reminder_deliveries
from bot.service.facade import MeetingService
from bot.service.identity import (
    NotConfigured,
    NotMapped,
    NotMappedReason,
    third_party_id,
    user_zone,
)
from bot.service.meetings import describe_recurrence, occurrences_of, recurrence_record
from bot.service.outcomes import (
    AdminDone,
    AppSettings,
    Cancelled,
    Created,
    Duplicate,
    Failure,
    Help,
    Listing,
    MappingPage,
    NotAllowed,
    NoTime,
    OpenAdminSetup,
    OpenSchedule,
    Outcome,
    Problem,
    VendorFailure,
    WhoAmI,
)
from bot.service.ports import (
    ClaimedDelivery,
    DeliveryRow,
    Directory,
    Invocation,
    MeetingRow,
    Profile,
)
from bot.service.status import (
    LATE_AFTER,
    Decision,
    Fate,
    StatusChange,
    StatusKind,
    decide_status,
    delivery_fate,
    dm_recipients,
    lasted_minutes,
    occurrence_over,
    pick_session,
    superseded,
)

__all__ = [
    "ENDED",
    "LATE_AFTER",
    "MAX_ATTEMPTS",
    "STARTED",
    "AdminDone",
    "AppSettings",
    "Cancelled",
    "ClaimedDelivery",
    "Created",
    "Decision",
    "DeliveryQueue",
    "DeliveryRow",
    "Directory",
    "Duplicate",
    "Failure",
    "Fate",
    "Help",
    "Invocation",
    "Listing",
    "MappingPage",
    "MeetingRow",
    "MeetingService",
    "NoTime",
    "NotAllowed",
    "NotConfigured",
    "NotMapped",
    "NotMappedReason",
    "OpenAdminSetup",
    "OpenSchedule",
    "Outcome",
    "Problem",
    "Profile",
    "StatusChange",
    "StatusKind",
    "VendorFailure",
    "WhoAmI",
    "decide_status",
    "delivery_fate",
    "describe_recurrence",
    "dm_recipients",
    "lasted_minutes",
    "occurrence_over",
    "occurrences_of",
    "pick_session",
    "recurrence_record",
    "reminder_deliveries",
    "superseded",
    "third_party_id",
    "user_zone",
]
