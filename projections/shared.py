"""The share index: which records each agency shares with which platform
organisation, fed by each tenant's projector with only what was shared.

An agency shares a contract with a contracting authority organisation
(`ContractAuthorityLinked`) and an employer record with an employer
organisation (`EmployerOrganisationLinked`), and stops sharing it by unlinking
(`ContractAuthorityUnlinked`, `EmployerOrganisationUnlinked`: every row
shared through the record goes in the same batch); what hangs under them is shared
with them too, as the in-tenant authority and employer users see it
(service/visibility.py): under a contract its placements, contributions and period statements;
under an employer record its contracts (and their contributions), vacancies
and placements. Each shared record is one row of `rm.shared_records`
(org_id, tenant_id, kind, record_id, via the linked record, linked_at).

The web asks it two things: which tenant owns a record an organisation's
user names (`shared_record`: no row, no tenant, a 404), and everything shared
with an organisation (`shared_records`: for the cross-agency pages). It reads
only this table, never a tenant's events. A tenant's rows are rebuilt like any
read model (a new generation beside the live one), and a link moved to another
organisation replaces every row under the linked record in the same batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.base import RM, Event, Projection, Table
from projections.reader import across_databases
from projections.writer import Batch

NAME = "shared"
KINDS = ("contract", "employer", "placement", "vacancy", "contribution", "statement")


@dataclass(frozen=True)
class SharedRecord:
    """A record an agency (tenant) shares with an organisation."""

    tenant_id: UUID
    kind: str  # one of KINDS
    record_id: UUID
    # The linked record it is shared through: the contract (authority) or the
    # employer record (employer) that the agency linked to the organisation.
    via: UUID
    linked_at: datetime  # since when (the link, or the record's creation if later)


class SharedProjection(Projection):
    name = NAME
    # 2: period statements are shared under their contract.
    version = 2
    tables = (
        # The tenant's own bookkeeping: what hangs under what, and the links.
        Table("sh_employers", ("employer_id",), {
            "employer_id": "uuid", "org_id": "uuid", "linked_at": "timestamptz"}),
        Table("sh_contracts", ("contract_id",), {
            "contract_id": "uuid", "employer_id": "uuid", "authority_org_id": "uuid",
            "linked_at": "timestamptz", "since": "timestamptz"}, indexes=(("employer_id",),)),
        Table("sh_records", ("record_id",), {
            "record_id": "uuid", "kind": "text", "employer_id": "uuid", "contract_id": "uuid",
            "since": "timestamptz"}, indexes=(("employer_id",), ("contract_id",))),
        # The index itself, read across tenants by organisation.
        Table("shared_records", ("via", "org_id", "record_id"), {
            "via": "uuid", "org_id": "uuid", "record_id": "uuid", "kind": "text",
            "linked_at": "timestamptz"},
            cross_tenant_indexes=(("org_id", "record_id"), ("org_id", "kind"))),
    )

    # -- employers -------------------------------------------------------------
    def on_EmployerRegistered(self, b: Batch, e: Event) -> None:
        b.put("sh_employers", {"employer_id": e.originator_id, "org_id": None, "linked_at": None})

    def on_EmployerOrganisationLinked(self, b: Batch, e: Event) -> None:
        employer = {"employer_id": e.originator_id, "org_id": e.data["org_id"], "linked_at": e.data["timestamp"]}
        b.put("sh_employers", employer)
        self._share_employer(b, employer)

    def on_EmployerOrganisationUnlinked(self, b: Batch, e: Event) -> None:
        # Shared with no one any more: every row under the record goes, at once.
        b.put("sh_employers", {"employer_id": e.originator_id, "org_id": None, "linked_at": None})
        b.replace_group("shared_records", "via", e.originator_id, [])

    # -- contracts -------------------------------------------------------------
    def on_ContractRegistered(self, b: Batch, e: Event) -> None:
        employer_id = e.data["employer_id"]
        b.put("sh_contracts", {"contract_id": e.originator_id, "employer_id": employer_id,
                               "authority_org_id": None, "linked_at": None, "since": e.data["timestamp"]})
        self._share_under_employer(b, employer_id, "contract", e.originator_id, e.data["timestamp"])

    def on_ContractAuthorityLinked(self, b: Batch, e: Event) -> None:
        row = b.get("sh_contracts", e.originator_id)
        if row is None:
            return
        row["authority_org_id"], row["linked_at"] = e.data["authority_org_id"], e.data["timestamp"]
        b.put("sh_contracts", row)
        self._share_contract(b, row)

    def on_ContractAuthorityUnlinked(self, b: Batch, e: Event) -> None:
        row = b.get("sh_contracts", e.originator_id)
        if row is None:
            return
        row["authority_org_id"], row["linked_at"] = None, None
        b.put("sh_contracts", row)
        # The rows shared through the contract go; those through its employer record stay.
        b.replace_group("shared_records", "via", e.originator_id, [])

    # -- what hangs under them -------------------------------------------------
    def on_VacancyOpened(self, b: Batch, e: Event) -> None:
        self._child(b, e, "vacancy", e.data["employer_id"], None)

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        self._child(b, e, "placement", e.data["employer_id"], e.data.get("contract_id"))

    def on_ContributionReported(self, b: Batch, e: Event) -> None:
        contract = b.get("sh_contracts", e.data["contract_id"])
        self._child(b, e, "contribution", contract["employer_id"] if contract else None, e.data["contract_id"])

    def on_StatementPrepared(self, b: Batch, e: Event) -> None:
        # A period statement hangs under its contract, like a contribution.
        contract = b.get("sh_contracts", e.data["contract_id"])
        self._child(b, e, "statement", contract["employer_id"] if contract else None, e.data["contract_id"])

    def _child(self, b: Batch, e: Event, kind: str, employer_id: UUID | None, contract_id: UUID | None) -> None:
        since = e.data["timestamp"]
        b.put("sh_records", {"record_id": e.originator_id, "kind": kind, "employer_id": employer_id,
                             "contract_id": contract_id, "since": since})
        if employer_id is not None:
            self._share_under_employer(b, employer_id, kind, e.originator_id, since)
        if contract_id is not None:
            contract = b.get("sh_contracts", contract_id)
            if contract is not None and contract["authority_org_id"] is not None:
                b.put("shared_records", _row(contract_id, contract["authority_org_id"], kind, e.originator_id,
                                             contract["linked_at"], since))

    def _share_under_employer(self, b: Batch, employer_id: UUID, kind: str, record_id: UUID,
                              since: datetime) -> None:
        employer = b.get("sh_employers", employer_id)
        if employer is not None and employer["org_id"] is not None:
            b.put("shared_records", _row(employer_id, employer["org_id"], kind, record_id,
                                         employer["linked_at"], since))

    # -- a link made or moved: every row under the linked record, afresh ----------
    def _share_employer(self, b: Batch, employer: dict[str, Any]) -> None:
        employer_id, org, at = employer["employer_id"], employer["org_id"], employer["linked_at"]
        # select() writes pending rows first, so the group replaced below is complete.
        contracts = b.select("sh_contracts", "employer_id", employer_id)
        children = b.select("sh_records", "employer_id", employer_id)
        rows = [_row(employer_id, org, "employer", employer_id, at, at)]
        rows += [_row(employer_id, org, "contract", c["contract_id"], at, c["since"]) for c in contracts]
        rows += [_row(employer_id, org, r["kind"], r["record_id"], at, r["since"]) for r in children]
        b.replace_group("shared_records", "via", employer_id, rows)

    def _share_contract(self, b: Batch, contract: dict[str, Any]) -> None:
        contract_id, org, at = contract["contract_id"], contract["authority_org_id"], contract["linked_at"]
        children = b.select("sh_records", "contract_id", contract_id)
        rows = [_row(contract_id, org, "contract", contract_id, at, at)]
        rows += [_row(contract_id, org, r["kind"], r["record_id"], at, r["since"]) for r in children]
        b.replace_group("shared_records", "via", contract_id, rows)


def _row(via: UUID, org_id: UUID, kind: str, record_id: UUID, linked_at: datetime,
         since: datetime | None) -> dict[str, Any]:
    return {"via": via, "org_id": org_id, "record_id": record_id, "kind": kind,
            "linked_at": max(linked_at, since) if since is not None else linked_at}


# -- the questions the web asks (asyncpg) -------------------------------------
_LIVE = (f"FROM {RM}.shared_records s JOIN {RM}.live l ON l.projection = '{NAME}'"
         " AND l.tenant_id = s.tenant_id AND l.gen = s.gen")
_COLUMNS = "s.tenant_id, s.kind, s.record_id, s.via, s.linked_at"


def _shared(r: Any) -> SharedRecord:
    return SharedRecord(tenant_id=r["tenant_id"], kind=r["kind"], record_id=r["record_id"], via=r["via"],
                        linked_at=r["linked_at"])


async def shared_record(pool: Any, org_id: UUID, kind: str, record_id: UUID) -> SharedRecord | None:
    """The record of this kind shared with the organisation, with the tenant
    that owns it; None if no agency shares it with the organisation."""
    rows, _ = await across_databases(  # each tenant's rows are on its own database
        pool, f"SELECT {_COLUMNS} {_LIVE} WHERE s.org_id = $1 AND s.record_id = $2"
        " AND s.kind = $3 ORDER BY s.linked_at, s.via LIMIT 1", org_id, record_id, kind)
    found = [_shared(row) for row in rows]
    return min(found, key=lambda r: (r.linked_at, str(r.via))) if found else None


async def shared_records(pool: Any, org_id: UUID, kind: str | None = None) -> list[SharedRecord]:
    """Everything every agency shares with the organisation (of one kind, if
    given), oldest share first: the cross-agency lists start here and read
    each record's figures in its own tenant's read models."""
    rows, _ = await across_databases(  # each tenant's rows are on its own database
        pool, f"SELECT DISTINCT ON (s.tenant_id, s.record_id) {_COLUMNS} {_LIVE}"
        " WHERE s.org_id = $1 AND ($2::text IS NULL OR s.kind = $2)"
        " ORDER BY s.tenant_id, s.record_id, s.linked_at", org_id, kind)
    return sorted((_shared(r) for r in rows), key=lambda r: (r.linked_at, str(r.record_id)))


def shared_pairs(conn: Any, tenant_id: UUID, org_ids: set[UUID], record_ids: set[UUID]) -> set[tuple[UUID, UUID]]:
    """Which of these records the tenant shares now with which of these
    organisations, as (org_id, record_id) (psycopg; the webhooks follower)."""
    rows = conn.execute(f"SELECT DISTINCT s.org_id, s.record_id {_LIVE} WHERE s.tenant_id = %s"
                        " AND s.org_id = ANY(%s) AND s.record_id = ANY(%s)",
                        (tenant_id, list(org_ids), list(record_ids))).fetchall()
    return {(r["org_id"], r["record_id"]) for r in rows}
