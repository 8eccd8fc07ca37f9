"""Periodic sweeps: `flask kam cron` in production (it reads this module as `rq cron`
would), the embedded worker otherwise.

Cron strings are UTC. Run one cron process; every entry is idempotent.
"""

from __future__ import annotations

from typing import Any

from rq import cron

from kamportal.queue import QUEUE_NAME


def entries() -> list[dict[str, Any]]:
    """Every periodic job, as keyword arguments for `CronScheduler.register`."""
    from kamportal.jobs import (
        cadence,
        client_reports,
        customization_tickets,
        customizations,
        escalations,
        followups,
        health,
        invoices,
        meetings,
        not_selling,
        outbox,
        payments,
        renewals,
        snapshots,
        support_tickets,
    )
    from kamportal.services.snapshots import REFRESHED_EVERY

    return [
        # Re-enqueue outbox messages whose delivery job Redis lost (e.g. enqueued while down);
        # fail, for a person to check, a delivery a dead worker cut short: each minute, so
        # that shows within 2 minutes of the crash (README, Processes).
        {"func": outbox.reconcile, "queue_name": QUEUE_NAME, "interval": 60},
        # F3: re-create meeting confirmations Redis lost; send ones due while no worker ran.
        {"func": meetings.reconcile_confirmations, "queue_name": QUEUE_NAME, "interval": 300},
        # E2: re-create lost escalation step jobs; run steps that came due while none ran.
        {"func": escalations.reconcile_escalations, "queue_name": QUEUE_NAME, "interval": 300},
        # C2: re-create lost customization breach checks; flag breaches that came due
        # while none ran (each flagged once).
        {"func": customizations.reconcile_breaches, "queue_name": QUEUE_NAME, "interval": 300},
        # F2: re-create lost WhatsApp steps of the no-reply ladder, send ones that came due.
        {"func": followups.reconcile_ladders, "queue_name": QUEUE_NAME, "interval": 300},
        # Issue 17: the forecast and every team's figures over every client (finance's and
        # admins' pages) and each team's trends (its page): they say "as of", and are
        # summed live once 15 minutes old.
        {
            "func": snapshots.refresh_platform_figures,
            "queue_name": QUEUE_NAME,
            "interval": int(REFRESHED_EVERY.total_seconds()),
        },
        # F1: record each client's weekly-contact lapse once; hourly, so it shows within
        # the hour (the sweep never records the same lapse twice).
        {"func": cadence.sweep_overdue, "queue_name": QUEUE_NAME, "cron": "0 * * * *"},
        # R1: open the renewals due within 30 days; hourly, so a client created or moved
        # today is on its ACM's list within the hour (once per term, whatever the runs).
        {"func": renewals.open_due_renewals, "queue_name": QUEUE_NAME, "cron": "10 * * * *"},
        # R4: remind clients of unpaid invoices at their team's interval.
        {"func": invoices.send_invoice_reminders, "queue_name": QUEUE_NAME, "cron": "20 * * * *"},
        # R7: flag wire transfers unconfirmed 4 days after they were reported, once each.
        {"func": payments.flag_late_wire_transfers, "queue_name": QUEUE_NAME, "cron": "30 * * * *"},
        # R3/R4: invoices paid online in the billing system (WHMCS) are recorded as paid.
        {"func": payments.sync_with_billing, "queue_name": QUEUE_NAME, "cron": "40 * * * *"},
        # G4: flag support tickets past their SLA; sync the open ones' status from Jira.
        {
            "func": support_tickets.sync_support_tickets,
            "queue_name": QUEUE_NAME,
            "cron": "*/15 * * * *",
        },
        # F4: raise not-selling alerts and clear those of stores selling again. Each store is
        # read on its own calendar (yesterday and before): hourly, so a store is looked at
        # within the hour after its midnight, whatever its zone (once per episode).
        {
            "func": not_selling.sweep_not_selling,
            "queue_name": QUEUE_NAME,
            "cron": "50 * * * *",
        },
        # P2: the health scores and today's row of their history. Hourly, not daily: what
        # moves a score (a call logged, an invoice paid, an escalation resolved) shows on the
        # client page and in the client list within the hour, and the day's row is the
        # day's last word; a few bulk statements per 5,000 clients keep that cheap.
        {"func": health.refresh_health_scores, "queue_name": QUEUE_NAME, "cron": "55 * * * *"},
        # P4: draft last month's reports on each team's first working day of the month;
        # hourly, so they are there within the hour after the team opens (once per client
        # and month, whatever the runs).
        {
            "func": client_reports.draft_monthly_reports,
            "queue_name": QUEUE_NAME,
            "cron": "25 * * * *",
        },
        # C2, C6: sync the status of customization requests' tickets from the ticket system.
        {
            "func": customization_tickets.sync_customization_tickets,
            "queue_name": QUEUE_NAME,
            "cron": "5-59/15 * * * *",
        },
    ]


for _entry in entries():
    cron.register(**_entry)
