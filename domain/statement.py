"""Period statements: what a supplier reports for a period of a contract, and
the contracting authority's decision on each line.

A statement is prepared for a period inside the contract's term (the
contract claims the period, so two statements never overlap), reviewed as a
draft whose lines are worked out live, and submitted: the lines are then
FROZEN in `StatementSubmitted` (each placement's value in the period with
its hours and days, each purchase and other activity, each with its
valuation explanation). The authority decides per line; once every line is
decided the statement is decided and its period locked.

A later change that touches a submitted period (backdated hours, a late
end, a late invoice) is not written back: it becomes a CORRECTION line in
the next draft statement of the contract, the difference between the value
now and what was frozen (plus earlier corrections), naming what it corrects.
An accepted figure never changes without a new decision.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DomainError, InvalidValue
from domain.explanation import Explanation
from domain.ids import new_id
from domain.valuation import add_months
from domain.values import optional_text, require_date, require_id

DECISIONS = ("accepted", "rejected")
REASON_MAX_LEN = 1000


class StatementNotDraft(DomainError):
    """Submitting twice, or a statement that was already submitted."""

    is_state_conflict = True


class StatementNotSubmitted(DomainError):
    is_state_conflict = True


class LineAlreadyDecided(DomainError):
    is_state_conflict = True
    default_field = "line_id"


# -- periods ------------------------------------------------------------------------------

def reporting_periods(term_start: date, term_end: date, every: str) -> list[tuple[date, date]]:
    """The calendar years (or quarters) of the term, the first and last cut by it."""
    step = 12 if every == "year" else 3
    first = date(term_start.year, 1 if step == 12 else (term_start.month - 1) // 3 * 3 + 1, 1)
    out = []
    while first <= term_end:
        following = add_months(first, step)
        out.append((max(first, term_start), min(following - timedelta(days=1), term_end)))
        first = following
    return out


def check_period(period_start: Any, period_end: Any, term_start: date, term_end: date,
                 taken: Iterable[tuple[date, date]], every: str | None = None) -> tuple[date, date]:
    """A period for a new statement: inside the term, not overlapping another,
    and (`every` given: "year" or "quarter") one of the term's reporting periods."""
    start = require_date(period_start, "period_start")
    end = require_date(period_end, "period_end")
    if end < start:
        raise InvalidValue("period_end must not be before period_start", "period_end")
    if start < term_start:
        raise InvalidValue("period_start must not be before the contract term starts ({day})",
                           "period_start", day=term_start)
    if end > term_end:
        raise InvalidValue("period_end must not be after the contract term ends ({day})",
                           "period_end", day=term_end)
    for other_start, other_end in taken:
        if start <= other_end and other_start <= end:
            field = "period_start" if other_start <= start <= other_end else "period_end"
            raise InvalidValue("the period overlaps the statement for {start} to {end}", field,
                               start=other_start, end=other_end)
    if every is not None:
        periods = reporting_periods(term_start, term_end, every)
        if (start, end) not in periods:
            starts = {p[0] for p in periods}
            near = next(p for p in periods if p[0] <= start <= p[1])
            field = "period_end" if start in starts else "period_start"
            if every == "quarter":
                raise InvalidValue("the contract reports per quarter: the period must be one of its quarters, "
                                   "such as {start} to {end}", field, start=near[0], end=near[1])
            raise InvalidValue("the contract reports per year: the period must be one of its years, "
                               "such as {start} to {end}", field, start=near[0], end=near[1])
    return start, end


def misaligned(periods: Iterable[tuple[date, date]], term_start: date, term_end: date,
               every: str) -> list[tuple[date, date]]:
    """The periods (of statements) that are not reporting periods of the term per `every`."""
    aligned = set(reporting_periods(term_start, term_end, every))
    return [p for p in periods if p not in aligned]


# -- what a line is worth -------------------------------------------------------------------

# explain(period_start, period_end) -> the contribution's Explanation over the
# period (domain.explanation.explain_contribution, bound to its aggregates):
# THE explanation of a value, so whatever it says is what a line freezes.
Explain = Callable[[date | None, date], Explanation]


@dataclass(frozen=True)
class Subject:
    """A contribution of the contract as the ledger holds it now."""

    contribution_id: UUID
    kind: str
    placement_id: UUID | None
    #: a placement's first and last day (None: open), a fixed amount's day (first = last)
    first: date
    last: date | None
    explain: Explain


def counted_on(subject: Subject, term: tuple[date, date]) -> date:
    """The day a fixed amount counts on, inside the term."""
    return min(max(subject.first, term[0]), term[1])


