"""Spreadsheet import: rows of employers, contracts, candidates, placements
and purchases become the ordinary commands (docs/import.md).

The file is read elsewhere (infra/spreadsheet.py: sheets of text cells);
here each sheet gets a kind (a CSV: the kind the user chose; an XLSX: its
worksheet's name, Dutch or English), each column a field (its header,
Dutch or English, or the tenant's saved mapping, or the mapping the user
gave), and each row a command, built and decided by the same handlers and
domain validators as the API's, so a row's errors are the API's errors,
named by the row's number and the column's header.

`preview` decides every row without storing anything (one unit of work for
the whole file, nothing saved). `confirm` stores the rows that pass, in
batches (Ledger.execute_batch: one transaction per batch), every event
carrying the import's id as its correlation id. Each row has an identity
(`row_key`): its kind and its key column when it has one, else its kind and
its values; a row imported once is never stored again (infra/import_store.py
`events.import_rows`, written in the batch's transaction), so the same file
twice stores nothing new.

Rows are run kind by kind in this order: employers, contracts, candidates,
placements, purchases. A reference column (a placement's candidate,
employer, contract; a contract's employer; a purchase's contract) holds a
record's id, or the key of a row of that kind in this file or in an earlier
import.
"""
from __future__ import annotations

import gc
import hashlib
import json
from json.encoder import encode_basestring_ascii as _json_string
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from typing import Any
from uuid import UUID

from domain.ids import id_of_int
from infra import import_store, spreadsheet
from infra.eventstore import Tenant
from service import commands as c
from service.actor import Actor
from service.errors import (
    Conflict,
    InvalidInput,
    InvalidReference,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooLarge,
)
from service.ledger import BatchConflict, BatchRow, Ledger
from service.ports import ProcessesLost, SideBySide

log = logging.getLogger("sroi.importing")

KINDS = ("employers", "contracts", "candidates", "placements", "purchases")
# Rows per batch (a transaction): 1,000 stored 10,000 placements 8% faster
# than 500 (fewer queries a row), 2,000 slower again (bench/import.py).
BATCH_ROWS = 1000
# Days an unconfirmed preview keeps its file (infra/import_store.py expires it).
PREVIEW_DAYS = import_store.PREVIEW_DAYS
# A confirm of more rows than this runs in the worker, with a progress bar.
BACKGROUND_ROWS = 200
PREVIEW_PAGE_ROWS = 50
CONFLICT_RETRIES = 5
# A kind with at least this many rows to store (without errors in their cells)
# has its batches stored side by side, in other processes
# (Ledger.batch_processes), when there are any: two batches at least.
PARALLEL_ROWS = 2 * BATCH_ROWS
STOPPED_ON_OURS = ("the import stopped on an error of ours; the rows stored so far stay stored: "
                   "upload the file again to store the rest")

_SHEET_NAMES = {
    "employers": ("employers", "employer", "werkgevers", "werkgever"),
    "contracts": ("contracts", "contract", "contracten"),
    "candidates": ("candidates", "candidate", "kandidaten", "kandidaat"),
    "placements": ("placements", "placement", "plaatsingen", "plaatsing"),
    "purchases": ("purchases", "purchase", "inkopen", "inkoop", "aankopen"),
}


@dataclass(frozen=True)
class Column:
    field: str  # the command's field (as the API names it), or "key"
    parse: str  # text | date | decimal | bool | list | key | ref:<kind>
    required: bool
    aliases: tuple[str, ...]  # headers, English and Dutch, as normalised by `norm`


def _col(name: str, parse: str, required: bool, *aliases: str) -> Column:
    return Column(name, parse, required, tuple(norm(a) for a in (name.replace("_", " "), *aliases)))


def norm(header: str) -> str:
    """A header as compared: lower case, letters and digits, single spaces."""
    return " ".join(re.sub(r"[^0-9a-zà-ÿ]+", " ", header.lower()).split())


_KEY = ("key", "reference", "ref", "sleutel", "kenmerk", "code", "nummer", "number")

