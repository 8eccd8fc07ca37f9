"""Deny by default: every route, every role, and the anonymous visitor.

The test walks `app.url_map`: a route added without a line in ACCESS fails the suite, so
every new page comes with a decision about who may reach it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import (
    ActionItem,
    CallOutcome,
    MeetingType,
    Minutes,
    NoReplyLadder,
    NotSellingAlert,
    Role,
)
from kamportal.services import (
    account_plans,
    calendar,
    client_import,
    client_links,
    concept_documents,
    contact_log,
    customizations,
    discounts,
    escalations,
    figures_upload,
    integrations,
    invoices,
    kyc,
    meetings,
    notifications,
    onboarding,
    opportunities,
    payments,
    renewals,
    store_management,
    suggestions,
)
from tests.services.concept_world import write as write_concept
from tests.services.test_delivery import in_delivery

# Who is asking: the client's own ACM and team leader, the same roles elsewhere, the
# other roles, an admin, and nobody signed in.
VISITORS = (
    "anonymous",
    "acm",
    "other_acm",
    "leader",
    "other_leader",
    "finance",
    "product",
    "commercial",
    "store_manager",
    "admin",
)

OK, FORBIDDEN, HIDDEN, LOGIN = "ok", "403", "404", "login"
NO_TOKEN = "401"

EVERYONE = dict.fromkeys(VISITORS, OK)
SIGNED_IN = {**EVERYONE, "anonymous": LOGIN}
REGISTRY = {
    **SIGNED_IN,
    "store_manager": FORBIDDEN,
    "finance": FORBIDDEN,
    "product": FORBIDDEN,
    "commercial": FORBIDDEN,
}
# Pages of one client: its ACM, its team's leader and admins; others never learn it exists.
CLIENT = {**REGISTRY, "other_acm": HIDDEN, "other_leader": HIDDEN}
REASSIGN = {**CLIENT, "acm": FORBIDDEN, "other_acm": FORBIDDEN}
ADMIN_ONLY = {**dict.fromkeys(VISITORS, FORBIDDEN), "anonymous": LOGIN, "admin": OK}
# Finance's queue (R5-R7, R10) and commercial's discounts (R9): their role and admins.
FINANCE = {**ADMIN_ONLY, "finance": OK}
COMMERCIAL = {**ADMIN_ONLY, "commercial": OK}
# Customization requests (C1-C3): product decides them and sees them (never the rest of
# the client); the client's ACM, leader and admins see them as they see the client.
PRODUCT = {**ADMIN_ONLY, "product": OK}
# Commercial reaches a request once product accepted it, to price it (C4): the world's
# request is accepted (its page, attachments, concept document); one not accepted stays
# hidden from commercial (tests/blueprints/test_quotations.py).
CUSTOMIZATION = {**CLIENT, "product": OK, "commercial": OK}
PRICING = COMMERCIAL
# The renewal forecast: whoever follows renewals; the service narrows what each sees.
FORECAST = {
    **SIGNED_IN,
    "product": FORBIDDEN,
    "commercial": FORBIDDEN,
    "store_manager": FORBIDDEN,
}
# F4: store figures by CSV: whoever writes figures; an upload is its uploader's (the
# world's is the ACM's), admins see every one.
UPLOADERS = {**REGISTRY, "other_acm": OK, "other_leader": OK}
UPLOAD = {**UPLOADERS, "other_acm": HIDDEN, "leader": HIDDEN, "other_leader": HIDDEN}
# F4: the store-figures API takes an integration's token, never a session.
TOKEN_ONLY = dict.fromkeys(VISITORS, NO_TOKEN)
# Notifications (issue 14): each signed-in user their own; another's is not found (the
# world's is the ACM's).
# The leader's view (issue 14): leaders (each their own teams) and admins (every team).
TEAM = {**ADMIN_ONLY, "leader": OK, "other_leader": OK}
# Issue 16: clients and contacts by CSV, leaders and admins; an import is its uploader's
# (the world's is the leader's), admins see every one.
IMPORTERS = TEAM
IMPORT = {**TEAM, "other_leader": HIDDEN}
OWN_NOTIFICATION = {**dict.fromkeys(VISITORS, HIDDEN), "anonymous": LOGIN, "acm": OK}

# F6: the store manager's own page and duties (the world's client is theirs); its card's
# data-entry requests, theirs and the client's ACM's; its store manager, the leader's.
STORE_MANAGER = {**ADMIN_ONLY, "store_manager": OK}
STORE_CARD = {**CLIENT, "store_manager": OK}
ASSIGN_STORE_MANAGER = {**REASSIGN, "store_manager": FORBIDDEN}

ACCESS: dict[str, dict[str, str]] = {
    "home.index": SIGNED_IN,
    "home.health": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": SIGNED_IN,
    "clients.index": REGISTRY,
    "clients.export": REGISTRY,
    "clients.acm_choices": REGISTRY,
    "clients.import_file": IMPORTERS,
    "clients.import_template": IMPORTERS,
    "clients.show_import": IMPORT,
    "clients.import_progress": IMPORT,
    "clients.start_import": IMPORT,
    "clients.new": REGISTRY,
    "clients.show": CLIENT,
    "clients.edit": CLIENT,
    "clients.reassign": REASSIGN,
    "clients.timeline": CLIENT,
    "clients.show_tab": CLIENT,
    "clients.contact_new": CLIENT,
    "clients.contact_create": CLIENT,
    "clients.contact_row": CLIENT,
    "clients.contact_edit": CLIENT,
    "clients.contact_update": CLIENT,
    "clients.log_call": CLIENT,
    "clients.log_email": CLIENT,
    "clients.log_whatsapp": CLIENT,
    "clients.whatsapp_reply": CLIENT,
    "clients.add_note": CLIENT,
    "clients.email_contact": CLIENT,
    "clients.preview_email": CLIENT,
    "clients.retry_message": CLIENT,
    "accounts.users": ADMIN_ONLY,
    "accounts.new_user": ADMIN_ONLY,
    "accounts.edit_user": ADMIN_ONLY,
    "accounts.deactivate_user": ADMIN_ONLY,
    "accounts.activate_user": ADMIN_ONLY,
    "accounts.reset_password": ADMIN_ONLY,
    "accounts.teams": ADMIN_ONLY,
    "accounts.new_team": ADMIN_ONLY,
    "accounts.edit_team": ADMIN_ONLY,
    "accounts.calendar": ADMIN_ONLY,
    "accounts.add_calendar_day": ADMIN_ONLY,
    "accounts.remove_calendar_day": ADMIN_ONLY,
    "accounts.integrations_list": ADMIN_ONLY,
    "accounts.new_integration": ADMIN_ONLY,
    "accounts.revoke_integration": ADMIN_ONLY,
    "accounts.integration_stores": ADMIN_ONLY,
    "api.store_days": TOKEN_ONLY,
    "api.openapi": EVERYONE,
    "day.index": REGISTRY,
    "day.items": REGISTRY,
    "team.index": TEAM,
    "team.late": TEAM,
    "team.export_late": TEAM,
    "followups.ladder_panel": CLIENT,
    "followups.send_followup_email": CLIENT,
    "followups.preview_followup_email": CLIENT,
    "followups.send_whatsapp_now": CLIENT,
    "meetings.client_meetings": CLIENT,
    "meetings.new": CLIENT,
    "meetings.preview": CLIENT,
    "meetings.reschedule": CLIENT,
    "meetings.cancel": CLIENT,
    "meetings.preview_cancellation": CLIENT,
    "meetings.held": CLIENT,
    "meetings.no_show": CLIENT,
    "meetings.minutes_form": CLIENT,
    "meetings.preview_minutes": CLIENT,
    "meetings.preview_confirmation": CLIENT,
    "meetings.minutes_no_requests": CLIENT,
    "meetings.action_item_done": CLIENT,
    "meetings.client_minutes_panel": CLIENT,
    "escalations.client_panel": CLIENT,
    "escalations.raise_escalation": CLIENT,
    "escalations.record_complaint": CLIENT,
    "escalations.show": CLIENT,
    "escalations.ladder_panel": CLIENT,
    "escalations.log_call": CLIENT,
    "escalations.preview_email": CLIENT,
    "escalations.note_action": CLIENT,
    # E3: only the client's team leader or an admin decides.
    "escalations.decide": REASSIGN,
    "escalations.preview_decision": REASSIGN,
    "escalations.index": REGISTRY,
    "escalations.complaints": REGISTRY,
    "escalations.update_complaint": CLIENT,
    "escalations.complaint_form": CLIENT,
    "support.client_panel": CLIENT,
    "metrics.not_selling_panel": CLIENT,
    "metrics.record_reasons": CLIENT,
    "support.open_ticket": CLIENT,
    "renewals.client_panel": CLIENT,
    "renewals.notify": CLIENT,
    "renewals.preview_notice": CLIENT,
    "renewals.preview_reminder": CLIENT,
    "renewals.confirm": CLIENT,
    "renewals.invoice": CLIENT,
    "renewals.preview_invoice": CLIENT,
    "renewals.lost": CLIENT,
    "renewals.report_wire": CLIENT,
    "renewals.preview_wire": CLIENT,
    "renewals.payment_issue": CLIENT,
    "renewals.installments": CLIENT,
    # An invoice's PDF: whoever sees the client's invoices, finance every one (R3, C6).
    "renewals.invoice_pdf_download": {**CLIENT, "finance": OK},
    "renewals.index": REGISTRY,
    "renewals.export_renewals": REGISTRY,
    "renewals.export_invoices": REGISTRY,
    "renewals.forecast": FORECAST,
    "renewals.export_forecast": FORECAST,
    "finance.queue": FINANCE,
    "finance.export_queue": FINANCE,
    "finance.confirm_payment": FINANCE,
    "finance.wire_row": FINANCE,
    "finance.reject_payment": FINANCE,
    "finance.record_premises_payment": FINANCE,
    "finance.resolve_payment_issue": FINANCE,
    "finance.decide_refund": FINANCE,
    "finance.mark_paid_online": FINANCE,
    "discounts.queue": COMMERCIAL,
    "discounts.decide": COMMERCIAL,
    "customizations.new": CLIENT,
    "customizations.show": CUSTOMIZATION,
    "customizations.attachment": CUSTOMIZATION,
    "customizations.decide": PRODUCT,
    "customizations.answer_hold": CLIENT,
    "customizations.queue": PRODUCT,
    "customizations.send_rejection": CLIENT,
    "customizations.preview_rejection": CLIENT,
    # C4: product's period; commercial's price (of an accepted request only); R9, C6: the
    # ACM's discount request and invoice.
    "customizations.estimate": PRODUCT,
    "customizations.price": PRICING,
    "customizations.ask_discount": CLIENT,
    "customizations.issue_invoice": CLIENT,
    "customizations.preview_invoice": CLIENT,
    # C7: the delivery's changes are the client's ACM's (leader, admin); the client's own
    # acceptance and survey links need no sign-in, the signed token decides what opens.
    "customizations.add_milestone": CLIENT,
    "customizations.update_milestone": CLIENT,
    "customizations.send_acceptance_link": CLIENT,
    "customizations.preview_acceptance_link": CLIENT,
    "customizations.preview_survey": CLIENT,
    "customizations.record_acceptance": CLIENT,
    "customizations.close": CLIENT,
    "customizations.resend_survey": CLIENT,
    "customizations.public_acceptance": EVERYONE,
    "customizations.public_survey": EVERYONE,
    "onboarding.client_panel": CLIENT,
    "onboarding.welcome": CLIENT,
    # O1: the client's own link, no sign-in; the signed token decides what it opens.
    "onboarding.kyc_form": EVERYONE,
    "onboarding.kyc_answers": CLIENT,
    "onboarding.kyc_send_link": CLIENT,
    "onboarding.kyc_preview_link": CLIENT,
    "onboarding.kyc_revoke": CLIENT,
    "onboarding.launch": CLIENT,
    "onboarding.item": CLIENT,
    "onboarding.tick_item": CLIENT,
    "onboarding.item_details": CLIENT,
    "onboarding.go_live": CLIENT,
    "onboarding.record_usage": CLIENT,
    # L2: an agreed exception is the client's team leader's (or an admin's) to record.
    "onboarding.grant_exception": {**CLIENT, "acm": FORBIDDEN},
    # C5: the concept document, read as the request is, written by whoever works on the
    # client; the client's page and its PDF need no sign-in (the signed token decides).
    "customizations.concept_edit": CLIENT,
    "customizations.concept_print": CUSTOMIZATION,
    "customizations.concept_pdf_download": CUSTOMIZATION,
    "customizations.concept_send": CLIENT,
    "customizations.concept_preview_send": CLIENT,
    "customizations.concept_revoke": CLIENT,
    "customizations.concept_signed_copy": CLIENT,
    "customizations.public_concept": EVERYONE,
    "customizations.public_concept_pdf": EVERYONE,
    "figures.upload": UPLOADERS,
    "figures.show": UPLOAD,
    "figures.progress": UPLOAD,
    "figures.start_import": UPLOAD,
    "notifications.index": SIGNED_IN,
    "notifications.badge": SIGNED_IN,
    "notifications.mark_read": OWN_NOTIFICATION,
    "notifications.mark_all_read": SIGNED_IN,
    "store_management.index": STORE_MANAGER,
    "store_management.mark_done": STORE_MANAGER,
    "store_management.log_request": STORE_CARD,
    "store_management.finish_request": STORE_CARD,
    "store_management.assign": ASSIGN_STORE_MANAGER,
    # P1: the account plan, read and written as the client is.
    "account_plans.show": CLIENT,
    "account_plans.save_summary": CLIENT,
    "account_plans.add_goal": CLIENT,
    "account_plans.update_goal": CLIENT,
    "account_plans.remove_goal": CLIENT,
    "account_plans.add_stakeholder": CLIENT,
    "account_plans.remove_stakeholder": CLIENT,
    "account_plans.record_review": CLIENT,
    # F5: the catalogue is the admin's; what is suggested to a client is its ACM's (leader,
    # admin).
    "planning.catalogue": ADMIN_ONLY,
    "planning.add_recommendation": ADMIN_ONLY,
    "planning.edit_recommendation": ADMIN_ONLY,
    "planning.retire_recommendation": ADMIN_ONLY,
    "planning.stock_catalogue": ADMIN_ONLY,
    "planning.suggestions_panel": CLIENT,
    "planning.suggest": CLIENT,
    "planning.record_answer": CLIENT,
    "planning.record_outcome": CLIENT,
    # P3: a client's opportunities as the client; the pipeline, the registry's roles (the
    # service narrows it to each one's clients).
    "opportunities.client_panel": CLIENT,
    "opportunities.new": CLIENT,
    "opportunities.edit": CLIENT,
    "opportunities.move": CLIENT,
    "opportunities.win": CLIENT,
    "opportunities.index": REGISTRY,
    # P4: the monthly report, read and sent by whoever works on the client.
    "client_reports.show": CLIENT,
    "client_reports.pdf": CLIENT,
    "client_reports.send": CLIENT,
    "client_reports.preview_email": CLIENT,
    "client_reports.client_panel": CLIENT,
    # Issue 16: everyone searches; the service finds each only what they may open
    # (tests/blueprints/test_search.py).
    "search.index": SIGNED_IN,
}
# The token each client-link page is opened with in these tests, by endpoint (the KYC
# token otherwise).
LINK_TOKENS = ("customizations.public_concept", "customizations.public_concept_pdf")


@dataclass
class World:
    clients: dict  # visitor name -> signed-in test client (None for anonymous)
    ids: dict  # URL parameter -> value
    tokens: dict = field(default_factory=dict)  # endpoint -> the token its URL takes


@pytest.fixture
def world(app, make_portfolio, make_user, make_client_report, login_as, db) -> World:
    app.config["PUBLIC_URL"] = "http://localhost"
    cairo = make_portfolio(team={"name": "Cairo"}, contact=True)
    acm, client, contact = cairo.acm, cairo.client, cairo.contact
    dubai = make_portfolio(team={"name": "Dubai"}, client=False)
    # An account the admin routes act on, so no visitor acts on themselves.
    spare = make_user(Role.ACM, team=cairo.team)
    users = {
        "acm": acm,
        "other_acm": dubai.acm,
        "leader": cairo.leader,
        "other_leader": dubai.leader,
        "finance": make_user(Role.FINANCE),
        "product": make_user(Role.PRODUCT),
        "commercial": make_user(Role.COMMERCIAL),
        "store_manager": make_user(Role.STORE_MANAGER),
        "admin": make_user(Role.ADMIN),
    }
    clients = {name: login_as(user) for name, user in users.items()}
    clients["anonymous"] = app.test_client()
    # The client's records that routes act on: an unanswered call's no-reply ladder (F2),
    # an answered call's owed minutes with an action item (G5), an admin calendar day.
    contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.NO_ANSWER)
    answered = contact_log.log_call(
        client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED
    )
    db.session.flush()
    minutes = db.session.scalar(select(Minutes).where(Minutes.call_event_id == answered.id))
    item = ActionItem(
        minutes=minutes, client_id=client.id, description="x", owner="acm", due_on=date.today()
    )
    db.session.add(item)
    day = calendar.set_calendar_day("EG", date(2030, 1, 2), is_holiday=True, name="x", actor=None)
    integration, _ = integrations.create_integration("Platform", actor=None)
    meeting = meetings.schedule_meeting(
        client,
        actor=acm,
        kind=MeetingType.WEEKLY,
        starts_at=clock.now() + timedelta(days=3),
        duration_minutes=30,
        zoom_link="https://zoom.us/j/1234567890",
        agenda="Weekly",
        attendees=[contact],
    )
    escalation = escalations.raise_escalation(
        client, actor=acm, trigger="asked_for_manager", said="x", channel="call"
    )
    complaint = escalations.record_complaint(
        client, actor=acm, kind="refund", said="x", channel="email", refund_amount="100"
    )
    client.renewal_date = date.today() + timedelta(days=10)
    [renewal] = renewals.open_due_renewals(now=clock.now())
    renewals.confirm_renewal(renewal, actor=acm, agreed_on=renewal.due_on, amount="100")
    invoice = invoices.issue_invoice(client, actor=acm, renewal=renewal, due_on=renewal.due_on)
    # Finance's and commercial's work on it: a wire to confirm (R7), a payment issue (R5),
    # a discount to decide (R9).
    payment = payments.report_wire_transfer(invoice, actor=acm, amount="100")
    issue = payments.raise_payment_issue(invoice, actor=acm, note="x")
    quotation = discounts.request_discount(client, actor=acm, description="x", discount="10")
    # A customization request with an attachment, awaiting product's decision (C1, C2).
    customization = customizations.open_request(
        client,
        actor=acm,
        title="x",
        end_result="x",
        users="x",
        done_when="x",
        wanted_by=date.today() + timedelta(days=30),
        uploads=[customizations.Upload("scope.pdf", b"%PDF-1.4 x")],
    )
    # A customization in delivery, every milestone done, with its acceptance and survey
    # links out (C7).
    delivering = in_delivery(db, client, acm, due=[date.today()], done=1)
    acceptance = client_links.issue(delivering, "acceptance", to=contact.email, actor=acm)
    survey = client_links.issue(delivering, "survey", to=contact.email, actor=acm)
    # The launch checklists and a KYC link the client's routes act on (O1, L1-L5).
    onboarding.instantiate_checklists(client)
    kyc.send_link(client, actor=acm)
    # Accepted and priced, its concept document written and sent (C5): the decision and
    # the quotation set directly.
    customization.status = "accepted"
    customization.decision_due_at = None
    customization.estimated_days, customization.price, customization.price_currency = 5, 100, "EGP"
    customization.stage = "concept"
    write_concept(customization, actor=acm)
    concept_message = concept_documents.send_concept(customization, actor=acm)
    concept_token = concept_message.body.split("/concept/", 1)[1].split()[0]
    # A CSV of store figures the ACM uploaded, checked and waiting to be imported (F4).
    figures = figures_upload.receive(
        actor=acm,
        filename="figures.csv",
        data=f"store_code,day,orders,gmv\n{client.store_code},2026-01-05,3,10\n".encode(),
    )
    # A CSV of contacts the leader uploaded, checked and waiting to be imported (issue 16).
    contacts = client_import.receive(
        actor=cairo.leader,
        kind="contacts",
        filename="contacts.csv",
        data=f"store_code,name,email\n{client.store_code},Mona,mona@store.example\n".encode(),
    )
    # A store not selling whose reasons are owed (F4).
    alert = NotSellingAlert(
        client_id=client.id, raised_at=clock.now(), cause="no_orders", detail="No orders"
    )
    db.session.add(alert)
    # An account plan with two goals: one to change, one to remove (P1).
    goals = [
        account_plans.add_goal(
            client,
            account_plans.GoalInput("x", "x", "x", date(2027, 6, 30)),
            actor=acm,
        ).content["goals"][-1]["key"]
        for _ in range(2)
    ]
    # The client's Online Store Manager and a data-entry request sent to them (F6).
    client.has_store_manager = True
    client.store_manager = users["store_manager"]
    data_entry = store_management.log_request(
        client, actor=acm, description="Add 10 products", size="small"
    )
    # An app suggested to the client, still open (F5).
    suggestions.stock_catalogue(actor=None)
    [app_entry, *_] = suggestions.offered()
    suggestion = suggestions.suggest(client, app_entry, actor=acm, channel="meeting")
    # Last month's report, drafted (P4).
    report = make_client_report(client)
    # Something newly owed by the ACM (issue 14).
    [notification] = notifications.notify(
        acm, kind=notifications.NOT_SELLING, text="Not selling", link="/", key="world"
    )
    # An upsell opportunity, a customization to win (P3, C1).
    opportunity = opportunities.add_opportunity(
        client,
        actor=acm,
        details=opportunities.Details(
            kind="customization",
            title="x",
            amount="100",
            currency="EGP",
            expected_close_on=date.today() + timedelta(days=30),
        ),
    )
    db.session.commit()
    ids = {
        "opportunity_id": opportunity.id,
        "notification_id": notification.id,
        "recommendation_id": app_entry.id,
        "suggestion_id": suggestion.id,
        "report_id": report.id,
        "alert_id": alert.id,
        "client_id": client.id,
        "contact_id": contact.id,
        "user_id": spare.id,
        "team_id": dubai.team.id,
        "ladder_id": db.session.scalar(select(NoReplyLadder.id)),
        "minutes_id": minutes.id,
        "item_id": item.id,
        "day_id": day.id,
        "integration_id": integration.id,
        "meeting_id": meeting.id,
        "section": "minutes",
        "rule": "F1",
        "name": "renewals",
        "message_id": 1,
        "escalation_id": escalation.id,
        "complaint_id": complaint.id,
        "action": "resolve",
        "renewal_id": renewal.id,
        "invoice_id": invoice.id,
        "payment_id": payment.id,
        "issue_id": issue.id,
        "quotation_id": quotation.id,
        "request_id": customization.id,
        "attachment_id": customization.attachments[0].id,
        "upload_id": figures.id,
        ("clients.show_import", "upload_id"): contacts.id,
        ("clients.import_progress", "upload_id"): contacts.id,
        ("clients.start_import", "upload_id"): contacts.id,
        "kind": "clients",
        "checklist": "lms",
        "item_key": "domain-ssl",
        "token": kyc.token_for(kyc.questionnaire_of(client)),
        "milestone_id": delivering.milestones[0].id,
        "key": goals[0],
        ("account_plans.remove_goal", "key"): goals[1],
        "entry_id": data_entry.id,
        # A URL argument of the same name that one endpoint reads its own way.
        ("customizations.update_milestone", "request_id"): delivering.id,
        ("customizations.add_milestone", "request_id"): delivering.id,
        ("customizations.public_acceptance", "token"): client_links.token_for(acceptance),
        ("customizations.public_survey", "token"): client_links.token_for(survey),
    }
    return World(clients, ids, dict.fromkeys(LINK_TOKENS, concept_token))


def outcome(response) -> str:
    # The sign-in redirect of an anonymous visitor names the page asked for.
    if response.status_code == 302 and "/login?next=" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    return OK


def routes(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_has_an_access_decision(app):
    endpoints = {rule.endpoint for rule in routes(app)}
    assert endpoints - ACCESS.keys() == set(), "new routes need a line in ACCESS"
    assert ACCESS.keys() - endpoints == set(), "ACCESS names routes that no longer exist"


def test_every_route_answers_every_visitor_as_decided(app, world):
    # Signing out ends the session the other checks use: it goes last.
    rules = sorted(routes(app), key=lambda r: r.endpoint == "auth.logout")
    failures = []
    for rule in rules:
        values = {k: world.ids.get((rule.endpoint, k), world.ids.get(k)) for k in rule.arguments}
        if rule.endpoint in world.tokens:
            values["token"] = world.tokens[rule.endpoint]
        url = rule.build(values)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        for visitor in VISITORS:
            http = world.clients[visitor]
            response = http.open(url, method=method, data={})
            got, expected = outcome(response), ACCESS[rule.endpoint][visitor]
            response.close()  # a streamed download holds its request until closed
            if got != expected:
                failures.append(f"{method} {url} as {visitor}: {got}, expected {expected}")
    assert failures == [], "\n".join(failures)


def test_a_view_without_a_decision_is_refused(app, login_as):
    """Deny by default: a view registered without allow/signed_in/public answers 403."""
    app.add_url_rule("/undecided", "undecided", lambda: "secret")
    response = login_as(Role.ADMIN).get("/undecided")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_anonymous_htmx_request_is_told_to_go_to_sign_in(client):
    response = client.get("/clients/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_pages_carry_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "HX-Request" in response.headers["Vary"]


def test_after_an_expired_session_htmx_returns_to_the_page_not_the_fragment(client):
    response = client.get(
        "/clients/3/timeline?page=2",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/clients/3?page=2"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/clients/3?page%3D2"
