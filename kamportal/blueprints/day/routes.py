"""The ACM's day: what is owed today, and since when (E2, E3, F1, F2, F3, F4, G5, G6,
O2, R1-R4).

The page shows the signed-in user's own day; each section refreshes in place through its
fragment when something changes on the page (`*-changed` events) and every minute.
"""

from flask import Response, abort, request

from kamportal import clock
from kamportal.blueprints.day import bp
from kamportal.blueprints.web import acting_user, allow, fragment, is_htmx, render
from kamportal.models import Role
from kamportal.services import day, validation

# Who has a day; it is also their start page (home.index).
DAY_ROLES = (Role.ACM, Role.LEADER, Role.ADMIN)

# What each section listens for, besides the minute tick.
REFRESH_ON = {
    "escalations": "escalation-changed from:body, timeline-changed from:body",
    "welcome": "timeline-changed from:body",
    "renewals": "renewal-changed from:body",
    "customizations": "customization-changed from:body, timeline-changed from:body",
    "meetings": "meeting-changed from:body",
    "confirmations": "meeting-changed from:body",
    "minutes": "minutes-changed from:body, meeting-changed from:body",
    "no_reply": "timeline-changed from:body",
    "whatsapp": "timeline-changed from:body",
    "followups": "timeline-changed from:body, meeting-changed from:body",
    "actions": "minutes-changed from:body",
    "support": "timeline-changed from:body",
    "rejections": "customization-changed from:body, timeline-changed from:body",
    "customization_invoices": "customization-changed from:body, timeline-changed from:body",
    "concepts": "concept-changed from:body, timeline-changed from:body",
    "delivery": "customization-changed from:body, timeline-changed from:body",
    "not_selling": "not-selling-changed from:body, timeline-changed from:body",
    "handovers": "meeting-changed from:body, timeline-changed from:body",
    "plan_reviews": "plan-changed from:body",
    "client_reports": "client-report-changed from:body, timeline-changed from:body",
}


def day_page(pages: dict[str, int] | None = None) -> Response:
    """The signed-in user's whole day (also the ACM's start page: home.index), each
    section at its page of `pages`."""
    user = acting_user()
    now = clock.now()
    return render(
        "day/day.html",
        sections=day.day_of(user, now=now, pages=pages),
        today=clock.today(user.timezone, at=now),
        refresh_on=REFRESH_ON,
    )


@bp.route("/")
@allow(*DAY_ROLES)
def index() -> Response:
    """The signed-in user's day."""
    return day_page()


@bp.route("/items/<section>")
@allow(*DAY_ROLES)
def items(section: str) -> Response:
    """One section of the day, at its `page`, for HTMX to swap in place; the whole page,
    that section at that page, otherwise."""
    if section not in day.SECTIONS:
        abort(404)
    page = validation.query_number(request.args.get("page"), default=1)
    if not is_htmx():
        return day_page({section: page})
    user = acting_user()
    now = clock.now()
    return fragment(
        "day/_section.html",
        section=day.SectionPage(day.section(user, section, now=now, page=page), asked=page),
        today=clock.today(user.timezone, at=now),
        refresh_on=REFRESH_ON,
    )
