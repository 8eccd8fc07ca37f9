"""Whatever is typed, every form answers with a page, never a 5xx, and a refused form
writes nothing (issue 11).

Hypothesis posts generated values, ordinary and hostile (NUL bytes, control characters,
right-to-left overrides, markup, `1e30`, `sNaN`, year 1 and 9999, 300-character zones,
ids past 64 bits...), to every route that takes a POST, signed in as a role allowed to use
it, on a demo portfolio; and hostile query strings to every page. It runs on SQLite and,
in CI's second run, on PostgreSQL (which refuses NUL in text and checks every length).

Each route's fields are found the way a browser finds them: the forms the route builds
when it is opened (or posted empty) are read for their fields and choices.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FileField,
    FormField,
    IntegerField,
    SubmitField,
    TimeField,
)
from wtforms.csrf.core import CSRFTokenField

import kamportal
from kamportal import clock, create_app, demo
from kamportal.blueprints.client_tabs import TABS
from kamportal.blueprints.web import PUBLIC, access_of
from kamportal.config import TestConfig
from kamportal.extensions import db as _db
from kamportal.models import (
    AccountPlan,
    ActionItem,
    CalendarDay,
    CallOutcome,
    ChecklistItem,
    Client,
    ClientLink,
    ClientReport,
    Complaint,
    Contact,
    CustomizationAttachment,
    CustomizationRequest,
    CustomizationStage,
    DataEntryRequest,
    Escalation,
    FiguresUpload,
    Integration,
    Invoice,
    KycQuestionnaire,
    LifecycleStatus,
    Meeting,
    Milestone,
    Minutes,
    NoReplyLadder,
    Notification,
    NotSellingAlert,
    Opportunity,
    OutboxMessage,
    Payment,
    PaymentIssue,
    Quotation,
    Recommendation,
    Renewal,
    Role,
    Suggestion,
    Team,
    User,
    UserRole,
)
from kamportal.services import (
    account_plans,
    accounts,
    calendar,
    client_import,
    client_links,
    concept_documents,
    contact_log,
    day,
    figures_upload,
    integrations,
    kyc,
    notifications,
    team_view,
)
from tests.conftest import PASSWORD, app_on_its_own_database
from tests.services.concept_world import request_in_concept
from tests.services.concept_world import write as write_concept

# Derandomized, so CI is repeatable; HYPOTHESIS_EXAMPLES=500 for a deeper run by hand.
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "25"))
CHECKS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: the world changes as examples succeed, and CI time counts. The failing
    # example is reported as generated.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- What people (and probes) type ---------------------------------------------------------

# What breaks a database or a parser: NUL (PostgreSQL refuses it in text) and other
# controls, overrides, markup, LIKE wildcards, line breaks, a byte-order mark, lengths.
INVISIBLE = ["\x00", "Cairo\x00Store", "a\x07b\x1bc", "\u202egnp.exe", "\u2066x\u2069", "\ufeff"]
HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "\r\n",
    " ",
    "x" * 300,
    "ش" * 5000,
    "𝕏😀",
]
HOSTILE_NUMBERS = [
    "1e30",
    "-1e30",
    "1E+400",
    "Infinity",
    "-Infinity",
    "NaN",
    "sNaN",
    "99999999999999999999",
    "-0",
    "0",
    "0.0001",
    "1,250.50",
    "1.250,50",
    "١٢٥٠٫٥٠",
    "1_000",
    "0x10",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
]
HOSTILE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "1900-02-29",
    "2026-02-30",
    "10000-01-01",
    "-2026-01-01",
    "2026-12-05T10:00",
]
HOSTILE_TIMES = ["24:00", "23:59:60", "01:30", "-1:00", "99:99"]
HOSTILE_ZONES = ["localtime", "Factory", "UTC", "x" * 300, "../../etc/passwd", "Africa/Cairo\x00"]
ORDINARY = ["", "1250.50", "2026-12-24", "10:30", "Africa/Cairo", "EG", "EGP", "Hello"]

any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80)
# Each kind of trouble as likely as the others, whatever the size of its list.
hostile = st.one_of(
    st.sampled_from(INVISIBLE),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_DATES + HOSTILE_TIMES),
    st.sampled_from(HOSTILE_ZONES),
)


# What a person would type in a text field, by what the field is called.
TYPICAL = {
    "amount": "1,250.50",
    "email": "someone@store.example",
    "link": "https://zoom.us/j/81234567890",
    "code": "STORE-1",
    "phone": "+201001234567",
    "whatsapp": "+201001234567",
    "timezone": "Africa/Cairo",
    "country": "EG",
    "currency": "EGP",
    "number": "R-1",
}


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in names:
            package.writestr(name, "x")
    return buffer.getvalue()


# Files an upload field gets: what a person attaches, and what no one should (a name that
# climbs out of the folder or holds a NUL, content that is not what the name says, a zip
# that is no Office document, nothing at all).
GOOD_FILES = [("scope.pdf", b"%PDF-1.4 scope"), ("mock-up.png", b"\x89PNG\r\n\x1a\n....")]
HOSTILE_FILES = [
    ("../../../etc/passwd.pdf", b"%PDF-1.4"),
    ("evil\x00.pdf", b"%PDF-1.4"),
    ("C:\\Windows\\win.ini.png", b"\x89PNG\r\n\x1a\n"),
    ("x" * 300 + ".pdf", b"%PDF-1.4"),
    ("page.html.pdf", b"<script>alert(1)</script>"),
    ("sheet.xlsx", _zip("[Content_Types].xml", "word/document.xml")),
    ("deck.pptx", b"PK\x03\x04 not a zip"),
    ("empty.docx", b""),
    ("run.exe", b"MZ"),
    ("\u202egnp.pdf", b"%PDF-1.4"),
]


def _upload(files: list[tuple[str, bytes]]) -> st.SearchStrategy[Any]:
    """A fresh file for each request (a stream is read once)."""
    return st.sampled_from(files).map(lambda f: (io.BytesIO(f[1]), f[0]))


def _fitting(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """What belongs in the field: a choice offered, the value the page showed, a date
    near today, what its name asks for."""
    if spec.choices:
        return st.sampled_from(spec.choices)
    if issubclass(spec.kind, FileField):
        return _upload(GOOD_FILES)
    if issubclass(spec.kind, BooleanField):
        return st.sampled_from(["y", ""])
    if issubclass(spec.kind, DateField):
        near = st.integers(-60, 400).map(lambda d: (date.today() + timedelta(days=d)).isoformat())
        return near
    if issubclass(spec.kind, TimeField):
        return st.times().map(lambda t: t.strftime("%H:%M"))
    if issubclass(spec.kind, (IntegerField, DecimalField)):
        return st.integers(0, 400).map(str)
    typical = next((v for k, v in TYPICAL.items() if k in spec.name), "Hello there")
    return st.sampled_from([spec.shown or typical, typical])


def _unfitting(spec: FieldSpec) -> st.SearchStrategy[str]:
    """What does not belong: a fitting value spoiled by an invisible character (past the
    choices, into the service and the database), hostile values, anything at all."""
    if issubclass(spec.kind, FileField):
        return st.one_of(_upload(HOSTILE_FILES), hostile, any_text)
    spoiled = st.tuples(_fitting(spec), st.sampled_from(INVISIBLE)).map("".join)
    return st.one_of(spoiled, hostile, any_text)


def _form_values(fields: dict[str, FieldSpec], data: st.DataObject) -> dict[str, Any]:
    """Half the time every field fits but one, so the bad value goes as deep as it can;
    otherwise any field may be anything, or missing."""
    names = sorted(fields)
    if not names:
        return {}
    target = data.draw(st.sampled_from(names), label="the bad field")
    one_bad = data.draw(st.booleans(), label="one bad field")
    values = {}
    for name in names:
        spec = fields[name]
        if one_bad:
            kind = _unfitting(spec) if name == target else _fitting(spec)
        else:
            kind = st.one_of(_fitting(spec), _unfitting(spec), st.none())
        value = data.draw(kind, label=name)
        if value is not None:
            values[name] = value
    return values


# --- The forms a route builds ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: type
    choices: tuple[str, ...] = ()
    shown: str = ""


@contextmanager
def forms_built() -> Iterator[list[FlaskForm]]:
    """Every form a request builds, read after the route has set its choices."""
    built: list[FlaskForm] = []
    original = FlaskForm.__init__

    def init(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        built.append(self)

    FlaskForm.__init__ = init  # type: ignore[method-assign]
    try:
        yield built
    finally:
        FlaskForm.__init__ = original  # type: ignore[method-assign]


def _fields_of(form: Any) -> Iterator[FieldSpec]:
    for f in form:
        if isinstance(f, (CSRFTokenField, SubmitField)):
            continue
        if isinstance(f, FieldList):
            for entry in f:
                yield from _fields_of(entry.form) if isinstance(entry, FormField) else ()
            continue
        if isinstance(f, FormField):
            yield from _fields_of(f.form)
            continue
        choices: tuple[str, ...] = ()
        if getattr(f, "choices", None):
            choices = tuple(str(value) for value, *_ in f.iter_choices() if value != "")
        shown = f._value() if hasattr(f, "_value") and not choices else ""
        yield FieldSpec(f.name, type(f), choices, shown if isinstance(shown, str) else "")


# --- The world: a demo portfolio, everyone signed in -------------------------------------------

# What each route's URL names, and where to find one: the columns are the URL's arguments,
# and `client` the client it belongs to (whose ACM or leader acts).
FINDERS: dict[frozenset[str], Callable[[], Any]] = {
    frozenset({"client_id"}): lambda: select(
        Client.id.label("client_id"), Client.id.label("client")
    ),
    frozenset({"client_id", "contact_id"}): lambda: _of_client(Contact, "contact_id"),
    frozenset({"client_id", "ladder_id"}): lambda: _of_client(NoReplyLadder, "ladder_id"),
    frozenset({"client_id", "alert_id"}): lambda: _of_client(NotSellingAlert, "alert_id"),
    frozenset({"client_id", "suggestion_id"}): lambda: _of_client(Suggestion, "suggestion_id"),
    frozenset({"recommendation_id"}): lambda: select(Recommendation.id.label("recommendation_id")),
    # Anyone's: only their owner (the admin who acts) marks them; others' are not found.
    frozenset({"notification_id"}): lambda: select(Notification.id.label("notification_id")),
    frozenset({"client_id", "message_id"}): lambda: _of_client(OutboxMessage, "message_id").where(
        OutboxMessage.client_id.is_not(None)
    ),
    frozenset({"client_id", "checklist", "item_key"}): lambda: select(
        ChecklistItem.client_id,
        ChecklistItem.checklist,
        ChecklistItem.item_key,
        ChecklistItem.client_id.label("client"),
    ),
    frozenset({"item_id"}): lambda: _by_id(ActionItem, "item_id"),
    frozenset({"meeting_id"}): lambda: _by_id(Meeting, "meeting_id"),
    frozenset({"minutes_id"}): lambda: _by_id(Minutes, "minutes_id"),
    frozenset({"complaint_id"}): lambda: _by_id(Complaint, "complaint_id"),
    frozenset({"escalation_id"}): lambda: _by_id(Escalation, "escalation_id"),
    frozenset({"escalation_id", "action"}): lambda: _by_id(Escalation, "escalation_id"),
    frozenset({"renewal_id"}): lambda: _by_id(Renewal, "renewal_id"),
    # A customization first: its win takes the scope of work (C1), the form read.
    frozenset({"opportunity_id"}): lambda: _by_id(Opportunity, "opportunity_id").order_by(
        Opportunity.kind != "customization", Opportunity.id
    ),
    frozenset({"report_id"}): lambda: _by_id(ClientReport, "report_id"),
    frozenset({"request_id"}): lambda: _by_id(CustomizationRequest, "request_id"),
    frozenset({"request_id", "milestone_id"}): lambda: select(
        Milestone.request_id,
        Milestone.id.label("milestone_id"),
        CustomizationRequest.client_id.label("client"),
    ).join(Milestone.request),
    frozenset({"request_id", "attachment_id"}): lambda: select(
        CustomizationAttachment.request_id,
        CustomizationAttachment.id.label("attachment_id"),
        CustomizationRequest.client_id.label("client"),
    ).join(CustomizationAttachment.request),
    frozenset({"invoice_id"}): lambda: _by_id(Invoice, "invoice_id"),
    frozenset({"quotation_id"}): lambda: _by_id(Quotation, "quotation_id"),
    frozenset({"payment_id"}): lambda: select(
        Payment.id.label("payment_id"), Invoice.client_id.label("client")
    ).join(Payment.invoice),
    frozenset({"issue_id"}): lambda: select(
        PaymentIssue.id.label("issue_id"), Invoice.client_id.label("client")
    ).join(PaymentIssue.invoice),
    frozenset({"team_id"}): lambda: select(Team.id.label("team_id")),
    frozenset({"upload_id"}): lambda: select(FiguresUpload.id.label("upload_id")),
    # Only the spare users: the others act in these tests and must stay able to sign in.
    frozenset({"user_id"}): lambda: select(User.id.label("user_id")).where(
        User.email.like("spare%")
    ),
    frozenset({"day_id"}): lambda: select(CalendarDay.id.label("day_id")),
    frozenset({"integration_id"}): lambda: select(Integration.id.label("integration_id")),
    frozenset({"token"}): lambda: select(KycQuestionnaire.id.label("token")).where(
        KycQuestionnaire.link_nonce.is_not(None)
    ),
    # F6: a data-entry request (a duty done is posted to its client's URL).
    frozenset({"entry_id"}): lambda: select(
        DataEntryRequest.id.label("entry_id"), DataEntryRequest.client_id.label("client")
    ),
    # P1: a goal's or a stakeholder's key in a client's account plan.
    frozenset({"client_id", "key"}): lambda: _plan_keys(),
    frozenset({"section"}): lambda: [{"section": name} for name in [*day.SECTIONS, "nothing"]],
    frozenset({"kind"}): lambda: [{"kind": kind} for kind in [*client_import.KINDS, "nothing"]],
    frozenset({"rule"}): lambda: [{"rule": name} for name in [*team_view.LATE_RULES, "X9"]],
    # A tab of the client page (issue 16), and a name that is none.
    frozenset({"client_id", "name"}): lambda: [
        {"client_id": client_id, "name": name, "client": client_id}
        for client_id in _db.session.scalars(select(Client.id).order_by(Client.id).limit(3))
        for name in [*TABS, "nothing"]
    ],
    frozenset(): lambda: None,
}


# The customization pages behind a client's link (C7): the purpose of each one's token.
LINK_PURPOSES = {
    "customizations.public_concept": "concept",
    "customizations.public_concept_pdf": "concept",
    "customizations.public_acceptance": "acceptance",
    "customizations.public_survey": "survey",
}


def _link_rows(route: Route) -> Any:
    return select(ClientLink.id.label("token")).where(
        ClientLink.purpose == LINK_PURPOSES[route.endpoint]
    )


def _token(route: Route, row_id: int) -> str:
    """The token of the link (a customization link, or a KYC questionnaire's) a row names."""
    if route.endpoint in LINK_PURPOSES:
        link = _db.session.get(ClientLink, row_id)
        return client_links.token_for(link) if link else "no-such-link"
    questionnaire = _db.session.get(KycQuestionnaire, row_id)
    return kyc.token_for(questionnaire) if questionnaire else "no-such-link"


def _by_id(model: Any, argument: str) -> Any:
    """Rows of `model` named by their id as `argument`, with the client they belong to."""
    return select(model.id.label(argument), model.client_id.label("client"))


def _of_client(model: Any, argument: str) -> Any:
    """Rows of `model` under their client's URL (`/clients/<client_id>/...`)."""
    return select(
        model.client_id.label("client_id"),
        model.id.label(argument),
        model.client_id.label("client"),
    )


ESCALATION_ACTIONS = ["resolve", "to-leader", "resume"]


@dataclass
class Route:
    endpoint: str
    rule: str
    arguments: frozenset[str]
    roles: frozenset[Role] | str
    takes_get: bool
    fields: dict[str, FieldSpec] = field(default_factory=dict)


def _post_routes(app: Flask) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        routes.append(
            Route(
                rule.endpoint,
                rule.rule,
                frozenset(rule.arguments),
                access_of(app.view_functions[rule.endpoint]),
                "GET" in (rule.methods or ()),
            )
        )
    return sorted(routes, key=lambda r: r.rule)


ROUTES = _post_routes(create_app(TestConfig))
HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648", "0"]


class WriteWatch:
    """Did a request commit an INSERT, UPDATE or DELETE?"""

    def __init__(self, engine: Any) -> None:
        self.pending = self.committed = False
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement: str, *args: Any) -> None:
        if statement.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self.pending = True

    def _commit(self, conn) -> None:
        self.committed |= self.pending
        self.pending = False

    def _rollback(self, conn) -> None:
        self.pending = False

    def reset(self) -> None:
        self.pending = self.committed = False