COLUMNS: dict[str, list[Column]] = {
    "employers": [
        _col("key", "key", False, *_KEY, "employer key", "werkgeversleutel", "werkgever sleutel", "werkgevernummer"),
        _col("name", "text", True, "employer", "employer name", "naam", "werkgever", "bedrijfsnaam", "company"),
    ],
    "contracts": [
        _col("key", "key", False, *_KEY, "contract key", "contractsleutel", "contractnummer", "contract number"),
        _col("employer_id", "ref:employers", True, "employer", "employer key", "werkgever", "werkgeversleutel",
             "werkgever sleutel"),
        _col("title", "text", True, "titel", "naam", "name", "omschrijving"),
        _col("contracting_authority", "text", True, "contracting authority", "authority", "aanbestedende dienst",
             "opdrachtgever"),
        _col("contract_value_eur", "decimal", True, "contract value", "value", "contractwaarde", "waarde",
             "contract value eur", "contractwaarde eur"),
        _col("obligation_percent", "decimal", True, "obligation", "percentage", "sroi percentage",
             "verplichting", "verplichting percentage", "obligation percentage"),
        _col("starts_on", "date", True, "start date", "start", "startdatum", "ingangsdatum", "begindatum"),
        _col("ends_on", "date", True, "end date", "end", "einddatum"),
        _col("awarded_on", "date", True, "award date", "awarded", "gunningsdatum", "gegund op"),
        _col("rule_set", "text", True, "rule set", "regelset", "regels"),
    ],
    "candidates": [
        _col("key", "key", False, *_KEY, "candidate key", "kandidaatsleutel", "kandidaatnummer", "kandidaat sleutel"),
        _col("full_name", "text", True, "name", "full name", "naam", "volledige naam"),
        _col("date_of_birth", "date", True, "date of birth", "birth date", "born", "geboortedatum"),
        _col("target_group", "text", True, "target group", "doelgroep"),
        _col("competences", "list", False, "competences", "skills", "competenties", "vaardigheden"),
        _col("support_needs", "text", False, "support needs", "ondersteuningsbehoefte", "ondersteuning"),
        _col("benefit_since", "date", False, "benefit since", "uitkering sinds", "uitkering vanaf"),
    ],
    "placements": [
        _col("key", "key", False, *_KEY, "placement key", "plaatsingsleutel", "plaatsingsnummer"),
        _col("candidate_id", "ref:candidates", True, "candidate", "candidate key", "kandidaat", "kandidaatsleutel",
             "kandidaatnummer", "kandidaat sleutel"),
        _col("employer_id", "ref:employers", True, "employer", "employer key", "werkgever", "werkgeversleutel",
             "werkgever sleutel"),
        _col("contract_id", "ref:contracts", False, "contract", "contract key", "contractsleutel", "contractnummer"),
        _col("starts_on", "date", True, "start date", "start", "startdatum", "begindatum", "ingangsdatum"),
        _col("hours_per_week", "decimal", True, "hours per week", "hours", "uren per week", "uren",
             "uren per week gemiddeld"),
        _col("permanent_contract", "bool", False, "permanent contract", "permanent", "vast contract", "vast"),
        _col("planned_end_on", "date", False, "planned end date", "end date", "geplande einddatum", "einddatum"),
    ],
    "purchases": [
        _col("key", "key", False, *_KEY, "invoice number", "factuurnummer", "inkoopnummer"),
        _col("contract_id", "ref:contracts", True, "contract", "contract key", "contractsleutel", "contractnummer"),
        _col("supplier", "text", True, "supplier", "leverancier", "sociale onderneming", "social enterprise"),
        _col("invoice_amount_eur_excl_vat", "decimal", True, "amount", "amount excl vat", "invoice amount",
             "bedrag", "bedrag excl btw", "factuurbedrag", "factuurbedrag excl btw"),
        _col("register", "text", True, "register", "registry", "registratie"),
        _col("invoice_date", "date", True, "invoice date", "date", "factuurdatum", "datum"),
        _col("description", "text", True, "description", "omschrijving"),
    ],
}
FIELDS: dict[str, dict[str, Column]] = {kind: {col.field: col for col in cols} for kind, cols in COLUMNS.items()}


class ImportError_(InvalidInput):
    """The upload as a whole cannot be imported (naming a field: kind, mapping, file)."""

    def __init__(self, field: str, message: str, **params: object):
        super().__init__(field, message.format(**params) if params else message)
        self.template, self.params = message, params


def kind_of_sheet(name: str) -> str | None:
    n = norm(name)
    for kind, names in _SHEET_NAMES.items():
        if n in names:
            return kind
    return None


def kind_named(value: str) -> str:
    kind = kind_of_sheet(value or "")
    if kind is None:
        raise ImportError_("kind", "must be one of {kinds}", kinds=", ".join(KINDS))
    return kind


def auto_mapping(kind: str, headers: list[str], saved: dict[str, str] | None = None,
                 given: dict[str, str] | None = None) -> dict[str, str]:
    """header -> field for the headers of a sheet ("" for a column left out):
    the mapping given, else the tenant's saved one, else the header's own
    (English or Dutch) name."""
    index = {alias: col.field for col in COLUMNS[kind] for alias in col.aliases}
    # First come: a header that is an alias of two columns goes to the first.
    for col in COLUMNS[kind]:
        for alias in col.aliases:
            index.setdefault(alias, col.field)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        for source in (given, saved):
            if source and header in source:
                target = source[header]
                break
        else:
            target = index.get(norm(header), "")
            if target in taken:
                target = ""
        if target and target not in FIELDS[kind]:
            raise ImportError_("mapping", "{header}: {name} is not a column of {kind}: the columns are {known}",
                               header=header, name=target, kind=kind, known=", ".join(FIELDS[kind]))
        if target and target in taken:
            raise ImportError_("mapping", "two columns are mapped to {name}", name=target)
        if target:
            taken.add(target)
        out[header] = target
    return out


# -- values --------------------------------------------------------------------
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_YES = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
_NO = {"nee", "n", "no", "false", "onwaar", "0", ""}


class CellError(Exception):
    def __init__(self, message: str, **params: object):
        self.template, self.params = message, params
        super().__init__(message.format(**params) if params else message)


def parse_date(text: str) -> date:
    m = _ISO.match(text)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = _DMY.match(text)
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise CellError("{value} is not a date (dd-mm-yyyy or yyyy-mm-dd)", value=text)


def parse_decimal(text: str) -> str:
    """The number as the domain reads it ("1.234,5" and "1234.5" alike)."""
    t = text.replace("€", "").replace(" ", "").replace("\u00a0", "")
    if "," in t and "." in t:
        decimal_sep = "," if t.rfind(",") > t.rfind(".") else "."
        t = t.replace("." if decimal_sep == "," else ",", "").replace(",", ".")
    elif "," in t:
        t = t.replace(",", ".")
    if not _NUMBER.fullmatch(t):
        raise CellError("{value} is not a number", value=text)
    return t


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise CellError("{value} is not yes or no (ja/nee)", value=text)


_LIST_SEPARATORS = re.compile(r"[;,|]")


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


# How a column's text becomes its value, by the column's `parse`; one not
# here (text, key, ref:<kind>) is its text as it is.
PARSERS: dict[str, Callable[[str], Any]] = {
    "date": parse_date, "decimal": parse_decimal, "bool": parse_bool, "list": parse_list}


# Each field name as json writes it (a row's identity names them all).
_JSON_KEYS: dict[str, str] = {}