def line_for(subject: Subject, term: tuple[date, date], period: tuple[date, date]) -> dict[str, Any] | None:
    """The contribution's line for a period (None: it has none there)."""
    if subject.kind == "placement":
        if subject.first > period[1] or (subject.last or term[1]) < period[0]:
            return None
        explanation = subject.explain(period[0], period[1])
        days = explanation.facts["days"]["counted"]
    else:
        if not period[0] <= counted_on(subject, term) <= period[1]:
            return None
        explanation = subject.explain(None, period[1])
        days = None
    return {"kind": subject.kind, "contribution_id": subject.contribution_id, "placement_id": subject.placement_id,
            "value_eur": explanation.value_eur, "days": days, "explanation": explanation.as_dict()}


def lines_for(term: tuple[date, date], period: tuple[date, date], subjects: Iterable[Subject]) -> list[dict[str, Any]]:
    """Every contribution's line for the period, placements first, in a stable order."""
    ordered = sorted(subjects, key=lambda s: (s.kind != "placement", s.first, str(s.contribution_id)))
    return [line for s in ordered if (line := line_for(s, term, period)) is not None]


def current_values(term: tuple[date, date], period: tuple[date, date],
                   subjects: Iterable[Subject]) -> dict[UUID, dict]:
    return {line["contribution_id"]: line for line in lines_for(term, period, subjects)}


# -- the statement ----------------------------------------------------------------------------

class Statement(LedgerAggregate):
    """One contract's statement for one period."""

    @classmethod
    def prepare(cls, contract_id: UUID, period: tuple[date, date], term_end: date,
                prepared_on: date) -> Statement:
        return cls(contract_id=require_id(contract_id, "contract_id"), period_start=period[0],
                   period_end=period[1], final=period[1] == term_end,
                   prepared_on=require_date(prepared_on, "prepared_on"))

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return new_id()

    @event("StatementPrepared")
    def __init__(self, contract_id: UUID, period_start: date, period_end: date, final: bool,
                 prepared_on: date) -> None:
        self.contract_id = contract_id
        self.period_start = period_start
        self.period_end = period_end
        self.final = final
        self.prepared_on = prepared_on
        self.lines: list[dict[str, Any]] = []
        self.submitted_on: date | None = None
        # line id -> {"decision", "reason", "decided_on"}
        self.decisions: dict[str, dict[str, Any]] = {}
        # line id -> the documents attached to the line itself (oldest first)
        self.line_documents: dict[str, list[UUID]] = {}

    @property
    def period(self) -> tuple[date, date]:
        return self.period_start, self.period_end

    @property
    def status(self) -> str:
        """draft, submitted (awaiting decisions) or decided (every line; the period is locked)."""
        if self.submitted_on is None:
            return "draft"
        return "decided" if len(self.decisions) == len(self.lines) else "submitted"

    @property
    def locked(self) -> bool:
        return self.status == "decided"

    def submit(self, lines: Sequence[Mapping[str, Any]], submitted_on: date) -> None:
        """Freeze the lines (numbered L1, L2, ... in the order given)."""
        if self.submitted_on is not None:
            raise StatementNotDraft("the statement was already submitted on {day}", day=self.submitted_on)
        frozen = [{**line, "line_id": f"L{i}"} for i, line in enumerate(lines, start=1)]
        self._submitted(lines=frozen, submitted_on=require_date(submitted_on, "submitted_on"))

    @event("StatementSubmitted")
    def _submitted(self, lines: list[dict[str, Any]], submitted_on: date) -> None:
        self.lines = lines
        self.submitted_on = submitted_on

    def decide(self, decisions: Sequence[Mapping[str, Any]], decided_on: date) -> None:
        """Decide lines: [{line_id, decision: accepted|rejected, reason}]; a
        rejection needs a reason; a line is decided once."""
        if self.submitted_on is None:
            raise StatementNotSubmitted("the statement is not submitted yet: nothing to decide")
        if not decisions:
            raise InvalidValue("give at least one decision", "decisions")
        known = {line["line_id"] for line in self.lines}
        seen: set[str] = set()
        out = []
        for d in decisions:
            line_id = d.get("line_id")
            if line_id not in known:
                raise InvalidValue("the statement has no line {line_id}", "line_id", line_id=line_id)
            if line_id in seen:
                raise InvalidValue("line {line_id} is decided twice in one request", "line_id", line_id=line_id)
            if line_id in self.decisions:
                raise LineAlreadyDecided("line {line_id} was already decided", line_id=line_id)
            seen.add(line_id)
            decision = d.get("decision")
            if decision not in DECISIONS:
                raise InvalidValue("decision must be accepted or rejected", "decision")
            reason = optional_text(d.get("reason"), "reason", REASON_MAX_LEN)
            if decision == "rejected" and not reason:
                raise InvalidValue("a rejection needs a reason (line {line_id})", "reason", line_id=line_id)
            out.append({"line_id": line_id, "decision": decision, "reason": reason})
        self._decided(decisions=out, decided_on=require_date(decided_on, "decided_on"))

    @event("StatementLinesDecided")
    def _decided(self, decisions: list[dict[str, Any]], decided_on: date) -> None:
        self.decisions = {**self.decisions, **{d["line_id"]: {**d, "decided_on": decided_on}
                                               for d in decisions}}


    # -- a line's own documents --------------------------------------------------------------
    # Evidence for one line beside its contribution's (a correction's corrected
    # invoice, what the authority asked for): attached while the line is
    # undecided. Recording it on the statement makes a decision and an upload
    # at the same moment clash on its version: the one saved second is decided
    # again, so no document slips onto a line already decided.

    def has_line(self, line_id: str) -> bool:
        return any(line["line_id"] == line_id for line in self.lines)

    def check_line_open(self, line_id: str) -> None:
        """The line exists and is undecided (422 naming line_id; 409)."""
        if not self.has_line(line_id):
            raise InvalidValue("the statement has no line {line_id}", "line_id", line_id=line_id)
        if line_id in self.decisions:
            raise LineAlreadyDecided("line {line_id} was decided on {day}: its evidence is frozen",
                                     line_id=line_id, day=self.decisions[line_id]["decided_on"])

    def attach_line_document(self, line_id: str, document_id: UUID) -> None:
        self.check_line_open(line_id)
        self._line_document_attached(line_id=line_id, document_id=require_id(document_id, "document_id"))

    @event("StatementLineDocumentAttached")
    def _line_document_attached(self, line_id: str, document_id: UUID) -> None:
        self.line_documents = {**self.line_documents,
                               line_id: [*self.line_documents.get(line_id, []), document_id]}

    def remove_line_document(self, line_id: str, document_id: UUID) -> None:
        self.check_line_open(line_id)
        self._line_document_removed(line_id=line_id, document_id=document_id)

    @event("StatementLineDocumentRemoved")
    def _line_document_removed(self, line_id: str, document_id: UUID) -> None:
        self.line_documents = {**self.line_documents,
                               line_id: [d for d in self.line_documents.get(line_id, []) if d != document_id]}


