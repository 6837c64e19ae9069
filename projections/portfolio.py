"""The cross-agency portfolio: every contract an agency shares with a
contracting authority or an employer organisation, and every placement it
shares with an employer organisation, one row each, read across agencies by
organisation.

Each tenant's projector writes `rm.portfolio_contracts` and
`rm.portfolio_placements` rows only for what it shares (a contract linked to
an authority, or under an employer record linked to an employer organisation;
a placement under such an employer record): the names and terms a list shows
and filters on. Its own tables (`pf_employers`, `pf_contracts`,
`pf_placements`) remember the rest, so a link made late shares what came
before it. Rebuilt per tenant like any read model.

The figures (accepted, pending, forecast on accepted and on pending as of a
day) are not copied: they
grow every day a placement lasts. The list reads them, in one statement, from
the compliance read model's kept sums (projections/compliance.py) of exactly
the contracts this index lists, in their own tenant's live generation; never
another tenant's events, never a contract that was not shared.

The authority's statement queue: `rm.portfolio_statements` holds a row per
period statement of a contract shared with an authority, once submitted
(never a draft), with its status (submitted: awaiting the authority's
decision; decided: every line decided), its lines and lines decided.
`pf_statements` remembers every statement, so a link made late shares the
statements submitted before it.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.base import RM, Event, Projection, Table
from domain.contract import upcast_rule_set
from domain.obligation import record_turnover, terms_record
from domain.valuation import add_months
from projections.compliance import (
    EPOCH,
    contract_obligation,
    contract_rules,
    forecast_display,
    forecast_stops_sql,
    money,
)
from projections.compliance import NAME as COMPLIANCE
from projections.reader import across_databases, each_database, platform_pool, reading, tenants_listed
from projections.writer import Batch

NAME = "portfolio"
# As the contract's compliance (projections/compliance.py): after its term a
# shortfall is `in_repair` during the rule set's repair period, then `not_met`.
STATUSES = ("achieved", "on_track", "at_risk", "in_repair", "not_met")
PLACEMENT_STATUSES = ("planned", "active", "ended")
# What the authority's statement queue lists (a draft is never shared).
STATEMENT_STATUSES = ("submitted", "decided")


def _record(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _obligation_eur(contract: dict[str, Any]) -> Decimal:
    how = (contract_obligation(contract.get("obligation"), contract_rules(contract), contract["ends_on"], None)
           if contract.get("rule_set_sha256") else None)
    return how.obligation_eur if how else Decimal(contract["value_eur"]) * Decimal(contract["percent"]) / 100


def _repair_until(contract: dict[str, Any]) -> date | None:
    """The last day the supplier may make up a shortfall (domain.obligation.shortfall), or None."""
    rule = contract_rules(contract).shortfall if contract.get("rule_set_sha256") else None
    if rule is None:
        return None
    return add_months(date.fromisoformat(str(contract["ends_on"])[:10]), rule.repair_months)


class PortfolioProjection(Projection):
    name = NAME
    # 2: the authority's statement queue (portfolio_statements).
    # 3: the obligation from its basis, cap and PSO discount (pf_contracts.obligation), issue 13.
    # 4: the PSO discounts from the contract's pinned rule set (pf_contracts.rule_set_sha256, _body).
    # 5: the shortfall states after the term (portfolio_contracts.repair_until).
    version = 5
    tables = (
        # The tenant's own bookkeeping: everything, shared or not.
        Table("pf_employers", ("employer_id",), {
            "employer_id": "uuid", "name": "text", "org_id": "uuid"}),
        Table("pf_contracts", ("contract_id",), {
            "contract_id": "uuid", "employer_id": "uuid", "title": "text", "value_eur": "numeric",
            "percent": "numeric", "starts_on": "date", "ends_on": "date", "closed_on": "date",
            "authority_org_id": "uuid", "authority_name": "text",
            # The obligation's terms (domain.obligation.terms_record) and the rule set (its PSO discounts).
            "rule_set": "text", "obligation": "jsonb", "rule_set_sha256": "text", "rule_set_body": "jsonb"},
            indexes=(("employer_id",),)),
        Table("pf_placements", ("placement_id",), {
            "placement_id": "uuid", "employer_id": "uuid", "contract_id": "uuid", "starts_on": "date",
            "planned_end_on": "date", "ended_on": "date", "hours_per_week": "numeric", "hours_from": "date"},
            indexes=(("employer_id",), ("contract_id",))),
        # What is shared, read across tenants by organisation.
        Table("portfolio_contracts", ("contract_id",), {
            "contract_id": "uuid", "employer_id": "uuid", "supplier": "text", "title": "text",
            "obligation_eur": "numeric", "starts_on": "date", "ends_on": "date", "closed_on": "date",
            "authority_org_id": "uuid", "authority_name": "text", "employer_org_id": "uuid",
            # The last day of the rule set's repair period; NULL: a shortfall is not_met right after the term.
            "repair_until": "date"},
            # Led by the organisation; (tenant_id, gen): which agencies list rows for it (SOURCES_SQL).
            cross_tenant_indexes=(("authority_org_id", "tenant_id", "gen"), ("employer_org_id", "tenant_id", "gen"))),
        Table("portfolio_placements", ("placement_id",), {
            "placement_id": "uuid", "employer_id": "uuid", "supplier": "text", "employer_org_id": "uuid",
            "contract_id": "uuid", "contract_title": "text", "starts_on": "date", "planned_end_on": "date",
            "ended_on": "date", "hours_per_week": "numeric"},
            cross_tenant_indexes=(("employer_org_id",),)),
        Table("pf_statements", ("statement_id",), {
            "statement_id": "uuid", "contract_id": "uuid", "period_start": "date", "period_end": "date",
            "lines": "integer", "lines_decided": "integer", "submitted_at": "timestamptz"},
            indexes=(("contract_id",),)),
        Table("portfolio_statements", ("statement_id",), {
            "statement_id": "uuid", "contract_id": "uuid", "authority_org_id": "uuid", "title": "text",
            "supplier": "text", "period_start": "date", "period_end": "date", "status": "text",
            "lines": "integer", "lines_decided": "integer", "submitted_at": "timestamptz"},
            cross_tenant_indexes=(("authority_org_id", "status"),)),
    )

    # -- employers -------------------------------------------------------------
    def on_EmployerRegistered(self, b: Batch, e: Event) -> None:
        b.put("pf_employers", {"employer_id": e.originator_id, "name": e.data["name"], "org_id": None})

    def on_EmployerOrganisationLinked(self, b: Batch, e: Event) -> None:
        employer = b.get("pf_employers", e.originator_id)
        if employer is None:
            return
        employer["org_id"] = e.data["org_id"]
        b.put("pf_employers", employer)
        for contract in b.select("pf_contracts", "employer_id", e.originator_id):
            self._share_contract(b, contract)
        for placement in b.select("pf_placements", "employer_id", e.originator_id):
            self._share_placement(b, placement)

    def on_EmployerOrganisationUnlinked(self, b: Batch, e: Event) -> None:
        # The same as a link to no one: the rows for the old organisation go
        # (a contract stays listed for its authority, with no employer organisation).
        employer = b.get("pf_employers", e.originator_id)
        if employer is None:
            return
        employer["org_id"] = None
        b.put("pf_employers", employer)
        for contract in b.select("pf_contracts", "employer_id", e.originator_id):
            self._share_contract(b, contract)
        for placement in b.select("pf_placements", "employer_id", e.originator_id):
            self._share_placement(b, placement)

    # -- contracts -------------------------------------------------------------
    def on_ContractRegistered(self, b: Batch, e: Event) -> None:
        d = e.data
        contract = {"contract_id": e.originator_id, "employer_id": d["employer_id"], "title": d["title"],
                    "value_eur": d["contract_value_eur"], "percent": d["obligation_percent"],
                    "starts_on": d["starts_on"], "ends_on": d["ends_on"], "closed_on": None,
                    "authority_org_id": None, "authority_name": None,
                    "rule_set": d["rule_set"], "obligation": terms_record(d),
                    # Registered before pinning: version 1 of the shipped rule set (the upcast).
                    **{k: v for k, v in (upcast_rule_set(d["rule_set"]) if d.get("rule_set_body") is None
                                         else d).items() if k in ("rule_set_sha256", "rule_set_body")}}
        b.put("pf_contracts", contract)
        self._share_contract(b, contract)

    def on_ContractAmended(self, b: Batch, e: Event) -> None:
        contract = b.get("pf_contracts", e.originator_id)
        if contract is None:
            return
        names = {"contract_value_eur": "value_eur", "obligation_percent": "percent"}
        for key, value in e.data["changes"].items():
            if names.get(key, key) in contract and key not in ("contract_id", "employer_id", "obligation"):
                contract[names.get(key, key)] = value
        contract["obligation"] = terms_record(e.data["changes"], _record(contract.get("obligation")))
        b.put("pf_contracts", contract)
        self._share_contract(b, contract)
        if "title" in e.data["changes"]:
            for placement in b.select("pf_placements", "contract_id", e.originator_id):
                self._share_placement(b, placement)

    def on_TurnoverReported(self, b: Batch, e: Event) -> None:
        contract = b.get("pf_contracts", e.originator_id)
        if contract is not None:
            contract["obligation"] = record_turnover(_record(contract.get("obligation")), e.data["period_start"],
                                                     e.data["period_end"], e.data["amount_eur"])
            b.put("pf_contracts", contract)
            self._share_contract(b, contract)

    def on_ContractClosed(self, b: Batch, e: Event) -> None:
        contract = b.get("pf_contracts", e.originator_id)
        if contract is not None:
            contract["closed_on"] = e.data["on"]
            b.put("pf_contracts", contract)
            self._share_contract(b, contract)

    def on_ContractAuthorityLinked(self, b: Batch, e: Event) -> None:
        contract = b.get("pf_contracts", e.originator_id)
        if contract is not None:
            contract["authority_org_id"] = e.data["authority_org_id"]
            contract["authority_name"] = e.data["authority_name"]
            b.put("pf_contracts", contract)
            self._share_contract(b, contract)

    def on_ContractAuthorityUnlinked(self, b: Batch, e: Event) -> None:
        # Its row leaves the authority's list and its statements its queue
        # (the row stays for an employer organisation the employer record is linked to).
        contract = b.get("pf_contracts", e.originator_id)
        if contract is not None:
            contract["authority_org_id"] = contract["authority_name"] = None
            b.put("pf_contracts", contract)
            self._share_contract(b, contract)

    # -- placements ------------------------------------------------------------
    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        placement = {"placement_id": e.originator_id, "employer_id": d["employer_id"],
                     "contract_id": d.get("contract_id"), "starts_on": d["starts_on"],
                     "planned_end_on": d.get("planned_end_on"), "ended_on": None,
                     "hours_per_week": d["hours_per_week"], "hours_from": d["starts_on"]}
        b.put("pf_placements", placement)
        self._share_placement(b, placement)

    def _change_placement(self, b: Batch, e: Event, **changes: Any) -> None:
        placement = b.get("pf_placements", e.originator_id)
        if placement is not None:
            placement.update(changes)
            b.put("pf_placements", placement)
            self._share_placement(b, placement)

    def on_PlacementExtended(self, b: Batch, e: Event) -> None:
        self._change_placement(b, e, planned_end_on=e.data["until"])

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        self._change_placement(b, e, ended_on=e.data["ends_on"])

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        placement = b.get("pf_placements", e.originator_id)
        # The hours now: a change dated before the latest one known does not replace it.
        if placement is not None and e.data["effective_on"] >= placement["hours_from"]:
            self._change_placement(b, e, hours_per_week=e.data["hours_per_week"],
                                   hours_from=e.data["effective_on"])

    # -- statements ------------------------------------------------------------
    def on_StatementPrepared(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("pf_statements", {"statement_id": e.originator_id, "contract_id": d["contract_id"],
                                "period_start": d["period_start"], "period_end": d["period_end"],
                                "lines": 0, "lines_decided": 0, "submitted_at": None})

    def on_StatementSubmitted(self, b: Batch, e: Event) -> None:
        statement = b.get("pf_statements", e.originator_id)
        if statement is not None:
            statement["lines"], statement["submitted_at"] = len(e.data["lines"]), e.data["timestamp"]
            b.put("pf_statements", statement)
            self._share_statement(b, statement, b.get("pf_contracts", statement["contract_id"]))

    def on_StatementLinesDecided(self, b: Batch, e: Event) -> None:
        statement = b.get("pf_statements", e.originator_id)
        if statement is not None:
            # The domain decides a line once: each decision is a line decided.
            statement["lines_decided"] += len(e.data["decisions"])
            b.put("pf_statements", statement)
            self._share_statement(b, statement, b.get("pf_contracts", statement["contract_id"]))

    # -- the shared rows ------------------------------------------------------
    def _share_contract(self, b: Batch, contract: dict[str, Any]) -> None:
        for statement in b.select("pf_statements", "contract_id", contract["contract_id"]):
            self._share_statement(b, statement, contract)
        employer = b.get("pf_employers", contract["employer_id"]) or {}
        employer_org = employer.get("org_id")
        if contract["authority_org_id"] is None and employer_org is None:
            b.delete("portfolio_contracts", contract["contract_id"])
            return
        b.put("portfolio_contracts", {
            "contract_id": contract["contract_id"], "employer_id": contract["employer_id"],
            "supplier": employer.get("name"), "title": contract["title"],
            # Every turnover period reported so far (the list reads no as-of terms).
            "obligation_eur": _obligation_eur(contract),
            "starts_on": contract["starts_on"], "ends_on": contract["ends_on"],
            "closed_on": contract["closed_on"], "authority_org_id": contract["authority_org_id"],
            "authority_name": contract["authority_name"], "employer_org_id": employer_org,
            "repair_until": _repair_until(contract)})

    def _share_statement(self, b: Batch, statement: dict[str, Any], contract: dict[str, Any] | None) -> None:
        """Shared with the contract's authority once submitted; a draft never is."""
        if contract is None or contract["authority_org_id"] is None or statement["submitted_at"] is None:
            b.delete("portfolio_statements", statement["statement_id"])
            return
        employer = b.get("pf_employers", contract["employer_id"]) or {}
        decided = statement["lines_decided"] >= statement["lines"]
        b.put("portfolio_statements", {
            "statement_id": statement["statement_id"], "contract_id": contract["contract_id"],
            "authority_org_id": contract["authority_org_id"], "title": contract["title"],
            "supplier": employer.get("name"), "period_start": statement["period_start"],
            "period_end": statement["period_end"], "status": "decided" if decided else "submitted",
            "lines": statement["lines"], "lines_decided": statement["lines_decided"],
            "submitted_at": statement["submitted_at"]})

    def _share_placement(self, b: Batch, placement: dict[str, Any]) -> None:
        employer = b.get("pf_employers", placement["employer_id"]) or {}
        if employer.get("org_id") is None:
            b.delete("portfolio_placements", placement["placement_id"])
            return
        contract = b.get("pf_contracts", placement["contract_id"]) if placement["contract_id"] else None
        b.put("portfolio_placements", {
            "placement_id": placement["placement_id"], "employer_id": placement["employer_id"],
            "supplier": employer["name"], "employer_org_id": employer["org_id"],
            "contract_id": placement["contract_id"], "contract_title": contract["title"] if contract else None,
            "starts_on": placement["starts_on"], "planned_end_on": placement["planned_end_on"],
            "ended_on": placement["ended_on"], "hours_per_week": placement["hours_per_week"]})


