"""The rules of the process (PRODUCT.md) in plain words: why an item is owed, for the rule
badges staff read on the day, the leader's view and the queues (hover and screen-reader
text). Never shown to clients."""

from __future__ import annotations

MEANINGS = {
    "G1": "Every email to a client copies the team leader",
    "G2": "Client meetings happen on Zoom, their recording kept",
    "G3": "Calls are placed and logged from the portal",
    "G4": "A problem escalated to the support team is followed within its SLA",
    "G5": "Minutes go to the client after every meeting or call",
    "G6": "A WhatsApp request is answered and moved to email",
    "O1": "The client fills in the KYC questionnaire",
    "O2": "The welcome email goes out within 48 business hours of subscribing",
    "O3": "The onboarding meeting agrees the launch roadmap",
    "L1": "Each launch step is agreed with the client, with evidence",
    "L2": "The contract's limits on logos, banners, products and categories",
    "L3": "The marketing and Google Shopping foundations are set up",
    "L4": "Pre-launch checks, a test order through every method",
    "L5": "The final launch checks before the store goes live",
    "F1": "Every live client is contacted at least once a week",
    "F2": "An unanswered call is followed by an email, then a WhatsApp message",
    "F3": "A meeting is confirmed by email at least 4 hours before it",
    "F4": "A store that stopped selling needs its reasons and actions recorded",
    "F5": "Apps and marketing actions suggested, with the client's answer",
    "F6": "The store manager's duties are done every period",
    "C1": "A customization request starts with its scope of work",
    "C2": "Product decides a customization request within 48 hours",
    "C3": "A rejected request's reason goes to the client",
    "C4": "Commercial prices an accepted request, product sets its period",
    "C5": "The client approves the concept document",
    "C6": "The customization is invoiced, and opened once paid",
    "C7": "Delivery by milestones, acceptance, closure and a survey",
    "E1": "An escalation is raised when the client asks for the manager",
    "E2": "The escalation ladder: call, email, WhatsApp, then the leader",
    "E3": "The team leader decides the escalation",
    "R1": "A renewal due within 30 days is prepared",
    "R2": "The client is told of the renewal and confirms it",
    "R3": "The renewal invoice is issued",
    "R4": "An unpaid invoice is followed up until paid",
    "R5": "A payment issue goes to finance",
    "R6": "A payment at the premises is recorded with its receipt",
    "R7": "A wire transfer is confirmed by finance within 4 days",
    "R8": "Renewal and customization fees paid together are one invoice",
    "R9": "Discounts come from the approved quotation",
    "R10": "Each installment is invoiced and followed until paid",
    "P1": "The account plan is reviewed every quarter",
    "P2": "The client's health and segment",
    "P3": "Upsell and cross-sell opportunities",
    "P4": "The monthly report is reviewed and sent to the client",
    "P5": "A new point of contact is met in a hand-over meeting",
    "P6": "Every action lands on the client's timeline",
}


def meaning(rule: str) -> str:
    """What rule `rule` asks, in plain words (the ID itself for an unknown one)."""
    return MEANINGS.get(rule, rule)