# -- corrections ------------------------------------------------------------------------------

def corrections_for(draft: Statement, statements: Sequence[Statement],
                    value_now: Any) -> list[dict[str, Any]]:
    """Correction lines for `draft`: for every submitted statement whose
    period ends before the draft's and for which the draft is the first draft
    after it, each contribution whose value over that period is now other than
    what was frozen (plus the corrections submitted since).

    value_now(period) -> {contribution_id: line} (current_values for the period)."""
    drafts = sorted((s for s in statements if s.status == "draft"), key=lambda s: s.period_start)
    submitted = sorted((s for s in statements if s.submitted_on is not None), key=lambda s: s.period_start)
    out = []
    for earlier in submitted:
        if earlier.period_end >= draft.period_start:
            continue
        first_draft = next((d for d in drafts if d.period_start > earlier.period_end), None)
        if first_draft is None or first_draft.id != draft.id:
            continue
        known: dict[UUID, tuple[Decimal, str | None, str]] = {}  # contribution -> value, line, kind
        for line in earlier.lines:
            if line["kind"] != "correction":
                known[line["contribution_id"]] = (line["value_eur"], line["line_id"], line["kind"])
        for later in submitted:  # corrections of `earlier` already frozen elsewhere
            for line in later.lines:
                c = line.get("corrects")
                if line["kind"] == "correction" and c and c["statement_id"] == earlier.id:
                    _, line_id, kind = known.get(c["contribution_id"], (None, c.get("line_id"), c["kind"]))
                    known[c["contribution_id"]] = (line["new_value_eur"], line_id, kind)
        now = value_now(earlier.period)
        for contribution_id in sorted(set(known) | set(now), key=str):
            old, line_id, kind = known.get(contribution_id, (Decimal(0), None, None))
            current = now.get(contribution_id)
            new = current["value_eur"] if current is not None else Decimal(0)
            if new == old:
                continue
            out.append({
                "kind": "correction", "contribution_id": contribution_id,
                "placement_id": current["placement_id"] if current else None,
                "value_eur": new - old, "old_value_eur": old, "new_value_eur": new,
                "days": current["days"] if current else None,
                "corrects": {"statement_id": earlier.id, "line_id": line_id,
                             "kind": kind or (current["kind"] if current else None),
                             "contribution_id": contribution_id,
                             "period_start": earlier.period_start, "period_end": earlier.period_end},
                "explanation": current["explanation"] if current else None,
            })
    return out


def accepted_total(statements: Iterable[Statement]) -> Decimal:
    """The sum of the accepted lines (corrections included)."""
    return sum((line["value_eur"] for s in statements for line in s.lines
                if s.decisions.get(line["line_id"], {}).get("decision") == "accepted"), Decimal(0))
