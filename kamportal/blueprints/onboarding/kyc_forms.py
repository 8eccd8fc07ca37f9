"""The KYC questionnaire's form (O1), built from the questions' data: a line of text, a
paragraph, or radio buttons per question, named by the question's key. The client's page
and the ACM's page share it. The form itself checks nothing but the CSRF token: which
answers are required, the choices and the lengths are the service's rules
(`kyc.clean_answers`), whose refusal lands on the question's field."""

from __future__ import annotations

from typing import Any

from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.services.kyc_questions import (
    CHOICE,
    LONG_TEXT,
    MAX_ANSWER_LENGTH,
    QUESTIONS,
    Question,
)


class _KycFormBase(Form):
    # Two buttons: save and come back later, or submit (every required answer given).
    save = SubmitField("Save and continue later")
    send = SubmitField("Submit")

    @property
    def submitting(self) -> bool:
        return bool(self.send.data)

    def answers(self) -> dict[str, Any]:
        """What was typed and chosen, by question key, for the service to clean."""
        return {key: self[key].data for key in QUESTIONS}


def _field(question: Question) -> Field:
    if question.kind == CHOICE:
        # An answer outside the choices is the service's refusal, on this field.
        return RadioField(
            question.text,
            choices=options((c, c) for c in question.choices),
            validate_choice=False,
            description=question.hint,
        )
    kind = TextAreaField if question.kind == LONG_TEXT else StringField
    return kind(
        question.text, description=question.hint, render_kw={"maxlength": MAX_ANSWER_LENGTH}
    )


def _build() -> type[_KycFormBase]:
    taken = [key for key in QUESTIONS if hasattr(_KycFormBase, key)]
    if taken:
        raise ValueError(f"KYC question keys clash with the form's attributes: {taken}")
    fields = {key: _field(question) for key, question in QUESTIONS.items()}
    return type("KycForm", (_KycFormBase,), fields)


KycForm = _build()


def answers_form(answers: dict[str, Any] | None = None) -> _KycFormBase:
    """The form as posted (a POST), or prefilled with the saved `answers`."""
    form = KycForm()
    if not form.is_submitted():
        form = KycForm(data=answers or {})
    return form


def saved_form(answers: dict[str, Any]) -> _KycFormBase:
    """The form again after a save, showing the answers as the service stored them."""
    return KycForm(formdata=None, data=answers)
