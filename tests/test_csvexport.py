"""CSV files for spreadsheets: cells that cannot run as formulas, streamed a batch at a time."""

from __future__ import annotations

import csv
import io

from portal.csvexport import csv_bytes, csv_cell, stream_csv


def test_cells_never_run_as_formulas():
    """Formula starts get a leading quote; plain numbers (phones, negative amounts) do not."""
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("\tx") == "'\tx"
    assert csv_cell("+8613812345678") == "+8613812345678"
    assert csv_cell("-12.50") == "-12.50"
    assert csv_cell(None) == ""
    assert csv_cell(42) == "42"


def test_stream_starts_with_bom_and_header_then_one_chunk_per_batch():
    """The header leads (after the BOM); each batch is one chunk of CRLF lines, cells escaped."""
    batches = [[[1, "=A1"], [2, "Wang Fang"]], [[3, None]]]
    chunks = list(stream_csv(["id", "name"], batches))
    assert chunks == ["\ufeffid,name\r\n", "1,'=A1\r\n2,Wang Fang\r\n", "3,\r\n"]


def test_stream_reads_a_batch_only_when_it_gets_to_it():
    """Nothing past the header is read before the stream is consumed."""
    read = []

    def batches():
        read.append(1)
        yield [["x"]]

    stream = stream_csv(["h"], batches())
    assert next(stream) == "\ufeffh\r\n"
    assert read == []
    assert next(stream) == "x\r\n"


def test_bytes_are_utf8_with_bom_and_parse_back():
    """A small file as bytes reads back as the rows written (Chinese text kept)."""
    content = csv_bytes(["name"], [["王芳"], ["@x"]])
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8").lstrip("\ufeff"))))
    assert rows == [["name"], ["王芳"], ["'@x"]]
