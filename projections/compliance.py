"""Compliance read model: per contract, how much of the social return
obligation is reported, accepted, rejected, pending and forecast.

A placement's value is not stored as a number (it grows every day it lasts):
the projector stores *segments* of constant daily value per placement,
already clipped to the contract term and the rule set's cap, so that the
value over any period is one SQL sum. A day is worth numerator / denominator
EUR exactly (block x hours / (basis x 365), or under the day count
actual/actual a year's own length over basis x 365 x 366), which has no
finite decimal form; so the sums add `numerator x days` and divide once at the
end (one contract, one rule set, one denominator): a full-time year is exactly
the block value, not 39,999.9999...

The forecast (to the contract's end) stops each placement at its planned end
(c_forecast_stops) or its actual end, and is kept per status: on accepted and
on pending contributions (forecast_eur is their sum).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.contribution import Contribution
from domain.contract import upcast_rule_set
from domain.explanation import explain_other_activity, explain_placement, explain_purchase
from domain.obligation import Obligation, ObligationTerms, obligation, record_turnover, shortfall, terms_record
from domain.valuation import (
    BlockValue,
    CapPlacement,
    HoursCap,
    RuleSet,
    cached_rules,
    candidate_segments,
    pinned_rules,
    value_segments,
)
from projections.base import RM, Event, Projection, Table
from projections.reader import cached_figures, live_gen_sql, reading
from projections.writer import Batch

NAME = "compliance"


def _d(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _hours(history: list[dict]) -> list[dict]:
    return [{"effective_on": _d(h["effective_on"]), "hours_per_week": Decimal(str(h["hours_per_week"]))}
            for h in history]


def _hours_json(history: list[dict]) -> list[dict]:
    return [{"effective_on": _d(h["effective_on"]).isoformat(), "hours_per_week": str(h["hours_per_week"])}
            for h in history]


def contract_rules(contract: dict) -> RuleSet:
    """A c_contracts row's pinned rule set, parsed once per sha256."""
    body = contract["rule_set_body"]
    return pinned_rules(contract["rule_set_sha256"], json.loads(body) if isinstance(body, str) else body)


RULES_SQL = f"""
SELECT DISTINCT ON (rule_set_sha256) rule_set_sha256, rule_set_body
FROM {RM}.c_contracts WHERE tenant_id = $1 AND gen = {live_gen_sql(NAME)} AND rule_set_sha256 = ANY($2::text[])
"""


async def rules_by_sha(conn: Any, tenant_id: UUID, shas: Any) -> dict[str, RuleSet]:
    """The rule sets pinned by these sha256s, each parsed once per process:
    a body is read from the read model only the first time its sha256 is met."""
    wanted = set(shas)
    found = {sha: rules for sha in wanted if (rules := cached_rules(sha)) is not None}
    missing = sorted(wanted - found.keys())
    if missing:
        for r in await conn.fetch(RULES_SQL, tenant_id, missing):
            found[r["rule_set_sha256"]] = contract_rules(r)
    return found