def _identity(values: dict[str, Any]) -> str:
    """A row without a key, as text: what `json.dumps({k: str(v)},
    sort_keys=True)` writes for it (its row key is made of it, and rows
    stored before must keep theirs), the strings escaped by json's own
    escaping function, without the encoder's machinery per row."""
    parts = []
    for k, v in sorted(values.items()):
        key = _JSON_KEYS.get(k)
        if key is None:
            key = _JSON_KEYS[k] = _json_string(k)
        parts.append(key + ": " + _json_string(v if type(v) is str else str(v)))
    return "{" + ", ".join(parts) + "}"


@lru_cache(maxsize=65536)
def key_row_key(kind: str, key: str) -> str:
    """The row key of a row with this key (what rows referring to it are
    matched by: asked of each reference several times in an import)."""
    return hashlib.sha256(f"{kind}\x1fkey\x1f{key.strip().lower()}".encode()).hexdigest()


# -- rows ----------------------------------------------------------------------
@dataclass
class Row:
    sheet: int
    kind: str
    number: int  # the spreadsheet row number
    cells: list[str]
    values: dict[str, Any]
    row_key: str
    key: str | None
    status: str = "pending"  # ok | error | already | duplicate
    errors: list[dict[str, Any]] = field(default_factory=list)
    record_id: str | None = None


def _packed_ids(ids: dict[str, UUID]) -> tuple[list[str], bytes]:
    """Row keys and the ids of their records, for another process: a UUID
    pickles as a reconstructor and a state dict, 16 bytes are a tenth of that."""
    return list(ids), b"".join([i.bytes for i in ids.values()])


def _unpacked_ids(keys: list[str], packed: bytes) -> dict[str, UUID]:
    return {key: id_of_int(int.from_bytes(packed[16 * n:16 * n + 16], "big")) for n, key in enumerate(keys)}


@dataclass
class Plan:
    """A file read with its mapping: the sheets (kind, headers, mapping) and
    the rows in the order they run, each parsed as far as its cells go."""

    sheets: list[dict[str, Any]]
    rows: list[Row]
    errors: list[dict[str, Any]]  # the file's own (a sheet of no kind, a required column missing)


def plan(sheets: list[Any], kind: str | None, saved: dict[str, dict[str, str]],
         given: dict[str, dict[str, str]] | None = None) -> Plan:
    """The rows of the sheets as they would run; `sheets` are infra.spreadsheet
    Sheets. A CSV (one sheet without a name) is of `kind`; an XLSX sheet is of
    the kind its name says, or of `kind` if it is the only sheet."""
    with _collector_paused():
        return _plan(sheets, kind, saved, given or {})


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a file's rows are made: they all
    stay (the plan holds them) and hold no cycles, yet its full collections
    would walk them, and all else the process holds, again and again (a
    third of planning 10,000 placement rows). Resumed after, if it ran
    before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _plan(sheets: list[Any], kind: str | None, saved: dict[str, dict[str, str]],
          given: dict[str, dict[str, str]]) -> Plan:
    out_sheets: list[dict[str, Any]] = []
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    for i, sheet in enumerate(sheets):
        sheet_kind = kind_of_sheet(sheet.name) if sheet.name else None
        if sheet_kind is None and (len(sheets) == 1 or not sheet.name):
            sheet_kind = kind
        if sheet_kind is None:
            if len(sheets) == 1:
                raise ImportError_("kind", "choose what the file holds: one of {kinds}", kinds=", ".join(KINDS))
            errors.append({"sheet": sheet.name, "field": "sheet", "template": "sheet {sheet} is left out: its"
                           " name is none of {kinds}", "params": {"sheet": sheet.name, "kinds": ", ".join(KINDS)}})
            continue
        mapping = auto_mapping(sheet_kind, sheet.headers, saved.get(sheet_kind), given.get(sheet_kind))
        mapped = {f: h for h, f in mapping.items() if f}
        missing = [col.field for col in COLUMNS[sheet_kind] if col.required and col.field not in mapped]
        for f in missing:
            errors.append({"sheet": sheet.name, "field": f, "template": "no column for {field} in {kind}",
                           "params": {"field": f, "kind": sheet_kind}})
        out_sheets.append({"name": sheet.name, "kind": sheet_kind, "headers": sheet.headers, "mapping": mapping})
        if missing:
            continue
        # Each mapped column: its place, its column and how its text is read.
        positions = []
        for j, h in enumerate(sheet.headers):
            if mapping[h]:
                col = FIELDS[sheet_kind][mapping[h]]
                positions.append((j, col, PARSERS.get(col.parse)))
        for number, cells in zip(sheet.row_numbers, sheet.rows):
            values: dict[str, Any] = {}
            row_errors: list[dict[str, Any]] = []
            for j, col, parse in positions:
                text = cells[j]
                if not text:
                    if col.required:
                        row_errors.append({"column": sheet.headers[j], "field": col.field,
                                           "template": "{field} is required", "params": {"field": col.field}})
                    continue
                if parse is None:
                    values[col.field] = text
                    continue
                try:
                    values[col.field] = parse(text)
                except CellError as e:
                    row_errors.append({"column": sheet.headers[j], "field": col.field,
                                       "template": e.template, "params": e.params})
            key = values.pop("key", None)
            if key:
                row_key = key_row_key(sheet_kind, key)
            else:
                row_key = hashlib.sha256(f"{sheet_kind}\x1frow\x1f{_identity(values)}".encode()).hexdigest()
            rows.append(Row(sheet=i, kind=sheet_kind, number=number, cells=cells, values=values,
                            row_key=row_key, key=key or None, errors=row_errors,
                            status="error" if row_errors else "pending"))
    rows.sort(key=lambda r: KINDS.index(r.kind))  # stable: file order within a kind
    return Plan(sheets=out_sheets, rows=rows, errors=errors)


def _reference(field_name: str, message: str, **params: object) -> InvalidReference:
    error = InvalidReference(field_name, message.format(**params))
    error.template, error.params = message, params
    return error


