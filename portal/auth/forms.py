from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length, Regexp


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            InputRequired(message=_l("Please enter your email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            # Shape only: sign-in looks the address up, it never sends to it.
            Regexp(
                r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Please enter a valid email address.")
            ),
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
