"""Demo data for `flask kam seed-demo`: three teams, their people and a believable portfolio.

Deterministic (one seed), relative to the portal clock, and idempotent: teams are keyed on
their name, users on their email and clients on their store code, so a second run adds
nothing. Every address is on the reserved `.example` domain: no demo message can reach a
real inbox, whatever mail transport is configured.

Escalations and complaints (E1-E3), renewals with their invoices and payments (R1-R10),
and onboarding and launches (O1, O2, L1-L5) are replayed through the real services with the
portal clock at past instants, so each keeps the proofs real use leaves; an escalation or a
complaint is keyed on its ACM and what the client said, a renewal story on its ACM and its
client. A new store's onboarding is replayed with the store; the launch stories (a client at
each stage of the onboarding) are clients of their own, keyed on their store code. Demo
invoices are the portal's own, whatever billing system is configured.

One module a story, run in order by `seed.py`: the people (people.py), the portfolio with
its timelines (clients.py: markets.py gives the names, numbers and prices), with each new
store's onboarding (onboarding.py) and the meetings (meetings.py); then the escalations and
complaints (escalations.py), the renewals (renewals.py), the launch stories (launches.py)
this morning's unanswered calls (followups.py), the customization requests at every
stage (customizations.py), the support tickets (support.py, G4), the apps and marketing
actions suggested to live clients (suggestions.py, F5) and the upsell and cross-sell
opportunities (opportunities.py, P3). What several
stories share is in common.py.
"""

from kamportal.config import DEMO_PASSWORD
from kamportal.demo.customizations import CUSTOMIZATION_STORIES
from kamportal.demo.followups import UNANSWERED_CALL_AGO
from kamportal.demo.launches import LAUNCH_STORIES, MAX_CLIENTS
from kamportal.demo.opportunities import OPPORTUNITY_STORIES
from kamportal.demo.people import demo_logins
from kamportal.demo.seed import DEFAULT_CLIENTS, DEFAULT_SEED, DEMO_PUBLIC_URL, seed_demo

__all__ = [
    "CUSTOMIZATION_STORIES",
    "DEFAULT_CLIENTS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PUBLIC_URL",
    "LAUNCH_STORIES",
    "MAX_CLIENTS",
    "OPPORTUNITY_STORIES",
    "UNANSWERED_CALL_AGO",
    "demo_logins",
    "seed_demo",
]