class _Run:
    """One pass over a plan's rows: builds each row's command when its turn
    comes, resolving references through the ids known so far."""

    def __init__(self, the_plan: Plan, known: dict[str, UUID]):
        self.plan = the_plan
        self.ids: dict[str, UUID] = dict(known)
        self.failed_keys: dict[str, int] = {}
        self.headers = {i: {f: h for h, f in s["mapping"].items() if f} for i, s in enumerate(the_plan.sheets)}
        self._ids_read: dict[str, UUID | None] = {}

    def column(self, row: Row, field_name: str | None) -> str:
        return self.headers.get(row.sheet, {}).get(field_name or "", field_name or "")

    def id_in(self, value: str) -> UUID | None:
        """The id a reference cell holds; None if it holds a row's key. Read
        once per distinct text (a file names the same employer and contract
        on every row); a text shorter than an id's 32 digits is a key."""
        try:
            return self._ids_read[value]
        except KeyError:
            pass
        found = None
        if len(value) >= 32:
            try:
                found = UUID(value)
            except ValueError:
                pass
        self._ids_read[value] = found
        return found

    def ref(self, row: Row, field_name: str, kind: str) -> UUID | None:
        value = row.values.get(field_name)
        if value is None:
            return None
        found = self.id_in(value)
        if found is not None:
            return found
        rk = key_row_key(kind, value)
        if rk in self.ids:
            return self.ids[rk]
        if rk in self.failed_keys:
            raise _reference(field_name, "row {row} with key {key} has errors", row=self.failed_keys[rk], key=value)
        raise _reference(field_name, "no {kind} with key {key} in this file or an earlier import",
                         kind=kind[:-1], key=value)

    def referred(self, rows: list[Row]) -> tuple[dict[str, UUID], dict[str, int]]:
        """Of the ids known so far and the rows with errors, those these rows
        refer to by key (what their commands need, elsewhere)."""
        ids: dict[str, UUID] = {}
        failed: dict[str, int] = {}
        for kind, value in _references(rows):
            rk = key_row_key(kind, value)
            if rk in self.ids:
                ids[rk] = self.ids[rk]
            elif rk in self.failed_keys:
                failed[rk] = self.failed_keys[rk]
        return ids, failed

    def known_refs(self, rows: list[Row]) -> set[UUID]:
        """The records these rows refer to that exist already (to load at once)."""
        out: set[UUID] = set()
        for kind, value in _references(rows):
            found = self.id_in(value)
            if found is None:
                found = self.ids.get(key_row_key(kind, value))
            if found is not None:
                out.add(found)
        return out

    def command(self, row: Row) -> Any:
        v = row.values
        if row.kind == "employers":
            return c.RegisterEmployer(name=v.get("name", ""))
        if row.kind == "contracts":
            return c.RegisterContract(
                employer_id=self.ref(row, "employer_id", "employers"), title=v.get("title", ""),  # type: ignore[arg-type]
                contracting_authority=v.get("contracting_authority", ""),
                contract_value_eur=v.get("contract_value_eur", ""), obligation_percent=v.get("obligation_percent", ""),
                starts_on=v.get("starts_on"), ends_on=v.get("ends_on"), awarded_on=v.get("awarded_on"),  # type: ignore[arg-type]
                rule_set=v.get("rule_set", ""))
        if row.kind == "candidates":
            return c.RegisterCandidate(
                full_name=v.get("full_name", ""), date_of_birth=v.get("date_of_birth"),  # type: ignore[arg-type]
                target_group=v.get("target_group", ""), competences=v.get("competences", []),
                support_needs=v.get("support_needs", ""), benefit_since=v.get("benefit_since"))
        if row.kind == "placements":
            return c.StartPlacement(
                candidate_id=self.ref(row, "candidate_id", "candidates"),  # type: ignore[arg-type]
                employer_id=self.ref(row, "employer_id", "employers"),  # type: ignore[arg-type]
                contract_id=self.ref(row, "contract_id", "contracts"), vacancy_id=None,
                starts_on=v.get("starts_on"), hours_per_week=v.get("hours_per_week", ""),  # type: ignore[arg-type]
                permanent_contract=bool(v.get("permanent_contract", False)),
                planned_end_on=v.get("planned_end_on"))
        return c.ReportSocialEnterprisePurchase(
            contract_id=self.ref(row, "contract_id", "contracts"),  # type: ignore[arg-type]
            supplier=v.get("supplier", ""), invoice_amount_eur_excl_vat=v.get("invoice_amount_eur_excl_vat", ""),
            register=v.get("register", ""), invoice_date=v.get("invoice_date"),  # type: ignore[arg-type]
            description=v.get("description", ""))

    def batch_row(self, row: Row) -> BatchRow:
        def done(body: dict[str, Any], record_id: UUID) -> None:
            row.status, row.record_id = "ok", body["id"]
            self.ids[row.row_key] = record_id

        def failed(error: ServiceError) -> None:
            row.status = "error"
            template = getattr(error, "template", None) or str(error)
            row.errors.append({"column": self.column(row, error.field), "field": error.field or "row",
                               "template": template, "params": getattr(error, "params", None) or {},
                               "message": str(error)})
            if row.key:
                self.failed_keys[row.row_key] = row.number

        return BatchRow(row_key=row.row_key, kind=row.kind[:-1], build=lambda: self.command(row),
                        done=done, failed=failed)

    def triage(self, rows: list[Row], seen: set[str]) -> list[Row]:
        """The rows of these still to run: the others are errors already,
        imported before, or the same row again in this file."""
        todo = []
        for row in rows:
            if row.status == "error":
                for e in row.errors:
                    e.setdefault("message", e["template"].format(**e["params"]))
                if row.key:
                    self.failed_keys[row.row_key] = row.number
            elif row.row_key in seen:
                row.status = "duplicate"
                known = self.ids.get(row.row_key)
                row.record_id = str(known) if known else None
            elif row.row_key in self.ids:
                row.status, row.record_id = "already", str(self.ids[row.row_key])
                seen.add(row.row_key)
            else:
                seen.add(row.row_key)
                todo.append(row)
        return todo