@dataclass
class World:
    app: Flask
    writes: WriteWatch
    signed_in: dict[int, FlaskClient] = field(default_factory=dict)
    fields: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)

    def http(self, user: User | None) -> FlaskClient:
        """A browser signed in as `user` (None: nobody)."""
        key = user.id if user else 0
        if key not in self.signed_in:
            http = self.app.test_client()
            if user is not None:
                answer = http.post(
                    "/login", data={"email": user.email, "password": demo.DEMO_PASSWORD}
                )
                assert answer.status_code == 302, f"{user.email} could not sign in"
            self.signed_in[key] = http
        return self.signed_in[key]


@pytest.fixture(scope="module")
def world(database_template, tmp_path_factory) -> Iterator[World]:
    world_path = tmp_path_factory.mktemp("world")
    with app_on_its_own_database(database_template, world_path) as app:
        demo.seed_demo(clients=60)
        _add_spare_users()
        _add_unanswered_calls()
        _add_deliveries()
        _add_concepts_to_approve()
        _add_figures_upload()
        _add_not_selling_alerts()
        _add_notifications()
        _add_account_plans()
        for n in range(3):
            integrations.create_integration(f"Platform {n}", actor=None)
        for days in range(400, 410):
            calendar.set_calendar_day(
                "EG", date.today() + timedelta(days=days), is_holiday=True, name="Spare", actor=None
            )
        _db.session.commit()
        yield World(app, WriteWatch(_db.engine))


