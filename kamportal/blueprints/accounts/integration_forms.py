"""Admin forms for the integrations that push store figures (F4). They check shape; the
integrations service checks the rules."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import country_options


class IntegrationForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])


class StoreAssignForm(Form):
    # The service names a bad country better than "Not a valid choice".
    country = SelectField("Every store of", choices=[], validate_choice=False)
    store_codes = TextAreaField("Store codes", validators=[Length(max=250_000)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", "— No country —"), *country_options()[1:]]
