"""Message templates: validation, versions, and rendering in Jinja's sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import SecurityError
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import Channel
from portal.domain import DomainError
from portal.extensions import db
from portal.messaging.content_check import find_violations
from portal.messaging.labels import CATEGORY_LABELS
from portal.messaging.models import MessageTemplate, TemplateVersion
from portal.messaging.purposes import DEBT_VARIABLES, purpose
from portal.messaging.rulebooks import ConcurrentEdit
from portal.messaging.samples import sample_variables
from portal.messaging.sandbox import MAX_RENDERED_CHARACTERS, BoundedSandbox

SMS_MAX_CHARACTERS = 500  # several segments at most; a wall of text is not a reminder

_text_env = BoundedSandbox(undefined=StrictUndefined, autoescape=False)
_html_env = BoundedSandbox(undefined=StrictUndefined, autoescape=True)


class InvalidTemplate(DomainError):
    status_code = 422
    message = _l("The template has errors.")

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class TemplateMissing(DomainError):
    status_code = 422
    message = _l("No message template exists for this purpose, channel and language.")


class RenderFailed(DomainError):
    status_code = 422
    message = _l("The message could not be written from its template.")


class MessageTooLong(RenderFailed):
    message = _l("The message would be too long.")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str | None


def validate_template(
    *,
    purpose_code: str,
    channel: Channel,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str | None,
) -> list[str]:
    """Every problem with a template, in words an admin can act on (empty list: fine)."""
    spec = purpose(purpose_code)
    errors: list[str] = []
    used: set[str] = set()
    parts = {"subject": subject, "body_text": body_text, "body_html": body_html or ""}
    for part, source in parts.items():
        env = _html_env if part == "body_html" else _text_env
        try:
            tree = env.parse(source)
            used |= meta.find_undeclared_variables(tree)
            # Variables and if-blocks only: a loop or macro could make a message endless.
            if any(True for _node in tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock))):
                errors.append(
                    _(
                        "Templates may use variables and if-blocks, but not loops or "
                        "macros (%(part)s).",
                        part=part,
                    )
                )
        except TemplateSyntaxError as error:
            errors.append(
                _(
                    "Syntax error in %(part)s, line %(line)s: %(message)s",
                    part=part,
                    line=error.lineno,
                    message=error.message,
                )
            )
    unknown = sorted(used - spec.variables)
    if unknown:
        errors.append(
            _(
                "Unknown variables: %(names)s. This purpose allows: %(allowed)s.",
                names=", ".join(unknown),
                allowed=", ".join(sorted(spec.variables)),
            )
        )
    missing = sorted(spec.required - used)
    if missing:
        errors.append(_("Required variables missing: %(names)s.", names=", ".join(missing)))
    if spec.third_party and used & DEBT_VARIABLES:
        errors.append(_("A message to a third party may not mention the debt."))
    if not body_text.strip():
        errors.append(_("The text may not be empty."))
    if channel is Channel.EMAIL and not subject.strip():
        errors.append(_("An email needs a subject."))
    if channel is Channel.SMS and len(body_text) > SMS_MAX_CHARACTERS:
        errors.append(_("A text message has at most %(n)s characters.", n=SMS_MAX_CHARACTERS))
    for violation in find_violations(
        " ".join(parts.values()), locale, third_party=spec.third_party
    ):
        errors.append(
            _(
                "Prohibited wording (%(category)s): “%(term)s”.",
                category=CATEGORY_LABELS.get(violation.category, violation.category),
                term=violation.term,
            )
        )
    if not errors:
        errors.extend(_sample_render_errors(purpose_code, locale, parts))
    return errors


# Any moment will do: sample dates only have to be dates.
SAMPLE_MOMENT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def _sample_render_errors(purpose_code: str, locale: str, parts: dict[str, str]) -> list[str]:
    """A template that parses can still fail to be written (a calculation the sandbox refuses,
    a text far too long): fill it with sample values now, so that it fails here, not at sending."""
    trial = TemplateVersion(
        subject=parts["subject"], body_text=parts["body_text"], body_html=parts["body_html"] or None
    )
    try:
        render(trial, sample_variables(purpose_code, locale, now=SAMPLE_MOMENT))
    except MessageTooLong as failure:
        return [str(failure.message)]
    except RenderFailed:
        return [_("The template cannot be written with sample values: a calculation is invalid.")]
    return []


def render(version: TemplateVersion, variables: dict[str, str]) -> Rendered:
    """Fill a template version; a missing variable raises RenderFailed, never renders blank.
    So does anything the bounded sandbox refuses, arithmetic that fails, or a result over
    ``MAX_RENDERED_CHARACTERS``."""
    try:
        rendered = Rendered(
            subject=_text_env.from_string(version.subject).render(variables).strip(),
            body_text=_text_env.from_string(version.body_text).render(variables).strip(),
            body_html=(
                _html_env.from_string(version.body_html).render(variables)
                if version.body_html
                else None
            ),
        )
    except (UndefinedError, SecurityError, TemplateSyntaxError) as error:
        raise RenderFailed(str(error)) from error
    except (ArithmeticError, ValueError, TypeError) as error:  # 1/0, str(10**5000), 'a' - 1
        raise RenderFailed(str(error)) from error
    size = len(rendered.subject) + len(rendered.body_text) + len(rendered.body_html or "")
    if size > MAX_RENDERED_CHARACTERS:
        raise MessageTooLong()
    return rendered


def versions_of(purpose_code: str, channel: Channel, locale: str) -> Select:
    """The query for every version of one template (purpose, channel, locale)."""
    return (
        select(TemplateVersion)
        .join(MessageTemplate)
        .where(
            MessageTemplate.purpose == purpose_code,
            MessageTemplate.channel == channel,
            MessageTemplate.locale == locale,
        )
    )


def latest_version(purpose_code: str, channel: Channel, locale: str) -> TemplateVersion | None:
    return db.session.scalar(
        versions_of(purpose_code, channel, locale).order_by(TemplateVersion.version.desc()).limit(1)
    )


def save_version(
    *,
    purpose_code: str,
    channel: Channel,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    actor_id: int | None,
    now: datetime,
) -> TemplateVersion:
    """Validate and store the next version of a template (flushes; the caller commits)."""
    errors = validate_template(
        purpose_code=purpose_code,
        channel=channel,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
    )
    if errors:
        raise InvalidTemplate(errors)
    try:
        with db.session.begin_nested():  # two admins saving at once: one wins, one is told
            # Locking the template row makes concurrent saves of one template take turns.
            template = db.session.scalar(
                select(MessageTemplate)
                .where(
                    MessageTemplate.purpose == purpose_code,
                    MessageTemplate.channel == channel,
                    MessageTemplate.locale == locale,
                )
                .with_for_update()
            )
            if template is None:
                template = MessageTemplate(purpose=purpose_code, channel=channel, locale=locale)
                db.session.add(template)
                db.session.flush()
            current = latest_version(purpose_code, channel, locale)
            version = TemplateVersion(
                template_id=template.id,
                version=(current.version + 1) if current else 1,
                subject=subject,
                body_text=body_text,
                body_html=body_html or None,
                created_by=actor_id,
                created_at=now,
            )
            db.session.add(version)
    except IntegrityError as error:
        raise ConcurrentEdit() from error
    return version
