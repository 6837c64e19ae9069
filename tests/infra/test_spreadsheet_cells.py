"""Every cell of an uploaded spreadsheet comes back as stripped text, and a
cell longer than MAX_CELL_CHARS is refused naming the file (infra/spreadsheet.py),
from CSV and from XLSX alike."""
from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest

from infra import spreadsheet


def xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_csv_cells_come_back_stripped():
    [sheet] = spreadsheet.read("Naam;Uren\n  Ada  ;\t20,5 \n".encode())
    assert sheet.headers == ["Naam", "Uren"]
    assert sheet.rows == [["Ada", "20,5"]]


def test_workbook_values_come_back_as_text():
    [sheet] = spreadsheet.read(xlsx([["Naam", "Start", "Uren", "Vast", "Moment"],
                                     ["  Ada ", date(2026, 2, 1), 20.5, True, datetime(2026, 2, 1, 9, 30)],
                                     ["Bo", datetime(2026, 3, 1), 20.0, False, None]]))
    assert sheet.rows == [["Ada", "2026-02-01", "20.5", "true", "2026-02-01T09:30:00"],
                          ["Bo", "2026-03-01", "20", "false", ""]]


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_a_cell_too_long_is_refused_naming_the_file(as_xlsx):
    long = "x" * (spreadsheet.MAX_CELL_CHARS + 1)
    content = xlsx([["Naam"], [long]]) if as_xlsx else f"Naam\n{long}\n".encode()
    with pytest.raises(spreadsheet.SpreadsheetError) as caught:
        spreadsheet.read(content)
    assert caught.value.field == "file"
    assert str(spreadsheet.MAX_CELL_CHARS) in str(caught.value)
    fits = "x" * spreadsheet.MAX_CELL_CHARS + "   "  # the spaces are stripped first
    content = xlsx([["Naam"], [fits]]) if as_xlsx else f"Naam\n{fits}\n".encode()
    assert spreadsheet.read(content)[0].rows == [["x" * spreadsheet.MAX_CELL_CHARS]]
