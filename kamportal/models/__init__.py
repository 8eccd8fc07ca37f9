"""All models, imported here so that metadata and migrations see every table."""

from kamportal.models.accounts import (
    ROLE_LABELS,
    WORKING_WEEKS,
    CalendarDay,
    Role,
    Team,
    User,
    UserRole,
)
from kamportal.models.base import Base
from kamportal.models.clients import Client, Contact, LifecycleStatus, Plan
from kamportal.models.escalations import (
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    ContactChannel,
    Escalation,
    EscalationStatus,
    EscalationStep,
    EscalationTrigger,
    LadderStep,
    ResolutionKind,
    StepKind,
)
from kamportal.models.followups import NoReplyLadder
from kamportal.models.meetings import (
    ActionItem,
    ActionOwner,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    meeting_attendees,
)
from kamportal.models.messaging import Channel, DeliveryStatus, OutboxMessage
from kamportal.models.timeline import AuditEvent, CallOutcome, TimelineEvent, TimelineKind
from kamportal.models.types import Money, UTCDateTime

__all__ = [
    "ROLE_LABELS",
    "WORKING_WEEKS",
    "ActionItem",
    "ActionOwner",
    "AuditEvent",
    "Base",
    "CalendarDay",
    "CallOutcome",
    "Channel",
    "Client",
    "Complaint",
    "ComplaintKind",
    "ComplaintStatus",
    "Contact",
    "ContactChannel",
    "DeliveryStatus",
    "Escalation",
    "EscalationStatus",
    "EscalationStep",
    "EscalationTrigger",
    "LadderStep",
    "LifecycleStatus",
    "Meeting",
    "MeetingStatus",
    "MeetingType",
    "Minutes",
    "MinutesStatus",
    "Money",
    "NoReplyLadder",
    "OutboxMessage",
    "Plan",
    "ResolutionKind",
    "Role",
    "StepKind",
    "Team",
    "TimelineEvent",
    "TimelineKind",
    "UTCDateTime",
    "User",
    "UserRole",
    "meeting_attendees",
]
