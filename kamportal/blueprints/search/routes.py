"""Finding anything from anywhere (issue 16): the header's search box and its page.

The box's HTMX request gets the list that drops down under it (a few of each kind); a
plain request, the box sent with Enter or without JavaScript, gets the page of results
(more of each). Every result links to the page services/finder.py chose for the user.

Access: every signed-in user; the service keeps each to what they may see and open.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request, url_for

from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.search import bp
from kamportal.blueprints.web import acting_user, is_htmx, render, signed_in
from kamportal.services import finder
from kamportal.services.finder import Found, Opens

_LINKS: dict[Opens, Callable[[Found], str]] = {
    Opens.CLIENT: lambda found: url_for("clients.show", client_id=found.client_id),
    Opens.CONTACT: lambda found: client_page(found.client_id, f"contact-{found.record_id}"),
    Opens.INVOICE: lambda found: client_page(found.client_id, "renewal-panel"),
    Opens.INVOICE_PDF: lambda found: url_for(
        "renewals.invoice_pdf_download", invoice_id=found.record_id
    ),
    Opens.SUPPORT_TICKET: lambda found: client_page(found.client_id, "support-panel"),
    Opens.CUSTOMIZATION: lambda found: url_for("customizations.show", request_id=found.record_id),
    Opens.STORE_CARD: lambda found: url_for(
        "store_management.index",
        page=found.position // current_app.config["CLIENTS_PER_PAGE"] + 1,
        _anchor=f"store-card-{found.client_id}",
    ),
}


def link_to(found: Found) -> str:
    """The address of the page `found` opens."""
    return _LINKS[found.opens](found)


@bp.route("/search")
@signed_in
def index():
    """What the text typed (`q`) finds: the box's dropdown (HTMX) or the page of results."""
    dropdown = is_htmx()
    findings = finder.find(
        acting_user(),
        request.args.get("q"),
        limit=finder.DROPDOWN_LIMIT if dropdown else finder.PAGE_LIMIT,
    )
    return render(
        "search/index.html",
        "search/_results.html",
        findings=findings,
        link_to=link_to,
        min_length=finder.MIN_LENGTH,
    )
