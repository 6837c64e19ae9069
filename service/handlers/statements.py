"""Period statements (domain/statement.py): the agency prepares one for a
period of a contract and submits it (its lines are frozen then); the party
the contract names (`accepted_by`: the contracting authority unless it
delegates) decides per line. A draft's lines are worked out live, from the
same aggregates and the same functions as at submission.

How statements and per-contribution decisions coexist: a contract with a
submitted statement reports by statements, so its contributions are no
longer decided one by one (409; service/handlers/contributions.py asks
`reports_by_statements`), and its accepted figure is the sum of accepted
lines. A contract without one keeps the per-contribution decisions.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.contract import SocialReturnContract
from domain.contribution import Contribution
from domain.document import Document
from domain.placement import Placement
from domain.explanation import explain_contribution
from domain.statement import (
    Statement,
    Subject,
    corrections_for,
    current_values,
    lines_for,
    reporting_periods,
)
from service import commands as c
from service.errors import NotFound, PermissionDenied
from service.handlers import documents
from service.unit import Handlers, Outcome, Unit, changed

handles = Handlers()

# Who reads a statement (and whose records it shows is checked by visibility:
# the employer of the contract, the authority it names).
READERS = frozenset({"agency", "auditor", "employer", "authority"})


def evidence(u: Unit, contribution: Contribution) -> list[str]:
    """The documents attached to a contribution as evidence (ids) that the
    actor sees (service/handlers/documents.py)."""
    return [str(d.id) for d in documents.documents_of(u, "contribution", contribution.id)]


def contract_subjects(u: Unit, contract: SocialReturnContract) -> tuple[list[Subject], dict[UUID, list[str]]]:
    """The contract's contributions as the ledger holds them now, each with
    its explanation bound (domain.explanation.explain_contribution), and the
    evidence documents of each."""
    subjects: list[Subject] = []
    evidence_of: dict[UUID, list[str]] = {}
    # Under a cap in hours a placement's figure depends on the candidate's other
    # placements (other contracts too): the read model has worked out where it cuts.
    caps = u.hours_caps_of(contract.id) if u.hours_caps_of is not None else {}
    for ident in (u.contributions_of(contract.id) if u.contributions_of is not None else []):
        k = u.load(ident)
        if not isinstance(k, Contribution) or k.contract_id != contract.id:
            continue
        evidence_of[k.id] = evidence(u, k)
        if k.kind == "placement" and k.placement_id is not None:
            p = u.load(k.placement_id)
            if not isinstance(p, Placement):
                continue
            subjects.append(Subject(
                contribution_id=k.id, kind=k.kind, placement_id=p.id, first=p.starts_on, last=p.ended_on,
                explain=lambda start, end, k=k, p=p: explain_contribution(
                    k, contract=contract, placement=p, period_start=start, period_end=end,
                    hours_cap=caps.get(p.id))))
        elif k.amount_eur is not None:
            day = k.invoice_date or k.activity_date or k.reported_on
            subjects.append(Subject(
                contribution_id=k.id, kind=k.kind, placement_id=None, first=day, last=day,
                explain=lambda start, end, k=k: explain_contribution(
                    k, contract=contract, period_start=start, period_end=end)))
    return subjects, evidence_of


def statements_of(u: Unit, contract: SocialReturnContract) -> list[Statement]:
    return [u.load(ident) for ident in contract.statements]


def reports_by_statements(u: Unit, contract: SocialReturnContract) -> bool:
    return any(s.submitted_on is not None for s in statements_of(u, contract))


def draft_lines(u: Unit, contract: SocialReturnContract, statement: Statement) -> list[dict[str, Any]]:
    """The lines the statement would freeze if submitted now: every
    contribution in its period, then the corrections it carries."""
    term = (contract.starts_on, contract.ends_on)
    subjects, evidence_of = contract_subjects(u, contract)
    lines = lines_for(term, statement.period, subjects)
    lines += corrections_for(statement, [s for s in statements_of(u, contract) if s.id != statement.id]
                             + [statement], lambda period: current_values(term, period, subjects))
    return [{**line, "documents": evidence_of.get(line["contribution_id"], [])} for line in lines]


@handles(c.PrepareStatement, roles={"agency"})
def prepare_statement(u: Unit, cmd: c.PrepareStatement) -> Outcome:
    contract = u.get(SocialReturnContract, cmd.contract_id)
    period = contract.check_statement_period(cmd.period_start, cmd.period_end)
    statement = Statement.prepare(contract.id, period, contract.ends_on, u.today())
    contract.claim_statement_period(statement.id, period)
    return Outcome(saved=[statement, contract], created=True,
                   body={"id": str(statement.id), "contract_id": str(contract.id),
                         "period_start": period[0].isoformat(), "period_end": period[1].isoformat(),
                         "final": statement.final, "status": statement.status})


@handles(c.SubmitStatement, roles={"agency"})
def submit_statement(u: Unit, cmd: c.SubmitStatement) -> Outcome:
    statement = u.get(Statement, cmd.statement_id)
    contract = u.get(SocialReturnContract, statement.contract_id)
    statement.submit(draft_lines(u, contract, statement), u.today())
    outcome = changed(statement)
    outcome.body.update(status=statement.status, lines=len(statement.lines))
    return outcome


# Further narrowed per contract by its `accepted_by` setting.
@handles(c.DecideStatementLines, roles={"authority", "agency"})
def decide_statement_lines(u: Unit, cmd: c.DecideStatementLines) -> Outcome:
    statement = u.get(Statement, cmd.statement_id)
    contract = u.get(SocialReturnContract, statement.contract_id)
    if u.actor.role != contract.accepted_by:
        raise PermissionDenied(f"statements of this contract are decided by the {contract.accepted_by}")
    statement.decide([{"line_id": d.line_id, "decision": d.decision, "reason": d.reason}
                      for d in cmd.decisions], cmd.decided_on or u.today())
    outcome = changed(statement)
    outcome.body.update(status=statement.status, decided=len(statement.decisions), lines=len(statement.lines))
    return outcome


# -- reading --------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, UUID)):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _line_view(line: dict[str, Any], decision: dict[str, Any] | None) -> dict[str, Any]:
    view = _plain(line)
    view["value_eur"] = money(line["value_eur"])
    view["value_exact_eur"] = str(line["value_eur"])
    for key in ("old_value_eur", "new_value_eur"):
        if key in line:
            view[key] = money(line[key])
    view["decision"] = decision["decision"] if decision else None
    view["reason"] = decision["reason"] if decision else None
    view["decided_on"] = decision["decided_on"].isoformat() if decision else None
    return view


def _totals(lines: Iterable[dict[str, Any]], decisions: dict[str, dict[str, Any]]) -> dict[str, str]:
    sums = {"reported": Decimal(0), "accepted": Decimal(0), "rejected": Decimal(0), "undecided": Decimal(0),
            "corrections": Decimal(0)}
    for line in lines:
        value = line["value_eur"]
        sums["reported"] += value
        decided = decisions.get(line.get("line_id", ""), {}).get("decision")
        sums[decided or "undecided"] += value
        if line["kind"] == "correction":
            sums["corrections"] += value
    return {f"{k}_eur": money(v) for k, v in sums.items()}


def _visible_documents(u: Unit, ids: Iterable[Any]) -> list[Document]:
    out = []
    for ident in ids:
        try:
            out.append(u.get(Document, UUID(str(ident))))
        except NotFound:  # an employer does not see a payslip
            continue
    return out


def statement_view(u: Unit, statement_id: UUID) -> dict[str, Any]:
    """A statement as the actor may see it: frozen lines once submitted, the
    lines it would freeze now while a draft (line ids only at submission)."""
    statement = u.get(Statement, statement_id)
    contract = u.get(SocialReturnContract, statement.contract_id)
    if statement.submitted_on is None:
        lines = [{**line, "line_id": None} for line in draft_lines(u, contract, statement)]
    else:
        lines = statement.lines
    views = [_line_view(line, statement.decisions.get(line["line_id"]) if line["line_id"] else None)
             for line in lines]
    # Per line the evidence the actor sees: its contribution's documents (the
    # ids frozen at submission; live while a draft) and the line's own.
    own = documents.line_documents(u, statement)
    for line, view in zip(lines, views):
        view["contribution_documents"] = [documents.document_view(u.app, d)
                                          for d in _visible_documents(u, line.get("documents", []))]
        view["line_documents"] = [documents.document_view(u.app, d) for d in own.get(line["line_id"] or "", [])]
    return {
        "id": str(statement.id), "version": statement.version, "contract_id": str(contract.id),
        "period_start": statement.period_start.isoformat(), "period_end": statement.period_end.isoformat(),
        "final": statement.final, "status": statement.status, "locked": statement.locked,
        "prepared_on": statement.prepared_on.isoformat(),
        "submitted_on": statement.submitted_on.isoformat() if statement.submitted_on else None,
        "decided_by": contract.accepted_by,
        "lines": views, "totals": _totals(lines, statement.decisions),
    }


def contract_statements(u: Unit, contract_id: UUID) -> dict[str, Any]:
    """The contract's statements (no lines), and the reporting periods of its term."""
    contract = u.get(SocialReturnContract, contract_id)
    statements = sorted(statements_of(u, contract), key=lambda s: s.period_start)
    taken = [s.period for s in statements]
    # The contract's own choice of year or quarter, else its rule set's.
    periods = [p for p in reporting_periods(contract.starts_on, contract.ends_on, contract.reports_per)
               if not any(p[0] <= t[1] and t[0] <= p[1] for t in taken)]
    return {
        "contract_id": str(contract.id), "reporting_period": contract.reports_per,
        "reporting_period_chosen": contract.reporting_period,
        "reports_by_statements": any(s.submitted_on is not None for s in statements),
        "statements": [{
            "id": str(s.id), "period_start": s.period_start.isoformat(), "period_end": s.period_end.isoformat(),
            "final": s.final, "status": s.status, "locked": s.locked,
            "submitted_on": s.submitted_on.isoformat() if s.submitted_on else None,
            "lines": len(s.lines), "decided": len(s.decisions),
            **_totals(s.lines, s.decisions)} for s in statements],
        "open_periods": [{"period_start": a.isoformat(), "period_end": b.isoformat()} for a, b in periods],
    }
