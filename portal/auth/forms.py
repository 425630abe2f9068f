from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import Email, InputRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(message=_l("Please enter your email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Email(message=_l("Please enter a valid email address."), check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Please enter your password.")),
            Length(max=128, message=_l("A password has at most 128 characters.")),
        ],
    )


class EmptyForm(FlaskForm):
    """For POST-only buttons (log out, switch language): just the CSRF token."""
