"""All models, imported here so that metadata and migrations see every table."""

from kamportal.models.accounts import ROLE_LABELS, WORKING_WEEKS, Role, Team, User, UserRole
from kamportal.models.base import Base
from kamportal.models.clients import Client, Contact, LifecycleStatus, Plan
from kamportal.models.messaging import Channel, DeliveryStatus, OutboxMessage
from kamportal.models.timeline import AuditEvent, CallOutcome, TimelineEvent, TimelineKind
from kamportal.models.types import Money, UTCDateTime

__all__ = [
    "ROLE_LABELS",
    "WORKING_WEEKS",
    "AuditEvent",
    "Base",
    "CallOutcome",
    "Channel",
    "Client",
    "Contact",
    "DeliveryStatus",
    "LifecycleStatus",
    "Money",
    "OutboxMessage",
    "Plan",
    "Role",
    "Team",
    "TimelineEvent",
    "TimelineKind",
    "UTCDateTime",
    "User",
    "UserRole",
]