# -- the questions the web asks (asyncpg) -------------------------------------
@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to; None: not narrowed."""

    status: str | None = None  # one of STATUSES (PLACEMENT_STATUSES for placements)
    agency: UUID | None = None  # the tenant
    supplier: str | None = None  # part of the supplier's name, any case
    period_from: date | None = None  # the term (placement: its time) overlaps [from, to]
    period_to: date | None = None
    employer_org: UUID | None = None  # the supplier's employer organisation (contract lists only)


# Whose rows a list reads: the organisation's column (never from the request).
_BY = {"authority": "authority_org_id", "employer": "employer_org_id"}

_E = f"DATE '{EPOCH.isoformat()}'"

# The shared contracts of the organisation, with their figures as of $2 read
# from the compliance read model's kept sums, in the contract's own tenant and
# its live compliance generation: per status, the value up to a day A is
# delta_sum x (A - EPOCH + 1) - delta_day_sum, less what the changes dated
# after A gave (compliance.SUMMARY_SQL does the same per tenant). Contracts
# whose sums were never kept are summed from their daily changes. Each
# contract's sums are a few index lookups (LATERAL), so the cost grows with
# the rows listed and no plan can join the contracts to all of them. Only
# the agencies in $3 (those whose kept rows are out of date), unfiltered
# (contracts() filters the kept rows); an agency's rows together (contracts()
# orders the agencies by name, across databases). After the term a shortfall
# is in_repair up to repair_until, then not_met (compliance's status).
CONTRACTS_SQL = f"""
SELECT p.tenant_id, p.contract_id, p.employer_id, p.supplier, p.title, p.obligation_eur, p.starts_on,
       p.ends_on, p.closed_on, p.authority_name, p.employer_org_id,
       v.accepted, v.pending, v.forecast_accepted, v.forecast_pending,
       v.forecast_accepted + v.forecast_pending AS forecast,
       CASE WHEN v.accepted >= p.obligation_eur THEN 'achieved'
            WHEN $2::date > p.ends_on AND $2::date <= p.repair_until THEN 'in_repair'
            WHEN $2::date > p.ends_on THEN 'not_met'
            WHEN v.forecast_accepted + v.forecast_pending >= p.obligation_eur THEN 'on_track'
            ELSE 'at_risk' END AS status
