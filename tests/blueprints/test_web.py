"""The one form round trip every blueprint uses (issue 12): `answer` for a form, `press` for
a button, both through `submit`. Each is driven here over HTTP by a probe page whose
service writes a note on the client's timeline, then refuses when told to: what the user
sees (status, the error in the fragment, the flash, the redirect) and that a refusal
leaves nothing saved."""

from __future__ import annotations

import pytest
from flask import Blueprint, url_for
from sqlalchemy import func, select
from wtforms import FieldList, FormField, StringField
from wtforms.validators import DataRequired

from kamportal.blueprints.forms import Form, Subform
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    apply_domain_error,
    in_place,
    press,
    saved,
)
from kamportal.errors import ValidationError
from kamportal.extensions import db as _db
from kamportal.models import Client, Role, TimelineEvent
from kamportal.services import contact_log

HTMX = {"HX-Request": "true"}
TEMPLATES = {
    "page.html": "<main>PAGE {{ get_flashed_messages()|join(' | ') }} "
    "{% include 'probe/_form.html' %}</main>",
    "_form.html": '<form id="probe-form">FORM {{ form.note.errors|join }}'
    "{{ form.form_errors|join }}</form>",
    "_panel.html": '<div id="probe-panel">PANEL of {{ client.store_name }}</div>',
}


class NoteForm(Form):
    note = StringField("Note", validators=[DataRequired("Write the note.")])


def _note(client: Client, text: str) -> TimelineEvent:
    """A service that writes, then refuses "refuse": what the refusal must undo."""
    event = contact_log.add_note(client, actor=acting_user(), text=text)
    _db.session.flush()
    if text == "refuse":
        raise ValidationError("Not this note.", field="note")
    return event


@pytest.fixture
def probe(app, tmp_path):
    """A page with a note form (`answer`) and a button (`press`), on a client."""
    folder = tmp_path / "templates" / "probe"
    folder.mkdir(parents=True)
    for name, body in TEMPLATES.items():
        (folder / name).write_text(body)
    bp = Blueprint("probe", __name__, template_folder=str(tmp_path / "templates"))

    @bp.route("/probe/<int:client_id>", methods=["GET", "POST"])
    @allow(Role.ADMIN)
    def note(client_id: int):
        client = _db.session.get(Client, client_id)
        form = NoteForm()
        return answer(
            form,
            lambda: _note(client, form.note.data),
            done=lambda _: saved("Noted.", "probe.note", client_id=client.id),
            page="probe/page.html",
            partial="probe/_form.html",
            retarget="#probe-form",
            form=form,
        )

    @bp.route("/probe/<int:client_id>/button/<text>", methods=["POST"])
    @allow(Role.ADMIN)
    def button(client_id: int, text: str):
        client = _db.session.get(Client, client_id)

        def panel(*events: str, status: int = 200):
            location = url_for("probe.note", client_id=client.id)
            return in_place(
                "probe/_panel.html", location=location, events=events, status=status, client=client
            )

        return press(
            lambda: _note(client, text),
            done=lambda _: panel("timeline-changed"),
            refused=lambda: panel(status=422),
            not_done="Not noted: {}",
        )

    app.register_blueprint(bp)
    return app


@pytest.fixture
def http(probe, login_as):
    return login_as(Role.ADMIN)


@pytest.fixture
def shop(make_client):
    return make_client(store_name="Nile Shoes")


def notes(db) -> int:
    return db.session.scalar(select(func.count()).select_from(TimelineEvent))


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_form_is_shown_as_a_page_or_as_its_fragment(http, shop):
    page = http.get(f"/probe/{shop.id}")
    assert page.status_code == 200
    assert "PAGE" in text(page) and "FORM" in text(page)
    fragment = http.get(f"/probe/{shop.id}", headers=HTMX)
    assert fragment.status_code == 200
    assert text(fragment).startswith('<form id="probe-form">')


def test_a_form_saved_commits_and_goes_303_to_the_result_with_a_flash(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}", data={"note": "Called back"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/probe/{shop.id}")
    assert "Noted." in text(http.get(response.headers["Location"]))
    assert notes(db) == before + 1


def test_a_refusal_over_htmx_is_the_form_again_422_with_the_error_and_nothing_saved(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}", data={"note": "refuse"}, headers=HTMX)
    assert response.status_code == 422
    assert text(response).startswith('<form id="probe-form">FORM Not this note.')
    assert response.headers["HX-Retarget"] == "#probe-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert notes(db) == before


def test_a_refusal_without_htmx_is_the_whole_page_422_and_nothing_saved(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}", data={"note": "refuse"})
    assert response.status_code == 422
    assert "PAGE" in text(response) and "Not this note." in text(response)
    assert "HX-Retarget" not in response.headers
    assert notes(db) == before


def test_bad_input_is_refused_on_its_field_before_the_service(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}", data={"note": ""}, headers=HTMX)
    assert response.status_code == 422
    assert "Write the note." in text(response)
    assert notes(db) == before


def test_a_button_done_over_htmx_is_its_place_again_with_the_page_told(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}/button/Visited", headers=HTMX)
    assert response.status_code == 200
    assert text(response).startswith('<div id="probe-panel">PANEL of Nile Shoes')
    assert "timeline-changed" in response.headers["HX-Trigger"]
    assert notes(db) == before + 1


def test_a_button_refused_over_htmx_is_its_place_422_with_the_refusal_flashed(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}/button/refuse", headers=HTMX)
    assert response.status_code == 422
    assert text(response).startswith('<div id="probe-panel">')
    assert 'id="flashes"' in text(response)
    assert "Not noted: Not this note." in text(response)
    assert "HX-Trigger" not in response.headers
    assert notes(db) == before


def test_a_button_refused_without_htmx_goes_303_where_the_refusal_shows(http, shop, db):
    before = notes(db)
    response = http.post(f"/probe/{shop.id}/button/refuse")
    assert response.status_code == 303
    assert "Not noted: Not this note." in text(http.get(response.headers["Location"]))
    assert notes(db) == before


class _Row(Subform):
    due_on = StringField("Due")


class _RowsForm(Form):
    rows = FieldList(FormField(_Row), min_entries=2)


def test_a_refusal_naming_a_rows_field_lands_on_that_field(app):
    """A service names a row's field as the browser sends it ("rows-1-due_on")."""
    with app.test_request_context():
        form = _RowsForm(meta={"csrf": False})
        apply_domain_error(form, ValidationError("Not a working day.", field="rows-1-due_on"))
        apply_domain_error(form, ValidationError("Nothing to save.", field="rows-9-due_on"))
    assert form.rows[1].form.due_on.errors == ["Not a working day."]
    assert not form.rows[0].form.due_on.errors
    assert form.form_errors == ["Nothing to save."]
