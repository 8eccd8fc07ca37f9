"""What happened to a client (the timeline, rule P6) and who changed what (the audit log)."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.messaging import OutboxMessage
from kamportal.models.types import UTCDateTime


class TimelineKind(enum.StrEnum):
    CLIENT_CREATED = "client_created"
    CLIENT_UPDATED = "client_updated"
    CLIENT_REASSIGNED = "client_reassigned"
    CONTACT_ADDED = "contact_added"
    CONTACT_UPDATED = "contact_updated"
    CALL = "call"
    EMAIL_SENT = "email_sent"
    EMAIL_RECEIVED = "email_received"
    WHATSAPP_RECEIVED = "whatsapp_received"
    WHATSAPP_SENT = "whatsapp_sent"
    NOTE = "note"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_RESCHEDULED = "meeting_rescheduled"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_HELD = "meeting_held"
    MEETING_NO_SHOW = "meeting_no_show"
    MEETING_CONFIRMED = "meeting_confirmed"
    SHORT_NOTICE = "short_notice"
    MINUTES_SENT = "minutes_sent"
    MINUTES_NO_REQUESTS = "minutes_no_requests"
    ACTION_DONE = "action_done"
    FOLLOWUP_OVERDUE = "followup_overdue"
    FOLLOWUP_EMAIL = "followup_email"
    FOLLOWUP_WHATSAPP = "followup_whatsapp"
    LADDER_STOPPED = "ladder_stopped"
    ESCALATION_RAISED = "escalation_raised"
    ESCALATION_STEP = "escalation_step"
    ESCALATION_PAUSED = "escalation_paused"
    ESCALATION_RESUMED = "escalation_resumed"
    ESCALATION_TO_LEADER = "escalation_to_leader"
    ESCALATION_RESOLVED = "escalation_resolved"
    COMPLAINT_RECORDED = "complaint_recorded"
    COMPLAINT_UPDATED = "complaint_updated"
    CLIENT_CHURNED = "client_churned"
    REFUND_DECIDED = "refund_decided"
    RENEWAL_OPENED = "renewal_opened"
    RENEWAL_NOTIFIED = "renewal_notified"
    RENEWAL_CONFIRMED = "renewal_confirmed"
    RENEWAL_LOST = "renewal_lost"
    RENEWAL_PAID = "renewal_paid"
    INVOICE_ISSUED = "invoice_issued"
    INVOICE_REMINDER = "invoice_reminder"
    INVOICE_PAID = "invoice_paid"
    INVOICE_SPLIT = "invoice_split"
    PAYMENT_REPORTED = "payment_reported"
    PAYMENT_CONFIRMED = "payment_confirmed"
    PAYMENT_FLAGGED = "payment_flagged"
    PAYMENT_REJECTED = "payment_rejected"
    PAYMENT_ISSUE = "payment_issue"
    PAYMENT_ISSUE_RESOLVED = "payment_issue_resolved"
    DISCOUNT_REQUESTED = "discount_requested"
    DISCOUNT_DECIDED = "discount_decided"
    WELCOME_EMAIL_SENT = "welcome_email_sent"
    KYC_LINK_SENT = "kyc_link_sent"
    KYC_LINK_REVOKED = "kyc_link_revoked"
    KYC_SUBMITTED = "kyc_submitted"
    KYC_CORRECTED = "kyc_corrected"
    CHECKLIST_ITEM = "checklist_item"
    LMS_STARTED = "lms_started"
    STORE_LAUNCHED = "store_launched"
    CONTRACT_USAGE = "contract_usage"
    CONTRACT_EXCEPTION = "contract_exception"
    DEADLINE_RECOUNTED = "deadline_recounted"
    CUSTOMIZATION_REQUESTED = "customization_requested"
    CUSTOMIZATION_DECIDED = "customization_decided"
    CUSTOMIZATION_HOLD_ANSWERED = "customization_hold_answered"
    CUSTOMIZATION_BREACHED = "customization_breached"
    SUPPORT_TICKET_OPENED = "support_ticket_opened"
    SUPPORT_TICKET_STATUS = "support_ticket_status"
    SUPPORT_TICKET_PAST_SLA = "support_ticket_past_sla"
    CUSTOMIZATION_TICKET_OPENED = "customization_ticket_opened"
    CUSTOMIZATION_TICKET_STATUS = "customization_ticket_status"
    CUSTOMIZATION_TICKET_FAILED = "customization_ticket_failed"
    CUSTOMIZATION_INVOICE_ATTACHED = "customization_invoice_attached"
    CUSTOMIZATION_PAID = "customization_paid"
    CUSTOMIZATION_REJECTION_SENT = "customization_rejection_sent"
    CUSTOMIZATION_ESTIMATED = "customization_estimated"
    CUSTOMIZATION_PRICED = "customization_priced"
    QUOTATION_READY = "quotation_ready"
    CUSTOMIZATION_INVOICED = "customization_invoiced"
    CONCEPT_WRITTEN = "concept_written"
    CONCEPT_SENT = "concept_sent"
    CONCEPT_LINK_REVOKED = "concept_link_revoked"
    CONCEPT_APPROVED = "concept_approved"
    CUSTOMIZATION_MILESTONE_ADDED = "customization_milestone_added"
    CUSTOMIZATION_MILESTONE_MOVED = "customization_milestone_moved"
    CUSTOMIZATION_MILESTONE_DONE = "customization_milestone_done"
    CUSTOMIZATION_ACCEPTANCE_SENT = "customization_acceptance_sent"
    CUSTOMIZATION_ACCEPTED = "customization_accepted"
    CUSTOMIZATION_CLOSED = "customization_closed"
    CUSTOMIZATION_SURVEY_SENT = "customization_survey_sent"
    CUSTOMIZATION_SURVEY_ANSWERED = "customization_survey_answered"
    NOT_SELLING_RAISED = "not_selling_raised"
    NOT_SELLING_RECORDED = "not_selling_recorded"
    NOT_SELLING_CLEARED = "not_selling_cleared"
    ACCOUNT_PLAN_SAVED = "account_plan_saved"
    ACCOUNT_PLAN_REVIEWED = "account_plan_reviewed"
    STORE_MANAGER_ASSIGNED = "store_manager_assigned"
    STORE_DUTY_DONE = "store_duty_done"
    DATA_ENTRY_LOGGED = "data_entry_logged"
    DATA_ENTRY_DONE = "data_entry_done"
    SUGGESTION_MADE = "suggestion_made"
    SUGGESTION_ANSWERED = "suggestion_answered"
    SUGGESTION_CLOSED = "suggestion_closed"
    OPPORTUNITY_ADDED = "opportunity_added"
    OPPORTUNITY_UPDATED = "opportunity_updated"
    OPPORTUNITY_MOVED = "opportunity_moved"
    OPPORTUNITY_WON = "opportunity_won"
    OPPORTUNITY_LOST = "opportunity_lost"
    CLIENT_REPORT_DRAFTED = "client_report_drafted"
    CLIENT_REPORT_SENT = "client_report_sent"

    @property
    def label(self) -> str:
        return TIMELINE_LABELS[self]


TIMELINE_LABELS = {
    TimelineKind.CLIENT_CREATED: "Client created",
    TimelineKind.CLIENT_UPDATED: "Profile updated",
    TimelineKind.CLIENT_REASSIGNED: "Reassigned",
    TimelineKind.CONTACT_ADDED: "Contact added",
    TimelineKind.CONTACT_UPDATED: "Contact updated",
    TimelineKind.CALL: "Call",
    TimelineKind.EMAIL_SENT: "Email sent",
    TimelineKind.EMAIL_RECEIVED: "Email received",
    TimelineKind.WHATSAPP_RECEIVED: "WhatsApp received",
    TimelineKind.WHATSAPP_SENT: "WhatsApp sent",
    TimelineKind.NOTE: "Note",
    TimelineKind.MEETING_SCHEDULED: "Meeting scheduled",
    TimelineKind.MEETING_RESCHEDULED: "Meeting rescheduled",
    TimelineKind.MEETING_CANCELLED: "Meeting cancelled",
    TimelineKind.MEETING_HELD: "Meeting held",
    TimelineKind.MEETING_NO_SHOW: "Meeting no-show",
    TimelineKind.MEETING_CONFIRMED: "Meeting confirmation sent",
    TimelineKind.SHORT_NOTICE: "Short-notice meeting",
    TimelineKind.MINUTES_SENT: "Minutes sent",
    TimelineKind.MINUTES_NO_REQUESTS: "Regular follow-up, no requests",
    TimelineKind.ACTION_DONE: "Action item done",
    TimelineKind.FOLLOWUP_OVERDUE: "Weekly follow-up overdue",
    TimelineKind.FOLLOWUP_EMAIL: "Follow-up email after no answer",
    TimelineKind.FOLLOWUP_WHATSAPP: "WhatsApp: please check your email",
    TimelineKind.LADDER_STOPPED: "No-reply follow-up stopped",
    TimelineKind.ESCALATION_RAISED: "Escalation raised",
    TimelineKind.ESCALATION_STEP: "Escalation step",
    TimelineKind.ESCALATION_PAUSED: "Escalation paused: the client replied",
    TimelineKind.ESCALATION_RESUMED: "Escalation ladder resumed",
    TimelineKind.ESCALATION_TO_LEADER: "Escalation sent to the leader",
    TimelineKind.ESCALATION_RESOLVED: "Escalation resolved",
    TimelineKind.COMPLAINT_RECORDED: "Complaint recorded",
    TimelineKind.COMPLAINT_UPDATED: "Complaint updated",
    TimelineKind.CLIENT_CHURNED: "Client churned",
    TimelineKind.REFUND_DECIDED: "Refund decided",
    TimelineKind.RENEWAL_OPENED: "Renewal due",
    TimelineKind.RENEWAL_NOTIFIED: "Renewal notice sent",
    TimelineKind.RENEWAL_CONFIRMED: "Renewal confirmed",
    TimelineKind.RENEWAL_LOST: "Renewal lost",
    TimelineKind.RENEWAL_PAID: "Renewal paid",
    TimelineKind.INVOICE_ISSUED: "Invoice issued",
    TimelineKind.INVOICE_REMINDER: "Invoice reminder",
    TimelineKind.INVOICE_PAID: "Invoice paid",
    TimelineKind.INVOICE_SPLIT: "Invoice split into installments",
    TimelineKind.PAYMENT_REPORTED: "Wire transfer reported",
    TimelineKind.PAYMENT_CONFIRMED: "Payment confirmed",
    TimelineKind.PAYMENT_FLAGGED: "Wire transfer not confirmed after 4 days",
    TimelineKind.PAYMENT_REJECTED: "Wire transfer rejected by finance",
    TimelineKind.PAYMENT_ISSUE: "Payment issue handed to finance",
    TimelineKind.PAYMENT_ISSUE_RESOLVED: "Payment issue resolved",
    TimelineKind.DISCOUNT_REQUESTED: "Discount requested",
    TimelineKind.DISCOUNT_DECIDED: "Discount decided",
    TimelineKind.WELCOME_EMAIL_SENT: "Welcome email sent",
    TimelineKind.KYC_LINK_SENT: "KYC link sent",
    TimelineKind.KYC_LINK_REVOKED: "KYC link revoked",
    TimelineKind.KYC_SUBMITTED: "KYC questionnaire submitted",
    TimelineKind.KYC_CORRECTED: "KYC answers corrected",
    TimelineKind.CHECKLIST_ITEM: "Launch checklist",
    TimelineKind.LMS_STARTED: "Launch (LMS) started",
    TimelineKind.STORE_LAUNCHED: "Store launched",
    TimelineKind.CONTRACT_USAGE: "Contract usage recorded",
    TimelineKind.CONTRACT_EXCEPTION: "Contract exception agreed",
    TimelineKind.DEADLINE_RECOUNTED: "Due time recounted",
    TimelineKind.CUSTOMIZATION_REQUESTED: "Customization requested",
    TimelineKind.CUSTOMIZATION_DECIDED: "Customization decided",
    TimelineKind.CUSTOMIZATION_HOLD_ANSWERED: "Customization: hold answered",
    TimelineKind.CUSTOMIZATION_BREACHED: "Customization decision overdue",
    TimelineKind.SUPPORT_TICKET_OPENED: "Support ticket opened",
    TimelineKind.SUPPORT_TICKET_STATUS: "Support ticket status",
    TimelineKind.SUPPORT_TICKET_PAST_SLA: "Support ticket past its SLA",
    TimelineKind.CUSTOMIZATION_TICKET_OPENED: "Customization ticket opened",
    TimelineKind.CUSTOMIZATION_TICKET_STATUS: "Customization ticket status",
    TimelineKind.CUSTOMIZATION_TICKET_FAILED: "Customization ticket: the ticket system failed",
    TimelineKind.CUSTOMIZATION_INVOICE_ATTACHED: "Customization ticket: invoice attached",
    TimelineKind.CUSTOMIZATION_PAID: "Customization paid",
    TimelineKind.CUSTOMIZATION_REJECTION_SENT: "Customization rejection sent to the client",
    TimelineKind.CUSTOMIZATION_ESTIMATED: "Customization: period estimated",
    TimelineKind.CUSTOMIZATION_PRICED: "Customization: priced",
    TimelineKind.QUOTATION_READY: "Customization: quotation ready",
    TimelineKind.CUSTOMIZATION_INVOICED: "Customization invoiced",
    TimelineKind.CONCEPT_WRITTEN: "Concept document written",
    TimelineKind.CONCEPT_SENT: "Concept document sent",
    TimelineKind.CONCEPT_LINK_REVOKED: "Concept document link revoked",
    TimelineKind.CONCEPT_APPROVED: "Concept document approved",
    TimelineKind.CUSTOMIZATION_MILESTONE_ADDED: "Customization: milestone added",
    TimelineKind.CUSTOMIZATION_MILESTONE_MOVED: "Customization: milestone due date moved",
    TimelineKind.CUSTOMIZATION_MILESTONE_DONE: "Customization: milestone done",
    TimelineKind.CUSTOMIZATION_ACCEPTANCE_SENT: "Customization: acceptance link sent",
    TimelineKind.CUSTOMIZATION_ACCEPTED: "Customization accepted by the client",
    TimelineKind.CUSTOMIZATION_CLOSED: "Customization closed",
    TimelineKind.CUSTOMIZATION_SURVEY_SENT: "Customization: satisfaction survey sent",
    TimelineKind.CUSTOMIZATION_SURVEY_ANSWERED: "Customization: satisfaction survey answered",
    TimelineKind.NOT_SELLING_RAISED: "Not selling",
    TimelineKind.NOT_SELLING_RECORDED: "Not selling: reasons and actions recorded",
    TimelineKind.NOT_SELLING_CLEARED: "Selling again",
    TimelineKind.ACCOUNT_PLAN_SAVED: "Account plan saved",
    TimelineKind.ACCOUNT_PLAN_REVIEWED: "Account plan reviewed",
    TimelineKind.STORE_MANAGER_ASSIGNED: "Store manager assigned",
    TimelineKind.STORE_DUTY_DONE: "Store-manager duty done",
    TimelineKind.DATA_ENTRY_LOGGED: "Data-entry request",
    TimelineKind.DATA_ENTRY_DONE: "Data-entry request done",
    TimelineKind.SUGGESTION_MADE: "App or marketing action suggested",
    TimelineKind.SUGGESTION_ANSWERED: "Client answered a suggestion",
    TimelineKind.SUGGESTION_CLOSED: "Suggestion installed, done or declined",
    TimelineKind.OPPORTUNITY_ADDED: "Opportunity identified",
    TimelineKind.OPPORTUNITY_UPDATED: "Opportunity updated",
    TimelineKind.OPPORTUNITY_MOVED: "Opportunity moved",
    TimelineKind.OPPORTUNITY_WON: "Opportunity won",
    TimelineKind.OPPORTUNITY_LOST: "Opportunity lost",
    TimelineKind.CLIENT_REPORT_DRAFTED: "Monthly report drafted",
    TimelineKind.CLIENT_REPORT_SENT: "Monthly report sent",
}


class CallOutcome(enum.StrEnum):
    """How a call went (rule G3)."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"

    @property
    def label(self) -> str:
        return {"answered": "Answered", "no_answer": "No answer", "voicemail": "Voicemail"}[
            self.value
        ]