def _add_spare_users() -> None:
    """Users the admin routes may deactivate, reset and edit at will."""
    team = _db.session.scalars(select(Team).order_by(Team.id)).first()
    for n, role in enumerate([Role.ACM, Role.FINANCE, Role.LEADER]):
        accounts.create_user(
            email=f"spare{n}@kam.example",
            name=f"Spare {n}",
            password=PASSWORD,
            roles=[role],
            team=team if role is Role.ACM else None,
            actor=None,
        )


def _add_notifications() -> None:
    """Issue 14: an admin's notifications (the admin acts on "any signed-in user" routes)
    and an ACM's, which the admin cannot mark."""
    admin = _acting_user(Role.ADMIN, None)
    acm = _acting_user(Role.ACM, None)
    for n in range(3):
        notifications.notify(
            [admin, acm], kind=notifications.DECISION, text=f"Owed {n}", link="/", key=f"n{n}"
        )


def _add_account_plans() -> None:
    """P1: account plans with goals and a stakeholder, for the routes that change them."""
    live = _db.session.scalars(
        select(Client).where(Client.status == LifecycleStatus.LIVE.value).order_by(Client.id)
    ).all()[:3]
    for client in live:
        for n in range(3):
            account_plans.add_goal(
                client,
                account_plans.GoalInput(f"Goal {n}", "GMV", "+10%", date.today() + timedelta(90)),
                actor=client.acm,
            )
        content = account_plans.content_of(account_plans.plan_of(client))
        if not content["stakeholders"]:
            account_plans.add_stakeholder(client, client.contacts[0], "high", actor=client.acm)


