"""The borrower's contact settings form: one switch per channel they may turn off."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from portal.auth.models import Channel

# In-portal notices are not here: they interrupt nobody and are always on.
EDITABLE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


class ContactPreferencesForm(FlaskForm):
    """Field names are the channel values, so ``form[channel.value]`` is that channel's switch."""

    email = BooleanField(_l("Email"))
    sms = BooleanField(_l("Text messages (SMS)"))
    phone = BooleanField(_l("Phone calls"))