class ComplianceProjection(Projection):
    name = NAME
    # 2: c_contract_totals (the contract summary's kept sums). 3: a purchase's supplier.
    # 4: no valuation reason (it names the person's target group and age).
    # 5: what explains a value (c_placements.judged_on, c_contributions.explanation).
    # 6: period statements' lines (c_statement_lines); an accepted placement's
    # figure frozen at the decision (a later change is pending, not accepted).
    # 7: the forecast stops a placement at its planned end (c_forecast_stops,
    # c_placements.planned_end_on, .stops); day count actual/actual (rule sets).
    # 8: the obligation's terms and reported turnover (c_contracts.obligation), issue 13.
    # 9: the contract's pinned rule set (c_contracts.rule_set_version, _sha256, _body):
    # figures come from the body the contract pinned, never from a name.
    # 10: the placement's arrangement (c_placements.arrangement), for its explanation.
    # 11: caps per candidate in hours worked across placements (c_candidates,
    # c_placements.cap_hours, .hours_cap), issue 13.
    # 12: c_contract_quarters (the contract query's kept sums per quarter), issue 13.
    version = 12
    tables = (
        Table("c_contracts", ("contract_id",), {
            "contract_id": "uuid", "employer_id": "uuid", "title": "text", "authority": "text",
            "value_eur": "numeric", "percent": "numeric", "starts_on": "date", "ends_on": "date",
            "awarded_on": "date", "rule_set": "text", "accepted_by": "text", "closed_on": "date",
            # What makes its obligation (domain.obligation.terms_record): basis, amounts,
            # cap, PSO, the turnover reports in force. Worked out as of the day asked.
            "obligation": "jsonb",
            # The pinned rule set: its figures are parsed from the body, once per sha256.
            "rule_set_version": "int", "rule_set_sha256": "text", "rule_set_body": "jsonb",
        }, indexes=(("employer_id",),)),
        Table("c_placements", ("placement_id",), {
            "placement_id": "uuid", "candidate_id": "uuid", "employer_id": "uuid", "contract_id": "uuid",
            "starts_on": "date", "ended_on": "date", "end_reason": "text", "permanent": "boolean",
            # Planned end (PlacementStarted, moved by PlacementExtended): the forecast stops there.
            "planned_end_on": "date",
            # employment, work_experience, ... (PlacementStarted; absent from old events: employment)
            "arrangement": "text",
            "hours_history": "jsonb", "block_eur": "numeric", "bonus_eur": "numeric",
            "eligible": "boolean", "eligibility_reason": "text", "capped": "boolean",
            # The day eligibility was judged (the award date), from ContributionValued.
            "judged_on": "date",
            # Its segments as last added to c_contract_days (to take them out again).
            "segments": "jsonb",
            # Its segments when its contribution was accepted (the accepted figure).
            "frozen_segments": "jsonb",
            # Its forecast stops as last added to c_forecast_stops (to take them out again).
            "stops": "jsonb",
            # The cap in hours of the person's group (ContributionValued; null: none, or a legacy rule set).
            "cap_hours": "numeric",
            # How the candidate's cap in hours applies to it (domain.valuation.HoursCap.as_record), or null.
            "hours_cap": "jsonb",
        }, indexes=(("contract_id",), ("candidate_id",))),
        # Per candidate, their placements that count toward a contract: a change to
        # one moves the others' figures when a cap in hours counts them together.
        # by_hours: any of them is under a rule set with caps (else each placement
        # is valued on its own, as before).
        Table("c_candidates", ("candidate_id",), {
            "candidate_id": "uuid", "placement_ids": "jsonb", "by_hours": "boolean",
        }),
        # Per contract and status, how the daily value changes on a day: +numerator
        # on a segment's first day, -numerator the day after its last. The value
        # over any period is then a sum over a few thousand rows per contract,
        # whatever its number of placements.
        Table("c_contract_days", ("contract_id", "status", "day"), {
            "contract_id": "uuid", "status": "text", "day": "date", "delta": "numeric",
            "denominator": "numeric",
        }, indexes=(("contract_id", "day"),)),  # the changes after a day, whatever their status
        # Per contract, status and calendar quarter (its first day), over the
        # c_contract_days rows of that quarter: their number, the sum of the deltas
        # and of delta x (day - EPOCH). PLACEMENT_VALUE_SQL reads these (~50 rows
        # for a contract of four years) and the day rows of one quarter only.
        Table("c_contract_quarters", ("contract_id", "status", "quarter"), {
            "contract_id": "uuid", "status": "text", "quarter": "date", "days": "int",
            "delta_sum": "numeric", "delta_day_sum": "numeric", "denominator": "numeric",
        }),
        # Per contract and status, over all its c_contract_days rows: the sum of the
        # deltas and of delta x (day - EPOCH). The value up to a day A is then
        # sum0 x (A - EPOCH + 1) - sum1, less the few changes after A: the
        # dashboard's summary reads one row per contract and status.
        Table("c_contract_totals", ("contract_id", "status"), {
            "contract_id": "uuid", "status": "text", "delta_sum": "numeric", "delta_day_sum": "numeric",
            "denominator": "numeric",
        }),
        # Per contract and status, in the same form as c_contract_days: the daily
        # value of placement days after their planned end (a placement not ended
        # whose planned end is before its last counted day). Days up to the day
        # asked count as they are (the person works); the forecast leaves out
        # those after it: sum(delta x (A + 1 - day)) over the rows after A
        # (forecast_stops_sql; a few rows, every stop being closed).
        Table("c_forecast_stops", ("contract_id", "status", "day"), {
            "contract_id": "uuid", "status": "text", "day": "date", "delta": "numeric",
            "denominator": "numeric",
        }, indexes=(("contract_id", "day"),)),
        Table("c_segments", ("placement_id", "seq"), {
            "placement_id": "uuid", "seq": "int", "contract_id": "uuid",
            "from_day": "date", "to_day": "date", "numerator": "numeric", "denominator": "numeric",
        }, indexes=(("contract_id",),)),
        Table("c_statements", ("statement_id",), {
            "statement_id": "uuid", "contract_id": "uuid", "period_start": "date", "period_end": "date",
        }),
        # Each submitted statement's frozen lines and their decisions: a contract
        # with any reports by statements (accepted = its accepted lines).
        Table("c_statement_lines", ("statement_id", "line_id"), {
            "statement_id": "uuid", "line_id": "text", "contract_id": "uuid", "kind": "text",
            "value_eur": "numeric", "period_start": "date", "period_end": "date", "decision": "text",
            "decided_on": "date",
        }, indexes=(("contract_id",),)),
        Table("c_contributions", ("contribution_id",), {
            "contribution_id": "uuid", "contract_id": "uuid", "kind": "text", "placement_id": "uuid",
            "amount_eur": "numeric", "reported_on": "date", "status": "text", "decided_on": "date",
            "reason": "text", "description": "text", "supplier": "text",
            # A purchase's or other activity's explanation (domain.explanation), whole;
            # a placement's is worked out for the period asked (explanation_for_contribution).
            "explanation": "jsonb",
        }, indexes=(("contract_id",), ("placement_id",), ("contract_id", "kind"))),
    )

    # -- contracts -----------------------------------------------------------
    def on_ContractRegistered(self, b: Batch, e: Event) -> None:
        d = e.data
        # Registered before pinning: version 1 of the shipped rule set (the upcast).
        pinned = upcast_rule_set(d["rule_set"]) if d.get("rule_set_body") is None else d
        b.put("c_contracts", {
            "contract_id": e.originator_id, "employer_id": d["employer_id"], "title": d["title"],
            "authority": d["contracting_authority"], "value_eur": d["contract_value_eur"],
            "percent": d["obligation_percent"], "starts_on": d["starts_on"], "ends_on": d["ends_on"],
            "awarded_on": d["awarded_on"], "rule_set": d["rule_set"],
            "accepted_by": d.get("accepted_by", "authority"), "closed_on": None,
            "obligation": terms_record(d),
            "rule_set_version": pinned["rule_set_version"], "rule_set_sha256": pinned["rule_set_sha256"],
            "rule_set_body": pinned["rule_set_body"],
        })

    def on_ContractAmended(self, b: Batch, e: Event) -> None:
        contract = b.get("c_contracts", e.originator_id)
        if contract is None:
            return
        names = {"contracting_authority": "authority", "contract_value_eur": "value_eur",
                 "obligation_percent": "percent"}
        for key, value in e.data["changes"].items():
            contract[names.get(key, key)] = value
        contract["obligation"] = terms_record(e.data["changes"], _record(contract["obligation"]))
        b.put("c_contracts", contract)
        for placement in b.select("c_placements", "contract_id", e.originator_id):
            self._segments(b, placement, contract)  # the term may have moved

    def on_TurnoverReported(self, b: Batch, e: Event) -> None:
        contract = b.get("c_contracts", e.originator_id)
        if contract is not None:
            contract["obligation"] = record_turnover(_record(contract["obligation"]), e.data["period_start"],
                                                     e.data["period_end"], e.data["amount_eur"])
            b.put("c_contracts", contract)

    def on_ContractClosed(self, b: Batch, e: Event) -> None:
        contract = b.get("c_contracts", e.originator_id)
        if contract is not None:
            contract["closed_on"] = e.data["on"]
            b.put("c_contracts", contract)

    # -- candidates ----------------------------------------------------------
    def on_CandidateRegistered(self, b: Batch, e: Event) -> None:
        # The candidate's (empty) placement index, written blind: their first
        # placement then finds it without a read (a rebuild does one per candidate).
        # Nothing of the person is read (their fields stay sealed).
        b.put("c_candidates", {"candidate_id": e.originator_id, "placement_ids": [], "by_hours": False})

    # -- placements --------------------------------------------------------
    # No personal data here: a placement's worth comes from its contribution's
    # recorded valuation (ContributionValued), not from the person's details.
    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        d = e.data
        if d.get("contract_id") is None:
            return  # counts toward no contract
        placement = {
            "placement_id": e.originator_id, "candidate_id": d["candidate_id"],
            "employer_id": d["employer_id"], "contract_id": d["contract_id"],
            "starts_on": d["starts_on"], "ended_on": None, "end_reason": None,
            "planned_end_on": d.get("planned_end_on"),
            "permanent": bool(d["permanent_contract"]),
            "arrangement": d.get("arrangement") or "employment",
            "hours_history": [{"effective_on": d["starts_on"].isoformat(),
                               "hours_per_week": str(d["hours_per_week"])}],
            # Until its contribution's valuation arrives (same save): worth nothing.
            "block_eur": Decimal(0), "bonus_eur": Decimal(0), "eligible": False,
            "eligibility_reason": "not valued yet", "capped": True, "judged_on": None,
            "cap_hours": None, "hours_cap": None,
        }
        b.put("c_placements", placement)
        candidate = b.get("c_candidates", d["candidate_id"]) or {
            "candidate_id": d["candidate_id"], "placement_ids": [], "by_hours": False}
        contract = b.get("c_contracts", d["contract_id"])
        candidate["placement_ids"] = [*candidate["placement_ids"], str(e.originator_id)]
        candidate["by_hours"] = bool(candidate["by_hours"]) or (
            contract is not None and contract_rules(contract).caps is not None)
        b.put("c_candidates", candidate)

    def on_HoursChanged(self, b: Batch, e: Event) -> None:
        placement = b.get("c_placements", e.originator_id)
        if placement is None:
            return
        history = [h for h in _hours(placement["hours_history"])
                   if h["effective_on"] != e.data["effective_on"]]
        history.append({"effective_on": e.data["effective_on"], "hours_per_week": e.data["hours_per_week"]})
        history.sort(key=lambda h: h["effective_on"])
        placement["hours_history"] = _hours_json(history)
        self._segments(b, placement, b.get("c_contracts", placement["contract_id"]))
        b.put("c_placements", placement)

    def on_PlacementExtended(self, b: Batch, e: Event) -> None:
        placement = b.get("c_placements", e.originator_id)
        if placement is None:
            return
        placement["planned_end_on"] = e.data["until"]
        self._segments(b, placement, b.get("c_contracts", placement["contract_id"]))
        b.put("c_placements", placement)

    def on_PlacementEnded(self, b: Batch, e: Event) -> None:
        placement = b.get("c_placements", e.originator_id)
        if placement is None:
            return
        placement["ended_on"], placement["end_reason"] = e.data["ends_on"], e.data["reason"]
        self._segments(b, placement, b.get("c_contracts", placement["contract_id"]))
        b.put("c_placements", placement)

    def _segments(self, b: Batch, placement: dict, contract: dict | None) -> None:
        """Rewrite the placement's segments and day rows; under a cap in hours,
        those of all the candidate's placements whose figures it moves."""
        candidate = b.get("c_candidates", placement["candidate_id"])
        if candidate is None or not candidate["by_hours"]:
            segments = []
            if contract is not None and placement["eligible"]:
                segments = value_segments(contract_rules(contract), *_valuing(placement, contract))
            self._write(b, placement, segments, None)
            return
        # The cap counts the candidate's hours across all their placements (every contract).
        placements, contracts = [], {}
        for pid in candidate["placement_ids"]:
            other = placement if str(placement["placement_id"]) == pid else b.get("c_placements", UUID(pid))
            if other is None:
                continue
            placements.append(other)
            contracts[pid] = b.get("c_contracts", other["contract_id"]) \
                if other["contract_id"] != placement["contract_id"] else contract
        valued = candidate_segments([
            CapPlacement(str(p["placement_id"]), contract_rules(contracts[str(p["placement_id"])]),
                         *_valuing(p, contracts[str(p["placement_id"])]))
            for p in placements if p["eligible"] and contracts[str(p["placement_id"])] is not None])
        for p in placements:
            segments, cap = valued.get(str(p["placement_id"]), ([], None))
            if p is placement:
                self._write(b, p, segments, cap)
            elif _segments_json(segments) != (p.get("segments") or []) or \
                    (cap.as_record() if cap else None) != (_record(p["hours_cap"]) if p.get("hours_cap") else None):
                self._write(b, p, segments, cap)
                b.put("c_placements", p)

    def _write(self, b: Batch, placement: dict, segments: list, hours_cap: HoursCap | None) -> None:
        """The placement's segments into c_segments and its day rows (c_contract_days,
        c_contract_totals, c_forecast_stops), the old ones taken out."""
        placement["hours_cap"] = hours_cap.as_record() if hours_cap is not None else None
        rows = [{"placement_id": placement["placement_id"], "seq": seq, "contract_id": placement["contract_id"],
                 "from_day": s.from_day, "to_day": s.to_day, "numerator": s.numerator,
                 "denominator": s.denominator} for seq, s in enumerate(segments)]
        b.replace_group("c_segments", "placement_id", placement["placement_id"], rows)
        status = self._status_of(b, placement["placement_id"])
        if status == "accepted" and placement.get("frozen_segments") is not None:
            # The accepted figure stays what was accepted (frozen_segments); the
            # difference a later change makes is pending, awaiting a new decision.
            status = "pending"
        _shift_days(b, placement["contract_id"], placement.get("segments") or [], status, -1)
        placement["segments"] = _segments_json(segments)
        _shift_days(b, placement["contract_id"], placement["segments"], status, +1)
        _shift_stops(b, placement["contract_id"], placement.get("stops") or [], status, -1)
        placement["stops"] = _stops(placement["segments"], _d(placement.get("planned_end_on")),
                                    _d(placement["ended_on"]))
        _shift_stops(b, placement["contract_id"], placement["stops"], status, +1)

    @staticmethod
    def _status_of(b: Batch, placement_id: Any) -> str:
        row = b.get("c_contributions", Contribution.id_for_placement(placement_id))
        return row["status"] if row is not None else "pending"

    # -- contributions -------------------------------------------------------
    def on_ContributionReported(self, b: Batch, e: Event) -> None:
        d = e.data
        b.put("c_contributions", {
            "contribution_id": e.originator_id, "contract_id": d["contract_id"], "kind": d["kind"],
            "placement_id": d.get("placement_id"), "amount_eur": d.get("amount_eur"),
            "reported_on": d["reported_on"], "status": "pending", "decided_on": None, "reason": None,
            "description": d.get("description") or d.get("supplier"), "supplier": d.get("supplier"),
            "explanation": _fixed_explanation(d),
        })

    def on_ContributionValued(self, b: Batch, e: Event) -> None:
        contribution = b.get("c_contributions", e.originator_id)
        if contribution is None or contribution["placement_id"] is None:
            return
        placement = b.get("c_placements", contribution["placement_id"])
        if placement is None:
            return
        d = e.data
        # Not the reason in words: it names the person's target group and age
        # (sealed under their key in the event; the figures never need it).
        placement.update(block_eur=d["block_eur"], bonus_eur=d["bonus_eur"], eligible=d["eligible"],
                         eligibility_reason="valued", capped=d["capped"], judged_on=d["judged_on"],
                         cap_hours=d.get("cap_hours"))
        self._segments(b, placement, b.get("c_contracts", placement["contract_id"]))
        b.put("c_placements", placement)

    def _decide(self, b: Batch, e: Event, status: str) -> None:
        row = b.get("c_contributions", e.originator_id)
        if row is not None:
            if row["kind"] == "placement" and row["placement_id"] is not None:
                placement = b.get("c_placements", row["placement_id"])
                if placement is not None:  # its value moves to the new status, as a whole
                    _shift_days(b, row["contract_id"], placement.get("segments") or [], row["status"], -1)
                    _shift_days(b, row["contract_id"], placement.get("segments") or [], status, +1)
                    _shift_stops(b, row["contract_id"], placement.get("stops") or [], row["status"], -1)
                    _shift_stops(b, row["contract_id"], placement.get("stops") or [], status, +1)
                    if status == "accepted":  # frozen: what the decision saw
                        placement["frozen_segments"] = placement.get("segments") or []
                        b.put("c_placements", placement)
            row.update(status=status, decided_on=e.data["decided_on"], reason=e.data.get("reason"))
            b.put("c_contributions", row)

    # -- period statements -----------------------------------------------------
    def on_StatementSubmitted(self, b: Batch, e: Event) -> None:
        statement = b.get("c_statements", e.originator_id)
        if statement is None:
            return
        for line in e.data["lines"]:
            b.put("c_statement_lines", {
                "statement_id": e.originator_id, "line_id": line["line_id"],
                "contract_id": statement["contract_id"], "kind": line["kind"], "value_eur": line["value_eur"],
                "period_start": statement["period_start"], "period_end": statement["period_end"],
                "decision": None, "decided_on": None})

    def on_StatementPrepared(self, b: Batch, e: Event) -> None:
        b.put("c_statements", {"statement_id": e.originator_id, "contract_id": e.data["contract_id"],
                               "period_start": e.data["period_start"], "period_end": e.data["period_end"]})

    def on_StatementLinesDecided(self, b: Batch, e: Event) -> None:
        for d in e.data["decisions"]:
            line = b.get("c_statement_lines", e.originator_id, d["line_id"])
            if line is not None:
                line.update(decision=d["decision"], decided_on=e.data["decided_on"])
                b.put("c_statement_lines", line)

    def on_ContributionAccepted(self, b: Batch, e: Event) -> None:
        self._decide(b, e, "accepted")

    def on_ContributionRejected(self, b: Batch, e: Event) -> None:
        self._decide(b, e, "rejected")