def _plan_keys() -> list[dict[str, Any]]:
    """Every goal and stakeholder key of every account plan, with its client."""
    rows = []
    for plan in _db.session.scalars(select(AccountPlan).order_by(AccountPlan.id)):
        content = account_plans.content_of(plan)
        for item in [*content["goals"], *content["stakeholders"]]:
            rows.append({"client_id": plan.client_id, "key": item["key"], "client": plan.client_id})
    return rows


def _add_not_selling_alerts() -> None:
    """F4: stores not selling, their reasons owed."""
    live = _db.session.scalars(
        select(Client).where(Client.status == LifecycleStatus.LIVE.value).order_by(Client.id)
    ).all()[:3]
    for client in live:
        _db.session.add(
            NotSellingAlert(
                client_id=client.id, raised_at=clock.now(), cause="no_orders", detail="No orders"
            )
        )


def _add_unanswered_calls() -> None:
    """F2 ladders to follow up, on live clients without an open escalation."""
    live = _db.session.scalars(
        select(Client)
        .where(
            Client.status == LifecycleStatus.LIVE.value,
            Client.id.not_in(select(Escalation.client_id)),
        )
        .order_by(Client.id)
        .limit(6)
    )
    for client in live:
        contact_log.log_call(client, actor=client.acm, contact=None, outcome=CallOutcome.NO_ANSWER)


