"""The client page's tabs (issue 16): which panels each one shows, in this one place. The
page renders, and so queries, only the open tab's panels; a link to a panel (its anchor, or
the id of a row inside it) opens the tab that shows it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from kamportal.models import Client


@dataclass(frozen=True)
class Panel:
    template: str
    anchor: str
    # The id prefixes of what the panel lists ("minutes-" for #minutes-12).
    holds: tuple[str, ...] = ()

    def shows(self, anchor: str) -> bool:
        return anchor == self.anchor or anchor.startswith(self.holds)


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    main: tuple[Panel, ...]
    side: tuple[Panel, ...] = ()

    @property
    def panels(self) -> tuple[Panel, ...]:
        return self.main + self.side

    def shows(self, panel: Panel) -> bool:
        return panel in self.panels


TIMELINE = Panel("clients/_timeline.html", "timeline", ("event-",))
WHATSAPP = Panel("clients/_whatsapp_panel.html", "whatsapp-panel", ("whatsapp-request-",))

TABS: dict[str, Tab] = {
    tab.name: tab
    for tab in (
        Tab(
            "overview",
            "Overview",
            main=(
                Panel("clients/_contacts_panel.html", "contacts-panel", ("contact-",)),
                Panel(
                    "clients/_log_contact.html",
                    "log-contact",
                    ("call-", "email-log-", "note-"),
                ),
                TIMELINE,
            ),
            side=(
                Panel("clients/_health.html", "health-panel", ("health-",)),
                Panel("clients/_profile.html", "profile"),
            ),
        ),
        Tab(
            "meetings",
            "Meetings and minutes",
            main=(
                Panel("meetings/_client_meetings.html", "meetings-panel", ("meeting-",)),
                Panel(
                    "meetings/_client_minutes.html", "client-minutes", ("minutes-", "action-item-")
                ),
                Panel("followups/_client_ladder.html", "no-reply-ladder"),
            ),
            side=(WHATSAPP,),
        ),
        Tab(
            "escalations",
            "Escalations",
            main=(
                Panel("escalations/_client_panel.html", "escalation-panel", ("escalation-",)),
                Panel("support/_client_panel.html", "support-panel", ("support-",)),
            ),
            side=(
                Panel("metrics/_not_selling_panel.html", "not-selling-panel", ("not-selling-",)),
            ),
        ),
        Tab(
            "renewals",
            "Renewals and invoices",
            main=(
                Panel(
                    "renewals/_client_panel.html",
                    "renewal-panel",
                    ("renewal-", "invoice-", "payment-", "subscription"),
                ),
            ),
            side=(
                Panel(
                    "client_reports/_client_panel.html", "client-reports-panel", ("client-report-",)
                ),
            ),
        ),
        Tab(
            "onboarding",
            "Onboarding",
            main=(
                Panel(
                    "onboarding/_client_panel.html",
                    "onboarding-panel",
                    ("onboarding-", "welcome-", "kyc-", "launch-"),
                ),
            ),
        ),
        Tab(
            "growth",
            "Growth",
            main=(
                Panel("clients/_store_figures.html", "store-figures"),
                Panel("planning/_suggestions_panel.html", "suggestions-panel", ("suggestion-",)),
                Panel("opportunities/_client_panel.html", "opportunity-panel", ("opportunity-",)),
                Panel(
                    "customizations/_client_panel.html",
                    "customizations-panel",
                    ("customization-", "delivery-"),
                ),
            ),
            side=(
                Panel("account_plans/_client_panel.html", "account-plan-panel"),
                Panel("clients/_store_manager.html", "store-card", ("store-card-",)),
            ),
        ),
    )
}

OVERVIEW = TABS["overview"]
ONBOARDING = TABS["onboarding"]


def default_tab(client: Client) -> Tab:
    """A client being onboarded or launched: that work comes first (O1, O2, L1-L5)."""
    return ONBOARDING if client.in_launch else OVERVIEW


def tab_named(client: Client, name: str | None) -> Tab:
    """The tab asked for; an unknown name (or none) is the client's default tab."""
    return TABS.get(name or "", default_tab(client))


def tab_showing(anchor: str) -> Tab | None:
    """The tab that shows the panel (or the row) with id `anchor`."""
    return next((tab for tab in TABS.values() for p in tab.panels if p.shows(anchor)), None)


def client_page(client_id: int, anchor: str | None = None, **values) -> str:
    """The client page's address, at `anchor` on the tab that shows it (or the default
    tab, without an anchor)."""
    tab = tab_showing(anchor) if anchor else None
    if tab is not None:
        values["tab"] = tab.name
    return url_for("clients.show", client_id=client_id, _anchor=anchor, **values)