FROM {RM}.portfolio_contracts p
JOIN {RM}.live l ON l.projection = '{NAME}' AND l.tenant_id = p.tenant_id AND l.gen = p.gen
JOIN {RM}.live lc ON lc.projection = '{COMPLIANCE}' AND lc.tenant_id = p.tenant_id
LEFT JOIN LATERAL (
    SELECT sum(k.delta_sum * ($2::date - {_E} + 1) - k.delta_day_sum)
               FILTER (WHERE k.status = 'accepted') AS accepted,
           sum(k.delta_sum * ($2::date - {_E} + 1) - k.delta_day_sum)
               FILTER (WHERE k.status = 'pending') AS pending,
           sum(k.delta_sum * (p.ends_on - {_E} + 1) - k.delta_day_sum)
               FILTER (WHERE k.status = 'accepted') AS forecast_accepted,
           sum(k.delta_sum * (p.ends_on - {_E} + 1) - k.delta_day_sum)
               FILTER (WHERE k.status = 'pending') AS forecast_pending,
           min(k.denominator) AS denominator, count(*) AS n
    FROM {RM}.c_contract_totals k
    WHERE k.tenant_id = p.tenant_id AND k.gen = lc.gen AND k.contract_id = p.contract_id
) kept ON true
LEFT JOIN LATERAL (
    SELECT sum(d.delta * ($2::date - d.day + 1)) FILTER (WHERE d.status = 'accepted') AS accepted,
           sum(d.delta * ($2::date - d.day + 1)) FILTER (WHERE d.status = 'pending') AS pending
    FROM {RM}.c_contract_days d
    WHERE d.tenant_id = p.tenant_id AND d.gen = lc.gen AND d.contract_id = p.contract_id AND d.day > $2
) later ON true
LEFT JOIN LATERAL (
    SELECT sum(d.delta * greatest(0, $2::date - d.day + 1)) FILTER (WHERE d.status = 'accepted') AS accepted,
           sum(d.delta * greatest(0, $2::date - d.day + 1)) FILTER (WHERE d.status = 'pending') AS pending,
           sum(d.delta * greatest(0, p.ends_on - d.day + 1)) FILTER (WHERE d.status = 'accepted')
               AS forecast_accepted,
           sum(d.delta * greatest(0, p.ends_on - d.day + 1)) FILTER (WHERE d.status = 'pending')
               AS forecast_pending,
           min(d.denominator) AS denominator
    FROM {RM}.c_contract_days d
    WHERE kept.n = 0 AND d.tenant_id = p.tenant_id AND d.gen = lc.gen AND d.contract_id = p.contract_id
) slow ON true
LEFT JOIN LATERAL (
    SELECT sum(o.amount_eur) FILTER (WHERE o.status = 'accepted') AS accepted,
           sum(o.amount_eur) FILTER (WHERE o.status = 'pending') AS pending,
           sum(o.amount_eur) FILTER (WHERE o.status = 'accepted') AS forecast_accepted,
           sum(o.amount_eur) FILTER (WHERE o.status = 'pending') AS forecast_pending
    FROM {RM}.c_contributions o
    WHERE o.tenant_id = p.tenant_id AND o.gen = lc.gen AND o.contract_id = p.contract_id
      AND o.kind IN ('social_enterprise_purchase', 'other_activity') AND o.reported_on <= $2
) other ON true
LEFT JOIN LATERAL {forecast_stops_sql("p", "lc.gen", "$2::date")} stops ON true
CROSS JOIN LATERAL (
    SELECT coalesce(coalesce(kept.accepted - coalesce(later.accepted, 0), slow.accepted)
                    / coalesce(kept.denominator, slow.denominator), 0) + coalesce(other.accepted, 0) AS accepted,
           coalesce(coalesce(kept.pending - coalesce(later.pending, 0), slow.pending)
                    / coalesce(kept.denominator, slow.denominator), 0) + coalesce(other.pending, 0) AS pending,
           coalesce((coalesce(kept.forecast_accepted, slow.forecast_accepted) - coalesce(stops.accepted, 0))
                    / coalesce(kept.denominator, slow.denominator), 0) + coalesce(other.forecast_accepted, 0)
               AS forecast_accepted,
           coalesce((coalesce(kept.forecast_pending, slow.forecast_pending) - coalesce(stops.pending, 0))
                    / coalesce(kept.denominator, slow.denominator), 0) + coalesce(other.forecast_pending, 0)
               AS forecast_pending
) v
WHERE p.{{column}} = $1 AND p.tenant_id = ANY($3::uuid[])
ORDER BY tenant_id, supplier, title, contract_id
"""

# The agencies present in an organisation's portfolio, for the agency filter (on each database).
AGENCIES_SQL = f"""
SELECT DISTINCT p.tenant_id
FROM {RM}.{{table}} p
JOIN {RM}.live l ON l.projection = '{NAME}' AND l.tenant_id = p.tenant_id AND l.gen = p.gen
WHERE p.{{column}} = $1
"""

PLACEMENTS_SQL = f"""
SELECT * FROM (
    SELECT p.tenant_id, p.placement_id, p.employer_id, p.supplier, p.contract_id, p.contract_title,
           p.starts_on, p.planned_end_on, p.ended_on, p.hours_per_week,
           CASE WHEN p.starts_on > $2 THEN 'planned'
                WHEN p.ended_on IS NOT NULL AND p.ended_on < $2 THEN 'ended' ELSE 'active' END AS status
    FROM {RM}.portfolio_placements p
    JOIN {RM}.live l ON l.projection = '{NAME}' AND l.tenant_id = p.tenant_id AND l.gen = p.gen
    WHERE p.employer_org_id = $1
      AND ($3::uuid IS NULL OR p.tenant_id = $3)
      AND ($4::text IS NULL OR strpos(lower(p.supplier), lower($4)) > 0)
      AND ($5::date IS NULL OR coalesce(p.ended_on, p.planned_end_on, 'infinity'::date) >= $5)
      AND ($6::date IS NULL OR p.starts_on <= $6)
) x WHERE ($7::text IS NULL OR status = $7)
"""


def _percent(part: Decimal, whole: Decimal) -> str:
    if whole <= 0:
        return "100.0"
    return str((part / whole * 100).quantize(Decimal("0.1")))


def _filter_args(f: Filters) -> tuple:
    return (f.agency, f.supplier, f.period_from, f.period_to, f.status)


# What an agency's rows of an organisation's list depend on: its name (from
# the platform's registry) and the generation and tracking position of its
# portfolio and compliance read models (on its own database). Rows and
# tracking commit together and a read is one repeatable-read snapshot, so the
# same answer means the same rows and figures (as compliance_summary's cache,
# per tenant). One probe of the (organisation, tenant_id, gen) index per live agency, not
# a scan of the organisation's rows.
SOURCES_SQL = f"""
SELECT l.tenant_id, l.gen, tp.position, lc.gen AS cgen, tc.position AS cposition
FROM {RM}.live l
JOIN {RM}.tracking tp ON tp.projection = '{NAME}' AND tp.tenant_id = l.tenant_id AND tp.gen = l.gen
LEFT JOIN {RM}.live lc ON lc.projection = '{COMPLIANCE}' AND lc.tenant_id = l.tenant_id
LEFT JOIN {RM}.tracking tc ON tc.projection = '{COMPLIANCE}' AND tc.tenant_id = l.tenant_id AND tc.gen = lc.gen
WHERE l.projection = '{NAME}' AND EXISTS (
    SELECT 1 FROM {RM}.portfolio_contracts p WHERE p.{{column}} = $1 AND p.tenant_id = l.tenant_id AND p.gen = l.gen)
