from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.forms import Form


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in on this computer")
