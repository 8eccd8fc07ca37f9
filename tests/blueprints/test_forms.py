"""One place bounds what is typed (issue 11): every form is a guarded `Form`, and the
cases a tester found answering 500 or accepted though absurd are refused on their field,
with nothing saved. `test_bad_input.py` generates the rest."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import pytest
import wtforms
from flask_wtf import FlaskForm
from sqlalchemy import func, select

import kamportal.blueprints
from kamportal import clock
from kamportal.blueprints.forms import Form, Subform
from kamportal.errors import ValidationError
from kamportal.models import Client, Role, User
from kamportal.services import renewals, validation
from tests.blueprints.test_accounts import team_form, user_form
from tests.blueprints.test_clients import client_form
from tests.services.renewal_world import opened, world  # noqa: F401

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    start = html.index(f'id="field-{field_id}"')
    return html[start : html.index("</div>", start)]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_every_form_of_the_portal_is_guarded():
    """The next form gets the guards for free: every form class in the blueprints is a
    `Form` (a page form) or a `Subform` (a row inside one)."""
    for module in pkgutil.walk_packages(kamportal.blueprints.__path__, "kamportal.blueprints."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [
        cls
        for cls in subclasses(wtforms.Form)
        if cls.__module__.startswith("kamportal.") and cls not in (Form, Subform, FlaskForm)
    ]
    assert len(forms) > 40
    unguarded = [
        f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, (Form, Subform))
    ]
    assert unguarded == []


# --- The rules of input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1250.50", "1250.50"),
        ("1,250.50", "1250.50"),
        ("1 250.50", "1250.50"),
        ("EGP 1,250.50", "1250.50"),
        ("1,250.50 egp", "1250.50"),
        ("١٬٢٥٠٫٥٠", "1250.50"),
        ("۱۲۵۰", "1250.00"),
        (".5", "0.50"),
    ],
)
def test_money_is_read_as_people_type_it(typed, amount):
    assert validation.amount_of(typed, "EGP", field="amount") == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("1.250,50", "commas between thousands"),
        ("12,50", "commas between thousands"),
        ("1e30", "in figures"),
        ("Infinity", "in figures"),
        ("-Infinity", "in figures"),
        ("NaN", "in figures"),
        ("sNaN", "in figures"),
        ("0x10", "in figures"),
        ("1_000", "in figures"),
        ("99999999999999999999", "too large"),
        ("1.005", "at most 2 decimals"),
        ("0", "more than zero"),
        ("", "Give an amount"),
    ],
)
def test_money_that_is_not_an_amount_is_refused_never_rounded(typed, why):
    with pytest.raises(ValidationError) as refused:
        validation.amount_of(typed, "EGP", field="amount")
    assert why in refused.value.message and refused.value.field == "amount"


@pytest.mark.parametrize(
    ("typed", "multiline"),
    [("a\x00b", True), ("a\x1bb", True), ("a\nb", False), ("a\u2028b", False)],
)
def test_text_with_control_characters_is_refused(typed, multiline):
    with pytest.raises(ValidationError, match="invisible"):
        validation.typed_text(typed, multiline=multiline, field="notes")


def test_text_keeps_what_people_type():
    arabic = "متجر النيل – \u200fالقاهرة\n\tسطر ثان"
    assert validation.typed_text(arabic, multiline=True) == arabic


@pytest.mark.parametrize("typed", ["NILE 01", "<b>NILE</b>", "NILE\u202e01", "NILE\x0001", "نيل"])
def test_a_store_code_is_latin_letters_digits_and_dashes(typed):
    with pytest.raises(ValidationError, match="Latin letters"):
        validation.code(typed, field="store_code", what="store code")


@pytest.mark.parametrize(
    "typed", ["mona\u202e@kam.example", "<b>mona</b>@kam.example", "mo\x07na@kam.example"]
)
def test_an_email_address_with_controls_markup_or_overrides_is_refused(typed):
    with pytest.raises(ValidationError, match="Not a valid email address"):
        validation.email_address(typed)


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "x" * 300, "UTC\x00"])
def test_only_time_zones_of_places_are_accepted(zone):
    assert not clock.is_timezone(zone)
    with pytest.raises(ValidationError):
        validation.timezone_name(zone)


@pytest.mark.parametrize(
    ("typed", "number"),
    [("3", 3), ("", 1), ("x", 1), ("0", 1), ("-4", 1), ("99999999999999999999", 1)],
)
def test_a_page_number_out_of_range_is_ignored(typed, number):
    assert validation.query_number(typed, default=1) == number


# --- What the tester typed, through the pages -----------------------------------------------


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN)


def test_a_nul_byte_at_sign_in_is_a_field_error(client, make_user):
    user = make_user(Role.ACM)
    response = client.post("/login", data={"email": user.email + "\x00", "password": "x\x00"})
    assert response.status_code == 422
    assert "invisible" in text(response)


@pytest.mark.parametrize("query", ["%", "_", "\\", "%\x00"])
def test_searching_odd_characters_answers_and_finds_nothing_odd(admin, make_client, query):
    make_client(store_name="Nile Crafts")
    response = admin.get("/clients/", query_string={"q": query})
    assert response.status_code == 200
    assert "Nile Crafts" not in text(response)


def test_a_search_of_a_nul_byte_is_no_search(admin, make_client):
    make_client(store_name="Nile Crafts")
    response = admin.get("/clients/", query_string={"q": "\x00"})
    assert response.status_code == 200 and "Nile Crafts" in text(response)


@pytest.mark.parametrize("name", ["page", "acm"])
def test_numbers_past_64_bits_in_the_query_are_ignored(admin, make_client, name):
    make_client(store_name="Nile Crafts")
    response = admin.get("/clients/", query_string={name: "99999999999999999999999"})
    assert response.status_code == 200 and "Nile Crafts" in text(response)


def test_ids_past_what_the_database_holds_are_not_found(admin):
    assert admin.get("/clients/99999999999999999999").status_code == 404
    assert admin.get("/clients/2147483648/edit").status_code == 404


@pytest.mark.parametrize(
    ("field", "typed", "why"),
    [
        ("store_name", "Nile\x00Threads", "invisible"),
        ("store_code", "NILE\u202e01", "Latin letters"),
        ("store_code", "<i>NILE</i>", "Latin letters"),
        ("recurring_amount", "99999999999999999999", "too large"),
        ("recurring_amount", "sNaN", "in figures"),
        ("recurring_amount", "1e30", "in figures"),
        ("subscribed_on", "0001-01-01", "from 1 Jan 2000"),
        ("subscribed_on", "2028-01-15", "to a year from now"),
        ("renewal_date", "9999-12-31", "from 1 Jan 2000"),
        ("renewal_date", "2031-12-31", "within five years"),
        ("renewal_date", "2025-12-31", "after the subscription date"),
    ],
)
def test_the_client_form_refuses_absurd_values_on_their_field(
    login_as, make_team, make_user, db, frozen_clock, field, typed, why
):
    acm = make_user(Role.ACM, team=make_team())
    http = login_as(acm)
    response = http.post("/clients/new", data=client_form(acm=acm.id, **{field: typed}))
    assert response.status_code == 422
    assert why in field_error(text(response), field)
    assert count(db, Client) == 0


def test_a_recurring_amount_is_read_with_its_thousands_separator(
    login_as, make_team, make_user, db
):
    acm = make_user(Role.ACM, team=make_team())
    response = login_as(acm).post(
        "/clients/new", data=client_form(acm=acm.id, recurring_amount="24,000.50")
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Client.recurring_amount)) == Decimal("24000.50")


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"timezone": "x" * 300}, "timezone", "Choose a time zone"),
        ({"timezone": "localtime"}, "timezone", "Choose a time zone"),
        ({"email": "mona\u202e@kam.example"}, "email", "unsafe characters"),
        ({"name": "Mona\x00"}, "name", "invisible"),
    ],
)
def test_the_user_form_refuses_odd_zones_and_addresses(admin, db, changes, field, why):
    response = admin.post("/admin/users/new", data=user_form(**changes))
    assert response.status_code == 422
    assert why in field_error(text(response), field)
    assert db.session.scalar(select(User).where(User.name == "Mona Adel")) is None


@pytest.mark.parametrize(
    ("mailbox", "why"),
    [("kam\x07@kam.example", "invisible"), ("<kam>@kam.example", "not a valid email")],
)
def test_the_team_mailbox_refuses_controls_and_markup(admin, db, mailbox, why):
    response = admin.post("/admin/teams/new", data=team_form(shared_mailbox=mailbox))
    assert response.status_code == 422
    assert why in field_error(text(response), "shared_mailbox").lower()


@pytest.mark.parametrize(
    ("agreed_on", "why"),
    [
        ("0001-01-01", "from 1 Jan 2000"),
        ("9999-12-31", "from 1 Jan 2000"),
        ("2024-12-13", "falls from"),
    ],
)
def test_a_renewal_agreed_on_an_absurd_date_is_refused_R2(
    world,  # noqa: F811
    db,
    login_as,
    agreed_on,
    why,
):
    renewal = opened(db)
    renewals.notify_client(renewal, actor=world["acm"])
    db.session.commit()
    response = login_as(world["acm"]).post(
        f"/renewals/{renewal.id}/confirm",
        data={"agreed_on": agreed_on, "amount": "12000"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert why in text(response)
    db.session.expire_all()
    assert renewal.agreed_on is None