def _add_deliveries() -> None:
    """Customizations in delivery (C7): one with every milestone done, one under way, each
    with its acceptance and survey links out."""
    requests = _db.session.scalars(select(CustomizationRequest).order_by(CustomizationRequest.id))
    for n, request in enumerate(list(requests)[:2]):
        request.stage = CustomizationStage.DELIVERY.value
        for position, status in enumerate(["done", "done" if n == 0 else "in_progress"], 1):
            _db.session.add(
                Milestone(
                    request=request,
                    position=position,
                    title=f"Milestone {position}",
                    due_on=date.today(),
                    status=status,
                )
            )
        _db.session.flush()
        for purpose in ("acceptance", "survey"):
            client_links.issue(request, purpose, to="client@store.example", actor=None)


def _add_concepts_to_approve() -> None:
    """C5: concept documents written and sent, for the ACM's routes and the client's page
    (several: an approval spends one; the client's page takes the first link left)."""
    clients = _db.session.scalars(
        select(Client)
        .where(Client.acm_id.is_not(None), Client.contacts.any(Contact.email.is_not(None)))
        .order_by(Client.id)
        .limit(3)
    )
    for client in clients:
        request = request_in_concept(client, actor=client.acm)
        write_concept(request, actor=client.acm)
        concept_documents.send_concept(request, actor=client.acm, base_url="http://localhost/")