"""

_FIGURES = ("obligation", "accepted", "pending", "forecast", "forecast_accepted", "forecast_pending")


@dataclass(frozen=True, slots=True)
class _Row:
    """A listed contract as answered (`out`, shared: never changed) and what the filters and totals read."""

    out: dict[str, Any]
    figures: tuple[Decimal, ...]  # as _FIGURES
    supplier: str | None  # lower case
    starts_on: date
    ends_on: date
    status: str
    employer_org: UUID | None


# The rows of an organisation's list are kept per process and per agency:
# for each agency, at most TENANT_ENTRIES lists (its rows for one
# organisation's list, valued on one day), the least recently read dropped
# first. An entry holds the agency's version (SOURCES_SQL: name, generations
# and tracking positions) it was computed at and answers only while the
# agency is still at that version; a newer version replaces it. When one
# agency moves on, only its rows are computed again (CONTRACTS_SQL for the
# agencies that changed). The bound: per agency, TENANT_ENTRIES x its rows
# in one organisation's list (about 2 KB a row); the bench's 50 agencies of
# 40 rows keep at most 16 x 2,000 rows (about 60 MB), and 2,000 (4 MB) when
# one organisation reads one day.
TENANT_ENTRIES = 16
_kept: dict[UUID, OrderedDict[tuple, tuple[tuple, _Block]]] = {}


def forget_lists() -> None:
    """Empty the list cache (tests that change read-model rows behind the projector's back)."""
    _kept.clear()


def _get(tenant_id: UUID, key: tuple, version: tuple) -> _Block | None:
    entries = _kept.get(tenant_id)
    found = entries.get(key) if entries is not None else None
    if found is None or found[0] != version:
        return None
    entries.move_to_end(key)  # type: ignore[union-attr]
    return found[1]


def _put(tenant_id: UUID, key: tuple, version: tuple, block: _Block) -> None:
    entries = _kept.setdefault(tenant_id, OrderedDict())
    entries[key] = (version, block)
    entries.move_to_end(key)
    while len(entries) > TENANT_ENTRIES:
        entries.popitem(last=False)


def _text_key(text: str | None) -> tuple[bool, str, str]:
    """Names in the order a reader expects, the same across databases (each
    database's collation is its own): case-insensitive, then exact; none last."""
    return (text is None, (text or "").casefold(), text or "")


def _row(r: Any, agency: str) -> _Row:
    # In cents, as shown: the totals add up the rows listed to the cent, and
    # the forecast is the sum of its parts on accepted and on pending.
    obligation, accepted, pending, on_accepted, on_pending = (
        Decimal(money(v)) for v in (r["obligation_eur"], r["accepted"], r["pending"], r["forecast_accepted"],
                                    r["forecast_pending"]))
    figures = (obligation, accepted, pending, on_accepted + on_pending, on_accepted, on_pending)
    return _Row(out={
        "contract_id": str(r["contract_id"]), "agency_id": str(r["tenant_id"]), "agency": agency,
        "supplier": r["supplier"], "employer_id": str(r["employer_id"]), "title": r["title"],
        "authority": r["authority_name"],
        **{f"{k}_eur": money(v) for k, v in zip(_FIGURES, figures)},
        **forecast_display(figures[4], figures[5]),
        "percent_accepted": _percent(figures[1], figures[0]),
        "status": r["status"], "starts_on": r["starts_on"].isoformat(), "ends_on": r["ends_on"].isoformat(),
        "closed_on": r["closed_on"].isoformat() if r["closed_on"] else None,
    }, figures=figures, supplier=r["supplier"].lower() if r["supplier"] is not None else None,
        starts_on=r["starts_on"], ends_on=r["ends_on"], status=r["status"], employer_org=r["employer_org_id"])


@dataclass(frozen=True, slots=True)
class _Block:
    """An agency's rows of a list, in order, and their figures' sums."""

    rows: list[_Row]
    totals: tuple[Decimal, ...]

    @classmethod
    def of(cls, rows: list[_Row]) -> _Block:
        return cls(rows, tuple(sum((row.figures[i] for row in rows), Decimal(0)) for i in range(len(_FIGURES))))


def _narrow(f: Filters, blocks: list[tuple[UUID, _Block]]) -> tuple[list[_Row], tuple[Decimal, ...]]:
    """The one place the filters of a contract list apply: the rows kept and
    their figures' sums (an agency's own sums when all its rows are kept)."""
    blocks = [(t, b) for t, b in blocks if f.agency is None or t == f.agency]
    if f.supplier is None and f.period_from is None and f.period_to is None and f.status is None \
            and f.employer_org is None:
        listed = [row for _, b in blocks for row in b.rows]
        return listed, tuple(sum((b.totals[i] for _, b in blocks), Decimal(0)) for i in range(len(_FIGURES)))
    supplier = f.supplier.lower() if f.supplier is not None else None
    listed = [row for _, b in blocks for row in b.rows
              if (supplier is None or (row.supplier is not None and supplier in row.supplier))
              and (f.period_from is None or row.ends_on >= f.period_from)
              and (f.period_to is None or row.starts_on <= f.period_to)
              and (f.status is None or row.status == f.status)
              and (f.employer_org is None or row.employer_org == f.employer_org)]
    return listed, _Block.of(listed).totals


async def contracts(pool: Any, kind: str, org_id: UUID, as_of: date, filters: Filters,
                    suppliers: bool = False) -> dict:
    """The contracts agencies share with the organisation (kind: `authority`
    or `employer`), narrowed by the filters, with their figures as of a day
    and the totals over the rows listed; ordered by agency, supplier, title
    (an agency's rows together); and every agency that shares a contract with
    it, whatever the filters; with `suppliers`, also every employer
    organisation of a supplier in the list, whatever the filters.

    Read on every database (each agency's rows on its own, in one snapshot
    per database), the agencies' names from the platform's registry. Each
    agency's rows are kept per process while its portfolio and compliance
    read models stay where they were (SOURCES_SQL, TENANT_ENTRIES): only the
    agencies that moved on are read again, in one statement per database."""
    column = _BY[kind]
    key = (column, org_id, as_of)
    sources: list[tuple] = []  # (tenant_id, name, gen, position, cgen, cposition)
    blocks: dict[UUID, _Block] = {}
    for database_key, database in each_database(pool):
        async with reading(database, NAME) as conn:
            found = await conn.fetch(SOURCES_SQL.format(column=column), org_id)
            tenants = await tenants_listed(pool, {(database_key, r["tenant_id"]) for r in found})
            here = [(r["tenant_id"], tenants[r["tenant_id"]].name, *tuple(r)[1:])
                    for r in found if r["tenant_id"] in tenants]
            changed = []
            for source in here:
                block = _get(source[0], key, source[1:])
                if block is None:
                    changed.append(source[0])
                else:
                    blocks[source[0]] = block
            if changed:
                names = {source[0]: source[1] for source in here}
                fresh: dict[UUID, list[_Row]] = {t: [] for t in changed}
                for r in await conn.fetch(CONTRACTS_SQL.format(column=column), org_id, as_of, changed):
                    fresh[r["tenant_id"]].append(_row(r, names[r["tenant_id"]]))
                for source in here:
                    if source[0] in fresh:
                        blocks[source[0]] = _Block.of(fresh[source[0]])
                        _put(source[0], key, source[1:], blocks[source[0]])
        sources += here
    sources.sort(key=lambda source: (_text_key(source[1]), source[0]))
    named = []
    if suppliers:
        orgs = {row.employer_org for block in blocks.values() for row in block.rows if row.employer_org}
        named = await platform_pool(pool).fetch(ORGANISATIONS_SQL, list(orgs)) if orgs else []
    listed, totals = _narrow(filters, [(source[0], blocks[source[0]]) for source in sources])
    found_out = {"as_of": as_of.isoformat(), "contracts": [row.out for row in listed],
                 "totals": {"contracts": len(listed), **{f"{k}_eur": money(v) for k, v in zip(_FIGURES, totals)},
                            **forecast_display(totals[4], totals[5]),
                            "percent_accepted": _percent(totals[1], totals[0])},
                 # Every agency that shares a contract with the organisation (for the agency filter).
                 "agencies": [{"id": str(source[0]), "name": source[1]} for source in sources]}
    if suppliers:
        found_out["suppliers"] = [{"id": str(r["id"]), "name": r["name"]} for r in named]
    return found_out


# The names of the suppliers' employer organisations (for the supplier filter), on the platform's database.
ORGANISATIONS_SQL = "SELECT id, name FROM platform.organisations WHERE id = ANY($1::uuid[]) ORDER BY name, id"


async def placements(pool: Any, org_id: UUID, as_of: date, filters: Filters) -> dict:
    """The placements agencies share with the employer organisation, narrowed
    by the filters (status on the day: planned, active, ended), with totals;
    read on every database, ordered by agency, supplier, start."""
    rows, tenants = await across_databases(pool, PLACEMENTS_SQL, org_id, as_of, *_filter_args(filters))
    rows.sort(key=lambda r: (_text_key(tenants[r["tenant_id"]].name), r["tenant_id"], _text_key(r["supplier"]),
                             r["starts_on"], r["placement_id"]))
    listed = [{
        "placement_id": str(r["placement_id"]), "agency_id": str(r["tenant_id"]),
        "agency": tenants[r["tenant_id"]].name,
        "supplier": r["supplier"], "employer_id": str(r["employer_id"]),
        "contract_id": str(r["contract_id"]) if r["contract_id"] else None, "contract_title": r["contract_title"],
        "starts_on": r["starts_on"].isoformat(),
        "planned_end_on": r["planned_end_on"].isoformat() if r["planned_end_on"] else None,
        "ended_on": r["ended_on"].isoformat() if r["ended_on"] else None,
        "hours_per_week": str(r["hours_per_week"]), "status": r["status"],
    } for r in rows]
    active = [r for r in rows if r["status"] == "active"]
    return {"as_of": as_of.isoformat(), "placements": listed,
            "totals": {"placements": len(listed), "active": len(active),
                       "active_hours_per_week": str(sum((r["hours_per_week"] for r in active), Decimal(0)))}}


# The authority's statements on one database (statements() merges the databases' in one order).
STATEMENTS_SQL = f"""
SELECT p.tenant_id, p.statement_id, p.contract_id, p.title, p.supplier, p.period_start,
       p.period_end, p.status, p.lines, p.lines_decided, p.submitted_at
FROM {RM}.portfolio_statements p
JOIN {RM}.live l ON l.projection = '{NAME}' AND l.tenant_id = p.tenant_id AND l.gen = p.gen
WHERE p.authority_org_id = $1 AND p.status = $2
"""


async def statements(pool: Any, org_id: UUID, status: str = "submitted") -> dict:
    """The authority's statement queue: the submitted statements of the
    contracts agencies share with it (status `submitted`: awaiting its
    decision; `decided`), oldest submission first, across databases."""
    rows, tenants = await across_databases(pool, STATEMENTS_SQL, org_id, status)
    rows.sort(key=lambda r: (r["submitted_at"], r["tenant_id"], r["statement_id"]))
    return {"status": status, "statements": [{
        "statement_id": str(r["statement_id"]), "agency_id": str(r["tenant_id"]),
        "agency": tenants[r["tenant_id"]].name,
        "contract_id": str(r["contract_id"]), "title": r["title"], "supplier": r["supplier"],
        "period_start": r["period_start"].isoformat(), "period_end": r["period_end"].isoformat(),
        "status": r["status"], "lines": r["lines"], "lines_decided": r["lines_decided"],
        "submitted_at": r["submitted_at"].isoformat(),
    } for r in rows]}


async def agencies(pool: Any, kind: str, org_id: UUID, table: str = "portfolio_contracts") -> list[dict]:
    """The agencies that share something with the organisation (for a filter), by name, across databases."""
    column = {"portfolio_contracts": _BY[kind], "portfolio_placements": "employer_org_id"}[table]
    _, tenants = await across_databases(pool, AGENCIES_SQL.format(table=table, column=column), org_id)
    return [{"id": str(t.id), "name": t.name} for t in sorted(tenants.values(), key=lambda t: (_text_key(t.name), t.id))]
