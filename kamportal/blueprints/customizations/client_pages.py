"""What every client page behind a customization link shares (C5, C7): the rate limit of
the KYC page, private answers (no cache, no Referer, no search engine), and the refusal
of a link that opens nothing, alone on the page."""

from __future__ import annotations

from flask import Response, current_app, request

from kamportal.blueprints.customizations import bp
from kamportal.blueprints.web import keep_link_private, link_refused, whole_page
from kamportal.errors import DomainError

# The pages a client opens through a link, and the id of the content each replaces.
PUBLIC_PAGES = {
    "customizations.public_concept": "concept-page",
    "customizations.public_concept_pdf": "concept-page",
    "customizations.public_acceptance": "link-page",
    "customizations.public_survey": "link-page",
}


def link_limit() -> str:
    return current_app.config["KYC_RATE_LIMIT"]  # the same as the KYC page's


@bp.after_request
def _keep_the_link_private(response: Response) -> Response:
    """Error pages of these addresses (429, an expired CSRF token) included."""
    if request.endpoint in PUBLIC_PAGES:
        keep_link_private(response)
    return response


def replacing_the_page(response: Response) -> Response:
    """An answer that replaces the client page's content, not just its form (HTMX)."""
    return whole_page(response, PUBLIC_PAGES[request.endpoint])


def refused(refusal: DomainError) -> Response:
    """The link opens nothing: why, alone on the page, naming nothing of the client."""
    return link_refused(refusal, PUBLIC_PAGES[request.endpoint])