def _known(ledger: Ledger, tenant: Tenant, rows: list[Row], known: Mapping[str, UUID] | None = None
           ) -> dict[str, UUID]:
    """Of these rows, and of the rows they refer to by key, those imported
    before (row key -> record id), leaving out what `known` holds already."""
    keys = {r.row_key for r in rows} | {key_row_key(kind, value) for kind, value in _references(rows)}
    if known:
        keys = {k for k in keys if k not in known}
    database = ledger.stores.database(tenant.database)
    return import_store.known_rows(database, tenant.id, sorted(keys))


FIELDS_REF = {(kind, col.field): col.parse[4:] for kind, cols in COLUMNS.items() for col in cols
              if col.parse.startswith("ref:")}


def _references(rows: list[Row]) -> Iterator[tuple[str, str]]:
    """Each reference cell of these rows: the kind it names, and its text (a
    record's id, or the key of a row of that kind)."""
    for row in rows:
        for f, value in row.values.items():
            kind = FIELDS_REF.get((row.kind, f))
            if kind is not None:
                yield kind, str(value)


def counts(the_plan: Plan) -> dict[str, Any]:
    by_kind: dict[str, dict[str, int]] = {}
    for row in the_plan.rows:
        k = by_kind.setdefault(row.kind, {"rows": 0, "ok": 0, "error": 0, "already": 0, "duplicate": 0})
        k["rows"] += 1
        k[row.status if row.status in k else "error"] += 1
    total = {s: sum(k[s] for k in by_kind.values()) for s in ("rows", "ok", "error", "already", "duplicate")}
    return {"by_kind": by_kind, **total, "file_errors": len(the_plan.errors)}


@contextmanager
def _set_aside() -> Iterator[Callable[[], None]]:
    """A file's rows, and the records its batches built, stay in memory until
    the import ends: Python's cycle collector would walk them all again at
    each full collection, more often as they grow (a preview of 10,000
    placement rows spent 40% of its time there). The caller calls the
    function it is given at each batch: what is kept so far is set aside
    from collection (`gc.freeze`, as projections/writer.py does), until the
    end (freed as usual once no longer referenced; cycles among it wait)."""
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def preview(ledger: Ledger, tenant: Tenant, actor: Actor, the_plan: Plan) -> dict[str, Any]:
    """Decide every row as if stored, storing nothing: each row ends ok (it
    would be stored), error (with its errors per column), already (imported
    before) or duplicate (the same row earlier in this file)."""
    run = _Run(the_plan, _known(ledger, tenant, the_plan.rows))
    todo = run.triage(the_plan.rows, set())
    unit = ledger.batch_unit(tenant, actor)
    with _set_aside() as set_aside:
        for start in range(0, len(todo), BATCH_ROWS):
            set_aside()
            chunk = todo[start:start + BATCH_ROWS]
            ledger.execute_batch(tenant, actor, [run.batch_row(r) for r in chunk], correlation_id="", unit=unit,
                                 store=False, preload=run.known_refs(chunk))
    return counts(the_plan)


def confirm(ledger: Ledger, tenant: Tenant, actor: Actor, the_plan: Plan, import_id: UUID,
            progress: Callable[[int], None] | None = None, batch_rows: int = BATCH_ROWS) -> dict[str, Any]:
    """Store the rows that pass, batch by batch, with the import's id as the
    correlation id; rows imported before store nothing. `progress(rows done)`
    after each batch."""
    by_kind = {kind: [r for r in the_plan.rows if r.kind == kind] for kind in KINDS}
    processes = ledger.batch_processes
    wide = {kind for kind, rows in by_kind.items() if sum(r.status == "pending" for r in rows) >= PARALLEL_ROWS}
    seen: set[str] = set()
    done = 0
    with _set_aside() as set_aside, ExitStack() as stack:
        # Opened first: the child processes start while the first rows are decided.
        side_by_side = stack.enter_context(processes.open()) if wide and processes is not None else None
        run = _Run(the_plan, {})
        for kind, rows in by_kind.items():
            if kind in wide and side_by_side is not None:
                done, lost = _confirm_side_by_side(side_by_side, ledger, tenant, actor, run, rows, seen, import_id,
                                                   done, progress, batch_rows)
                if lost:
                    side_by_side = None  # the later kinds here
                continue
            # What was imported before is read kind by kind: this import's
            # rows of the kinds before are known already (run.ids).
            run.ids.update(_known(ledger, tenant, rows, run.ids))
            batches = [rows[i:i + batch_rows] for i in range(0, len(rows), batch_rows)]
            done = _store_here(ledger, tenant, actor, run, batches, seen, import_id, done, progress, set_aside)
    result = counts(the_plan)
    result["errors"] = errors_of(the_plan, limit=200)
    result["new"] = result["ok"]
    return result


def _store_here(ledger: Ledger, tenant: Tenant, actor: Actor, run: _Run, batches: list[list[Row]], seen: set[str],
                import_id: UUID, done: int, progress: Callable[[int], None] | None,
                set_aside: Callable[[], None]) -> int:
    """These batches stored by this process, one after the other, with
    `progress` after each; the rows done after them."""
    for batch in batches:
        set_aside()
        done, _position = _confirm_batch(ledger, tenant, actor, run, batch, seen, import_id, done)
        if progress is not None:
            progress(done)
    return done


