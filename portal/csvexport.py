"""CSV files for spreadsheets: cells that cannot run as formulas, written a batch at a time.

Every CSV the portal produces (exports, the evidence bundle) goes through here, so the
formula-injection rule has one home: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading ``'``, unless it is a plain number (``-12.50``,
``+8613800138000``), which a spreadsheet shows as a number anyway. Files start with a
byte-order mark so that spreadsheet apps read UTF-8 (Chinese names) correctly; lines end in CRLF.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SAFE_NUMBER = re.compile(r"[+-]?\d[\d ]*(\.\d+)?")


def csv_cell(value) -> str:
    """The text of one cell, which a spreadsheet will not run as a formula; None is empty."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not SAFE_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_lines(rows: Iterable[Sequence]) -> str:
    """The CSV lines of ``rows``, every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


def stream_csv(header: Sequence, batches: Iterable[Iterable[Sequence]]) -> Iterator[str]:
    """A CSV file as a lazy stream: the BOM and the header, then one chunk per batch of rows
    (a batch is read only when the stream gets to it, so memory stays flat)."""
    yield BOM + csv_lines([header])
    for rows in batches:
        yield csv_lines(rows)


def csv_bytes(header: Sequence, rows: Iterable[Sequence]) -> bytes:
    """A whole (small) CSV file as UTF-8 bytes, BOM first."""
    return "".join(stream_csv(header, [rows])).encode("utf-8")
