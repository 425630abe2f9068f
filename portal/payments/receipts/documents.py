"""The receipt as a self-contained document, for the PDF (WeasyPrint)."""

from __future__ import annotations

from flask import render_template

from portal.payments.receipts.services import Receipt


def render_receipt_html(receipt: Receipt) -> str:
    """The receipt as one HTML document with its styles inline, in the reader's language."""
    return render_template("documents/payment_receipt.html", receipt=receipt)


def render_receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as PDF. Nothing is fetched: the document has no external resources, and the
    URL fetcher refuses every protocol in case a future template adds one. Chinese text falls
    back to the system's CJK font (see documents/payment_receipt.css)."""
    from weasyprint import HTML  # imported on use: it loads Pango, which takes a moment
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=render_receipt_html(receipt), url_fetcher=fetcher).write_pdf()
