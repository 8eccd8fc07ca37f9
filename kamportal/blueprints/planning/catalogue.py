"""The admin's catalogue of recommended apps and marketing actions (F5): the list, adding an
entry (in place), editing one, retiring one, and a first stock of the seed's entries for
an empty catalogue. Every route here is for admins only."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, url_for
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.blueprints.planning import bp
from kamportal.blueprints.web import acting_user, allow, answer, in_place, press, render, saved
from kamportal.extensions import db
from kamportal.models import Recommendation, RecommendationKind, Role
from kamportal.services import suggestions

PAGE = "planning/catalogue.html"
PANEL = "planning/_catalogue_panel.html"


class RecommendationForm(Form):
    """F5: a catalogue entry. The form checks shape; the service checks the rules."""

    kind = SelectField(
        "Kind",
        choices=options((k.value, k.label) for k in RecommendationKind),
        validate_choice=False,
    )
    name = StringField("Name", validators=[Length(max=suggestions.NAME_MAX)])
    description = TextAreaField(
        "What it does for the store", validators=[Length(max=suggestions.DESCRIPTION_MAX)]
    )
    position = IntegerField(
        "Position in the list",
        default=0,
        validators=[
            Optional(),
            NumberRange(
                suggestions.POSITION_RANGE.start,
                suggestions.POSITION_RANGE.stop - 1,
                "Give a position from %(min)s to %(max)s.",
            ),
        ],
    )

    def entry(self) -> dict[str, Any]:
        return {
            "kind": self.kind.data,
            "name": self.name.data,
            "description": self.description.data,
            "position": self.position.data,
        }


class RecommendationEditForm(RecommendationForm):
    active = BooleanField("Offered to the ACMs (untick to retire it)")


def _context(form: RecommendationForm | None = None) -> dict[str, Any]:
    return {
        "entries": suggestions.catalogue(),
        "form": form if form is not None else RecommendationForm(formdata=None),
    }


def _panel(message: str | None = None, *, status: int = 200) -> Response:
    """After a change: the panel (form and list) in place (HTMX), or back to the page."""
    if message:
        flash(message, "success")
    return in_place(PANEL, location=url_for("planning.catalogue"), status=status, **_context())


@bp.route("/admin/catalogue")
@allow(Role.ADMIN)
def catalogue():
    """F5: every app and marketing action of the catalogue, retired ones included."""
    return render(PAGE, PANEL, **_context())


@bp.route("/admin/catalogue", methods=["POST"])
@allow(Role.ADMIN)
def add_recommendation():
    form = RecommendationForm()
    return answer(
        form,
        lambda: suggestions.add_recommendation(actor=acting_user(), **form.entry()),
        done=lambda entry: _panel(f"{entry.name} is in the catalogue, offered to the ACMs."),
        page=PAGE,
        partial=PANEL,
        **_context(form),
    )


@bp.route("/admin/catalogue/<int:recommendation_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_recommendation(recommendation_id: int):
    entry = db.get_or_404(Recommendation, recommendation_id)
    form = RecommendationEditForm(obj=entry)
    return answer(
        form,
        lambda: suggestions.update_recommendation(
            entry, actor=acting_user(), active=form.active.data, **form.entry()
        ),
        done=lambda entry: saved(f"{entry.name} saved.", "planning.catalogue"),
        page="planning/recommendation_form.html",
        form=form,
        entry=entry,
    )


@bp.route("/admin/catalogue/<int:recommendation_id>/retire", methods=["POST"])
@allow(Role.ADMIN)
def retire_recommendation(recommendation_id: int):
    entry = db.get_or_404(Recommendation, recommendation_id)
    return press(
        lambda: suggestions.retire_recommendation(entry, actor=acting_user()),
        done=lambda entry: _panel(f"{entry.name} is retired: no longer offered."),
        refused=lambda: _panel(status=422),
    )


@bp.route("/admin/catalogue/stock", methods=["POST"])
@allow(Role.ADMIN)
def stock_catalogue():
    """F5: an empty catalogue starts from the seed's apps and marketing actions."""
    return press(
        lambda: suggestions.stock_catalogue(actor=acting_user()),
        done=lambda added: _panel(
            f"{added} apps and marketing actions of the process added."
            if added
            else "The catalogue has entries already: nothing added."
        ),
        refused=lambda: _panel(status=422),
    )
