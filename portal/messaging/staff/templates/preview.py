"""Live preview of a template draft: validate it and fill it with sample variables.

Nothing is stored. The draft is rendered in the same sandbox as real messages
(``templates.render``), so what the preview shows is what a borrower would get.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import gettext as _

from portal.auth.models import Channel
from portal.messaging.models import TemplateVersion
from portal.messaging.samples import sample_variables
from portal.messaging.templates import RenderFailed, render, validate_template


@dataclass(frozen=True)
class Preview:
    errors: list[str]
    subject: str | None
    text: str | None
    html: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def preview_template(
    *,
    purpose_code: str,
    channel: Channel,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    now: datetime,
) -> Preview:
    """Every validation error of the draft and, if it renders, its subject, text and HTML.

    A draft with errors may still render (a prohibited word does not stop Jinja), so the admin
    sees both; a draft that cannot render returns None for the rendered parts.
    """
    errors = validate_template(
        purpose_code=purpose_code,
        channel=channel,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
    )
    draft = TemplateVersion(subject=subject, body_text=body_text, body_html=body_html or None)
    try:
        rendered = render(draft, sample_variables(purpose_code, locale, now=now))
    except RenderFailed:
        if not errors:  # validation normally explains why; say something if it did not
            errors.append(_("The draft could not be filled with the sample values."))
        return Preview(errors, None, None, None)
    return Preview(errors, rendered.subject, rendered.body_text, rendered.body_html)
