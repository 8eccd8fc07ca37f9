"""What happens on an account that other rules act on, said once, heard by each rule that
cares: the third module that lets two services that need each other stay apart.

A service sends an event in the same transaction as its change; the services that act on
it connect a receiver where their rule is written, and every receiver runs at once, in the
sender's transaction. `create_app` imports the listening services (and `listening()` says
who listens), so no event goes unheard in a web process, a job or the CLI.

- `client_replied` (services/contact_log.py): the client answered a call, or wrote by email
  or WhatsApp. F2's no-reply ladders stop (services/followups.py); an escalation ladder
  waiting on the client pauses (E2, services/escalations.py).
- `call_unanswered` (services/contact_log.py): a call from the client page went unanswered
  (or to voicemail). F2's ladder starts, unless an escalation ladder is already following
  the client up (services/escalations.py decides: one "we tried to call you" email).
- `calendar_changed` (accounts, calendar days, clients): a business calendar changed for a
  team, a country or some clients; the deadlines still pending on it are counted again
  (services/deadlines.py).
- `invoice_paid` (services/payments.py): an invoice became paid, by whichever path (online
  or found paid in the billing system, a wire confirmed by finance, paid at the premises;
  an installment plan's invoice once its last installment is paid). A customization
  request waiting for that invoice moves to delivery and its customization ticket opens
  (C6, services/customization_tickets.py).
- `cancellation_confirmed` (services/escalations.py): complaint handling ends with the
  client's cancellation confirmed (E3); the client churns and its open renewal is lost
  (services/churn.py).
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

# sender: the client; at, reason, actor.
client_replied = _events.signal("client-replied")
# sender: the client; event (the call's timeline event), actor.
call_unanswered = _events.signal("call-unanswered")
# sender: what changed (a team, a calendar day, a client); actor, reason, and one of
# team=, country= or clients=.
calendar_changed = _events.signal("calendar-changed")
# sender: the invoice (paid now); actor (None when the billing system found it paid), at.
invoice_paid = _events.signal("invoice-paid")
# sender: the cancellation (a Complaint); actor, note (why, from complaint handling).
cancellation_confirmed = _events.signal("cancellation-confirmed")

EVENTS = (client_replied, call_unanswered, calendar_changed, invoice_paid, cancellation_confirmed)


def listening() -> dict[str, int]:
    """How many receivers each event has (the app checks none is unheard)."""
    return {event.name: len(event.receivers) for event in EVENTS}
