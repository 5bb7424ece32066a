"""The order-history CSV reader (pure part): header aliases and a strict reader that sets each
broken row aside alone, with its reason, and reads on."""

from __future__ import annotations

import csv

import pytest

from audience_dagster.errors import IngestError
from audience_dagster.ingest.csv_reader import MAX_RECORD_BYTES, CsvRows, read_rows
from audience_dagster.ingest.historical_orders import map_header, split_rows


def test_header_aliases_are_case_insensitive() -> None:
    found = map_header(["\ufeffCustomer_Email", "Date", "Total", "Invoice_ID"])
    assert found == {"email": 0, "order_date": 1, "amount": 2, "order_id": 3}


def test_header_without_customer_or_amount_is_rejected_with_the_accepted_names() -> None:
    with pytest.raises(IngestError, match="amount, customer_id or email") as err:
        map_header(["order_date", "notes"])
    assert "accepted names" in str(err.value)


def test_rows_with_the_wrong_field_count_are_set_aside_with_spreadsheet_line_numbers() -> None:
    lines = ["c1,2025-01-02,10\n", "c2,2025-01-03\n", "\n", '"c3, Inc",2025-01-04,"1,000.50"\n']
    buffer, report = split_rows(lines, {"customer_id": 0, "order_date": 1, "amount": 2}, 3)
    assert report.bad == {3: ("wrong number of fields: expected 3, got 2", "c2,2025-01-03")}
    rows = list(csv.reader(buffer))
    assert [r[0] for r in rows] == ["2", "5"]  # header is line 1, blank line 4 skipped
    assert rows[1][3] == "c3, Inc" and rows[1][6] == "1,000.50"
    assert (report.lines, report.blank) == (5, 1)


def read(lines: list[bytes], width: int = 3) -> tuple[list[tuple[int, list[str]]], CsvRows]:
    report = CsvRows()
    return list(read_rows(lines, width, report)), report


def test_an_unterminated_quote_costs_its_own_row_only() -> None:
    good, report = read([b"a,b,c\n", b'"oops,b,c\n', b"d,e,f\n", b"g,h,i\n"])
    assert good == [(2, ["a", "b", "c"]), (4, ["d", "e", "f"]), (5, ["g", "h", "i"])]
    assert report.bad == {3: ("unterminated quoted field", '"oops,b,c')}


def test_a_quoted_field_may_span_lines_when_the_record_is_whole() -> None:
    good, report = read([b'a,"two\n', b'lines",c\n', b"d,e,f\n"])
    assert good == [(2, ["a", "two\nlines", "c"]), (4, ["d", "e", "f"])]
    assert report.bad == {}


def test_a_stray_quote_at_the_end_of_the_file_is_one_bad_row() -> None:
    good, report = read([b"a,b,c\n", b'x,"y,z'])
    assert good == [(2, ["a", "b", "c"])]
    assert report.bad == {3: ("unterminated quoted field", 'x,"y,z')}


def test_nul_invalid_utf8_and_oversized_rows_are_set_aside_and_later_rows_load() -> None:
    huge = b"a,b," + b"x" * (MAX_RECORD_BYTES + 1) + b"\n"
    good, report = read([b"a,\x00b,c\n", b"a,\xffb,c\n", huge, b'"a"b,c,d\n', b"ok,ok,ok\r\n"])
    assert good == [(6, ["ok", "ok", "ok"])]
    assert report.bad[2] == ("NUL byte in record", "a,\\u0000b,c")
    assert report.bad[3][0] == "invalid UTF-8 in record (byte 3)" and "\ufffd" in report.bad[3][1]
    assert report.bad[4][0].startswith("record too large")
    assert report.bad[5][0].startswith("malformed CSV")
    assert report.lines == 6
