"""Renewals, invoices and payments (R1-R8, R10): each ACM's renewal stories
(DEMO_RENEWALS), told on clients of theirs with the sweeps cron would have run meanwhile."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import exists, func, select

from kamportal import clock
from kamportal.billing.portal import PortalBilling
from kamportal.demo.common import Replay, SeedReport, acm_clients, replaying_the_past, take_client
from kamportal.demo.markets import MARKETS, round_price
from kamportal.demo.people import STAFF, TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    Client,
    Escalation,
    Invoice,
    InvoiceStatus,
    LifecycleStatus,
    Payment,
    PaymentIssue,
    Renewal,
    ResolutionKind,
    Role,
    Team,
    User,
)
from kamportal.services import clients as clients_service
from kamportal.services import invoices, payments, renewals
from kamportal.services.calendar import BusinessCalendar, calendar_for
from kamportal.services.clients import ClientProfile
from kamportal.services.invoices import Fee

# Who does each kind of renewal step: the client's ACM, finance (R5-R7) or commercial (R9).
RENEWAL_STEPS: dict[str, Role] = {
    "renewal_date": Role.ACM,
    "notify": Role.ACM,
    "confirm": Role.ACM,
    "invoice": Role.ACM,
    "split": Role.ACM,
    "wire": Role.ACM,
    "issue": Role.ACM,
    "lost": Role.ACM,
    "wire_confirmed": Role.FINANCE,
    "wire_rejected": Role.FINANCE,
    "paid_online": Role.FINANCE,
    "premises": Role.FINANCE,
    "resolve": Role.FINANCE,
}
# The sweeps a renewal story lives with, at the minute past the hour kamportal/jobs/cron.py
# runs each: R1 opens the renewals, R4 reminds unpaid invoices, R7 flags late wires.
RENEWAL_SWEEPS: tuple[tuple[int, Callable[[datetime], object]], ...] = (
    (10, lambda at: renewals.open_due_renewals(now=at)),
    (20, lambda at: invoices.send_invoice_reminders(now=at)),
    (30, lambda at: payments.flag_late_wire_transfers(now=at)),
)
# How many days before now a story's ACM sets its renewal date: after the demo's last
# reassignment (60 days ago), before the R1 sweep opens the earliest story (35 days ago).
RENEWAL_DATE_SET_AGO = (40.0, 46.0)
# A story's client had subscribed this long before the portal imported it, so the renewal
# date its ACM sets ends a year's term, not a few months'.
TERM_BEFORE_IMPORT = timedelta(days=240)
# Demo invoices are numbered by the portal whatever BILLING_ADAPTER says: no demo invoice
# may reach a real billing system.
DEMO_BILLING = PortalBilling()


@dataclass(frozen=True)
class Step:
    """One thing done on a demo renewal, `ago` days before now, a little into the working
    hours of whoever does it (RENEWAL_STEPS).

    Every story starts with "renewal_date" (its ACM sets the subscription's renewal date,
    weeks before the R1 sweep opens it). Then: "notify" and "confirm" (R2; `share`: the
    amount the client confirmed, as a share of the subscription's); "invoice" (R3; R8: with
    `fees`, in US dollars, converted like the price list; discounts come from a
    customization's quotation, R9: demo/customizations.py); "split" (R10: `parts` installments,
    `every` days apart from that day); "wire" (R7: the ACM reports it) and finance's
    "wire_confirmed" or "wire_rejected" (`text`: why); finance's "paid_online" (the first
    unpaid installment once split) and "premises" (R6: with a receipt); "issue" (R5:
    `text`) and finance's "resolve" (`method`: the channel agreed, `text`); "lost"
    (`text`: why).
    """

    kind: str
    ago: float
    text: str = ""
    share: str = ""
    fees: tuple[tuple[str, int], ...] = ()
    method: str = ""
    parts: int = 0
    every: int = 0


@dataclass(frozen=True)
class RenewalStory:
    """One demo renewal, showing `shows`: the subscription renews `due_in` days from today
    (negative: the date passed). Its ACM sets that renewal date weeks before the R1 sweep
    opens the renewal, then `steps` follow; the sweeps remind (R4) and flag (R7) as they
    would have."""

    shows: str
    due_in: int
    steps: tuple[Step, ...] = ()


# Per team, one entry per ACM in TEAMS order, the stories most worth showing first: an ACM
# with fewer live clients than stories tells only the first ones.
# fmt: off
DEMO_RENEWALS: dict[str, tuple[tuple[RenewalStory, ...], ...]] = {
    "Cairo": (
        (
            RenewalStory(
                "renewal and customization fees on one invoice (R8), unpaid and reminded (R4)",
                1, (Step("notify", 17), Step("confirm", 14),
                    Step("invoice", 12, fees=(("Delivery date picker at checkout", 450),
                                              ("Arabic and English invoice templates", 300)))),
            ),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 22),
            RenewalStory(
                "wire transfer reported two days ago, waiting for finance (R7)",
                11, (Step("notify", 13), Step("confirm", 10), Step("invoice", 8),
                     Step("wire", 2))),
        ),
        (
            RenewalStory(
                "wire transfer unconfirmed after 4 days, flagged to finance and the ACM (R7)",
                3, (Step("notify", 20), Step("confirm", 18), Step("invoice", 16),
                    Step("wire", 8))),
            RenewalStory(
                "date and amount confirmed, at a lower amount (R2)",
                16, (Step("notify", 9), Step("confirm", 5, share="0.85"))),
        ),
        (
            RenewalStory(
                "installments (R10): the first paid, the second overdue, the third due",
                -5, (Step("notify", 33), Step("confirm", 26), Step("invoice", 23),
                     Step("split", 19, parts=3, every=14), Step("paid_online", 18))),
            RenewalStory("client notified (R2)", 24, (Step("notify", 3),)),
            RenewalStory(
                "confirmed at a higher amount, invoiced and paid online: next term",
                12, (Step("notify", 14), Step("confirm", 11, share="1.15"),
                     Step("invoice", 10), Step("paid_online", 4))),
        ),
        (
            RenewalStory(
                "paid at the premises: finance records the amount and the receipt (R6)",
                6, (Step("notify", 19), Step("confirm", 16), Step("invoice", 15),
                    Step("premises", 5))),
            RenewalStory(
                "lost after the notice",
                19, (Step("notify", 10),
                     Step("lost", 4, text="Moving to marketplaces only: the store closes at "
                          "the end of the term."))),
        ),
    ),
    "Riyadh": (
        (
            RenewalStory(
                "invoiced, paid online (R3)",
                10, (Step("notify", 18), Step("confirm", 15), Step("invoice", 12),
                     Step("paid_online", 6))),
            RenewalStory(
                "wire transfer reported yesterday, waiting for finance (R7)",
                14, (Step("notify", 12), Step("confirm", 9), Step("invoice", 7),
                     Step("wire", 1))),
        ),
        (
            RenewalStory(
                "renewal date passed, wire transfer flagged after 4 days (R7)",
                -2, (Step("notify", 26), Step("confirm", 22), Step("invoice", 20),
                     Step("wire", 9))),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 12),
        ),
        (
            RenewalStory(
                "payment issue with finance, open (R5)",
                7, (Step("notify", 17), Step("confirm", 14), Step("invoice", 12),
                    Step("issue", 2, text="The client's bank holds transfers abroad until "
                         "the invoice shows the client's VAT number."))),
            RenewalStory(
                "date and amount confirmed (R2)",
                22, (Step("notify", 7), Step("confirm", 3))),
        ),
        (
            RenewalStory(
                "amount confirmed lower than the subscription's (R2)",
                17, (Step("notify", 11), Step("confirm", 6, share="0.85"))),
            RenewalStory(
                "lost after the notice",
                9, (Step("notify", 15),
                    Step("lost", 5, text="The owner is retiring and closing the online "
                         "store."))),
        ),
    ),
    "Dubai": (
        (
            RenewalStory(
                "payment issue resolved: to be paid at the premises, waiting for finance (R5, "
                "R6)",
                4, (Step("notify", 19), Step("confirm", 16), Step("invoice", 14),
                    Step("issue", 9, text="The company card is declined for payments abroad; "
                         "the client wants to pay in cash."),
                    Step("resolve", 8, method="premises",
                         text="Cash at the Dubai office on the client's next visit; finance "
                         "gives the receipt."))),
            RenewalStory("client notified (R2)", 19, (Step("notify", 2),)),
        ),
        (
            RenewalStory(
                "wire transfer confirmed by finance: paid, next term (R7)",
                5, (Step("notify", 20), Step("confirm", 17), Step("invoice", 15),
                    Step("wire", 9), Step("wire_confirmed", 8))),
            RenewalStory(
                "wire transfer flagged after 4 days, rejected by finance with the reason, "
                "reported again with the bank's receipt (R7)",
                11, (Step("notify", 18), Step("confirm", 16), Step("invoice", 14),
                     Step("wire", 10),
                     Step("wire_rejected", 5, text="Nothing from this client in the account "
                          "since October; please ask for the transfer receipt."),
                     Step("wire", 2))),
        ),
        (
            RenewalStory(
                "invoiced at the full amount, reminded (R4)",
                2, (Step("notify", 16), Step("confirm", 14), Step("invoice", 10))),
            RenewalStory(
                "invoiced yesterday, no reminder yet (R3)",
                20, (Step("notify", 6), Step("confirm", 3), Step("invoice", 1))),
        ),
        (
            RenewalStory(
                "lost after the notice",
                8, (Step("notify", 14),
                    Step("lost", 6, text="Moved to another platform bundled with their "
                         "point of sale."))),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 27),
            RenewalStory(
                "a customization fee with the renewal (R8), paid online",
                15, (Step("notify", 14), Step("confirm", 12),
                     Step("invoice", 11, fees=(("Google Shopping feed with custom "
                                                "attributes", 600),)),
                     Step("paid_online", 5))),
        ),
    ),
}
# fmt: on

_MARKET_OF_CURRENCY = {market.currency: market for market in MARKETS}


def seed_renewals(seed: int, now: datetime, people: People, report: SeedReport) -> None:
    """R1-R10: each ACM's renewal stories (DEMO_RENEWALS) that are missing, each on one of
    the ACM's clients, with the sweeps (R1, R4, R7) as cron would have run them meanwhile.

    A story is keyed on its ACM and its client: the ACM's n-th story is told on the
    ACM's n-th renewal client (`_renewal_clients`, a stable order), and a client with a
    renewal has had its story told; a story without a client is left out. Replayed
    through the services (renewals, discounts, invoices, payments) with the portal clock
    at past instants: every story's steps and every sweep run in the order they happened,
    so each keeps its proofs (timeline, audit, outbox) and a sweep sees what there was at
    its time. Messages of the past look delivered, as for the escalations.
    """
    staff = {person.role: people.by_email[person.email] for person in STAFF}
    calendars = {spec.timezone: _working_week(people.leader(spec.name).team) for spec in TEAMS}
    start = now - timedelta(days=RENEWAL_DATE_SET_AGO[1])
    before = db.session.scalar(select(func.count()).select_from(Renewal)) or 0
    with replaying_the_past() as added:
        tales: list[_RenewalTale] = []
        for spec in TEAMS:
            plans = zip(people.acms(spec.name), DEMO_RENEWALS[spec.name], strict=True)
            for acm, stories in plans:
                candidates = _renewal_clients(acm)
                for story in stories:
                    client = take_client(candidates, before=start)
                    if client is None:
                        break
                    if db.session.scalar(select(exists().where(Renewal.client_id == client.id))):
                        continue
                    tales.append(
                        _RenewalTale(
                            story=story,
                            client=client,
                            acm=acm,
                            due_on=now.date() + timedelta(days=story.due_in),
                            rng=random.Random(f"{seed}:renewal:{acm.email}:{story.shows}"),
                            replay=Replay(calendars[acm.team.timezone], start),
                        )
                    )
        if tales:
            _replay_renewals(tales, now, staff, calendars)
    # R1's sweep opens its renewals in bulk, outside the session's rows: counted in the
    # database.
    report.renewals += (db.session.scalar(select(func.count()).select_from(Renewal)) or 0) - before
    report.invoices += sum(isinstance(row, Invoice) for row in added)


def _working_week(team: Team) -> BusinessCalendar:
    """The team's working week and hours, public holidays left out: renewal steps fall in
    it, so the rules counted in days (R4, R7) show whenever the demo is seeded, even just
    after a week of Eid."""
    return replace(calendar_for(team), country=None, extra_holidays=frozenset())


def _renewal_clients(acm: User) -> list[Client]:
    """The clients the ACM's renewal stories are told on, in a stable order: live ones
    whose subscription was most of a year old when the portal imported them (the renewal
    date set ends a year's term), and that no escalation moved to or from the ACM (E3), so
    the ACM worked on them all along."""
    moved = exists().where(
        Escalation.client_id == Client.id,
        Escalation.resolution.in_(
            [ResolutionKind.REASSIGNED.value, ResolutionKind.TAKEN_OVER.value]
        ),
    )
    return [
        client
        for client in acm_clients(acm, (LifecycleStatus.LIVE,), without=moved)
        if client.subscribed_at <= client.created_at - TERM_BEFORE_IMPORT
    ]


def _replay_renewals(
    tales: list[_RenewalTale],
    now: datetime,
    staff: dict[Role, User],
    calendars: dict[str, BusinessCalendar],
) -> None:
    """Every step of `tales` and every sweep run since the earliest renewal was opened, in
    the order they happened. The sweeps run once a day: R1 opens what the UTC date brings,
    as the hourly run would; a reminder (R4) or a flag (R7) comes at most a day after the
    hourly run would have sent it."""
    happenings: list[tuple[datetime, int, Callable[[], object]]] = []
    for order, tale in enumerate(tales, start=1):
        for at, step in _renewal_moments(tale, now, staff, calendars):
            happenings.append((at, order, partial(tale.act, step, at, staff)))
    day = min(min(tale.due_on for tale in tales), now.date()) - renewals.RENEWAL_WINDOW
    while day <= now.date():
        for minute, sweep in RENEWAL_SWEEPS:
            at = datetime.combine(day, time(0, minute), UTC)
            if at < now - timedelta(minutes=1):  # what it sends is delivered by now
                happenings.append((at, 0, partial(_sweep, sweep, at)))
        day += timedelta(days=1)
    for _, _, happen in sorted(happenings, key=lambda happening: happening[:2]):
        happen()


def _sweep(sweep: Callable[[datetime], object], at: datetime) -> None:
    clock.freeze(at)
    sweep(at)


def _renewal_moments(
    tale: _RenewalTale,
    now: datetime,
    staff: dict[Role, User],
    calendars: dict[str, BusinessCalendar],
) -> list[tuple[datetime, Step]]:
    """When each step of `tale` happened, its renewal date set first: `ago` days before
    now, a little into the working hours of whoever does it (at most a weekend and a
    night later), in order, before now."""
    rng = tale.rng
    steps = (Step("renewal_date", rng.uniform(*RENEWAL_DATE_SET_AGO)), *tale.story.steps)
    moments: list[tuple[datetime, Step]] = []
    for step in steps:
        doer = RENEWAL_STEPS[step.kind]
        calendar = (
            tale.replay.calendar
            if doer is Role.ACM
            else calendars.get(staff[doer].timezone, tale.replay.calendar)
        )
        at = calendar.add_business_hours(now - timedelta(days=step.ago), rng.uniform(0.25, 2))
        if at >= now:  # the working hours since then are not over: the last of them
            at = calendar.subtract_business_hours(now, rng.uniform(0.25, 1))
        if moments and at <= moments[-1][0]:
            previous = moments[-1][0]
            at = previous + min(timedelta(minutes=rng.randint(10, 40)), (now - previous) / 2)
        moments.append((at.replace(microsecond=0), step))
    return moments


@dataclass
class _RenewalTale:
    """A renewal story being told on `client`, and what its steps made so far."""

    story: RenewalStory
    client: Client
    acm: User
    due_on: date
    rng: random.Random
    replay: Replay
    renewal: Renewal | None = None
    invoice: Invoice | None = None
    plan: list[Invoice] = field(default_factory=list)
    payment: Payment | None = None
    issue: PaymentIssue | None = None

    def act(self, step: Step, at: datetime, staff: dict[Role, User]) -> None:
        """Do `step` through the services, with the portal clock at `at`."""
        self.replay.go(at)
        client, acm = self.client, self.acm
        if step.kind == "renewal_date":
            profile = {f.name: getattr(client, f.name) for f in fields(ClientProfile)}
            profile["renewal_date"] = self.due_on
            clients_service.update_client(client, ClientProfile(**profile), actor=acm)
            return
        renewal = self.renewal = self.renewal or self._opened_renewal()
        market = _MARKET_OF_CURRENCY[renewal.currency]
        finance = staff[Role.FINANCE]
        match step.kind:
            case "notify":
                renewals.notify_client(renewal, actor=acm)
            case "confirm":
                amount = renewal.amount
                if step.share:
                    amount = round_price(amount * Decimal(step.share), market)
                renewals.confirm_renewal(
                    renewal, actor=acm, agreed_on=renewal.due_on, amount=amount
                )
            case "invoice":
                self.invoice = invoices.issue_invoice(
                    client,
                    actor=acm,
                    due_on=renewal.agreed_on or renewal.due_on,
                    renewal=renewal,
                    fees=[
                        Fee(what, round_price(Decimal(usd) * market.usd_rate, market))
                        for what, usd in step.fees
                    ],
                    adapter=DEMO_BILLING,
                )
            case "split":
                today = clock.now().date()
                self.plan = invoices.split_into_installments(
                    self.invoice,
                    actor=acm,
                    due_dates=[today + timedelta(days=step.every * n) for n in range(step.parts)],
                    adapter=DEMO_BILLING,
                )
            case "wire":
                self.payment = payments.report_wire_transfer(
                    self.invoice,
                    actor=acm,
                    amount=self.invoice.total,
                    reference=f"FT{self.rng.randrange(10**11, 10**12)}",
                )
            case "wire_confirmed":
                payments.confirm_payment(
                    self.payment,
                    actor=finance,
                    received_amount=self.payment.amount,
                    received_on=clock.in_zone(clock.now(), finance.timezone).date(),
                )
            case "wire_rejected":
                payments.reject_wire_report(self.payment, actor=finance, reason=step.text)
            case "paid_online":
                unpaid = (i for i in self.plan if i.invoice_status is InvoiceStatus.UNPAID)
                payments.record_online_payment(
                    next(unpaid, self.invoice),
                    actor=finance,
                    reference=f"TXN-{self.rng.getrandbits(40):010X}",
                    adapter=DEMO_BILLING,
                )
            case "premises":
                payments.record_premises_payment(
                    self.invoice,
                    actor=finance,
                    amount=self.invoice.total,
                    receipt_number=f"RC-{self.rng.randrange(10000, 100000)}",
                )
            case "issue":
                self.issue = payments.raise_payment_issue(self.invoice, actor=acm, note=step.text)
            case "resolve":
                payments.resolve_payment_issue(
                    self.issue, actor=finance, new_method=step.method, note=step.text
                )
            case "lost":
                renewals.mark_lost(renewal, actor=acm, reason=step.text)
            case _:
                raise ValueError(f"unknown renewal step {step.kind!r}")

    def _opened_renewal(self) -> Renewal:
        """The renewal the R1 sweep opened for the story's term."""
        renewal = db.session.scalar(
            select(Renewal)
            .where(Renewal.client_id == self.client.id)
            .where(Renewal.due_on == self.due_on)
        )
        if renewal is None:
            raise RuntimeError(
                f"demo renewal of {self.client.store_code} due {self.due_on}: not opened "
                f"by {clock.now():%Y-%m-%d %H:%M}"
            )
        return renewal
