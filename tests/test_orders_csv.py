"""The order-history CSV reader (pure part): header aliases and structurally broken rows."""

from __future__ import annotations

import csv
import io

import pytest

from audience_dagster.errors import IngestError
from audience_dagster.ingest.historical_orders import map_header, split_rows


def test_header_aliases_are_case_insensitive() -> None:
    found = map_header(["\ufeffCustomer_Email", "Date", "Total", "Invoice_ID"])
    assert found == {"email": 0, "order_date": 1, "amount": 2, "order_id": 3}


def test_header_without_customer_or_amount_is_rejected_with_the_accepted_names() -> None:
    with pytest.raises(IngestError, match="amount, customer_id or email") as err:
        map_header(["order_date", "notes"])
    assert "accepted names" in str(err.value)


def test_rows_with_the_wrong_field_count_are_set_aside_with_spreadsheet_line_numbers() -> None:
    text = io.StringIO('c1,2025-01-02,10\nc2,2025-01-03\n\n"c3, Inc",2025-01-04,"1,000.50"\n')
    buffer, bad, lines = split_rows(text, {"customer_id": 0, "order_date": 1, "amount": 2}, 3)
    assert bad == {3: ("wrong number of fields: expected 3, got 2", "c2,2025-01-03")}
    rows = list(csv.reader(buffer))
    assert [r[0] for r in rows] == ["2", "5"]  # header is line 1, blank line 4 skipped
    assert rows[1][3] == "c3, Inc" and rows[1][6] == "1,000.50"
    assert lines == 5
