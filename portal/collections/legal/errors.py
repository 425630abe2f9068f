"""Why a legal step was refused: domain errors with a translated message and a status.

A case that is not open refuses legal steps with the case pages' ``CaseNotOpen``
(``portal.collections.cases.access``).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.domain import DomainError, NotFound


class LegalRefused(DomainError):
    """Base of every refusal in the legal workflow; nothing was changed."""

    status_code = 409


class NotInStage3(LegalRefused):
    status_code = 422
    message = _l("Legal approval can be requested only for cases in stage 3.")


class RequestPending(LegalRefused):
    message = _l("A legal request for this case is already waiting for a decision.")


class AlreadyApproved(LegalRefused):
    message = _l("This case is already approved for the legal stage.")


class EvidenceIncomplete(LegalRefused):
    status_code = 422
    message = _l("The evidence is not complete.")


class ReasonRequired(LegalRefused):
    status_code = 422
    message = _l("Please give the reason for the request.")


class RequestNotFound(NotFound):
    message = _l("We could not find that legal request.")


class AlreadyDecided(LegalRefused):
    message = _l("This request has already been decided.")


class NoteRequired(LegalRefused):
    status_code = 422
    message = _l("Please write a note explaining the rejection.")


class NotApproved(LegalRefused):
    message = _l("This case has not been approved for the legal stage.")


class BundleNotApproved(LegalRefused):
    message = _l(
        "The evidence bundle holds the borrower's personal data: it can be downloaded once an "
        "admin has approved a legal request for this case."
    )


class NotOverdue(LegalRefused):
    status_code = 422
    message = _l("The loan is no longer overdue, so no lawyer letter can be sent.")


class LetterAlreadyProduced(LegalRefused):
    message = _l("A lawyer letter has already been produced for this approval.")


class NoLetter(NotFound):
    message = _l("No lawyer letter has been produced for this case.")


class PlacementActive(LegalRefused):
    message = _l("This case is already placed with an agency. Recall it first.")


class NoActivePlacement(LegalRefused):
    message = _l("This case is not placed with an agency.")


class AgencyRequired(LegalRefused):
    status_code = 422
    message = _l("Please enter the agency's name.")


class StatusRequired(LegalRefused):
    status_code = 422
    message = _l("Please enter the agency's status.")