def _confirm_batch(ledger: Ledger, tenant: Tenant, actor: Actor, run: _Run, chunk: list[Row], seen: set[str],
                   import_id: UUID, done: int) -> tuple[int, int]:
    """One batch of `confirm`, decided again if it lost a race; the rows done
    after it, and the position after what it stored (0: nothing)."""
    for _attempt in range(CONFLICT_RETRIES):
        saved_ids, saved_failed, saved_seen = dict(run.ids), dict(run.failed_keys), set(seen)
        todo = run.triage(chunk, seen)
        try:
            position = ledger.execute_batch(tenant, actor, [run.batch_row(r) for r in todo],
                                            correlation_id=str(import_id), preload=run.known_refs(todo))
            return done + len(chunk), position
        except BatchConflict:
            # Nothing of the batch was stored: forget what it decided and
            # decide again (a row another import stored meanwhile is "already").
            run.ids, run.failed_keys = saved_ids, saved_failed
            seen.clear()
            seen.update(saved_seen)
            for row in todo:
                row.status, row.record_id, row.errors = "pending", None, []
            run.ids.update(import_store.known_rows(ledger.stores.database(tenant.database), tenant.id,
                                                   [r.row_key for r in chunk]))
    raise _kept_conflicting(done)


def _kept_conflicting(done: int) -> ImportError_:
    """A batch that lost its race CONFLICT_RETRIES times: the import stops there."""
    return ImportError_("file", "other changes kept conflicting with this import: "
                        "{done} rows were stored; confirm again to store the rest", done=done)


@dataclass
class _Part:
    """One batch of a kind's rows, to store in another process: the rows (to
    run, decided by `triage`), and what their commands need of the import so
    far: the ids of the records they refer to, the rows with errors they
    might refer to, the sheets' headers (to name a column in an error)."""

    tenant: Tenant
    actor: Actor
    import_id: UUID
    sheets: list[dict[str, Any]]
    rows: list[Row]
    ids: dict[str, UUID]
    failed_keys: dict[str, int]

    def __reduce__(self) -> tuple[Any, ...]:
        # The rows as tuples, without their cells (a row's command is built
        # from its values; its errors name columns by the sheets' headers):
        # half the bytes, pickled and read back in half the time.
        rows = [(r.sheet, r.kind, r.number, r.values, r.row_key, r.key, r.status, r.errors, r.record_id)
                for r in self.rows]
        return _part, (self.tenant, self.actor, self.import_id, self.sheets, rows, *_packed_ids(self.ids),
                       self.failed_keys)


def _part(tenant: Tenant, actor: Actor, import_id: UUID, sheets: list[dict[str, Any]], rows: list[tuple[Any, ...]],
          keys: list[str], packed: bytes, failed_keys: dict[str, int]) -> _Part:
    return _Part(tenant, actor, import_id, sheets,
                 [Row(sheet=sheet, kind=kind, number=number, cells=[], values=values, row_key=row_key, key=key,
                      status=status, errors=errors, record_id=record_id)
                  for sheet, kind, number, values, row_key, key, status, errors, record_id in rows],
                 _unpacked_ids(keys, packed), failed_keys)


@dataclass
class _PartDone:
    rows: list[tuple[str, str | None, list[dict[str, Any]]]]  # status, record id, errors of each row
    ids: dict[str, UUID]  # the rows stored: row key -> record id
    failed_keys: dict[str, int]
    # A refusal of the batch: its class, message and attributes (the
    # errors' own constructors take other arguments than pickle gives them).
    error: tuple[type[ServiceError], str, dict[str, Any]] | None = None
    position: int = 0  # after what the batch stored (0: nothing)

    def __reduce__(self) -> tuple[Any, ...]:
        return _part_done, (self.rows, *_packed_ids(self.ids), self.failed_keys, self.error, self.position)

    def refusal(self) -> ServiceError | None:
        if self.error is None:
            return None
        cls, message, attributes = self.error
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        error.__dict__.update(attributes)
        return error


def _part_done(rows: list[tuple[str, str | None, list[dict[str, Any]]]], keys: list[str], packed: bytes,
               failed_keys: dict[str, int], error: tuple[type[ServiceError], str, dict[str, Any]] | None,
               position: int) -> _PartDone:
    return _PartDone(rows, _unpacked_ids(keys, packed), failed_keys, error, position)


def _store_part(ledger: Ledger, part: _Part) -> _PartDone:
    """A child process's work (Ledger.batch_processes): one batch, as
    `_confirm_batch` stores it here, with its own conflict retries."""
    run = _Run(Plan(sheets=part.sheets, rows=part.rows, errors=[]), part.ids)
    run.failed_keys = dict(part.failed_keys)
    error: tuple[type[ServiceError], str, dict[str, Any]] | None = None
    position = 0
    try:
        _done, position = _confirm_batch(ledger, part.tenant, part.actor, run, part.rows, set(), part.import_id, 0)
    except ServiceError as e:
        error = (type(e), str(e), dict(vars(e)))
    return _PartDone(rows=[(r.status, r.record_id, r.errors) for r in part.rows],
                     ids={r.row_key: run.ids[r.row_key] for r in part.rows if r.status == "ok"},
                     failed_keys={k: n for k, n in run.failed_keys.items() if k not in part.failed_keys},
                     error=error, position=position)