def _add_figures_upload() -> None:
    """F4: a CSV of store figures, checked, for the import and its pages."""
    client = _db.session.scalars(
        select(Client).where(Client.acm_id.is_not(None)).order_by(Client.id)
    ).first()
    day_before = (date.today() - timedelta(days=2)).isoformat()
    figures_upload.receive(
        actor=client.acm,
        filename="figures.csv",
        data=f"store_code,day,orders,gmv\n{client.store_code},{day_before},3,10\n".encode(),
    )
    # Issue 16: a CSV of contacts an admin uploaded, checked, for its import and pages.
    admin = _db.session.scalars(
        select(User).where(User.role_rows.any(UserRole.role == Role.ADMIN.value))
    ).first()
    client_import.receive(
        actor=admin,
        kind="contacts",
        filename="contacts.csv",
        data=f"store_code,name,email\n{client.store_code},Mona,mona@store.example\n".encode(),
    )


def _acting_user(role: Role, client: Client | None) -> User:
    """Who acts in `role` on `client`: its ACM, its team's leader, or anyone of the role."""
    if client is not None and client.acm is not None:
        if role is Role.ACM:
            return client.acm
        if role is Role.LEADER and client.acm.team and client.acm.team.leader:
            return client.acm.team.leader
    users = _db.session.scalars(
        select(User).where(User.active, ~User.email.like("spare%")).order_by(User.id)
    )
    return next(u for u in users if u.has_role(role))


def _url(rule: str, values: dict[str, Any]) -> str:
    return re.sub(r"<(?:[^<>:]+:)?(\w+)>", lambda m: quote(str(values[m.group(1)]), safe=""), rule)


def _objects(route: Route) -> list[dict[str, Any]]:
    """What the route's URL can name now (one empty entry for a URL that names nothing)."""
    if route.endpoint in LINK_PURPOSES:
        return [dict(row._mapping) for row in _db.session.execute(_link_rows(route))]
    finder = FINDERS[route.arguments]()  # a KeyError: a new kind of URL wants its finder
    if finder is None:
        return [{}]
    if isinstance(finder, list):
        return finder
    return [dict(row._mapping) for row in _db.session.execute(finder)]


def _url_values(route: Route, data: st.DataObject) -> tuple[dict[str, Any], Client | None]:
    """An object the route acts on (or, now and then, an id that cannot exist). Draws the
    same shape of data whatever the database holds now, so Hypothesis can replay."""
    # Once the examples have used every one up (deleted them), an id that names nothing.
    rows = _objects(route) or [dict.fromkeys(route.arguments, 2**31 - 1)]
    values = dict(rows[data.draw(st.integers(0, 10**6), label="object") % len(rows)])
    client_id = values.pop("client", None)
    if "token" in values:
        values["token"] = _token(route, values["token"])
    action = data.draw(st.sampled_from(ESCALATION_ACTIONS), label="action")
    if "action" in route.arguments:
        values["action"] = action
    for name in sorted(route.arguments):
        huge = data.draw(st.sampled_from([None] * 9 + HUGE_IDS), label=f"huge {name}")
        if name.endswith("_id") and huge:
            values[name] = huge
    return values, _db.session.get(Client, client_id) if client_id else None


