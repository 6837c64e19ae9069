"""Reading an uploaded spreadsheet (CSV or XLSX) into plain text cells.

Library: `openpyxl` (the maintained reader of Office Open XML workbooks),
opened read-only with `data_only=True`: a cell holds the value last saved
in it, never a formula to evaluate, and a text cell that starts with
`=`, `+`, `-` or `@` is kept as that text (data, not a formula). CSV goes
through the standard library's `csv` (separated by what the header line
uses most: `;` as Dutch spreadsheets save it, `,` or a tab), read as UTF-8 (with or without a BOM) or,
failing that, Windows-1252.

The type is judged by the content, never by the name or the client's
Content-Type: an XLSX file is a ZIP archive holding `xl/workbook.xml`; a
CSV is text without NUL bytes. Anything else is refused, naming `file`.
Every cell comes back as a stripped string (dates as ISO `yyyy-mm-dd`,
whole numbers without `.0`); what the cells mean is for service/importing.py.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

MAX_ROWS = 50_000  # data rows per sheet
MAX_COLUMNS = 60
MAX_CELL_CHARS = 2_000


class SpreadsheetError(Exception):
    """The file cannot be read as a spreadsheet; `field` is always `file`."""

    def __init__(self, message: str, **params: object):
        self.template, self.params = message, params
        super().__init__(message.format(**params) if params else message)
        self.field = "file"


@dataclass(frozen=True)
class Sheet:
    name: str  # the worksheet's name; "" for a CSV
    headers: list[str]
    rows: list[list[str]]  # data rows (blank rows left out), each as long as headers
    first_row: int = 2  # the spreadsheet row number of rows[0] (the headers are row 1)
    row_numbers: tuple[int, ...] = ()


def file_type(content: bytes) -> str:
    """'xlsx' or 'csv', judged by the content; SpreadsheetError otherwise."""
    if not content:
        raise SpreadsheetError("the file is empty")
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                if "xl/workbook.xml" in z.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise SpreadsheetError("the file is not a spreadsheet: upload a CSV or XLSX file")
    if b"\x00" in content[:65536]:
        raise SpreadsheetError("the file is not a spreadsheet: upload a CSV or XLSX file")
    return "csv"


def read(content: bytes) -> list[Sheet]:
    """The sheets of a CSV (one) or XLSX (each worksheet with a header row)."""
    kind = file_type(content)
    sheets = _read_xlsx(content) if kind == "xlsx" else [_read_csv(content)]
    sheets = [s for s in sheets if s.headers]
    if not sheets:
        raise SpreadsheetError("the file has no header row")
    return sheets


def _cell_too_long() -> SpreadsheetError:
    return SpreadsheetError("a cell holds more than {max} characters", max=MAX_CELL_CHARS)


def _text(value: object) -> str:
    if type(value) is str:  # every cell of a CSV, most of a workbook's
        text = value.strip()
        if len(text) > MAX_CELL_CHARS:
            raise _cell_too_long()
        return text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    text = str(value).strip()
    if len(text) > MAX_CELL_CHARS:
        raise _cell_too_long()
    return text


def _sheet(name: str, raw_rows: object, texts: bool = False) -> Sheet:
    """A sheet of `raw_rows`; `texts`: every cell is a str already (a CSV's)."""
    headers: list[str] = []
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, raw in enumerate(raw_rows, start=1):  # type: ignore[call-overload]
        if texts:
            cells = [v.strip() for v in raw]
            if cells and max(map(len, cells)) > MAX_CELL_CHARS:
                raise _cell_too_long()
        else:
            cells = [_text(v) for v in raw]
        if not headers:
            if not any(cells):
                continue
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise SpreadsheetError("the sheet has more than {max} columns", max=MAX_COLUMNS)
            headers = cells
            continue
        if not any(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise SpreadsheetError("the sheet has more than {max} rows", max=MAX_ROWS)
        if len(cells) != len(headers):
            cells = (cells + [""] * len(headers))[:len(headers)]
        rows.append(cells)
        numbers.append(number)
    return Sheet(name=name, headers=headers, rows=rows, row_numbers=tuple(numbers))


def _read_xlsx(content: bytes) -> list[Sheet]:
    import openpyxl  # imported here: only an XLSX upload pays for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError("the file is not a readable XLSX workbook") from None
    try:
        return [_sheet(ws.title, ws.iter_rows(values_only=True)) for ws in workbook.worksheets
                if getattr(ws, "iter_rows", None) is not None]
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError("the file is not a readable XLSX workbook") from None
    finally:
        workbook.close()


def _read_csv(content: bytes) -> Sheet:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    # The separator is the one the header line uses most (`;` as Dutch
    # spreadsheets save a CSV, `,` or a tab); the quoting is the standard one.
    header = text.lstrip().split("\n", 1)[0]
    delimiter = max(";,\t", key=header.count)
    try:
        return _sheet("", csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), texts=True)
    except csv.Error as e:
        raise SpreadsheetError("the CSV file cannot be read: {reason}", reason=str(e)) from None
