"""Listing read model: the index behind the API's list endpoints
(GET /api/v1/employers, /contracts, /candidates, /vacancies, /placements).

One row per record: its kind, the columns a list filters and scopes on
(employer, contract, vacancy, candidate, status, the organisation it is shared
with, the free-text contracting authority) and `position`, the event position
of its last change. The lists are read in (position, record_id) order, so a
cursor holding the last (position, id) a partner saw returns exactly the
records changed since: every event of the record moves it (whatever the
event), and so does a change that makes it visible to someone else (an
employer record linked to an organisation moves its contracts, vacancies and
placements; a contract linked to an authority moves its placements).

Positions are the event store's notification ids: a rebuilt generation gives
every row the same position again, so a partner's cursor outlives a rebuild.
The rows carry no personal data; the items shown are the records themselves,
loaded through the ledger (web/api/list_routes.py).
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.candidate import Candidate
from domain.contract import SocialReturnContract
from domain.employer import Employer
from domain.placement import Placement
from domain.vacancy import Vacancy
from projections.base import RM, Event, Projection, Table
from projections.reader import live_gen_sql
from projections.writer import Batch

NAME = "listing"
TABLE = "l_records"
KINDS = {Employer: "employer", SocialReturnContract: "contract", Candidate: "candidate", Vacancy: "vacancy",
         Placement: "placement"}
# Which statuses a list filters on (None: the kind has none).
STATUSES: dict[str, tuple[str, ...]] = {
    "contract": ("open", "closed"), "vacancy": ("open", "filled", "closed"), "placement": ("active", "ended"),
}


def _event_names(cls: type) -> set[str]:
    """The names of an aggregate's events (its @event classes), without the library's base ones."""
    base = cls.Event  # type: ignore[attr-defined]
    return {name for name in dir(cls) if name not in ("Event", "Created")
            and isinstance(getattr(cls, name), type) and issubclass(getattr(cls, name), base)}


class ListingProjection(Projection):
    name = NAME
    version = 1
    tables = (
        Table(TABLE, ("record_id",), {
            "record_id": "uuid", "kind": "text", "position": "bigint",
            "employer_id": "uuid", "contract_id": "uuid", "vacancy_id": "uuid", "candidate_id": "uuid",
            "status": "text",
            # An employer record: the employer organisation it is shared with; a contract:
            # the authority organisation. `authority`: a contract's free-text authority.
            "org_id": "uuid", "authority": "text",
        }, indexes=(
            # A page: equality on the kind (and one filter), then the change order.
            ("kind", "position", "record_id"),
            ("employer_id", "kind", "position", "record_id"),
            ("contract_id", "kind", "position", "record_id"),
            ("vacancy_id", "kind", "position", "record_id"),
            ("candidate_id", "kind", "position", "record_id"),
            # An organisation's or an authority's scope: the records it sees.
            ("org_id", "kind"),
            ("authority", "kind"),
        )),
    )

    # -- records coming into being ---------------------------------------------
    def on_EmployerRegistered(self, b: Batch, e: Event) -> None:
        b.put(TABLE, _row(e, "employer", employer_id=e.originator_id))

    def on_ContractRegistered(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put(TABLE, _row(e, "contract", employer_id=d["employer_id"], contract_id=e.originator_id,
                          status="open", authority=d.get("contracting_authority"),
                          org_id=d.get("authority_org_id")))

    def on_CandidateRegistered(self, b: Batch, e: Event) -> None:
        b.put(TABLE, _row(e, "candidate", candidate_id=e.originator_id))

    def on_VacancyOpened(self, b: Batch, e: Event) -> None:
        b.put(TABLE, _row(e, "vacancy", employer_id=e.data["employer_id"], vacancy_id=e.originator_id,
                          status="open"))

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put(TABLE, _row(e, "placement", employer_id=d["employer_id"], contract_id=d.get("contract_id"),
                          vacancy_id=d.get("vacancy_id"), candidate_id=d["candidate_id"], status="active"))

    # -- changes that move a filter or the scope -------------------------------
    def on_EmployerOrganisationLinked(self, b: Batch, e: Event) -> None:
        self._touch(b, e, org_id=e.data["org_id"])
        self._touch_related(b, e, "employer_id")

    def on_EmployerOrganisationUnlinked(self, b: Batch, e: Event) -> None:
        self._touch(b, e, org_id=None)
        self._touch_related(b, e, "employer_id")

    def on_ContractAuthorityLinked(self, b: Batch, e: Event) -> None:
        self._touch(b, e, org_id=e.data["authority_org_id"])
        self._touch_related(b, e, "contract_id")

    def on_ContractAuthorityUnlinked(self, b: Batch, e: Event) -> None:
        self._touch(b, e, org_id=None)
        self._touch_related(b, e, "contract_id")

    def on_ContractAmended(self, b: Batch, e: Event) -> None:
        changes = e.data.get("changes") or {}
        if "contracting_authority" in changes:
            self._touch(b, e, authority=changes["contracting_authority"])
            self._touch_related(b, e, "contract_id")
        else:
            self._touch(b, e)

    def on_ContractClosed(self, b: Batch, e: Event) -> None:
        self._touch(b, e, status="closed")

    def on_VacancyFilled(self, b: Batch, e: Event) -> None:
        self._touch(b, e, status="filled")

    def on_VacancyClosed(self, b: Batch, e: Event) -> None:
        self._touch(b, e, status="closed")

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        self._touch(b, e, status="ended")

    # -- every other event of these records: a change to sync --------------------
    def _touch(self, b: Batch, e: Event, **changes: Any) -> None:
        row = b.get(TABLE, e.originator_id)
        if row is not None:
            row.update(changes, position=e.position)
            b.put(TABLE, row)

    def _touch_related(self, b: Batch, e: Event, column: str) -> None:
        """The records hanging under this one (their visibility follows it) move too."""
        for row in b.select(TABLE, column, e.originator_id):
            if row["record_id"] != e.originator_id:
                row["position"] = e.position
                b.put(TABLE, row)


def _row(e: Event, kind: str, **columns: Any) -> dict[str, Any]:
    return {"record_id": e.originator_id, "kind": kind, "position": e.position, "employer_id": None,
            "contract_id": None, "vacancy_id": None, "candidate_id": None, "status": None, "org_id": None,
            "authority": None, **columns}


# Every other event of the five aggregates moves its record (contact persons,
# turnover reports, feedback, edits, ...). Named from the domain's own event
# classes, so an event added to one of them later is a change to sync too.
for _cls in KINDS:
    for _name in _event_names(_cls):
        if not hasattr(ListingProjection, "on_" + _name):
            setattr(ListingProjection, "on_" + _name, lambda self, b, e: self._touch(b, e))
ListingProjection.handles = frozenset(a.removeprefix("on_") for a in dir(ListingProjection)
                                      if a.startswith("on_") and callable(getattr(ListingProjection, a)))


# ---------------------------------------------------------------------------
# The page query (asyncpg): only the conditions given, so that each page is one
# index scan in (position, record_id) order stopping at the page size (a filter
# by employer, contract, vacancy or person: that column's index), or, for an
# organisation's or an authority's scope, the index lookups of the few
# employers or contracts it sees and a top-N sort of their records. The scope
# is what service/visibility.py lets the actor see, in SQL: the caller passes
# it (web/api/list_routes.py); the items are loaded through the ledger
# afterwards, which checks again.

LIVE = live_gen_sql(NAME)
_OF = f"SELECT o.record_id FROM {RM}.{TABLE} o WHERE o.tenant_id = $1 AND o.gen = {LIVE} AND o.kind = '{{kind}}'"


class Scope:
    """What one actor may list, as column conditions (None: no narrowing).
    `nothing`: the role sees no record of this kind."""

    def __init__(self, *, nothing: bool = False, employer_id: UUID | None = None,
                 candidate_id: UUID | None = None, employer_org: UUID | None = None,
                 authority_org: UUID | None = None, contract_authority: str | None = None,
                 org_of_employer: UUID | None = None):
        self.nothing = nothing
        self.employer_id, self.candidate_id = employer_id, candidate_id
        self.employer_org, self.authority_org = employer_org, authority_org
        self.contract_authority, self.org_of_employer = contract_authority, org_of_employer


def page_sql(kind: str, after: tuple[int, UUID], limit: int, scope: Scope, **filters: Any) -> tuple[str, list]:
    """The page query and its arguments: `filters` are column = value (None: not narrowing)."""
    args: list[Any] = [None, kind, after[0], after[1]]
    where = [f"r.tenant_id = $1 AND r.gen = {LIVE} AND r.kind = $2 AND (r.position, r.record_id) > ($3, $4)"]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    columns = {**filters, "employer_id": filters.get("employer_id") or scope.employer_id,
               "candidate_id": filters.get("candidate_id") or scope.candidate_id,
               "org_id": scope.org_of_employer}
    for column, value in columns.items():
        if value is not None:
            where.append(f"r.{column} = {arg(value)}")
    if scope.employer_org is not None:
        where.append(f"r.employer_id = ANY(ARRAY({_OF.format(kind='employer')}"
                     f" AND o.org_id = {arg(scope.employer_org)}))")
    if scope.authority_org is not None:
        where.append(f"r.contract_id = ANY(ARRAY({_OF.format(kind='contract')}"
                     f" AND o.org_id = {arg(scope.authority_org)}))")
    if scope.contract_authority is not None:
        where.append(f"r.contract_id = ANY(ARRAY({_OF.format(kind='contract')}"
                     f" AND o.authority = {arg(scope.contract_authority)}))")
    query = (f"SELECT r.record_id, r.position FROM {RM}.{TABLE} r WHERE " + "\n  AND ".join(where)
             + f"\nORDER BY r.position, r.record_id LIMIT {arg(limit)}")
    return query, args


async def page(pool: Any, tenant_id: UUID, kind: str, after: tuple[int, UUID], limit: int, scope: Scope, *,
               status: str | None = None, employer_id: UUID | None = None, contract_id: UUID | None = None,
               vacancy_id: UUID | None = None, candidate_id: UUID | None = None) -> list[tuple[UUID, int]]:
    """Up to `limit` (record_id, position) of the kind changed after `after`, in change order."""
    if scope.nothing:
        return []
    if scope.employer_id is not None and employer_id is not None and employer_id != scope.employer_id:
        return []
    if scope.candidate_id is not None and candidate_id is not None and candidate_id != scope.candidate_id:
        return []
    query, args = page_sql(kind, after, limit, scope, status=status, employer_id=employer_id,
                           contract_id=contract_id, vacancy_id=vacancy_id, candidate_id=candidate_id)
    args[0] = tenant_id
    return [(r["record_id"], r["position"]) for r in await pool.fetch(query, *args)]