# The key of an event's `detail` holding the instants its summary shows (ISO, UTC).
TIMES_KEY = "times"
# In a summary with instants: "{0}" is the first instant, "{{" and "}}" are braces.
_SUMMARY_TOKEN = re.compile(r"\{\{|\}\}|\{(\d+)\}")


# The events that are a contact made (F1), as contact_log.contact_made_clause says it.
CONTACTS_PREDICATE = (
    "kind IN ('email_sent', 'followup_email', 'welcome_email_sent', 'meeting_held')"
    " OR (kind = 'call' AND (detail ->> 'outcome') = 'answered')"
)


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_events_client_at", "client_id", "at"),
        Index("ix_timeline_events_client_kind_at", "client_id", "kind", "at"),
        # The contacts made (F1: contact_log.contact_made_clause, the same events), by
        # client and time: the leader's weekly contacts read them alone, off the index.
        Index(
            "ix_timeline_events_contacts",
            "client_id",
            "at",
            postgresql_where=text(CONTACTS_PREDICATE),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A message sent through the outbox: its delivery status shows on the timeline.
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )

    actor: Mapped[User | None] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()

    @property
    def label(self) -> str:
        try:
            return TimelineKind(self.kind).label
        except ValueError:
            return self.kind.replace("_", " ").capitalize()

    @property
    def summary_parts(self) -> list[str | datetime]:
        """The summary as text and instants, for the page to show each instant in the
        reader's zone. A summary written without instants is its text as it is."""
        times = (self.detail or {}).get(TIMES_KEY)
        if not times:
            return [self.summary]
        parts: list[str | datetime] = []
        last = 0
        for token in _SUMMARY_TOKEN.finditer(self.summary):
            parts.append(self.summary[last : token.start()])
            index = token.group(1)
            if index is not None and int(index) < len(times):
                parts.append(datetime.fromisoformat(times[int(index)]))
            else:
                parts.append(token.group(0)[0] if index is None else token.group(0))
            last = token.end()
        parts.append(self.summary[last:])
        merged: list[str | datetime] = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part != "":
                merged.append(part)
        return merged


class OpenWhatsAppRequest(Base):
    """A WhatsApp request not answered yet (G6), by its timeline event: the day reads the
    few open ones rather than every request a team's clients ever sent, each with the
    replies after it (issue 17). The timeline stays the truth; services.contact_log keeps
    this table in step as events are written (and rebuilds it from the timeline)."""

    __tablename__ = "open_whatsapp_requests"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="CASCADE"), primary_key=True
    )
    # The event's client, for a day to find its clients' few open requests first.
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)


class AuditEvent(Base):
    """Append-only: the ORM refuses updates and deletes, and the database does too (migration)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    actor: Mapped[User | None] = relationship()


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly("the audit log is append-only")