def _confirm_side_by_side(side_by_side: SideBySide, ledger: Ledger, tenant: Tenant, actor: Actor, run: _Run,
                          rows: list[Row], seen: set[str], import_id: UUID, done: int,
                          progress: Callable[[int], None] | None, batch_rows: int) -> tuple[int, bool]:
    """The rows of one kind, stored batch by batch in other processes, side by
    side (a spreadsheet's rows of one kind never refer to each other: each
    refers to records of the kinds before it, all stored by now). Which rows
    to run is decided here, in file order (`triage`: errors, imported
    before, the same row again), a batch's worth at a time: each batch goes
    to the processes as soon as it is decided, while the next is decided
    here. Each is stored as `_confirm_batch` stores it, in its own
    transaction; if the processes stop (ProcessesLost), the batches left are
    decided and stored here. The rows done after them, and whether the
    processes were lost."""
    batches: list[list[Row]] = []

    def parts() -> Iterator[_Part]:
        nonlocal done
        todo: list[Row] = []
        to_run = 0
        for start in range(0, len(rows), batch_rows):
            chunk = rows[start:start + batch_rows]
            run.ids.update(_known(ledger, tenant, chunk, run.ids))
            decided = run.triage(chunk, seen)
            done += len(chunk) - len(decided)  # rows with errors, imported before, again
            to_run += len(decided)
            todo += decided
            last = start + batch_rows >= len(rows)
            while len(todo) >= batch_rows or (last and todo):
                batch, todo = todo[:batch_rows], todo[batch_rows:]
                batches.append(batch)
                ids, failed = run.referred(batch)
                yield _Part(tenant=tenant, actor=actor, import_id=import_id, sheets=run.plan.sheets, rows=batch,
                            ids=ids, failed_keys=failed)
        log.info("import %s: %d %s rows in %d batches, side by side", import_id, to_run, rows[0].kind,
                 len(batches))

    deciding = parts()
    failure: ServiceError | None = None
    finished: set[int] = set()
    lost = False
    try:
        for index, result in side_by_side(_store_part, deciding):
            finished.add(index)
            batch = batches[index]
            for row, (status, record_id, errors) in zip(batch, result.rows):
                row.status, row.record_id, row.errors = status, record_id, errors
            run.ids.update(result.ids)
            run.failed_keys.update(result.failed_keys)
            if result.position and ledger.on_committed is not None:
                # Told here, not by the child (which has no broker
                # connection open for it): the workers project the tenant.
                ledger.on_committed(tenant, result.position)
            if result.error is not None:
                failure = failure or result.refusal()
                continue
            done += len(batch)
            if progress is not None:
                progress(done)
    except ProcessesLost:
        # The rest is stored here, batch by batch. A batch a child stored
        # before it died loses the race to its own rows and is decided again:
        # its rows then read "already imported", none is stored twice.
        lost = True
        for _part in deciding:  # the rows not decided yet, into `batches`
            pass
        left = [batch for index, batch in enumerate(batches) if index not in finished]
        log.warning("import %s: the processes storing its batches stopped; %d batches left, stored here",
                    import_id, len(left))
        # Their rows were decided once already (`seen` holds them): not "the same row again".
        done = _store_here(ledger, tenant, actor, run, left, set(), import_id, done, progress, gc.freeze)
    for row in rows:
        if row.status == "duplicate" and row.record_id is None and row.row_key in run.ids:
            row.record_id = str(run.ids[row.row_key])
    if failure is not None:
        if isinstance(failure, ImportError_) and failure.field == "file":
            raise _kept_conflicting(done)
        raise failure
    return done, lost


def errors_of(the_plan: Plan, limit: int | None = None) -> list[dict[str, Any]]:
    out = []
    for row in the_plan.rows:
        for e in row.errors:
            out.append({"sheet": the_plan.sheets[row.sheet]["name"], "row": row.number, **e})
            if limit is not None and len(out) >= limit:
                return out
    return out


def preview_document(the_plan: Plan) -> dict[str, Any]:
    """What the preview page and API show (sealed when kept): per sheet, its
    headers and mapping; per row, in file order, its number, cells, status
    and errors."""
    return {
        "sheets": the_plan.sheets,
        "file_errors": the_plan.errors,
        "rows": [{"sheet": r.sheet, "kind": r.kind, "row": r.number, "cells": r.cells, "status": r.status,
                  "errors": r.errors} for r in sorted(the_plan.rows, key=lambda r: (r.sheet, r.number))],
    }


def fingerprint(digest: str, kind: str | None, mapping: dict[str, dict[str, str]]) -> str:
    """What a confirm must name: the file and the mapping it was previewed with."""
    return hashlib.sha256(json.dumps({"file": digest, "kind": kind, "mapping": mapping},
                                     sort_keys=True).encode()).hexdigest()[:32]


def rows_to_store(summary: dict[str, Any]) -> int:
    return int(summary.get("rows", 0))


def refuse_invalid(message: str, field_name: str) -> None:
    raise InvalidInput(field_name, message)


# -- an upload's life: upload, preview (again), confirm, the job ----------------
MAX_FILE_BYTES = 20 * 1024 * 1024


def _refuse_role(actor: Actor) -> None:
    if actor.role != "agency":
        raise PermissionDenied(f"role {actor.role!r} may not import spreadsheets")


