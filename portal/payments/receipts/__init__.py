"""Payment receipts: the page, the PDF and the email, from one ``Receipt``."""

from portal.payments.receipts.services import send_receipt

__all__ = ["send_receipt"]