def _record(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _valuing(placement: dict, contract: dict) -> tuple:
    """value_segments' arguments after the rule set, from a c_placements row
    (eligible, valued) and its c_contracts row."""
    cap_hours = placement.get("cap_hours")
    block = BlockValue(block_eur=Decimal(placement["block_eur"]), bonus_eur=Decimal(placement["bonus_eur"]),
                       eligible=True, reason=placement["eligibility_reason"] or "", capped=placement["capped"],
                       cap_hours=None if cap_hours is None else Decimal(cap_hours))
    return (block, _hours(placement["hours_history"]), _d(placement["starts_on"]), _d(placement["ended_on"]),
            _d(contract["starts_on"]), _d(contract["ends_on"]))


def _segments_json(segments: list) -> list:
    """Segments as kept in c_placements.segments: [from, to, numerator, denominator]."""
    return [[s.from_day.isoformat(), s.to_day.isoformat(), str(s.numerator), str(s.denominator)]
            for s in segments]


def contract_obligation(record: Any, rules: RuleSet, term_end: date, as_of: date | None) -> Obligation | None:
    """THE obligation of a contract row as of a day (domain.obligation), from its
    `obligation` record and its pinned rule set; None for a row without one
    (then value x percent)."""
    if not record:
        return None
    return obligation(ObligationTerms.from_record(_record(record)), rules.pso_discounts,
                      term_end, as_of)


def _fixed_explanation(d: dict) -> dict | None:
    """A purchase's or other activity's explanation from its ContributionReported data
    (older events lack some fields: they read as absent)."""
    if d["kind"] == "social_enterprise_purchase":
        return explain_purchase(
            invoice_amount_eur_excl_vat=d.get("invoice_amount_eur_excl_vat"), register=d.get("register"),
            counted_share=d.get("counted_share"), rule_set=d.get("rule_set"), amount_eur=d["amount_eur"]).as_dict()
    if d["kind"] == "other_activity":
        return explain_other_activity(
            costs_eur=d.get("costs_eur"), hours=d.get("hours"), hourly_rate_eur=d.get("hourly_rate_eur"),
            rule_set=d.get("rule_set"), amount_eur=d["amount_eur"]).as_dict()
    return None


EPOCH = date(2000, 1, 1)  # days in c_contract_totals count from here (any fixed day would do)


def _totals(b: Batch, contract_id: Any, status: str, denominator: Decimal) -> dict:
    """The contract's totals row for a status. A missing one is summed from the
    c_contract_days rows there are (none for a new status; all of them in a
    database projected before the totals existed), and so are the contract's
    other missing statuses: a contract with any totals row has one for every
    status with days rows (SUMMARY_SQL relies on it)."""
    row = b.get("c_contract_totals", contract_id, status)
    if row is not None:
        return row
    days = b.select("c_contract_days", "contract_id", contract_id)
    for st in {r["status"] for r in days} | {status}:
        if st != status and b.get("c_contract_totals", contract_id, st) is not None:
            continue
        mine = [r for r in days if r["status"] == st]
        b.put("c_contract_totals", {
            "contract_id": contract_id, "status": st,
            "denominator": Decimal(mine[0]["denominator"]) if mine else denominator,
            "delta_sum": sum((Decimal(r["delta"]) for r in mine), Decimal(0)),
            "delta_day_sum": sum((Decimal(r["delta"]) * (r["day"] - EPOCH).days for r in mine), Decimal(0))})
    return b.get("c_contract_totals", contract_id, status)  # type: ignore[return-value]


def _stops(segments: list, planned_end_on: date | None, ended_on: date | None) -> list:
    """The parts of a placement's segments after its planned end, while it has
    not ended (an actual end already ends its segments): what the forecast
    leaves out of the days to come."""
    if planned_end_on is None or ended_on is not None:
        return []
    first = planned_end_on + timedelta(days=1)
    return [[max(_d(f), first).isoformat(), t, n, den] for f, t, n, den in segments if _d(t) >= first]


def _add_to_day(b: Batch, table: str, contract_id: Any, status: str, day: date, delta: Decimal,
                denominator: Any) -> int:
    """Add a change to one day's row of a daily-change table (c_contract_days,
    c_forecast_stops); a row whose changes cancel out is deleted. Returns how
    the number of rows changed: 1 (added), 0 or -1 (deleted)."""
    row = b.get(table, contract_id, status, day)
    rows = 0 if row is not None else 1
    row = row or {"contract_id": contract_id, "status": status, "day": day, "delta": Decimal(0),
                  "denominator": Decimal(denominator)}
    row["delta"] = Decimal(row["delta"]) + delta
    if row["delta"] == 0:
        b.delete(table, contract_id, status, day)
        return rows - 1
    b.put(table, row)
    return rows


def quarter_of(day: date) -> date:
    """The first day of a day's calendar quarter."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _add_to_quarter(b: Batch, contract_id: Any, status: str, quarter: date, rows: int, delta_sum: Decimal,
                    delta_day_sum: Decimal, denominator: Any) -> None:
    """Keep a c_contract_quarters row equal to the sums over its quarter's
    c_contract_days rows (`rows`: how their number changed); a quarter left
    without day rows is deleted."""
    row = b.get("c_contract_quarters", contract_id, status, quarter) or {
        "contract_id": contract_id, "status": status, "quarter": quarter, "days": 0,
        "delta_sum": Decimal(0), "delta_day_sum": Decimal(0), "denominator": Decimal(denominator)}
    row["days"] = int(row["days"]) + rows
    row["delta_sum"] = Decimal(row["delta_sum"]) + delta_sum
    row["delta_day_sum"] = Decimal(row["delta_day_sum"]) + delta_day_sum
    if row["days"] == 0:
        b.delete("c_contract_quarters", contract_id, status, quarter)
    else:
        b.put("c_contract_quarters", row)


def _shift_stops(b: Batch, contract_id: Any, stops: list, status: str, sign: int) -> None:
    """Add (sign +1) or take out (-1) forecast stops in c_forecast_stops."""
    for from_day, to_day, numerator, denominator in stops:
        numerator = Decimal(numerator) * sign
        for day, delta in ((_d(from_day), numerator), (_d(to_day) + timedelta(days=1), -numerator)):
            _add_to_day(b, "c_forecast_stops", contract_id, status, day, delta, denominator)


def _shift_days(b: Batch, contract_id: Any, segments: list, status: str, sign: int) -> None:
    """Add (sign +1) or take out (-1) segments' daily value in c_contract_days
    (and in the contract's totals and its quarters' sums: the one writer of
    day rows keeps them all in the same batch)."""
    if not segments:
        return
    totals = _totals(b, contract_id, status, Decimal(segments[0][3]))
    quarters: dict[date, list] = {}  # quarter -> [day rows added, sum of delta, sum of delta x day]
    for from_day, to_day, numerator, denominator in segments:
        numerator = Decimal(numerator) * sign
        for day, delta in ((_d(from_day), numerator), (_d(to_day) + timedelta(days=1), -numerator)):
            delta_day = delta * (day - EPOCH).days
            totals["delta_sum"] = Decimal(totals["delta_sum"]) + delta
            totals["delta_day_sum"] = Decimal(totals["delta_day_sum"]) + delta_day
            rows = _add_to_day(b, "c_contract_days", contract_id, status, day, delta, denominator)
            q = quarters.setdefault(quarter_of(day), [0, Decimal(0), Decimal(0)])
            q[0] += rows
            q[1] += delta
            q[2] += delta_day
    b.put("c_contract_totals", totals)
    for quarter, (rows, delta_sum, delta_day_sum) in quarters.items():
        _add_to_quarter(b, contract_id, status, quarter, rows, delta_sum, delta_day_sum, segments[0][3])


# ---------------------------------------------------------------------------
# Queries (asyncpg). Every query takes the tenant first and reads the live
# generation in the same statement, so a rebuild's switch is never half-seen.

LIVE = f"({live_gen_sql(NAME)})"

CONTRACT_SQL = f"""
SELECT contract_id, employer_id, title, authority, value_eur, percent, starts_on, ends_on,
       awarded_on, rule_set, accepted_by, closed_on, obligation AS obligation_terms, rule_set_version,
       rule_set_sha256
FROM {RM}.c_contracts WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2
"""

# Placement value by status and calendar quarter, up to $3 (as of) and over
# the whole term (forecast: active placements continuing as they are).
# A quarter's value is the daily rate at its start (the deltas of earlier
# quarters) times its days, plus each of its own deltas times the days it runs
# in the quarter: sum delta x (end - day + 1) = s x (end - EPOCH + 1) - s1
# with the quarter's kept sums s (of delta) and s1 (of delta x (day - EPOCH))
# from c_contract_quarters. A quarter before the first counts its changes from
# the first quarter's first day (s1 = s x (first - EPOCH)); quarters after the
# last do not count. Up to $3, the quarter holding $3 counts its days up to $3
# only: less delta x ($3 - day + 1) for its changes after $3 (the day rows of
# that one quarter, `late`). The running sum over earlier quarters is a window
# over ~50 rows. Exact: the same integer-valued sums as summing every day row
# per quarter (tests/projections/test_compliance_quarters.py compares them),
# divided once by the denominator.
PLACEMENT_VALUE_SQL = f"""
WITH q AS MATERIALIZED (
    SELECT g::date AS q_start, (g + interval '3 months' - interval '1 day')::date AS q_end
    FROM generate_series(date_trunc('quarter', $4::date), date_trunc('quarter', $5::date),
                         interval '3 months') g
), k AS (
    SELECT k.status, greatest(k.quarter, f.first) AS q_start, sum(k.delta_sum) AS s,
           sum(CASE WHEN k.quarter < f.first THEN k.delta_sum * (f.first - DATE '{EPOCH.isoformat()}')
                    ELSE k.delta_day_sum END) AS s1,
           min(k.denominator) AS den
    FROM {RM}.c_contract_quarters k
    CROSS JOIN (SELECT date_trunc('quarter', $4::date)::date AS first) f
    WHERE k.tenant_id = $1 AND k.gen = {LIVE} AND k.contract_id = $2
      AND k.quarter <= date_trunc('quarter', $5::date)::date
    GROUP BY k.status, greatest(k.quarter, f.first)
), late AS (
    SELECT d.status, sum(d.delta * ($3::date - d.day + 1)) AS x
    FROM {RM}.c_contract_days d
    WHERE d.tenant_id = $1 AND d.gen = {LIVE} AND d.contract_id = $2
      AND d.day > $3::date AND d.day < (date_trunc('quarter', $3::date) + interval '3 months')::date
    GROUP BY d.status
), w AS (
    SELECT st.status, q.q_start, q.q_end, k.s, k.s1,
           greatest(0, least(q.q_end, $3) - q.q_start + 1) AS l_rep,
           q.q_end - q.q_start + 1 AS l_fc,
           coalesce(sum(k.s) OVER (PARTITION BY st.status ORDER BY q.q_start
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
           min(k.den) OVER (PARTITION BY st.status) AS den
    FROM (SELECT DISTINCT status FROM k) st CROSS JOIN q
    LEFT JOIN k ON k.status = st.status AND k.q_start = q.q_start
)
SELECT w.status, w.q_start,
       (w.before * w.l_rep + CASE
            WHEN w.s IS NULL OR w.q_start > $3 THEN 0
            WHEN w.q_end <= $3 THEN w.s * (w.q_end - DATE '{EPOCH.isoformat()}' + 1) - w.s1
            ELSE w.s * ($3::date - DATE '{EPOCH.isoformat()}' + 1) - w.s1 - coalesce(late.x, 0) END) / w.den
           AS reported,
       (w.before * w.l_fc + coalesce(w.s * (w.q_end - DATE '{EPOCH.isoformat()}' + 1) - w.s1, 0)) / w.den
           AS forecast
FROM w LEFT JOIN late ON late.status = w.status
"""

OTHER_VALUE_SQL = f"""
SELECT status, date_trunc('quarter', reported_on)::date AS q_start, sum(amount_eur) AS amount,
       bool_or(reported_on <= $3) AS any_reported
FROM {RM}.c_contributions
WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2
  AND kind IN ('social_enterprise_purchase', 'other_activity')  -- (contract_id, kind) index: skips placements
  AND reported_on <= $3
GROUP BY status, date_trunc('quarter', reported_on)
"""

CENT = Decimal("0.01")


def _quarters_display(quarters: dict[date, "Figures"]) -> list[dict[str, str]]:
    """Each quarter as the difference of rounded running totals, so the
    displayed quarters add up to the displayed totals to the cent."""
    out = []
    running = {k: Decimal(0) for k in ("accepted", "rejected", "pending")}
    shown = {k: Decimal("0.00") for k in running}
    for q, f in sorted(quarters.items()):
        parts = {}
        for k in running:
            running[k] += getattr(f, k)
            rounded = running[k].quantize(CENT, rounding=ROUND_HALF_UP)
            parts[k] = rounded - shown[k]
            shown[k] = rounded
        out.append({"quarter": f"{q.year}-Q{(q.month - 1) // 3 + 1}", "starts_on": q.isoformat(),
                    "reported_eur": str(sum(parts.values(), Decimal("0.00"))),
                    **{f"{k}_eur": str(v) for k, v in parts.items()}})
    return out


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def forecast_display(accepted: Decimal, pending: Decimal) -> dict[str, str]:
    """The forecast on accepted and on pending contributions, and forecast_eur
    their sum, rounded so that what is shown adds up."""
    a, p = (v.quantize(CENT, rounding=ROUND_HALF_UP) for v in (accepted, pending))
    return {"forecast_eur": str(a + p), "forecast_accepted_eur": str(a), "forecast_pending_eur": str(p)}


@dataclass
class Figures:
    reported: Decimal = Decimal(0)
    accepted: Decimal = Decimal(0)
    rejected: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)

    def add(self, status: str, amount: Decimal) -> None:
        self.reported += amount
        setattr(self, status, getattr(self, status) + amount)

    def display(self) -> dict[str, str]:
        """Rounded to cents so that what is shown adds up: reported is the sum
        of the rounded accepted, rejected and pending amounts."""
        parts = {k: getattr(self, k).quantize(CENT, rounding=ROUND_HALF_UP)
                 for k in ("accepted", "rejected", "pending")}
        return {"reported_eur": str(sum(parts.values(), Decimal("0.00"))),
                **{f"{k}_eur": str(v) for k, v in parts.items()}}


async def contract_row(pool: Any, tenant_id: UUID, contract_id: UUID, gen: int | None = None) -> dict | None:
    async with reading(pool, NAME, gen) as conn:
        row = await conn.fetchrow(CONTRACT_SQL, tenant_id, contract_id)
    return dict(row) if row else None


async def compliance_for_contract(pool: Any, tenant_id: UUID, contract_id: UUID,
                                  as_of: date, gen: int | None = None) -> dict | None:
    """The compliance figures of one contract as of a day (None: unknown contract).
    `gen`: read an as-of generation (figures as known at a moment) instead of the live one."""
    async with reading(pool, NAME, gen) as conn:
        contract = await conn.fetchrow(CONTRACT_SQL, tenant_id, contract_id)
        if contract is None:
            return None
        term_start, term_end = contract["starts_on"], contract["ends_on"]
        until = min(as_of, term_end)
        placement_rows = await conn.fetch(PLACEMENT_VALUE_SQL, tenant_id, contract_id, until,
                                          term_start, term_end)
        other_rows = await conn.fetch(OTHER_VALUE_SQL, tenant_id, contract_id, as_of)
        statement_row = await conn.fetchrow(STATEMENT_FIGURES_SQL, tenant_id, contract_id, as_of)
        stops = await conn.fetchrow(STOPS_SQL, tenant_id, contract_id, until)
        rules = (await rules_by_sha(conn, tenant_id, [contract["rule_set_sha256"]]))[contract["rule_set_sha256"]]
    how = contract_obligation(contract["obligation_terms"], rules, term_end, as_of)
    obligation_eur = how.obligation_eur if how else contract["value_eur"] * contract["percent"] / 100
    total = Figures()
    # The forecast per status (accepted, pending): rejected never counts.
    forecast = {"accepted": Decimal(0), "pending": Decimal(0)}
    quarters: dict[date, Figures] = {}
    for r in placement_rows:
        if not r["reported"] and not r["forecast"]:
            continue  # no placement counts in this quarter
        # May be negative: the pending difference a change made to an accepted placement.
        amount = r["reported"] or Decimal(0)
        if r["q_start"] <= until:
            quarters.setdefault(r["q_start"], Figures()).add(r["status"], amount)
            total.add(r["status"], amount)
        if r["status"] in forecast and r["forecast"]:
            forecast[r["status"]] += r["forecast"]
    for r in other_rows:
        quarters.setdefault(r["q_start"], Figures()).add(r["status"], r["amount"])
        total.add(r["status"], r["amount"])
        if r["status"] in forecast:
            forecast[r["status"]] += r["amount"]
    by_statements = statement_row is not None and statement_row["lines"] > 0
    if by_statements:
        # The contract reports by period statements: accepted and rejected are
        # the decided lines (corrections included); pending is the rest of what
        # is reported now, until a statement carries it and someone decides.
        total.accepted = statement_row["accepted"] or Decimal(0)
        total.rejected = statement_row["rejected"] or Decimal(0)
        total.pending = total.reported - total.accepted - total.rejected
    if stops is not None and stops["denominator"] is not None:
        # Placement days after their planned end do not count in the days to come.
        for status in forecast:
            forecast[status] -= (stops[status] or Decimal(0)) / stops["denominator"]
    return {
        "contract_id": str(contract_id),
        "as_of": as_of.isoformat(),
        "obligation_eur": money(obligation_eur),
        **({"obligation": how.as_dict()} if how else {}),
        **total.display(),
        **forecast_display(forecast["accepted"], forecast["pending"]),
        **_achievement(total.accepted, obligation_eur, forecast["accepted"] + forecast["pending"], as_of,
                       term_end, rules),
        "reports_by": "statements" if by_statements else "contributions",
        "quarters": _quarters_display(quarters),
    }


def _achievement(accepted: Decimal, obligation: Decimal, forecast: Decimal, as_of: date, term_end: date,
                 rules: RuleSet) -> dict[str, Any]:
    """percent_accepted capped at 100 with the surplus beside it (a share over
    100% invites audit findings); after the term a shortfall is `not_met`,
    with its amount and the rule set's consequence, or `in_repair` during the
    rule set's repair period (domain.obligation.shortfall)."""
    figures = {"accepted": accepted, "obligation": obligation, "forecast": forecast}
    out: dict[str, Any] = {
        "percent_accepted": _percent(accepted, obligation),
        "surplus_eur": money(max(accepted - obligation, Decimal(0))),
        "status": _status(figures, as_of > term_end),
    }
    out.update(shortfall(obligation, accepted, term_end, as_of, rules.shortfall, rules.shortfall_consequence) or {})
    return out


STATEMENT_FIGURES_SQL = f"""
SELECT count(*) AS lines,
       sum(value_eur) FILTER (WHERE decision = 'accepted') AS accepted,
       sum(value_eur) FILTER (WHERE decision = 'rejected') AS rejected
FROM {RM}.c_statement_lines
WHERE tenant_id = $1 AND gen = {LIVE} AND contract_id = $2 AND period_start <= $3
"""


def forecast_stops_sql(contract: str, gen: str, as_of: str) -> str:
    """THE value the forecast leaves out of the days after ``as_of`` (placement
    days after their planned end), per status (accepted, pending), as
    numerators over the contract's denominator: a LATERAL subquery for the row
    ``contract`` (with tenant_id and contract_id) in generation ``gen``. With
    stop rows of daily change delta on day d (every stop closed, so the deltas
    sum to 0), the value of stopped days after A is sum(delta x (A + 1 - d))
    over the rows after A. Shared by SUMMARY_SQL and portfolio.CONTRACTS_SQL."""
    return f"""(
    SELECT sum(s.delta * ({as_of} + 1 - s.day)) FILTER (WHERE s.status = 'accepted') AS accepted,
           sum(s.delta * ({as_of} + 1 - s.day)) FILTER (WHERE s.status = 'pending') AS pending
    FROM {RM}.c_forecast_stops s
    WHERE s.tenant_id = {contract}.tenant_id AND s.gen = {gen} AND s.contract_id = {contract}.contract_id
      AND s.day > {as_of}
)"""


# What the forecast leaves out of the days after $3 (forecast_stops_sql).
STOPS_SQL = f"""
SELECT fs.accepted, fs.pending,
       -- one rule set per contract, so one denominator: any row's
       (SELECT s.denominator FROM {RM}.c_forecast_stops s
        WHERE s.tenant_id = c.tenant_id AND s.gen = c.gen AND s.contract_id = c.contract_id LIMIT 1) AS denominator
FROM {RM}.c_contracts c
CROSS JOIN LATERAL {forecast_stops_sql("c", "c.gen", "$3::date")} fs
WHERE c.tenant_id = $1 AND c.gen = {LIVE} AND c.contract_id = $2
"""

# Per contract, from its totals (c_contract_totals: one row per status) less
# the changes dated after the day asked (a few: segments ending in the future);
# a contract whose totals were never kept (projected before they existed, not
# changed since) is summed from all its c_contract_days rows instead.
SUMMARY_SQL = f"""
SELECT c.contract_id, c.employer_id, c.title, c.authority, c.value_eur * c.percent / 100 AS obligation,
       c.ends_on, c.rule_set, c.obligation AS obligation_terms, c.rule_set_sha256,
       CASE WHEN st.n > 0 THEN coalesce(st.accepted, 0) ELSE
       coalesce(coalesce(p.accepted - coalesce(f.accepted, 0), slow.accepted)
                / coalesce(p.denominator, slow.denominator), 0) + coalesce(o.accepted, 0) END AS accepted,
       coalesce(coalesce(p.reported - coalesce(f.reported, 0), slow.reported)
                / coalesce(p.denominator, slow.denominator), 0) + coalesce(o.reported, 0) AS reported,
       coalesce((coalesce(p.forecast_accepted, slow.forecast_accepted) - coalesce(fs.accepted, 0))
                / coalesce(p.denominator, slow.denominator), 0) + coalesce(o.forecast_accepted, 0)
           AS forecast_accepted,
       coalesce((coalesce(p.forecast_pending, slow.forecast_pending) - coalesce(fs.pending, 0))
                / coalesce(p.denominator, slow.denominator), 0) + coalesce(o.forecast_pending, 0)
           AS forecast_pending
FROM {RM}.c_contracts c
LEFT JOIN LATERAL (
    -- delta x (A - day + 1) summed over every change: sum0 x (A - EPOCH + 1) - sum1
    SELECT sum(t.delta_sum * ($2::date - DATE '{EPOCH.isoformat()}' + 1) - t.delta_day_sum)
               FILTER (WHERE t.status = 'accepted') AS accepted,
           sum(t.delta_sum * ($2::date - DATE '{EPOCH.isoformat()}' + 1) - t.delta_day_sum) AS reported,
           sum(t.delta_sum * (c.ends_on - DATE '{EPOCH.isoformat()}' + 1) - t.delta_day_sum)
               FILTER (WHERE t.status = 'accepted') AS forecast_accepted,
           sum(t.delta_sum * (c.ends_on - DATE '{EPOCH.isoformat()}' + 1) - t.delta_day_sum)
               FILTER (WHERE t.status = 'pending') AS forecast_pending,
           min(t.denominator) AS denominator, count(*) AS n
    FROM {RM}.c_contract_totals t
    WHERE t.tenant_id = c.tenant_id AND t.gen = c.gen AND t.contract_id = c.contract_id
) p ON true
LEFT JOIN LATERAL (
    -- changes after the day asked count for nothing yet: take out what the totals gave them
    SELECT sum(d.delta * ($2::date - d.day + 1)) FILTER (WHERE d.status = 'accepted') AS accepted,
           sum(d.delta * ($2::date - d.day + 1)) AS reported
    FROM {RM}.c_contract_days d
    WHERE d.tenant_id = c.tenant_id AND d.gen = c.gen AND d.contract_id = c.contract_id AND d.day > $2
) f ON true
LEFT JOIN LATERAL (
    SELECT sum(d.delta * greatest(0, $2::date - d.day + 1)) FILTER (WHERE d.status = 'accepted') AS accepted,
           sum(d.delta * greatest(0, $2::date - d.day + 1)) AS reported,
           sum(d.delta * greatest(0, c.ends_on - d.day + 1)) FILTER (WHERE d.status = 'accepted')
               AS forecast_accepted,
           sum(d.delta * greatest(0, c.ends_on - d.day + 1)) FILTER (WHERE d.status = 'pending')
               AS forecast_pending,
           min(d.denominator) AS denominator
    FROM {RM}.c_contract_days d
    WHERE p.n = 0 AND d.tenant_id = c.tenant_id AND d.gen = c.gen AND d.contract_id = c.contract_id
) slow ON true
LEFT JOIN LATERAL (
    SELECT sum(amount_eur) FILTER (WHERE status = 'accepted') AS accepted,
           sum(amount_eur) AS reported,
           sum(amount_eur) FILTER (WHERE status = 'accepted') AS forecast_accepted,
           sum(amount_eur) FILTER (WHERE status = 'pending') AS forecast_pending
    FROM {RM}.c_contributions k
    WHERE k.tenant_id = c.tenant_id AND k.gen = c.gen AND k.contract_id = c.contract_id
      AND k.kind IN ('social_enterprise_purchase', 'other_activity')  -- (contract_id, kind) index
      AND k.reported_on <= $2
) o ON true
LEFT JOIN LATERAL {forecast_stops_sql("c", "c.gen", "$2::date")} fs ON true
LEFT JOIN LATERAL (
    -- a contract with submitted statements: accepted is its accepted lines
    SELECT count(*) AS n, sum(l.value_eur) FILTER (WHERE l.decision = 'accepted') AS accepted
    FROM {RM}.c_statement_lines l
    WHERE l.tenant_id = c.tenant_id AND l.gen = c.gen AND l.contract_id = c.contract_id
      AND l.period_start <= $2
) st ON true
WHERE c.tenant_id = $1 AND c.gen = {LIVE} AND ($3::uuid IS NULL OR c.employer_id = $3)
  AND ($4::text IS NULL OR c.authority = $4)
ORDER BY c.title
"""


async def compliance_summary(pool: Any, tenant_id: UUID, as_of: date, *, employer_id: UUID | None = None,
                             authority: str | None = None, gen: int | None = None) -> dict:
    """Per contract and rolled up (per employer, and in total) as of a day."""
    async with reading(pool, NAME, gen) as conn:
        return await cached_figures(conn, NAME, tenant_id, ("summary", as_of, employer_id, authority),
                                    lambda c: _summary(c, tenant_id, as_of, employer_id, authority))


async def _summary(conn: Any, tenant_id: UUID, as_of: date, employer_id: UUID | None,
                   authority: str | None) -> dict:
    rows = await conn.fetch(SUMMARY_SQL, tenant_id, as_of, employer_id, authority)
    rules = await rules_by_sha(conn, tenant_id, {r["rule_set_sha256"] for r in rows})
    contracts, employers = [], {}
    totals = {"obligation": Decimal(0), "accepted": Decimal(0), "reported": Decimal(0), "forecast": Decimal(0),
              "forecast_accepted": Decimal(0), "forecast_pending": Decimal(0)}
    for r in rows:
        figures = {k: r[k] or Decimal(0) for k in totals if k != "forecast"}
        figures["forecast"] = figures["forecast_accepted"] + figures["forecast_pending"]
        how = contract_obligation(r["obligation_terms"], rules[r["rule_set_sha256"]], r["ends_on"], as_of)
        if how is not None:
            figures["obligation"] = how.obligation_eur
        contracts.append({
            "contract_id": str(r["contract_id"]), "employer_id": str(r["employer_id"]), "title": r["title"],
            "contracting_authority": r["authority"],
            **{f"{k}_eur": money(v) for k, v in figures.items()},
            **forecast_display(figures["forecast_accepted"], figures["forecast_pending"]),
            **_achievement(figures["accepted"], figures["obligation"], figures["forecast"],
                           as_of, r["ends_on"], rules[r["rule_set_sha256"]]),
            **({"obligation": how.as_dict()} if how else {}),
        })
        per = employers.setdefault(str(r["employer_id"]), {k: Decimal(0) for k in totals})
        for k, v in figures.items():
            per[k] += v
            totals[k] += v
    return {
        "as_of": as_of.isoformat(),
        "contracts": contracts,
        "employers": [{"employer_id": e, **{f"{k}_eur": money(v) for k, v in f.items()},
                       **forecast_display(f["forecast_accepted"], f["forecast_pending"]),
                       "percent_accepted": _percent(f["accepted"], f["obligation"])}
                      for e, f in employers.items()],
        "total": {**{f"{k}_eur": money(v) for k, v in totals.items()},
                  **forecast_display(totals["forecast_accepted"], totals["forecast_pending"]),
                  "percent_accepted": _percent(totals["accepted"], totals["obligation"])},
    }


def _percent(part: Decimal, whole: Decimal) -> str:
    """Capped at 100: what is over is shown as a surplus in euros beside it."""
    if whole <= 0:
        return "100.0"
    return str(min(part / whole * 100, Decimal(100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _status(f: dict[str, Decimal], finished: bool = False) -> str:
    if f["accepted"] >= f["obligation"]:
        return "achieved"
    if finished:
        return "not_met"
    return "on_track" if f["forecast"] >= f["obligation"] else "at_risk"


# What explaining a placement's value needs: its contract's term and rule set and
# its recorded valuation and hours (c_contracts c, c_placements p).
EXPLAIN_COLUMNS = """c.rule_set AS c_rule_set, c.rule_set_sha256 AS c_rule_set_sha256, c.starts_on AS term_start, c.ends_on AS term_end,
       p.placement_id IS NOT NULL AS has_placement, p.starts_on AS p_starts_on, p.ended_on AS p_ended_on,
       p.permanent AS p_permanent, p.hours_history AS p_hours_history, p.block_eur AS p_block_eur,
       p.bonus_eur AS p_bonus_eur, p.eligible AS p_eligible, p.capped AS p_capped,
       p.eligibility_reason AS p_valued, p.judged_on AS p_judged_on, p.arrangement AS p_arrangement,
       p.hours_cap AS p_hours_cap, p.cap_hours AS p_cap_hours"""


CONTRIBUTIONS_SQL = f"""
SELECT k.contribution_id, k.kind, k.placement_id, k.amount_eur, k.reported_on, k.status, k.decided_on,
       k.reason, k.description, k.supplier, k.explanation,
       (SELECT sum(s.numerator * greatest(0, least(s.to_day, $3::date) - s.from_day + 1)) / min(s.denominator)
        FROM {RM}.c_segments s
        WHERE s.tenant_id = k.tenant_id AND s.gen = k.gen AND s.placement_id = k.placement_id) AS accrued,
       {EXPLAIN_COLUMNS}
FROM {RM}.c_contributions k
JOIN {RM}.c_contracts c ON c.tenant_id = k.tenant_id AND c.gen = k.gen AND c.contract_id = k.contract_id
LEFT JOIN {RM}.c_placements p ON p.tenant_id = k.tenant_id AND p.gen = k.gen AND p.placement_id = k.placement_id
WHERE k.tenant_id = $1 AND k.gen = {LIVE} AND k.contract_id = $2
ORDER BY k.reported_on, k.contribution_id
"""


async def contributions_for_contract(pool: Any, tenant_id: UUID, contract_id: UUID, as_of: date,
                                     gen: int | None = None) -> list[dict]:
    """The contract's contributions with their value up to `as_of`, each with its
    `explanation` (domain.explanation; a placement's over its days up to `as_of`)."""
    async with reading(pool, NAME, gen) as conn:
        rows = await conn.fetch(CONTRIBUTIONS_SQL, tenant_id, contract_id, as_of)
        rules = await rules_by_sha(conn, tenant_id, {r["c_rule_set_sha256"] for r in rows})
    return [{
        "id": str(r["contribution_id"]), "kind": r["kind"],
        "placement_id": str(r["placement_id"]) if r["placement_id"] else None,
        "value_eur": money(r["amount_eur"] if r["kind"] != "placement" else (r["accrued"] or Decimal(0))),
        "reported_on": r["reported_on"].isoformat(), "status": r["status"],
        "decided_on": r["decided_on"].isoformat() if r["decided_on"] else None,
        "reason": r["reason"], "description": r["description"], "supplier": r["supplier"],
        "explanation": _explanation(r, None, as_of, rules),
    } for r in rows]


def _explanation(r: Any, period_start: date | None, period_end: date,
                 rules: dict[str, RuleSet]) -> dict | None:
    """A row's explanation: stored whole for a purchase or other activity; worked
    out for the period for a placement (domain.explanation.explain_placement)."""
    if r["kind"] != "placement":
        explanation = r["explanation"]
        return json.loads(explanation) if isinstance(explanation, str) else explanation
    if not r["has_placement"]:
        return None
    history = r["p_hours_history"]
    history = json.loads(history) if isinstance(history, str) else history
    block = BlockValue(block_eur=Decimal(r["p_block_eur"]), bonus_eur=Decimal(r["p_bonus_eur"]),
                       eligible=bool(r["p_eligible"]), reason="", capped=bool(r["p_capped"]),
                       cap_hours=r["p_cap_hours"])
    hours_cap = r["p_hours_cap"]
    return explain_placement(
        rules[r["c_rule_set_sha256"]], valued=r["p_valued"] == "valued", block=block,
        judged_on=r["p_judged_on"], permanent_contract=bool(r["p_permanent"]), hours_history=_hours(history),
        starts_on=r["p_starts_on"], ended_on=r["p_ended_on"], term_start=r["term_start"],
        term_end=r["term_end"], period_start=period_start, period_end=period_end,
        arrangement=r["p_arrangement"] or "employment",
        hours_cap=HoursCap.from_record(json.loads(hours_cap) if isinstance(hours_cap, str) else hours_cap)).as_dict()


EXPLANATION_SQL = f"""
SELECT k.kind, k.explanation, {EXPLAIN_COLUMNS}
FROM {RM}.c_contributions k
JOIN {RM}.c_contracts c ON c.tenant_id = k.tenant_id AND c.gen = k.gen AND c.contract_id = k.contract_id
LEFT JOIN {RM}.c_placements p ON p.tenant_id = k.tenant_id AND p.gen = k.gen AND p.placement_id = k.placement_id
WHERE k.tenant_id = $1 AND k.gen = {LIVE} AND k.contribution_id = $2
"""


async def explanation_for_contribution(pool: Any, tenant_id: UUID, contribution_id: UUID, *,
                                       period_end: date, period_start: date | None = None,
                                       gen: int | None = None) -> dict | None:
    """THE explanation of one contribution's value (domain.explanation, as a dict
    with stable keys): a placement's over [period_start, period_end] (None: from
    its first day), a purchase's or other activity's as reported. None for an
    unknown contribution. The caller checks the asker may see its contract."""
    async with reading(pool, NAME, gen) as conn:
        row = await conn.fetchrow(EXPLANATION_SQL, tenant_id, contribution_id)
        rules = {} if row is None else await rules_by_sha(conn, tenant_id, [row["c_rule_set_sha256"]])
    return None if row is None else _explanation(row, period_start, period_end, rules)


CONTRIBUTION_SQL = f"""
SELECT k.contribution_id, k.contract_id, c.accepted_by, c.authority, c.employer_id
FROM {RM}.c_contributions k
JOIN {RM}.c_contracts c ON c.tenant_id = k.tenant_id AND c.gen = k.gen AND c.contract_id = k.contract_id
WHERE k.tenant_id = $1 AND k.gen = {LIVE} AND k.contribution_id = $2
"""


async def contribution_row(pool: Any, tenant_id: UUID, contribution_id: UUID) -> dict | None:
    """A contribution's contract: contract_id, accepted_by, authority, employer_id (None: unknown)."""
    async with reading(pool, NAME) as conn:
        row = await conn.fetchrow(CONTRIBUTION_SQL, tenant_id, contribution_id)
    return dict(row) if row else None


CONTRIBUTION_IDS_SQL = f"""
SELECT contribution_id FROM {RM}.c_contributions
WHERE tenant_id = %(tenant)s AND contract_id = %(contract)s
  AND gen = (SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = %(tenant)s)
ORDER BY reported_on, contribution_id
"""


HOURS_CAPS_SQL = f"""
SELECT placement_id, hours_cap FROM {RM}.c_placements
WHERE tenant_id = %(tenant)s AND contract_id = %(contract)s AND hours_cap IS NOT NULL
  AND gen = (SELECT gen FROM {RM}.live WHERE projection = '{NAME}' AND tenant_id = %(tenant)s)
"""


def hours_caps(conn: Any, tenant_id: UUID, contract_id: UUID) -> dict[UUID, HoursCap]:
    """How the candidate's cap in hours applies to each of the contract's
    placements under one (it needs all the candidate's placements, in every
    contract: the read model has worked it out). Synchronous: for the
    ledger's ContractRecords port (statements)."""
    out = {}
    for r in conn.execute(HOURS_CAPS_SQL, {"tenant": tenant_id, "contract": contract_id}).fetchall():
        cap = HoursCap.from_record(_record(r["hours_cap"]))
        if cap is not None:
            out[r["placement_id"]] = cap
    return out


def contribution_ids(conn: Any, tenant_id: UUID, contract_id: UUID) -> list[UUID]:
    """Every contribution reported to the contract (synchronous: for the
    ledger's ContractRecords port, infra/bootstrap.py)."""
    return [r[0] if not isinstance(r, dict) else r["contribution_id"]
            for r in conn.execute(CONTRIBUTION_IDS_SQL, {"tenant": tenant_id, "contract": contract_id}).fetchall()]