def _read(content: bytes) -> list[Any]:
    if len(content) > MAX_FILE_BYTES:
        raise TooLarge("file", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        return spreadsheet.read(content)
    except spreadsheet.SpreadsheetError as e:
        raise ImportError_("file", e.template, **e.params) from None


def _previewed(ledger: Ledger, tenant: Tenant, actor: Actor, sheets: list[Any], kind: str | None,
               saved: dict[str, dict[str, str]], given: dict[str, dict[str, str]] | None
               ) -> tuple[Plan, dict[str, Any], dict[str, dict[str, str]]]:
    the_plan = plan(sheets, kind, saved, given)
    summary = preview(ledger, tenant, actor, the_plan)
    mapping = {s["kind"]: s["mapping"] for s in the_plan.sheets}
    return the_plan, summary, mapping


def upload(ledger: Ledger, store: import_store.ImportStore, tenant: Tenant, actor: Actor, filename: str,
           content: bytes, kind: str | None, given: dict[str, dict[str, str]] | None = None) -> UUID:
    """Read, map and preview an uploaded file; kept (sealed) for its confirm.
    Nothing of it is stored in the ledger."""
    _refuse_role(actor)
    if not content:
        raise ImportError_("file", "no file was uploaded")
    kind = kind_named(kind) if kind else None
    for k in (given or {}):
        kind_named(k)
    sheets = _read(content)
    the_plan, summary, mapping = _previewed(ledger, tenant, actor, sheets, kind, store.saved_mappings(tenant.id),
                                            given)
    digest = hashlib.sha256(content).hexdigest()
    return store.create(tenant.id, actor.user_id, (filename or "upload")[:200], spreadsheet.file_type(content), kind,
                        content, mapping, fingerprint(digest, kind, mapping), summary, preview_document(the_plan))


def found(store: import_store.ImportStore, tenant: Tenant, actor: Actor, import_id: UUID) -> import_store.ImportRecord:
    _refuse_role(actor)
    record = store.get(tenant.id, import_id)
    if record is None:
        raise NotFound("import", import_id)
    return record


def _refuse_expired(record: import_store.ImportRecord) -> None:
    if record.status == "expired":
        template = "the preview expired after {days} days unconfirmed and its file was deleted: upload the file again"
        error = Conflict(template.format(days=PREVIEW_DAYS))
        error.template, error.params = template, {"days": PREVIEW_DAYS}
        raise error


def remap(ledger: Ledger, store: import_store.ImportStore, tenant: Tenant, actor: Actor, import_id: UUID,
          given: dict[str, dict[str, str]]) -> None:
    """Preview the same file again with another mapping (a new fingerprint)."""
    record = found(store, tenant, actor, import_id)
    for k in given:
        kind_named(k)
    _refuse_expired(record)
    content = store.file(tenant.id, import_id)
    if record.status != "previewed" or content is None:
        raise Conflict("the import was confirmed already: upload the file again to change its mapping")
    sheets = _read(content)
    merged = {k: {**record.mapping.get(k, {}), **given.get(k, {})} for k in set(record.mapping) | set(given)}
    the_plan, summary, mapping = _previewed(ledger, tenant, actor, sheets, record.kind, {}, merged)
    digest = hashlib.sha256(content).hexdigest()
    if not store.replace_preview(tenant.id, import_id, mapping, fingerprint(digest, record.kind, mapping), summary,
                                 preview_document(the_plan)):
        raise Conflict("the import was confirmed already: upload the file again to change its mapping")


def confirm_import(ledger: Ledger, store: import_store.ImportStore, tenant: Tenant, actor: Actor,
                   import_id: UUID, fingerprint_: str, keep_file: bool,
                   enqueue: Callable[[UUID, UUID], None] | None) -> str:
    """Store the previewed import's valid rows: at once for a small file, in
    the worker (`enqueue`) for one of more than BACKGROUND_ROWS rows.
    Refused (409) if the preview is not the one confirmed (the file or the
    mapping changed since: another fingerprint) or was confirmed already.
    Answers the import's status afterwards."""
    record = found(store, tenant, actor, import_id)
    _refuse_expired(record)
    if record.status != "previewed":
        raise Conflict("the import was confirmed already")
    if fingerprint_ != record.fingerprint:
        raise Conflict("the preview you confirm is not the import's current preview (its file or mapping "
                       "changed): look at the preview again and confirm that")
    total = int(record.summary.get("rows", 0))
    if not store.claim(tenant.id, import_id, fingerprint_, keep_file, total,
                       (actor.user_id, actor.role, actor.organisation)):
        raise Conflict("the import was confirmed already, or its preview changed meanwhile")
    for kind, mapping in record.mapping.items():
        store.save_mapping(tenant.id, kind, mapping)
    if enqueue is not None and total > BACKGROUND_ROWS:
        enqueue(tenant.id, import_id)
        return "queued"
    return run_job(ledger, store, tenant, import_id)


def run_job(ledger: Ledger, store: import_store.ImportStore, tenant: Tenant, import_id: UUID,
            progress_every: int = BATCH_ROWS) -> str:
    """Store a confirmed import (the worker's job, or at once for a small
    file): its progress kept on the import's row, then its result; the
    preview and (unless kept) the file deleted. A job delivered again after
    it finished does nothing; one delivered again midway stores only what
    was not stored yet (the rows' identities)."""
    record = store.get(tenant.id, import_id)
    by = store.confirmed_by(tenant.id, import_id)
    if record is None or by is None or record.status in ("done", "failed"):
        return record.status if record is not None else "failed"
    actor = Actor(user_id=by[0], role=by[1], organisation=by[2])
    content = store.file(tenant.id, import_id)
    try:
        if content is None:
            raise ImportError_("file", "the file is no longer kept")
        the_plan = plan(_read(content), record.kind, {}, record.mapping)
        store.progress(import_id, 0)
        result = confirm(ledger, tenant, actor, the_plan, import_id,
                         progress=lambda done: store.progress(import_id, done), batch_rows=progress_every)
    except ServiceError as e:
        # The reason with its template and values apart: a page shows it in its own language.
        store.finish(tenant.id, import_id, "failed", {
            "error": str(e), "field": e.field, "template": getattr(e, "template", None) or str(e),
            "params": {k: v if isinstance(v, (int, str)) else str(v)
                       for k, v in (getattr(e, "params", None) or {}).items()}})
        return "failed"
    except Exception:
        # Not the file's fault (a lost connection, a process that died): what
        # was stored stays stored, and the same file uploaded again stores the rest.
        store.finish(tenant.id, import_id, "failed", {"error": STOPPED_ON_OURS, "field": "file",
                                                      "template": STOPPED_ON_OURS, "params": {}})
        raise
    store.finish(tenant.id, import_id, "done", result)
    return "done"


def forget_file(store: import_store.ImportStore, tenant: Tenant, actor: Actor, import_id: UUID) -> None:
    """Delete the kept file of a finished import."""
    record = found(store, tenant, actor, import_id)
    if not store.forget_file(tenant.id, record.id):
        raise Conflict("the import keeps no file (or is not finished yet)")
