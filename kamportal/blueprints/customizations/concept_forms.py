"""Forms of the concept document (C5): the ACM's document with its milestone rows, the
signed copy's upload, and the client's approval through the link."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from kamportal.blueprints.forms import Form, Subform
from kamportal.blueprints.options import options
from kamportal.services.concept_documents import (
    MAX_MILESTONES,
    MILESTONE_KINDS,
    TEXT_LIMITS,
    MilestoneRow,
)


class MilestoneForm(Subform):
    """One milestone row; a blank row is ignored, the service checks the others."""

    title = StringField("Milestone", validators=[Optional(), Length(max=200)])
    kind = SelectField("Kind", choices=options(MILESTONE_KINDS.items()), validate_choice=False)
    due_on = DateField("Due on", validators=[Optional()])


class ConceptForm(Form):
    scope = TextAreaField("Scope of work", validators=[Length(max=TEXT_LIMITS["scope"])])
    activities = TextAreaField("Activities", validators=[Length(max=TEXT_LIMITS["activities"])])
    exit_criteria = TextAreaField(
        "Exit criteria", validators=[Length(max=TEXT_LIMITS["exit_criteria"])]
    )
    milestones = FieldList(FormField(MilestoneForm), min_entries=1, max_entries=MAX_MILESTONES)

    def rows(self) -> list[MilestoneRow]:
        return [
            MilestoneRow(
                entry.form.title.data or "",
                entry.form.kind.data or "",
                entry.form.due_on.data,
                key=entry.name,
            )
            for entry in self.milestones
        ]

    def change_rows(self, action: str | None) -> bool:
        """The form's row buttons: "add" a blank row, "remove-<n>" the n-th; whether the
        rows changed (then nothing is saved: the form comes back to go on)."""
        rows = self.rows()
        if action == "add" and len(rows) < MAX_MILESTONES:
            rows.append(MilestoneRow("", "basic", None))
        elif action and action.startswith("remove-") and action[7:].isdigit():
            index = int(action[7:])
            if index >= len(rows) or len(rows) == 1:
                return False
            del rows[index]
        else:
            return False
        self.milestones.entries = []
        self.milestones.last_index = -1
        for row in rows:
            self.milestones.append_entry(row)
        return True


class SignedCopyForm(Form):
    """C5: the copy the client signed, and who signed it."""

    signed_by = StringField("Signed for the client by", validators=[Length(max=200)])
    signed_copy = FileField("The signed copy (PDF or image)")


class ApprovalForm(Form):
    """C5: the client approves by typing their full name and ticking the box."""

    full_name = StringField(lazy_gettext("Your full name"), validators=[Length(max=200)])
    agree = BooleanField(lazy_gettext("I have read this concept document and I approve it."))