def _fields(world: World, route: Route, url: str, http: FlaskClient) -> dict[str, FieldSpec]:
    """The fields of the forms the route builds when opened (or posted empty)."""
    if route.endpoint not in world.fields:
        with forms_built() as built:
            if route.takes_get:
                http.get(url)
            else:
                http.post(url, data={})
        world.fields[route.endpoint] = {
            spec.name: spec for form in built for spec in _fields_of(form)
        }
    return world.fields[route.endpoint]


def _first_user(route: Route, client: Client | None) -> User | None:
    """Who opens the route to see its forms: an admin where admins may, else the first
    role allowed, acting on `client`."""
    roles = _roles(route)
    role = Role.ADMIN if Role.ADMIN in roles else roles[0]
    return _acting_user(role, client) if role else None


def _roles(route: Route) -> list[Role | None]:
    if route.roles == PUBLIC:
        return [None]
    if isinstance(route.roles, frozenset):
        return sorted(route.roles, key=lambda r: r.value)
    return [Role.ADMIN]  # any signed-in user


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.endpoint)
def test_no_form_answers_5xx_and_a_refused_one_writes_nothing(world: World, route: Route):
    objects = _objects(route)
    assert objects, f"the demo has nothing for {route.rule}: give the test world one"
    values = {**objects[0], "action": "resolve"}
    client_id = values.pop("client", None)
    if "token" in values:
        values["token"] = _token(route, values["token"])
    first = _first_user(route, _db.session.get(Client, client_id) if client_id else None)
    fields = _fields(world, route, _url(route.rule, values), world.http(first))

    @CHECKS
    @given(data=st.data())
    def post(data: st.DataObject) -> None:
        _db.session.rollback()  # see what the last request committed
        values, client = _url_values(route, data)
        role = data.draw(st.sampled_from(_roles(route)), label="role")
        user = _acting_user(role, client) if role else None
        url = _url(route.rule, values)
        http = world.http(user)
        if route.endpoint == "auth.logout":
            http = world.app.test_client()  # signing out must not end the shared browser
        form = _form_values(fields, data)
        headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
        world.writes.reset()
        response = http.post(url, data=form, headers=headers)
        assert response.status_code < 500, f"{url} {form!r} {headers}"
        if response.status_code >= 400:
            assert not world.writes.committed, f"refused ({response.status_code}) but wrote"

    post()


GET_ROUTES = sorted(
    (
        r
        for r in create_app(TestConfig).url_map.iter_rules()
        if "GET" in (r.methods or ()) and r.endpoint != "static"
    ),
    key=lambda r: r.rule,
)
# Every query parameter the portal reads (`args.get("name"...)`), found in its source, and
# the users list's filter form (read from the query string).
QUERY_NAMES = sorted(
    {
        name
        for path in Path(kamportal.__file__).parent.rglob("*.py")
        for name in re.findall(r"args\.get\(\s*\"(\w+)\"", path.read_text())
    }
    | {"role", "team"}
)


@pytest.mark.parametrize("rule", GET_ROUTES, ids=lambda r: r.endpoint)
def test_no_page_answers_5xx_whatever_its_query_string(world: World, rule):
    route = Route(
        rule.endpoint,
        rule.rule,
        frozenset(rule.arguments),
        access_of(world.app.view_functions[rule.endpoint]),
        True,
    )

    @CHECKS
    @given(data=st.data())
    def get(data: st.DataObject) -> None:
        _db.session.rollback()
        values, client = _url_values(route, data)
        role = data.draw(st.sampled_from(_roles(route)), label="role")
        http = world.http(_acting_user(role, client) if role else None)
        query = {
            name: data.draw(st.one_of(hostile, any_text, st.sampled_from(ORDINARY)), label=name)
            for name in QUERY_NAMES
            if data.draw(st.integers(0, 3), label=f"send {name}") == 0
        }
        headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
        world.writes.reset()
        response = http.get(_url(route.rule, values), query_string=query, headers=headers)
        assert response.status_code < 500, f"{rule.rule} {query!r}"
        assert not world.writes.committed, "a page wrote to the database"

    get()
